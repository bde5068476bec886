package auth

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address the request of ctx came from.
func ClientIP(ctx context.Context) string { return requestOf(ctx).client.IP }

// RequestBaseURL returns scheme and host of the request of ctx, e.g.
// https://wuye.example.com, for links shown to the signed-in caller (QR
// codes in the console).
func RequestBaseURL(ctx context.Context) string {
	r := requestOf(ctx)
	return r.scheme() + "://" + r.host
}

// OwnBaseURL is RequestBaseURL for links sent to someone else (the
// 忘记密码 e-mail): anyone may send any Host header, so the request's host
// is used only when it names this server — localhost or the address the
// request arrived at. Otherwise the link names that address. Deployments
// reached by a domain name set LINLI_PUBLIC_URL instead.
func OwnBaseURL(ctx context.Context) string {
	r := requestOf(ctx)
	scheme := "http"
	if r.ownHTTPS {
		scheme = "https"
	}
	if r.hostIsOwn() || r.local == "" {
		return scheme + "://" + r.host
	}
	return scheme + "://" + r.local
}

func (r request) scheme() string {
	if r.https {
		return "https"
	}
	return "http"
}

func (r request) hostIsOwn() bool {
	name := r.host
	if h, _, err := net.SplitHostPort(r.host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	local, err := netip.ParseAddrPort(r.local)
	return err == nil && local.Addr().Unmap() == ip.Unmap()
}

// clientIP is the peer's address, or, when the peer is a trusted proxy,
// the address that proxy says it forwarded for: the last address of
// X-Forwarded-For that is not itself a trusted proxy.
func (s *Service) clientIP(r *http.Request) string {
	peer := peerIP(r)
	if !s.fromProxy(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		ip, err := netip.ParseAddr(hop)
		if err != nil {
			break // a forged or broken list: stop at the last proxy we trust
		}
		if !s.fromProxy(hop) {
			return ip.Unmap().String()
		}
		peer = ip.Unmap().String()
	}
	return peer
}

func peerIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func (s *Service) fromProxy(addr string) bool {
	if len(s.proxies) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
