// Package errs is the one error vocabulary of Linli. Services return these
// errors with a message that is safe to show to a person (in Chinese); the
// HTTP layer maps each code to a status in one table. Any other error is an
// internal one: it is logged and answered without details.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and for the HTTP layer.
type Code string

// The error codes.
const (
	Invalid      Code = "invalid"      // the request is wrong: fix the input
	NotFound     Code = "not_found"    // no such object, or not visible to the actor
	Conflict     Code = "conflict"     // the object's state forbids it (duplicate, not empty)
	Forbidden    Code = "forbidden"    // the actor may not do this
	Unauthorized Code = "unauthorized" // no valid session, or wrong credentials
	TooMany      Code = "too_many"     // throttled
	MustChange   Code = "must_change"  // the initial password must be changed first
	Unavailable  Code = "unavailable"  // a service the request needs is down: try again later
	Timeout      Code = "timeout"      // a device or service did not answer in time
	Internal     Code = "internal"     // a bug or an outage; details only in the log
)

// Error is an error with a code and a message for people.
type Error struct {
	Code    Code
	Message string       // safe to show; Chinese
	Fields  []FieldError // per-field problems, if any
	Err     error        // the cause, for logs only
}

// FieldError names one wrong input field.
type FieldError struct {
	Field    string // JSON name, e.g. "name"
	Message  string // Chinese, names the field, e.g. "区域编号必须在 1 到 999 之间"
	Location string // where, when not a body field: e.g. "file:1区-1栋-1单元!C537"
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, errs.ErrNotFound) and friends work by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalid      = &Error{Code: Invalid}
	ErrNotFound     = &Error{Code: NotFound}
	ErrConflict     = &Error{Code: Conflict}
	ErrForbidden    = &Error{Code: Forbidden}
	ErrUnauthorized = &Error{Code: Unauthorized}
	ErrTooMany      = &Error{Code: TooMany}
	ErrMustChange   = &Error{Code: MustChange}
)

// New returns an error with code c and message msg.
func New(c Code, msg string) *Error { return &Error{Code: c, Message: msg} }

// Newf is New with formatting.
func Newf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one field; msg is also the overall message.
func Field(field, msg string) *Error {
	return &Error{Code: Invalid, Message: msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// Fieldf is Field with formatting.
func Fieldf(field, format string, args ...any) *Error {
	return Field(field, fmt.Sprintf(format, args...))
}

// CodeOf returns the code of err: Internal for anything not from this package.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
