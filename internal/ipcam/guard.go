package ipcam

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrForbidden is an address the server does not connect to on a camera's
// behalf: this machine itself (unless allowed), link-local addresses
// (169.254.x.x, where cloud metadata services answer), multicast and the
// unspecified address. Otherwise anyone who may add a camera could make the
// server knock on its own and its neighbours' services. It applies to the
// address given and to every address a camera answers with (snapshot and
// stream URIs), after DNS.
var ErrForbidden = errors.New("ipcam: address not allowed for cameras")

type loopbackKey struct{}

// AllowLoopback returns ctx under which cameras on this machine (127.0.0.1,
// ::1) may be reached: a local ONVIF bridge, or the fake camera of `linli
// sim camera` when trying Linli out.
func AllowLoopback(ctx context.Context) context.Context {
	return context.WithValue(ctx, loopbackKey{}, true)
}

func loopbackAllowed(ctx context.Context) bool {
	ok, _ := ctx.Value(loopbackKey{}).(bool)
	return ok
}

// dialer connects to cameras under the guard.
var dialer = &net.Dialer{Timeout: Timeout, ControlContext: guard}

func guard(ctx context.Context, _, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() ||
		ip.IsInterfaceLocalMulticast() || (ip.IsLoopback() && !loopbackAllowed(ctx)) {
		return fmt.Errorf("%w: %s", ErrForbidden, ip)
	}
	return nil
}
