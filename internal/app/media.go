package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/pion/webrtc/v4"

	"linli/internal/media"
	"linli/internal/webcall"
)

// startMedia starts the relay that carries call media and camera views
// between devices and browsers.
func (a *App) startMedia() error {
	lo, hi, err := a.cfg.PortRange()
	if err != nil {
		return err
	}
	ice, err := parseICEServers(a.cfg.ICEServers)
	if err != nil {
		return err
	}
	ip, err := a.mediaIP()
	if err != nil {
		return err
	}
	a.relay, err = media.New(media.Config{PortMin: lo, PortMax: hi, IP: ip, PublicIP: a.cfg.MediaPublicIP, ICEServers: ice,
		MaxSessions: a.cfg.MediaMaxSessions, MaxPerCommunity: a.cfg.MediaMaxPerCommunity, Logger: a.logger.With("part", "media")})
	return err
}

// startCalls starts the browser side of door calls (门口呼叫, the H5) on
// top of the SIP server; without SIP there is none.
func (a *App) startCalls() error {
	if a.sip == nil {
		return nil
	}
	var err error
	appSIP := func(ctx context.Context, authorization string) (string, error) {
		acc, err := a.owners.SIP(ctx, authorization)
		if err != nil {
			return "", err
		}
		return acc.Username, nil
	}
	a.calls, err = webcall.New(webcall.Config{WatchTime: a.cfg.WatchTime, Recheck: a.cfg.CallRecheck}, a.db, a.box, a.directory, a.sip, a.relay, appSIP, a.logger)
	return err
}

// mediaIP is where devices send RTP: LINLI_MEDIA_IP, else the SIP
// server's advertised host when it is an address, else loopback.
func (a *App) mediaIP() (netip.Addr, error) {
	if v := strings.TrimSpace(a.cfg.MediaIP); v != "" {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("LINLI_MEDIA_IP %q: want an IP address", v)
		}
		return ip, nil
	}
	if a.sip != nil {
		if host, _, err := net.SplitHostPort(a.sip.Addr()); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
				return ip, nil
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// parseICEServers reads LINLI_ICE_SERVERS: stun:host:port and
// turn:user:password@host:port[?transport=udp|tcp] (turns: too), separated
// by commas.
func parseICEServers(v string) ([]webrtc.ICEServer, error) {
	var out []webrtc.ICEServer
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		scheme, rest, ok := strings.Cut(item, ":")
		switch {
		case !ok:
		case scheme == "stun" || scheme == "stuns":
			out = append(out, webrtc.ICEServer{URLs: []string{item}})
			continue
		case scheme == "turn" || scheme == "turns":
			cred, addr, hasCred := strings.Cut(rest, "@")
			if !hasCred {
				return nil, fmt.Errorf("LINLI_ICE_SERVERS: %q needs user:password@ for TURN", item)
			}
			user, pass, _ := strings.Cut(cred, ":")
			u, err := url.PathUnescape(user)
			if err != nil {
				return nil, fmt.Errorf("LINLI_ICE_SERVERS: %q: %w", item, err)
			}
			p, err := url.PathUnescape(pass)
			if err != nil {
				return nil, fmt.Errorf("LINLI_ICE_SERVERS: %q: %w", item, err)
			}
			out = append(out, webrtc.ICEServer{URLs: []string{scheme + ":" + addr}, Username: u, Credential: p})
			continue
		}
		return nil, fmt.Errorf("LINLI_ICE_SERVERS: %q is not a stun: or turn: address", item)
	}
	return out, nil
}
