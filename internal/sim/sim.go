// Package sim is a door-station simulator: it binds to a slot like a real
// device, keeps an MQTT session, applies whitelist syncs into a local
// whitelist and opens the door for cards on it. It speaks only the public
// device protocol (docs/device-protocol.md), so it also checks that document.
package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"linli/internal/sip/ua"
)

// Config says where a simulated device is installed.
type Config struct {
	Server      string // http://host:port of Linli
	MQTTAddr    string // host:port of the broker
	CommunityID int
	Password    string // 小区密码
	Slot        Slot
	Serial      string
	Model       string
	Firmware    string
	Orientation string
	// HTTPClient, when set, replaces the default client (tests use it to
	// cut downloads off halfway).
	HTTPClient *http.Client
	// SIPAddr is the SIP server (host:port); empty: the HTTP server's host,
	// port 5060; "off": no SIP. StartSIP uses it.
	SIPAddr string
	// SIPTransport is udp (the default) or tcp.
	SIPTransport string
	// NoVideo leaves H.264 out of calls (audio only).
	NoVideo bool
	// UnlockCode is the key (or keys) that open a door during a call;
	// empty: the community's 通话开门按键 from sync (# until the first sync).
	UnlockCode string
	// Answer is how an indoor monitor answers at first (auto when empty).
	Answer ua.AnswerPolicy
	// BareNudges ignores the change a sync nudge carries and always syncs
	// over HTTP, as devices made before nudges carried changes do.
	BareNudges bool
}

// Slot is the install position (see docs/device-protocol.md §2).
type Slot struct {
	Kind   string `json:"kind"`
	UnitID int    `json:"unit_id,omitempty"`
	RoomID int    `json:"room_id,omitempty"`
	Index  int    `json:"index,omitempty"`
}

// Entry is a whitelist entry.
type Entry struct {
	Key        string     `json:"key"`
	Kind       string     `json:"kind"`
	Card       string     `json:"card,omitempty"`
	ResidentID int        `json:"resident_id,omitempty"`
	Title      string     `json:"title,omitempty"`
	Content    string     `json:"content,omitempty"`
	Slot       int        `json:"slot,omitempty"`
	URL        string     `json:"url,omitempty"`
	SHA256     string     `json:"sha256,omitempty"`
	Width      int        `json:"width,omitempty"`
	Height     int        `json:"height,omitempty"`
	ValidFrom  *time.Time `json:"valid_from,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	// A visitor pass (kind pass).
	PassID  int    `json:"pass_id,omitempty"`
	PIN     string `json:"pin,omitempty"`
	QR      string `json:"qr,omitempty"`
	MaxUses int    `json:"max_uses,omitempty"`
	Uses    int    `json:"uses,omitempty"`
	Visitor string `json:"visitor,omitempty"`
}

type credentials struct {
	DeviceID int    `json:"device_id"`
	Label    string `json:"label"`
	Token    string `json:"token"`
	MQTT     struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		ClientID    string `json:"client_id"`
		CmdTopic    string `json:"cmd_topic"`
		StatusTopic string `json:"status_topic"`
	} `json:"mqtt"`
	SIP struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"sip"`
}

// Device is one simulated device.
type Device struct {
	cfg    Config
	http   *http.Client
	logger *slog.Logger
	cred   credentials

	mu        sync.Mutex
	version   int64
	whitelist map[string]Entry  // cards, faces, notices and ads, by key
	adImages  map[string]string // ad key → SHA-256 of the picture downloaded
	online    bool
	syncs     int
	unlocks   []Unlock
	// nudged counts the changes applied straight from nudges; changed is
	// when the whitelist last changed; syncing is set while a sync request
	// is under way (a nudge's change waits for it).
	nudged  int
	changed time.Time
	syncing bool
	// lose is how many sync nudges are still to be dropped as if lost.
	lose int

	firmware string
	upgrade  string  // how the last upgrade went, for the status dump
	events   []Event // calls and unlocks reported

	nudges   chan struct{}
	lost     chan struct{}
	upgrades chan UpgradeCommand
	client   *paho.Client

	phone  *ua.UA          // the SIP side, nil until StartSIP (or with SIP off)
	answer ua.AnswerPolicy // an indoor monitor's current answer mode
	// syncedCode is the community's unlock keys from the last sync;
	// typed is what was keyed in each call, for codes of several keys.
	syncedCode string
	typed      map[string]string
	owned      sync.WaitGroup // event uploads of calls, waited for by Run

	// ignoreCommands drops remote openings unanswered (to test the
	// server's timeout); lastOpen is the last remote opening.
	ignoreCommands bool
	lastOpen       *Unlock
	passes         passState // local uses of visitor passes, the PIN lockout
}

// Unlock is a door opening the device recorded (for the records feature).
type Unlock struct {
	Card   string    `json:"card,omitempty"`
	Type   string    `json:"type,omitempty" doc:"call：通话中开锁；空：刷卡"`
	CallID string    `json:"call_id,omitempty"`
	Via    string    `json:"via,omitempty" doc:"通话中开锁的按键方式：rtp（RFC 4733）或 info"`
	PassID int       `json:"pass_id,omitempty" doc:"二维码或密码开锁所用的访客通行证"`
	At     time.Time `json:"at"`

	// ResidentID is who opened from the app (Type app).
	ResidentID int `json:"resident_id,omitempty"`
}

// New returns a device that is not yet bound.
func New(cfg Config, logger *slog.Logger) *Device {
	if cfg.Model == "" {
		cfg.Model = "LINLI-SIM"
	}
	if cfg.Firmware == "" {
		cfg.Firmware = "1.0.0"
	}
	if cfg.Orientation == "" {
		cfg.Orientation = "landscape"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Device{cfg: cfg, http: hc, logger: logger, firmware: cfg.Firmware,
		whitelist: map[string]Entry{}, adImages: map[string]string{}, nudges: make(chan struct{}, 1), lost: make(chan struct{}, 1), upgrades: make(chan UpgradeCommand, 1)}
}

// Bind binds the device and keeps its credentials.
func (d *Device) Bind(ctx context.Context) error {
	body, _ := json.Marshal(map[string]any{
		"community_id": d.cfg.CommunityID, "community_password": d.cfg.Password, "slot": d.cfg.Slot,
		"serial": d.cfg.Serial, "model": d.cfg.Model, "firmware": d.cfg.Firmware, "orientation": d.cfg.Orientation,
	})
	var cr credentials
	if err := d.call(ctx, http.MethodPost, "/device/v1/bind", bytes.NewReader(body), &cr); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	d.cred = cr
	d.logger.Info("bound", "device", cr.DeviceID, "label", cr.Label)
	return nil
}

// Label is where the device is installed.
func (d *Device) Label() string { return d.cred.Label }

// send sends a request to the server with the device token (once bound)
// and the given headers; the caller closes the answer's body.
func (d *Device) send(ctx context.Context, method, path string, body io.Reader, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(d.cfg.Server, "/")+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if d.cred.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.cred.Token)
	}
	return d.http.Do(req)
}

// problem is the error of an answer that is not a success, with the
// server's detail.
func problem(method, path string, res *http.Response, data []byte) error {
	var p struct{ Detail string }
	_ = json.Unmarshal(data, &p)
	return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, p.Detail)
}

// call sends a JSON request and decodes the JSON answer into out.
func (d *Device) call(ctx context.Context, method, path string, body io.Reader, out any) error {
	res, err := d.send(ctx, method, path, body, map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if res.StatusCode >= 300 {
		return problem(method, path, res, data)
	}
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Sync asks for the changes since the stored version and applies them.
func (d *Device) Sync(ctx context.Context) error {
	d.mu.Lock()
	since := d.version
	d.syncing = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.syncing = false
		d.mu.Unlock()
	}()
	var delta struct {
		Version int64    `json:"version"`
		Full    bool     `json:"full"`
		Upserts []Entry  `json:"upserts"`
		Deletes []string `json:"deletes"`
		Call    struct {
			UnlockDTMF string `json:"unlock_dtmf"`
		} `json:"call"`
	}
	if err := d.call(ctx, http.MethodGet, fmt.Sprintf("/device/v1/sync?since=%d", since), nil, &delta); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if delta.Full {
		d.whitelist = map[string]Entry{}
	}
	d.apply(delta.Upserts, delta.Deletes)
	d.version = delta.Version
	d.syncs++
	if delta.Call.UnlockDTMF != "" {
		d.syncedCode = delta.Call.UnlockDTMF
	}
	return nil
}

// apply stores upserts and removes deletes; d.mu is held.
func (d *Device) apply(upserts []Entry, deletes []string) {
	for _, e := range upserts {
		d.whitelist[e.Key] = e
	}
	for _, k := range deletes {
		delete(d.whitelist, k)
	}
	if len(upserts) > 0 || len(deletes) > 0 {
		d.changed = time.Now()
	}
}

// nudge handles a sync command: it applies the change the command carries
// when it follows on the stored version exactly, and otherwise (no change
// in it, a version missed, a sync under way) has Run sync over HTTP. A
// command for a version the device has already is ignored.
func (d *Device) nudge(payload []byte) {
	var cmd struct {
		Version int64 `json:"version"`
		Delta   *struct {
			Since   int64    `json:"since"`
			Upserts []Entry  `json:"upserts"`
			Deletes []string `json:"deletes"`
		} `json:"delta"`
	}
	if json.Unmarshal(payload, &cmd) != nil {
		return
	}
	d.mu.Lock()
	switch {
	case d.lose > 0:
		d.lose--
		d.mu.Unlock()
		return
	case cmd.Version != 0 && cmd.Version <= d.version && !d.syncing:
		d.mu.Unlock()
		return
	case cmd.Delta != nil && !d.cfg.BareNudges && !d.syncing && cmd.Delta.Since == d.version && cmd.Version == d.version+1:
		d.apply(cmd.Delta.Upserts, cmd.Delta.Deletes)
		d.version = cmd.Version
		d.nudged++
		ads := slices.ContainsFunc(cmd.Delta.Upserts, func(e Entry) bool { return e.Kind == "ad" })
		d.mu.Unlock()
		if !ads { // pictures are downloaded after a sync
			return
		}
	default:
		d.mu.Unlock()
	}
	select {
	case d.nudges <- struct{}{}:
	default:
	}
}

// LoseNudges drops the next n sync nudges as if they were lost on the way
// (to test that the device catches up from the next one).
func (d *Device) LoseNudges(n int) {
	d.mu.Lock()
	d.lose = n
	d.mu.Unlock()
}

// fetchAds downloads the pictures of ad entries the device does not have
// yet, checking each against its SHA-256, as a door station caches them.
func (d *Device) fetchAds(ctx context.Context) {
	d.mu.Lock()
	var want []Entry
	for _, e := range d.whitelist {
		if e.Kind == "ad" && d.adImages[e.Key] != e.SHA256 {
			want = append(want, e)
		}
	}
	d.mu.Unlock()
	for _, e := range want {
		data, err := d.get(ctx, e.URL)
		sum := sha256.Sum256(data)
		if err != nil || hex.EncodeToString(sum[:]) != e.SHA256 {
			d.logger.Warn("ad download", "device", d.cred.DeviceID, "ad", e.Key, "err", err)
			continue
		}
		d.mu.Lock()
		d.adImages[e.Key] = e.SHA256
		d.mu.Unlock()
	}
}

// get downloads path with the device token.
func (d *Device) get(ctx context.Context, path string) ([]byte, error) {
	res, err := d.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if res.StatusCode != http.StatusOK {
		return nil, problem(http.MethodGet, path, res, data)
	}
	return data, err
}

var receiveMaximum uint16 = 16

// Connect opens the MQTT session with a last will and subscribes to the
// device's cmd topic. Nudges trigger syncs in Run.
func (d *Device) Connect(ctx context.Context) error {
	conn, err := net.DialTimeout("tcp", d.cfg.MQTTAddr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	c := paho.NewClient(paho.ClientConfig{ClientID: d.cred.MQTT.ClientID, Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			var cmd struct{ Type string }
			if json.Unmarshal(pr.Packet.Payload, &cmd) != nil {
				return true, nil
			}
			switch cmd.Type {
			case "sync":
				d.nudge(pr.Packet.Payload)
			case "open":
				d.remoteOpen(pr.Packet.Payload)
			case "status":
				d.announce()
			case "upgrade":
				var up UpgradeCommand
				if json.Unmarshal(pr.Packet.Payload, &up) != nil {
					return true, nil
				}
				select {
				case d.upgrades <- up:
				default: // one upgrade at a time
				}
			}
			return true, nil
		}},
		OnServerDisconnect: func(*paho.Disconnect) { d.connectionLost() },
		OnClientError:      func(error) { d.connectionLost() },
	})
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: d.cred.MQTT.ClientID, Username: d.cred.MQTT.Username, UsernameFlag: true,
		Password: []byte(d.cred.MQTT.Password), PasswordFlag: true, KeepAlive: 30, CleanStart: true,
		// A door station takes a command at a time; the client's default
		// queue of 65,535 messages costs 512 KiB per connection.
		Properties:  &paho.ConnectProperties{ReceiveMaximum: &receiveMaximum},
		WillMessage: &paho.WillMessage{Topic: d.cred.MQTT.StatusTopic, Payload: []byte(`{"online":false}`), QoS: 1}})
	if err != nil {
		conn.Close()
		return fmt.Errorf("mqtt connect: %w", err)
	}
	if ca.ReasonCode != 0 {
		conn.Close()
		return fmt.Errorf("mqtt connect refused: reason %d", ca.ReasonCode)
	}
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: d.cred.MQTT.CmdTopic, QoS: 1}}}); err != nil {
		return fmt.Errorf("mqtt subscribe: %w", err)
	}
	_, _ = c.Publish(ctx, &paho.Publish{Topic: d.cred.MQTT.StatusTopic, QoS: 1, Payload: []byte(`{"online":true}`)})
	d.mu.Lock()
	d.client = c
	d.mu.Unlock()
	d.setOnline(true)
	return nil
}

// connectionLost marks the device offline and tells Run to reconnect.
func (d *Device) connectionLost() {
	d.setOnline(false)
	select {
	case d.lost <- struct{}{}:
	default:
	}
}

// reconnect opens a new MQTT session after the old one broke (the server
// restarted, the network went away), at random moments 1–5 s apart so that
// a fleet does not come back in lockstep. It returns false when ctx ends.
func (d *Device) reconnect(ctx context.Context) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second + time.Duration(rand.Int64N(int64(4*time.Second)))):
		}
		if err := d.Connect(ctx); err == nil {
			d.logger.Info("reconnected", "device", d.cred.DeviceID)
			return true
		} else if ctx.Err() == nil {
			d.logger.Info("reconnect failed", "device", d.cred.DeviceID, "err", err)
		}
	}
}

func (d *Device) setOnline(v bool) {
	d.mu.Lock()
	d.online = v
	d.mu.Unlock()
}

// Run syncs at once, then on every nudge and every period, until ctx ends;
// then it disconnects.
func (d *Device) Run(ctx context.Context, period time.Duration) error {
	t := time.NewTicker(period)
	defer t.Stop()
	defer func() {
		if d.client != nil {
			// A clean disconnect suppresses the last will: say goodbye first.
			bye, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = d.client.Publish(bye, &paho.Publish{Topic: d.cred.MQTT.StatusTopic, QoS: 1, Payload: []byte(`{"online":false}`)})
			cancel()
			_ = d.client.Disconnect(&paho.Disconnect{})
		}
		d.stopSIP()
		d.owned.Wait()
		d.setOnline(false)
	}()
	for {
		err := d.Sync(ctx)
		if err == nil {
			d.fetchAds(ctx)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			// Retry soon, at a random moment, as the protocol asks, so that a
			// fleet that failed together does not retry together.
			d.logger.Warn("sync failed", "device", d.cred.DeviceID, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second + time.Duration(rand.Int64N(int64(4*time.Second)))):
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.lost:
			if ctx.Err() != nil || !d.reconnect(ctx) {
				return nil
			}
		case <-d.nudges:
		case <-t.C:
		case cmd := <-d.upgrades:
			go func() {
				if err := d.Upgrade(ctx, cmd); err != nil {
					d.logger.Warn("upgrade failed", "device", d.cred.DeviceID, "version", cmd.Version, "err", err)
				}
			}()
		}
	}
}

// Swipe presents a card to the reader: the door opens when the card is on
// the whitelist and valid now, and the opening is recorded.
func (d *Device) Swipe(card string) bool {
	card = strings.ToUpper(strings.TrimSpace(card))
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.whitelist["card:"+card]
	now := time.Now()
	if !ok || e.ValidUntil != nil && !now.Before(*e.ValidUntil) {
		return false
	}
	d.unlocks = append(d.unlocks, Unlock{Card: card, At: now})
	return true
}

// Status is a dump of the device's state.
type Status struct {
	DeviceID  int        `json:"device_id"`
	Label     string     `json:"label"`
	Online    bool       `json:"online"`
	Version   int64      `json:"version"`
	Syncs     int        `json:"syncs"`
	Nudged    int        `json:"nudged" doc:"直接从同步通知应用的变化次数（未请求同步）"`
	Losing    int        `json:"losing,omitempty" doc:"还要丢弃的同步通知数（模拟丢失）"`
	Changed   *time.Time `json:"changed,omitempty" doc:"白名单最近一次变化的时间"`
	Firmware  string     `json:"firmware"`
	Upgrade   string     `json:"upgrade,omitempty"`
	Whitelist []string   `json:"whitelist"`
	Unlocks   []Unlock   `json:"unlocks"`
	Events    []Event    `json:"events"`
	Notices   []Notice   `json:"notices" doc:"通知，showing 表示当前在展示时间内"`
	Ads       []Ad       `json:"ads"`
	SIP       *SIPStatus `json:"sip,omitempty" doc:"SIP 注册与通话（-sip off 时没有）"`
	LastOpen  *Unlock    `json:"last_open,omitempty" doc:"最近一次 APP 远程开门"`
	Ignoring  bool       `json:"ignoring_commands,omitempty" doc:"不响应远程开门命令（测试超时）"`
}

// Notice is a notice the device holds.
type Notice struct {
	Title   string `json:"title"`
	Content string `json:"content"`
	Showing bool   `json:"showing"`
}

// Ad is an ad the device holds.
type Ad struct {
	Key        string `json:"key"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Downloaded bool   `json:"downloaded" doc:"图片已下载且校验通过"`
}

// Status returns the device's state.
func (d *Device) Status() Status {
	sipSt := d.sipStatus()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{DeviceID: d.cred.DeviceID, Label: d.cred.Label, Online: d.online, Version: d.version, Syncs: d.syncs,
		Firmware: d.firmware, Upgrade: d.upgrade,
		Whitelist: []string{}, Unlocks: append([]Unlock{}, d.unlocks...),
		Events: append([]Event{}, d.events...), SIP: sipSt, LastOpen: d.lastOpen, Ignoring: d.ignoreCommands, Nudged: d.nudged, Losing: d.lose}
	if !d.changed.IsZero() {
		changed := d.changed
		st.Changed = &changed
	}
	now := time.Now()
	st.Notices, st.Ads = []Notice{}, []Ad{}
	for k, e := range d.whitelist {
		st.Whitelist = append(st.Whitelist, k)
		switch e.Kind {
		case "notice":
			showing := (e.ValidFrom == nil || !now.Before(*e.ValidFrom)) && (e.ValidUntil == nil || now.Before(*e.ValidUntil))
			st.Notices = append(st.Notices, Notice{Title: e.Title, Content: e.Content, Showing: showing})
		case "ad":
			st.Ads = append(st.Ads, Ad{Key: k, Width: e.Width, Height: e.Height, Downloaded: d.adImages[k] == e.SHA256})
		}
	}
	slices.Sort(st.Whitelist)
	slices.SortFunc(st.Ads, func(a, b Ad) int { return strings.Compare(a.Key, b.Key) })
	return st
}
