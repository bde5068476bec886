package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/peers"
	"linli/internal/sim"
	"linli/internal/sip/ua"
	"linli/internal/syncbuf"
)

// requireBaresip returns baresip's path; without it the test is skipped,
// unless CI_REQUIRE_SIPP asks for the SIP peers.
func requireBaresip(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		if os.Getenv("CI_REQUIRE_SIPP") != "" {
			t.Fatal("baresip is required (CI_REQUIRE_SIPP is set)")
		}
		t.Skip("baresip not installed")
	}
	return bin
}

// baresip is a running baresip registered to the server.
type baresip struct {
	out  *syncbuf.Buffer
	ctrl string // ctrl_tcp address
}

// startBaresip runs baresip registering username/password with the SIP
// server at server (host:port): no sound card (a WAV tone as microphone,
// the audio bridge as loudspeaker), G.711 only, loopback only, SIP trace
// on, commands over ctrl_tcp. answer is "auto" or "manual".
func startBaresip(t *testing.T, bin, server, username, password, answer string) *baresip {
	t.Helper()
	dir := t.TempDir()
	ctrl := freeAddr(t)
	config := strings.Join([]string{
		"sip_listen 127.0.0.1:" + strconv.Itoa(freeSIPPort(t)),
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module_app account.so",
		"module_app menu.so",
		"module_app ctrl_tcp.so",
		"ctrl_tcp_listen " + ctrl,
		"audio_player aubridge,speaker",
		"audio_source aufile," + filepath.Join(dir, "tone.wav"),
		"audio_alert aubridge,alert",
		"sip_trans_def udp",
		"rtp_stats yes",
		"",
	}, "\n")
	accounts := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=120;answermode=%s;audio_codecs=PCMU/8000/1,PCMA/8000/1\n", username, server, password, answer)
	for name, body := range map[string][]byte{"config": []byte(config), "accounts": []byte(accounts), "tone.wav": peers.ToneWAV(60)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-v", "-s", "-n", "127.0.0.1")
	cmd.Dir = dir
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("baresip %s:\n%s", username, out.String())
		}
	})
	return &baresip{out: out, ctrl: ctrl}
}

// command sends a menu command to baresip over ctrl_tcp (netstrings).
func (b *baresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", b.ctrl, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t"})
	if _, err := fmt.Fprintf(conn, "%d:%s,", len(body), body); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	t.Logf("baresip %s %s: %s", cmd, params, buf[:n])
}

// rtpStats is what baresip printed at the end of its call: packets sent
// and received.
func (b *baresip) rtpStats() (sent, received int, ok bool) {
	for line := range strings.Lines(b.out.String()) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "packets:" {
			sent, _ = strconv.Atoi(f[1])
			received, _ = strconv.Atoi(f[2])
			ok = true
		}
	}
	return sent, received, ok
}

// freeSIPPort returns a port free for baresip's SIP over UDP and TCP.
func freeSIPPort(t *testing.T) int {
	t.Helper()
	port, err := peers.FreeSIPPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// rawInvite sends an INVITE for 0502 from user without credentials over
// UDP and returns the answer.
func rawInvite(t *testing.T, server, user string) string {
	t.Helper()
	conn, err := net.Dial("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "INVITE sip:0502@" + server + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-raw1;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:" + user + "@" + server + ">;tag=raw1\r\n" +
		"To: <sip:0502@" + server + ">\r\n" +
		"Call-ID: raw-invite-1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:" + user + "@" + local + ">\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no answer to an INVITE without credentials: %v", err)
		}
		if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 100 ") {
			return got
		}
	}
}

type sipCredentials struct {
	DeviceID int    `json:"device_id"`
	Label    string `json:"label"`
	SIP      struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"sip"`
}

func bindSlot(t *testing.T, s *apptest.Server, a *apptest.Community, password, serial string, slot map[string]any) sipCredentials {
	t.Helper()
	var cr sipCredentials
	s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": password,
		"serial": serial, "slot": slot}).JSON(t, &cr)
	if cr.SIP.Username == "" || cr.SIP.Password == "" {
		t.Fatalf("binding gave no SIP account: %+v", cr)
	}
	return cr
}

type callRecords struct {
	Items []struct {
		ID          int
		CallID      string `json:"call_id"`
		Answerer    string
		TalkSeconds int    `json:"talk_seconds"`
		Result      string `json:"result"`
		ResultName  string `json:"result_name"`
		HasSnapshot bool   `json:"has_snapshot"`
		Callee      string
		Target      string
	}
	Total int
}

// TestDoorCallThroughServer: a simulated door station calls room 0502
// through the SIP server; the room's indoor monitor (baresip, answering by
// itself) and the resident's app (a second baresip that only rings) ring
// at once; the monitor answers, the app's branch is cancelled, RTP flows
// both ways, the monitor's # (RFC 4733) opens the door, BYE ends the call,
// and 呼叫记录 and 开锁记录 show it. A second call nobody answers ends
// 未接听 after the ring time.
func TestDoorCallThroughServer(t *testing.T) {
	t.Parallel()
	bin := requireBaresip(t)
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		ctx := context.Background()
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		sipAddr := s.App.SIPAddr()
		a := s.NewCommunity(t, s.Operator(), "通话小区", "DC")
		m := a.Manager
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "张三", "role": "业主", "phone": "13911140001"})

		monitorCr := bindSlot(t, s, a, "pwDCx9", "BS-MON", map[string]any{"kind": "indoor", "room_id": a.RoomID})
		monitor := startBaresip(t, bin, sipAddr, monitorCr.SIP.Username, monitorCr.SIP.Password, "auto")

		h := appSignIn(t, s, "13911140001")
		var appAcc struct{ Username, Password string }
		s.Client("app").DoHeaders("GET", "/app/v1/sip", h, nil).JSON(t, &appAcc)
		phone := startBaresip(t, bin, sipAddr, appAcc.Username, appAcc.Password, "manual")

		// The community opens with *# during calls; the door station
		// learns it from sync.
		m.Must(200, "PATCH", a.Path(""), map[string]any{"unlock_dtmf": "*#"})
		door := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwDCx9",
			Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, Serial: "SIM-DOOR", SIPAddr: sipAddr, NoVideo: true}, logger)
		if err := door.Bind(ctx); err != nil {
			t.Fatal(err)
		}
		if err := door.StartSIP(ctx); err != nil {
			t.Fatal(err)
		}
		stopDoor := runSim(t, door)
		waitFor(t, "the door station syncs", func() bool { return door.Status().Syncs > 0 })
		waitFor(t, "all three registered", func() bool {
			regs, err := s.App.SIPRegistrations(ctx, []string{monitorCr.SIP.Username, appAcc.Username, door.Status().SIP.Username})
			return err == nil && len(regs) == 3
		})

		// 设备列表 shows who is registered and where.
		type deviceRows struct {
			Items []struct {
				DeviceID    int      `json:"device_id"`
				Kind        string   `json:"kind"`
				SIP         string   `json:"sip"`
				SIPContacts []string `json:"sip_contacts"`
			}
		}
		var rows deviceRows
		m.Must(200, "GET", a.Path("/devices?kind=indoor"), nil).JSON(t, &rows)
		if len(rows.Items) != 1 || rows.Items[0].SIP != "registered" || len(rows.Items[0].SIPContacts) != 1 ||
			!strings.HasPrefix(rows.Items[0].SIPContacts[0], "127.0.0.1:") {
			t.Errorf("设备列表, indoor monitors: %+v", rows)
		}
		m.Must(200, "GET", a.Path("/devices"), nil).JSON(t, &rows)
		if len(rows.Items) != 4 || rows.Items[0].SIP != "registered" || rows.Items[1].SIP != "" {
			t.Errorf("设备列表, door stations (one bound, one free), wall and management stations: %+v", rows)
		}

		call, err := door.PlaceCall(ctx, "0502")
		if err != nil {
			t.Fatal(err)
		}
		doorCall := func() ua.CallInfo { return door.Status().SIP.Calls[0] }
		waitFor(t, "the monitor answers and RTP flows to the door", func() bool {
			c := doorCall()
			return c.State == ua.StateAnswered && c.PacketsReceived >= 25
		})
		waitFor(t, "the app's branch is cancelled", func() bool {
			return strings.Contains(phone.out.String(), "CANCEL sip:")
		})
		if !strings.Contains(phone.out.String(), "Call completed elsewhere") {
			t.Errorf("the app's CANCEL gave no reason")
		}

		monitor.command(t, "sndcode", "#")
		time.Sleep(300 * time.Millisecond) // not a wait for a condition: a wrong opening would show by now
		if n := len(door.Status().Unlocks); n != 0 {
			t.Fatalf("# alone opened the door (%d)", n)
		}
		monitor.command(t, "sndcode", "*")
		monitor.command(t, "sndcode", "#")
		waitFor(t, "the door opens on the monitor's *#", func() bool { return len(door.Status().Unlocks) == 1 })
		if u := door.Status().Unlocks[0]; u.Type != "call" || u.CallID != call.ID || u.Via != "rtp" {
			t.Errorf("unlock: %+v", u)
		}
		time.Sleep(1100 * time.Millisecond) // a talk of more than a second
		if _, err := door.Hangup(); err != nil {
			t.Fatal(err)
		}
		info := doorCall()
		var sent, received int
		waitFor(t, "baresip's RTP summary", func() bool {
			var ok bool
			sent, received, ok = monitor.rtpStats()
			return ok
		})
		t.Logf("door sent %d and received %d RTP packets; the monitor sent %d and received %d", info.PacketsSent, info.PacketsReceived, sent, received)
		if received < 25 || info.PacketsReceived < 25 {
			t.Errorf("RTP did not flow both ways: door %+v, monitor sent %d received %d", info, sent, received)
		}

		var calls callRecords
		waitFor(t, "the call's record ends answered with its snapshot", func() bool {
			m.Must(200, "GET", a.Path("/records/calls"), nil).JSON(t, &calls)
			return calls.Total == 1 && calls.Items[0].ResultName == "已接听" && calls.Items[0].HasSnapshot
		})
		if c := calls.Items[0]; c.Answerer != "室内分机" || c.TalkSeconds < 1 || !strings.HasSuffix(c.Callee, "0502") {
			t.Errorf("呼叫记录: %+v", c)
		}
		var unlocks recordList
		waitFor(t, "开锁记录 shows the opening", func() bool {
			m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
			return unlocks.Total == 1
		})
		if unlocks.Items[0].UnlockTypeName != "通话中开锁" {
			t.Errorf("开锁记录: %+v", unlocks)
		}

		// Nobody answers: the monitor only rings now, and after the
		// community's ring time the call ends 未接听.
		_ = phone
		monitor.command(t, "answermode", "manual")
		m.Must(200, "PATCH", a.Path(""), map[string]any{"ring_seconds": 10})
		if _, err := door.PlaceCall(ctx, "0502"); err != nil {
			t.Fatal(err)
		}
		if !apptest.Within(20*time.Second, func() bool { return door.Status().SIP.Calls[1].State == ua.StateEnded }) {
			t.Fatalf("the unanswered call still rings: %+v", door.Status().SIP.Calls[1])
		}
		t.Logf("unanswered call: %+v", door.Status().SIP.Calls[1])
		waitFor(t, "the unanswered call's record", func() bool {
			m.Must(200, "GET", a.Path("/records/calls?result=missed"), nil).JSON(t, &calls)
			return calls.Total == 1 && calls.Items[0].ResultName == "未接听"
		})

		// Another community's door station: its password does not register
		// this community's monitor account, and what it dials stays in its
		// own community.
		b := s.NewCommunity(t, s.Operator(), "邻小区", "DX")
		other := bindSlot(t, s, b, "pwDXx9", "BS-OTHER", map[string]any{"kind": "door", "unit_id": b.UnitID, "index": 1})
		newUA := func(user, pass string) *ua.UA {
			u, err := ua.New(ua.Config{Username: user, Password: pass, Server: sipAddr, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = u.Close() })
			return u
		}
		if err := newUA(monitorCr.SIP.Username, other.SIP.Password).Register(ctx); err == nil {
			t.Error("another community's password registered this community's monitor")
		}
		stranger := newUA(other.SIP.Username, other.SIP.Password)
		if err := stranger.Register(ctx); err != nil {
			t.Fatal(err)
		}
		ended := func(u *ua.UA, target string) ua.CallInfo {
			t.Helper()
			c, err := u.Call(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-c.Done():
			case <-c.Answered():
				t.Fatalf("%s answered: %+v", target, c.Info())
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no final answer: %+v", target, c.Info())
			}
			return c.Info()
		}
		for _, target := range []string{monitorCr.SIP.Username, appAcc.Username, "sip:0502@" + sipAddr} {
			if got := ended(stranger, target); got.Code != 403 && got.Code != 404 && got.Code != 480 {
				t.Errorf("another community's door station dialling %s: %d %s", target, got.Code, got.Reason)
			}
		}
		// Its own 0502 has nobody registered: 480, and nothing rang here.
		if got := ended(stranger, "1-1-1-0502"); got.Code != 480 {
			t.Errorf("the other community's own room: %d %s", got.Code, got.Reason)
		}
		// A door station that has not registered and gives no password is
		// challenged and refused.
		doorUser := door.Status().SIP.Username
		if got := rawInvite(t, sipAddr, doorUser); !strings.HasPrefix(got, "SIP/2.0 407 ") || !strings.Contains(got, "Proxy-Authenticate: Digest") {
			t.Errorf("INVITE without credentials:\n%s", got)
		}
		if got := ended(newUA(doorUser, ""), "0502"); got.Code != 403 {
			t.Errorf("INVITE with an empty password: %d %s", got.Code, got.Reason)
		}
		stopDoor()
		waitFor(t, "设备列表 shows the door station unregistered", func() bool {
			rows = deviceRows{}
			m.Must(200, "GET", a.Path("/devices"), nil).JSON(t, &rows)
			return rows.Items[0].SIP == "unregistered" && len(rows.Items[0].SIPContacts) == 0
		})
		m.Must(200, "GET", a.Path("/records/calls"), nil).JSON(t, &calls)
		if calls.Total != 2 {
			t.Errorf("calls from outside reached this community's 呼叫记录: %+v", calls)
		}
		if n := strings.Count(monitor.out.String(), "INVITE sip:"); n != 2 {
			t.Errorf("the monitor saw %d INVITEs, want the two door calls", n)
		}
	})
}
