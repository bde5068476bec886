// Package actor carries who is making a request through a context, so that
// the data layer can scope every query to the communities that actor may see.
package actor

import (
	"context"
	"slices"
)

// Kind says what sort of principal an Actor is.
type Kind int

const (
	// System is the server itself (bootstrap, login, background jobs). It is
	// never derived from a request.
	System Kind = iota + 1
	// Operator is a platform operator (厂家/平台运营): sees every community.
	Operator
	// Staff is property staff (物业管理员…): sees only its own communities.
	Staff
	// Device is a bound device: sees only its own community.
	Device
	// Resident is a resident signed in to the app by phone number: sees the
	// communities where that phone is registered.
	Resident
)

// Actor is the principal behind a request.
type Actor struct {
	Kind        Kind
	AccountID   int
	DeviceID    int    // for Device actors
	Phone       string // for Resident actors
	Communities []int  // the communities a Staff, Device or Resident actor belongs to
}

type ctxKey struct{}

// With returns a context that carries a.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// AsSystem returns a context acting as the server itself. Use it only where no
// user is behind the work (bootstrap, authentication, background jobs).
func AsSystem(ctx context.Context) context.Context {
	return With(ctx, Actor{Kind: System})
}

// From returns the actor carried by ctx, if any.
func From(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}

// Unrestricted reports whether a sees every community.
func (a Actor) Unrestricted() bool {
	return a.Kind == System || a.Kind == Operator
}

// CanAccess reports whether a may see community cid.
func (a Actor) CanAccess(cid int) bool {
	return a.Unrestricted() || slices.Contains(a.Communities, cid)
}
