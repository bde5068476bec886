package httpapi

// Body is the answer of an operation that is its JSON body and nothing
// else; an answer that also sets a status or headers has its own type.
type Body[T any] struct{ Body T }

// Reply returns v as the body of an answer; a list answers
// Reply(Page[T]{Items: items, Total: total}).
func Reply[T any](v T) *Body[T] { return &Body[T]{Body: v} }
