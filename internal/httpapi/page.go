package httpapi

// PageParams are the paging query parameters every list takes.
type PageParams struct {
	Page int `query:"page" default:"1" minimum:"1" maximum:"100000" doc:"页码，从 1 开始"`
	Size int `query:"size" default:"10" minimum:"1" maximum:"100" doc:"每页条数"`
}

// Offset returns the number of rows to skip.
func (p PageParams) Offset() int { return (p.Page - 1) * p.Size }

// Page is one page of a list: {items, total}.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total" doc:"符合条件的总条数"`
}

// PageOf returns the page of items (total in all) in their API form.
func PageOf[E, V any](items []E, total int, view func(E) V) Page[V] {
	p := Page[V]{Items: make([]V, len(items)), Total: total}
	for i, e := range items {
		p.Items[i] = view(e)
	}
	return p
}
