// Package media relays video intercom media between door stations and
// browsers without transcoding: a device's plain RTP (H.264 constrained
// baseline and G.711, RTCP on port+1, no ICE or DTLS) or an RTSP camera's
// packets fan out to any number of WebRTC viewers, and a viewer's
// microphone can talk back to the device. It knows nothing of SIP, HTTP or
// the database.
//
// A door station call, as the SIP side drives it:
//
//	rs, err := relay.NewRTPStream(communityID, "0502")   // *LimitError when full
//	// put rs.Audio() and rs.Video() in the INVITE's SDP; on the answer:
//	rs.Start(media.Peer{Audio: a, AudioPT: 0, EventPT: 101, Video: v, VideoPT: 96})
//	rs.OnKeyframe(sendPictureFastUpdateINFO)              // with Peer.FastUpdateViaSIP
//	defer rs.Close()                                      // on BYE: ports freed at once
//
// and a browser, as the HTTP side drives it (WHEP style, the browser offers):
//
//	v, answer, err := rs.Stream().AddViewer(offer, media.ViewerOptions{Name: user})
//	// errors.Is(err, media.ErrNoCommonCodec): show err.Error() (Chinese) to the user
//	v.SetTalk(true)                                       // the 对讲 button
//	<-v.Done()                                            // the browser left or vanished
//
// An RTSP camera pushes packets into relay.NewStream(...) instead.
package media

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// Config configures a Relay; zero values take defaults.
type Config struct {
	// PortMin, PortMax bound the UDP ports of device RTP/RTCP and of ICE
	// (LINLI_RTP_PORTS "20000-20999"); 0, 0 lets the system choose.
	PortMin, PortMax int
	// IP is announced to devices and bound for RTP and ICE; default 127.0.0.1.
	// The unspecified address binds everywhere and gathers ICE on every interface.
	IP netip.Addr
	// PublicIP is an optional NAT 1:1 address announced in ICE host candidates.
	PublicIP string
	// ICEServers are STUN/TURN servers for browsers on real networks.
	ICEServers []webrtc.ICEServer
	// MaxSessions bounds concurrent streams per server, default 200.
	MaxSessions int
	// MaxPerCommunity bounds concurrent streams per community, default 50.
	MaxPerCommunity int
	// ViewerTimeout closes a viewer whose ICE/DTLS fails or stays
	// disconnected this long, default 8 s.
	ViewerTimeout time.Duration
	Logger        *slog.Logger
}

// RelayStats counts what a Relay holds, for metrics and leak checks.
type RelayStats struct {
	Streams int `json:"streams"`
	Viewers int `json:"viewers"`
	Ports   int `json:"ports"` // device-side RTP/RTCP ports held (ICE ports not included)
}

// Relay owns the streams, their viewers and the ports.
type Relay struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	ports  *portPool
	rtcCfg webrtc.Configuration

	mu          sync.Mutex
	closed      bool
	streams     map[*Stream]int // stream → community
	byCommunity map[int]int
	viewers     int

	reportInterval time.Duration // RTCP receiver reports to devices (shortened by tests)
}

// New builds a Relay. It fails only on an invalid configuration.
func New(cfg Config) (*Relay, error) {
	if !cfg.IP.IsValid() {
		cfg.IP = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 200
	}
	if cfg.MaxPerCommunity <= 0 {
		cfg.MaxPerCommunity = 50
	}
	if cfg.ViewerTimeout <= 0 {
		cfg.ViewerTimeout = 8 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if cfg.PortMin <= 0 || cfg.PortMax > 65535 || cfg.PortMax-cfg.PortMin < 3 {
			return nil, fmt.Errorf("媒体端口范围无效：%d-%d", cfg.PortMin, cfg.PortMax)
		}
	}
	api, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	return &Relay{
		cfg:         cfg,
		log:         cfg.Logger,
		api:         api,
		ports:       newPortPool(cfg.IP, cfg.PortMin, cfg.PortMax),
		rtcCfg:      webrtc.Configuration{ICEServers: cfg.ICEServers},
		streams:     map[*Stream]int{},
		byCommunity: map[int]int{},

		reportInterval: reportInterval,
	}, nil
}

// H.264 as the relay offers it to browsers: constrained baseline,
// non-interleaved mode, the only profile door stations send.
var h264Codec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeH264,
		ClockRate:   90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
		},
	},
	PayloadType: 102,
}

func g711Codec(pt uint8) webrtc.RTPCodecParameters {
	mime := webrtc.MimeTypePCMU
	if pt == 8 {
		mime = webrtc.MimeTypePCMA
	}
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 8000, Channels: 1},
		PayloadType:        webrtc.PayloadType(pt),
	}
}

func newAPI(cfg Config) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(h264Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	for _, c := range []webrtc.RTPCodecParameters{g711Codec(0), g711Codec(8)} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	reg := &interceptor.Registry{}
	// 256 packets are 2.5 s of 1 Mbit/s video, ample for a retransmission
	// and a quarter of the default's memory per viewer.
	nackResponder, err := nack.NewResponderInterceptor(nack.ResponderSize(256))
	if err != nil {
		return nil, err
	}
	reg.Add(nackResponder)
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}

	se := webrtc.SettingEngine{}
	if cfg.PortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(uint16(cfg.PortMin), uint16(cfg.PortMax)); err != nil {
			return nil, err
		}
	}
	if cfg.IP.Is6() && !cfg.IP.Is4In6() {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if !cfg.IP.IsUnspecified() {
		want := net.IP(cfg.IP.AsSlice())
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(want) })
	}
	if cfg.IP.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true)
	}
	if cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: []string{cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}); err != nil {
			return nil, fmt.Errorf("媒体公网地址无效：%w", err)
		}
	}
	// mDNS would open extra sockets per viewer; servers have real addresses.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// ICE lite, as media servers do: the browser (full ICE, controlling)
	// runs the checks and the relay answers them, so connecting takes one
	// round of checks instead of both sides' schedules.
	se.SetLite(true)
	// ICE declares a silent browser disconnected after half the viewer
	// timeout; the viewer closes once the other half passes without recovery.
	half := cfg.ViewerTimeout / 2
	se.SetICETimeouts(half, cfg.ViewerTimeout, min(2*time.Second, max(half/2, 200*time.Millisecond)))
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)), nil
}

// Close closes every stream and viewer and frees every port.
func (r *Relay) Close() {
	r.mu.Lock()
	r.closed = true
	streams := make([]*Stream, 0, len(r.streams))
	for s := range r.streams {
		streams = append(streams, s)
	}
	r.mu.Unlock()
	for _, s := range streams {
		s.Close()
	}
}

// Stats counts streams, viewers and device ports in use.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RelayStats{Streams: len(r.streams), Viewers: r.viewers, Ports: r.ports.inUse()}
}

// admit reserves a stream slot, or returns a *LimitError.
func (r *Relay) admit(s *Stream, community int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("媒体服务已关闭")
	}
	if len(r.streams) >= r.cfg.MaxSessions {
		return &LimitError{Scope: "server", N: r.cfg.MaxSessions}
	}
	if r.byCommunity[community] >= r.cfg.MaxPerCommunity {
		return &LimitError{Scope: "community", N: r.cfg.MaxPerCommunity}
	}
	r.streams[s] = community
	r.byCommunity[community]++
	return nil
}

func (r *Relay) release(s *Stream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.streams[s]
	if !ok {
		return
	}
	delete(r.streams, s)
	if r.byCommunity[c]--; r.byCommunity[c] <= 0 {
		delete(r.byCommunity, c)
	}
}

func (r *Relay) viewerDelta(d int) {
	r.mu.Lock()
	r.viewers += d
	r.mu.Unlock()
}
