package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"linli/internal/sip/ua"
)

// DefaultUnlockCode is the key that opens a door during a call unless the
// community chose another.
const DefaultUnlockCode = "#"

// SIPStatus is the device's SIP side for the status dump.
type SIPStatus struct {
	Server       string          `json:"server"`
	Username     string          `json:"username"`
	Registration ua.Registration `json:"registration"`
	AnswerMode   string          `json:"answer_mode,omitempty" doc:"室内分机：auto、after、reject、never"`
	Calls        []ua.CallInfo   `json:"calls"`
}

// sipServer is where the device registers: cfg.SIPAddr, or the HTTP
// server's host on port 5060 when empty; "" when SIP is off.
func (d *Device) sipServer() (string, error) {
	switch d.cfg.SIPAddr {
	case "off":
		return "", nil
	case "":
		u, err := url.Parse(d.cfg.Server)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("sim: cannot derive the SIP server from %q; give -sip", d.cfg.Server)
		}
		return net.JoinHostPort(u.Hostname(), "5060"), nil
	}
	if _, _, err := net.SplitHostPort(d.cfg.SIPAddr); err != nil {
		return "", fmt.Errorf("sim: -sip %q: want host:port or off", d.cfg.SIPAddr)
	}
	return d.cfg.SIPAddr, nil
}

// StartSIP registers the bound device with the SIP server using the
// credentials from binding. Door and wall stations open on the unlock key
// received during a call; indoor monitors answer by their answer mode.
// Registration runs in the background and is retried after failures, as a
// real device keeps trying while its server is away.
func (d *Device) StartSIP(ctx context.Context) error {
	server, err := d.sipServer()
	if err != nil || server == "" {
		return err
	}
	if d.cred.SIP.Username == "" {
		return errors.New("sim: the binding answer carried no SIP account")
	}
	// The local address is the one the system routes to the server from.
	probe, err := net.Dial("udp", server)
	if err != nil {
		return fmt.Errorf("sim: SIP server %s: %w", server, err)
	}
	local := probe.LocalAddr().(*net.UDPAddr).IP
	probe.Close()
	answer := initialAnswer(d.cfg)
	phone, err := ua.New(ua.Config{Username: d.cred.SIP.Username, Password: d.cred.SIP.Password, DisplayName: d.cred.Label,
		Server: server, Transport: d.cfg.SIPTransport, Video: !d.cfg.NoVideo, Listen: net.JoinHostPort(local.String(), "0"), Answer: answer,
		OnDTMF: d.onKey, Logger: d.logger.With("device", d.cred.DeviceID)})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.phone, d.answer = phone, answer
	d.mu.Unlock()
	return phone.StartRegistering()
}

// stopSIP hangs up, unregisters and stops the SIP side.
func (d *Device) stopSIP() {
	d.mu.Lock()
	phone := d.phone
	d.phone = nil
	d.mu.Unlock()
	if phone != nil {
		_ = phone.Close()
	}
}

var errNoSIP = errors.New("设备未启用 SIP（模拟器以 -sip off 启动，或尚未注册）")

func (d *Device) sip() (*ua.UA, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.phone == nil {
		return nil, errNoSIP
	}
	return d.phone, nil
}

// PlaceCall dials a number (0502, 1-1-1-0502, 9901) through the SIP server
// and uploads the call's snapshot with its Call-ID, as a door station does
// when a visitor presses the call button.
func (d *Device) PlaceCall(ctx context.Context, to string) (ua.CallInfo, error) {
	phone, err := d.sip()
	if err != nil {
		return ua.CallInfo{}, err
	}
	c, err := phone.Call(ctx, to)
	if err != nil {
		return ua.CallInfo{}, err
	}
	d.owned.Add(1)
	go func() {
		defer d.owned.Done()
		up, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d.reportEvent(up, "call", "", "", to, c.ID())
	}()
	return c.Info(), nil
}

// onKey opens a door or wall station on the community's unlock key during
// a call and reports an unlock of type call with the call's id.
func (d *Device) onKey(c *ua.Call, key, via string) {
	if d.cfg.Slot.Kind != "door" && d.cfg.Slot.Kind != "wall" {
		return
	}
	d.mu.Lock()
	code := d.unlockCodeLocked()
	if d.typed == nil {
		d.typed = map[string]string{}
	}
	typed := d.typed[c.ID()] + key
	if len(typed) > len(code) {
		typed = typed[len(typed)-len(code):]
	}
	d.typed[c.ID()] = typed
	if typed != code {
		d.mu.Unlock()
		return
	}
	delete(d.typed, c.ID())
	d.unlocks = append(d.unlocks, Unlock{Type: "call", CallID: c.ID(), Via: via, At: time.Now()})
	d.mu.Unlock()
	d.logger.Info("door opened during a call", "device", d.cred.DeviceID, "call_id", c.ID(), "via", via)
	d.owned.Add(1)
	go func() {
		defer d.owned.Done()
		up, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d.reportEvent(up, "unlock", "call", "", "", c.ID())
	}()
}

// unlockCodeLocked is the keys that open the door: the -unlock-code flag,
// else the community's from sync, else #.
func (d *Device) unlockCodeLocked() string {
	switch {
	case d.cfg.UnlockCode != "":
		return d.cfg.UnlockCode
	case d.syncedCode != "":
		return d.syncedCode
	}
	return DefaultUnlockCode
}

// initialAnswer is how the device answers incoming calls at start: door,
// wall and management stations answer at once, as a monitoring call (监视)
// from an indoor monitor or the console expects the camera without anyone
// at the door; an indoor monitor by its configured mode (auto when empty).
func initialAnswer(cfg Config) ua.AnswerPolicy {
	if cfg.Slot.Kind != "indoor" || cfg.Answer.Mode == "" {
		return ua.AnswerPolicy{Mode: ua.AnswerAuto}
	}
	return cfg.Answer
}

// SetAnswerMode chooses how an indoor monitor treats incoming calls; a
// station always answers at once.
func (d *Device) SetAnswerMode(p ua.AnswerPolicy) error {
	if d.cfg.Slot.Kind != "indoor" && p.Mode != ua.AnswerAuto {
		return errors.New("门口机、围墙机和管理机总是自动接听（监视），只有室内分机可以设置接听方式")
	}
	phone, err := d.sip()
	if err != nil {
		return err
	}
	phone.SetAnswer(p)
	d.mu.Lock()
	d.answer = p
	d.mu.Unlock()
	return nil
}

// activeCall is the device's answered call, else its newest ringing one.
func (d *Device) activeCall() (*ua.Call, error) {
	phone, err := d.sip()
	if err != nil {
		return nil, err
	}
	calls := phone.Calls()
	var ringing *ua.Call
	for i := len(calls) - 1; i >= 0; i-- {
		switch calls[i].Info().State {
		case ua.StateAnswered:
			return calls[i], nil
		case ua.StateRinging, ua.StateCalling:
			if ringing == nil {
				ringing = calls[i]
			}
		}
	}
	if ringing == nil {
		return nil, errors.New("当前没有通话")
	}
	return ringing, nil
}

// SendUnlock sends the unlock key in the answered call, as RFC 4733 DTMF
// (via "rtp" or "") or SIP INFO (via "info").
func (d *Device) SendUnlock(ctx context.Context, via string) (ua.CallInfo, error) {
	c, err := d.activeCall()
	if err != nil {
		return ua.CallInfo{}, err
	}
	d.mu.Lock()
	code := d.unlockCodeLocked()
	d.mu.Unlock()
	if err := c.SendDTMF(ctx, code, via); err != nil {
		return c.Info(), err
	}
	return c.Info(), nil
}

// Hangup ends the device's current call (CANCEL, refusal or BYE as fits).
func (d *Device) Hangup() (ua.CallInfo, error) {
	c, err := d.activeCall()
	if err != nil {
		return ua.CallInfo{}, err
	}
	c.Hangup()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
	}
	return c.Info(), nil
}

// sipStatus is the SIP part of Status, nil when SIP is off.
func (d *Device) sipStatus() *SIPStatus {
	d.mu.Lock()
	phone, answer := d.phone, d.answer
	d.mu.Unlock()
	if phone == nil {
		return nil
	}
	server, _ := d.sipServer()
	st := &SIPStatus{Server: server, Username: d.cred.SIP.Username, Registration: phone.Registration(), Calls: []ua.CallInfo{}}
	if d.cfg.Slot.Kind == "indoor" {
		st.AnswerMode = answer.Mode
	}
	for _, c := range phone.Calls() {
		st.Calls = append(st.Calls, c.Info())
	}
	return st
}

// SIPAddr is where the device's agent receives SIP (host:port), "" when
// SIP is off.
func (d *Device) SIPAddr() string {
	phone, err := d.sip()
	if err != nil {
		return ""
	}
	return phone.Addr()
}
