package ua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call states.
const (
	StateCalling  = "calling"  // INVITE sent, nothing heard yet
	StateRinging  = "ringing"  // 180/183 heard, or an incoming call not answered yet
	StateAnswered = "answered" // 2xx sent or received: media flows
	StateEnded    = "ended"
)

// Call is one call of the agent, outgoing or incoming.
type Call struct {
	ua       *UA
	id       string // SIP Call-ID
	outgoing bool
	peer     string
	media    *media
	video    *video // nil without video

	mu         sync.Mutex
	state      string
	early      bool // early media heard (183 with SDP) or sent
	code       int
	reason     string
	started    time.Time
	answeredAt time.Time
	endedAt    time.Time
	keys       []Key
	client     *sipgo.DialogClientSession
	server     *sipgo.DialogServerSession
	hangup     chan struct{} // closed by Hangup
	hangupOnce sync.Once
	decide     chan int // incoming: 200 to answer, or a refusal code
	decided    bool
	answered   chan struct{}
	done       chan struct{}
}

// Key is a key press the peer sent.
type Key struct {
	Key string    `json:"key"`
	Via string    `json:"via" doc:"rtp (RFC 4733) or info"`
	At  time.Time `json:"at"`
}

// CallInfo is a call's state for status pages.
type CallInfo struct {
	ID         string     `json:"id"`
	Direction  string     `json:"direction" doc:"out or in"`
	Peer       string     `json:"peer"`
	State      string     `json:"state"`
	EarlyMedia bool       `json:"early_media,omitempty"`
	Code       int        `json:"code,omitempty" doc:"the final SIP status"`
	Reason     string     `json:"reason,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	Keys       []Key      `json:"keys"`
	MediaStats
}

func newCall(u *UA, id string, outgoing bool, peer string) *Call {
	return &Call{ua: u, id: id, outgoing: outgoing, peer: peer, state: StateCalling, started: time.Now(),
		hangup: make(chan struct{}), decide: make(chan int, 1), answered: make(chan struct{}), done: make(chan struct{})}
}

// ID is the SIP Call-ID.
func (c *Call) ID() string { return c.id }

// Answered is closed when the call is answered.
func (c *Call) Answered() <-chan struct{} { return c.answered }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Info returns the call's state.
func (c *Call) Info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := CallInfo{ID: c.id, Direction: "in", Peer: c.peer, State: c.state, EarlyMedia: c.early, Code: c.code,
		Reason: c.reason, StartedAt: c.started, Keys: slices.Clone(c.keys)}
	if c.outgoing {
		in.Direction = "out"
	}
	if in.Keys == nil {
		in.Keys = []Key{}
	}
	if !c.answeredAt.IsZero() {
		t := c.answeredAt
		in.AnsweredAt = &t
	}
	if !c.endedAt.IsZero() {
		t := c.endedAt
		in.EndedAt = &t
	}
	if c.media != nil {
		in.MediaStats = c.media.Stats()
	}
	if c.video != nil {
		in.VideoSent, in.VideoReceived = c.video.sent.Load(), c.video.received.Load()
		in.KeyframeRequests = c.video.keyRequests.Load()
		in.VideoProfile, _ = c.video.profile.Load().(string)
	}
	return in
}

// Answer answers an incoming call that is ringing.
func (c *Call) Answer() error { return c.decideOnce(200) }

// Reject refuses an incoming call that is ringing (486 busy, 603 decline).
func (c *Call) Reject(code int) error {
	if code < 400 || code > 699 {
		return fmt.Errorf("ua: %d is not a refusal", code)
	}
	return c.decideOnce(code)
}

func (c *Call) decideOnce(code int) error {
	if c.outgoing {
		return errors.New("ua: only an incoming call is answered or refused")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decided || c.state == StateEnded {
		return errors.New("ua: the call was already answered, refused or ended")
	}
	c.decided = true
	c.decide <- code
	return nil
}

// Hangup ends the call: CANCEL while an outgoing call rings, 480 for an
// incoming one not yet answered, BYE once answered. It does not wait; see
// Done.
func (c *Call) Hangup() { c.hangupOnce.Do(func() { close(c.hangup) }) }

// SendDTMF sends keys to the peer of an answered call, as RFC 4733
// telephone events (via "rtp" or "") or as SIP INFO (via "info").
func (c *Call) SendDTMF(ctx context.Context, keys, via string) error {
	c.mu.Lock()
	state := c.state
	c.mu.Unlock()
	if state != StateAnswered {
		return errors.New("通话未接通，不能发送按键")
	}
	switch via {
	case "", "rtp":
		return c.media.SendDigits(keys)
	case "info":
		for i := range len(keys) {
			if _, ok := dtmfEvent(keys[i]); !ok {
				return errors.New("按键只能是 0-9、*、#、A-D")
			}
			if err := c.info(ctx, dtmfRelayType, dtmfRelayBody(keys[i])); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("ua: unknown DTMF method %q (rtp or info)", via)
}

// RequestKeyframe asks the peer of an answered call for a key frame with
// SIP INFO picture_fast_update (application/media_control+xml).
func (c *Call) RequestKeyframe(ctx context.Context) error {
	c.mu.Lock()
	state := c.state
	c.mu.Unlock()
	if state != StateAnswered {
		return errors.New("通话未接通，不能请求关键帧")
	}
	return c.info(ctx, mediaControlType, []byte(fastUpdateBody))
}

// info sends SIP INFO in the dialog.
func (c *Call) info(ctx context.Context, contentType string, body []byte) error {
	build := func() *sip.Request {
		var target sip.Uri
		if c.server != nil {
			target = c.server.InviteRequest.Contact().Address
		} else {
			target = c.clientSession().InviteResponse.Contact().Address
		}
		req := sip.NewRequest(sip.INFO, *target.Clone())
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
		return req
	}
	do := func(req *sip.Request) (*sip.Response, error) {
		if c.server != nil {
			return c.server.Do(ctx, req)
		}
		return c.clientSession().Do(ctx, req)
	}
	req := build()
	res, err := do(req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		req = build()
		if err = c.ua.auth.challenged(req, res); err == nil {
			res, err = do(req)
		}
	}
	if err != nil {
		return fmt.Errorf("SIP INFO: %w", err)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("SIP INFO: %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

func (c *Call) clientSession() *sipgo.DialogClientSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

func (c *Call) key(k, via string) {
	c.mu.Lock()
	c.keys = append(c.keys, Key{Key: k, Via: via, At: time.Now()})
	c.mu.Unlock()
	if f := c.ua.cfg.OnDTMF; f != nil {
		f(c, k, via)
	}
}

func (c *Call) setState(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateEnded {
		return
	}
	c.state = s
	if s == StateAnswered {
		c.answeredAt = time.Now()
		close(c.answered)
	}
}

// end records how the call ended and releases its media.
func (c *Call) end(code int, reason string) {
	c.mu.Lock()
	if c.state == StateEnded {
		c.mu.Unlock()
		return
	}
	c.state, c.endedAt = StateEnded, time.Now()
	if c.code == 0 || code >= 300 {
		c.code = code
	}
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	if c.media != nil {
		c.media.Close()
	}
	if c.video != nil {
		c.video.Close()
	}
	close(c.done)
	c.ua.logger.Info("sip call ended", "call_id", c.id, "code", code, "reason", reason)
}

// remoteBye marks that the peer hung up (the dialog's own state follows).
func (c *Call) remoteBye() {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = "对方挂断"
	}
	c.mu.Unlock()
}

func randSessionID() int64 { return rand.Int64N(1 << 40) }

// startMedia starts sending to the peer described by sdp.
func (c *Call) startMedia(d sessionDesc) error {
	codec, ok := d.audioCodec()
	if !ok {
		return errNoAudio
	}
	c.media.Start(d.Addr, codec, d.Event)
	if c.video != nil && d.VideoPT != 0 {
		c.video.Start(d.Video, d.VideoPT)
	}
	return nil
}

// talk waits, once the call is answered, for either side to hang up.
func (c *Call) talk(dialogDone <-chan struct{}, bye func(ctx context.Context) error) {
	select {
	case <-dialogDone:
		c.end(200, "对方挂断")
	case <-c.hangup:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := bye(ctx)
		cancel()
		reason := "本方挂断"
		if err != nil {
			reason = "本方挂断（BYE 未确认：" + err.Error() + "）"
		}
		c.end(200, reason)
	}
}

// mediaIP is the IP announced in SDP.
func (u *UA) mediaIP() netip.Addr { return u.ip }
