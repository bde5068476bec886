package sim

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"linli/internal/sip/ua"
)

// Main runs `linli sim`: it binds the devices the flags describe, keeps them
// connected, syncing and registered over SIP, and serves a small control API
// for tests and people (every call takes &device=N, 0 by default):
//
//	GET  /status                        everything, SIP registration and calls included
//	GET  /holding?key=card:5A5A5A5A     how many devices hold a whitelist entry, and when the last of them changed
//	POST /swipe?card=09E98CF6           present a card (an opening is reported with a snapshot)
//	POST /call?to=0502                  place a SIP call; answers the call's id and state
//	POST /call?target=0502              report a call event without calling (devices without SIP)
//	POST /answer-mode?mode=auto|after&seconds=N|reject&code=486|603|never
//	POST /unlock[?via=info]             send the unlock key in the answered call (RFC 4733 by default)
//	POST /hangup                        end the current call
//	POST /ignore-commands[?on=0]        drop remote openings unanswered (on=0: carry them out again)
//	POST /qr {"code": "LINLI-PASS:…"}   scan a visitor pass's QR code (also ?code=)
//	POST /pin {"pin": "123456"}         key in a visitor pass's PIN (also ?pin=)
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg     Config
		slot    string
		n       int
		control string
		every   time.Duration
	)
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "Linli's HTTP address")
	fs.StringVar(&cfg.MQTTAddr, "mqtt", "127.0.0.1:1883", "the MQTT broker's address")
	fs.IntVar(&cfg.CommunityID, "community", 0, "小区编号")
	fs.StringVar(&cfg.Password, "password", "", "小区密码")
	fs.StringVar(&slot, "slot", "", "door:UNIT:INDEX, wall:INDEX, management:INDEX or indoor:ROOM")
	fs.StringVar(&cfg.Serial, "serial", "", "serial number (with -n, a suffix -1, -2… is added)")
	fs.StringVar(&cfg.Orientation, "orientation", "landscape", "landscape or portrait")
	fs.IntVar(&n, "n", 1, "number of devices; with indoor:ROOM they take rooms ROOM, ROOM+1, …")
	fs.StringVar(&control, "control", "127.0.0.1:0", "address of the control API")
	fs.DurationVar(&every, "sync-every", 10*time.Minute, "sync at least this often without nudges")
	fs.StringVar(&cfg.SIPAddr, "sip", "", "SIP server host:port (default: the -server host, port 5060); off disables SIP")
	fs.StringVar(&cfg.SIPTransport, "sip-transport", "udp", "udp or tcp")
	fs.BoolVar(&cfg.NoVideo, "no-video", false, "calls carry audio only (no H.264 camera clip)")
	fs.StringVar(&cfg.UnlockCode, "unlock-code", "", "the keys that open the door during a call (default: the community's 通话开门按键, # until the first sync)")
	fs.BoolVar(&cfg.BareNudges, "bare-nudges", false, "ignore the change in sync nudges and always sync over HTTP (as older devices do)")
	answer := fs.String("answer", "auto", "how indoor monitors answer: auto, after:N (seconds), reject[:486|603] or never")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := parseSlot(slot)
	if err != nil {
		return err
	}
	if cfg.CommunityID == 0 || cfg.Password == "" || cfg.Serial == "" {
		return errors.New("sim: -community, -password and -serial are required")
	}
	if cfg.Answer, err = parseAnswer(*answer); err != nil {
		return err
	}
	if n > 1 && s.Kind != "indoor" {
		return errors.New("sim: -n above 1 needs an indoor:ROOM slot (rooms are taken one after another)")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	devices := make([]*Device, n)
	errs := make(chan error, n)
	work := make(chan int)
	// The server counts a binding under way as a wrong 小区密码 until it
	// succeeds: five at once from one address would look like guessing.
	binds := make(chan struct{}, 4)
	var started sync.WaitGroup
	for range min(n, 32) {
		started.Add(1)
		go func() {
			defer started.Done()
			for i := range work {
				c := cfg
				c.Slot = s
				if n > 1 {
					c.Serial = fmt.Sprintf("%s-%d", cfg.Serial, i+1)
					c.Slot.RoomID = s.RoomID + i
				}
				d := New(c, logger)
				binds <- struct{}{}
				err := d.Bind(ctx)
				<-binds
				if err != nil {
					errs <- err
					continue
				}
				if err := d.Connect(ctx); err != nil {
					errs <- err
					continue
				}
				if err := d.StartSIP(ctx); err != nil {
					errs <- err
					continue
				}
				devices[i] = d
			}
		}()
	}
	for i := range devices {
		work <- i
	}
	close(work)
	started.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	l, err := net.Listen("tcp", control)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: controlAPI(devices), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	fmt.Fprintf(stdout, "sim control at http://%s (%d devices)\n", l.Addr(), n)

	var wg sync.WaitGroup
	for _, d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = d.Run(ctx, every)
		}()
	}
	wg.Wait()
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

func parseSlot(s string) (Slot, error) {
	parts := strings.Split(s, ":")
	num := func(i int) int {
		if i >= len(parts) {
			return 0
		}
		v, _ := strconv.Atoi(parts[i])
		return v
	}
	switch parts[0] {
	case "door":
		return Slot{Kind: "door", UnitID: num(1), Index: num(2)}, nil
	case "wall", "management":
		return Slot{Kind: parts[0], Index: num(1)}, nil
	case "indoor":
		return Slot{Kind: "indoor", RoomID: num(1), Index: 1}, nil
	}
	return Slot{}, fmt.Errorf("sim: -slot %q: want door:UNIT:INDEX, wall:INDEX, management:INDEX or indoor:ROOM", s)
}

func controlAPI(devices []*Device) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		out := make([]Status, len(devices))
		for i, d := range devices {
			out[i] = d.Status()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /holding", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, holding(devices, r.URL.Query().Get("key")))
	})
	// device returns the device ?device=N (0 by default) of a request.
	device := func(w http.ResponseWriter, r *http.Request) *Device {
		i, _ := strconv.Atoi(r.URL.Query().Get("device"))
		if i < 0 || i >= len(devices) {
			http.Error(w, "no such device", http.StatusNotFound)
			return nil
		}
		return devices[i]
	}
	mux.HandleFunc("POST /swipe", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		card := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("card")))
		opened := d.Swipe(card)
		if opened {
			d.ReportEvent(r.Context(), "unlock", "card", card, "")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]bool{"opened": opened})
	})
	passControl(mux, device)
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		to := r.URL.Query().Get("to")
		if to == "" {
			ev := d.ReportEvent(r.Context(), "call", "", "", r.URL.Query().Get("target"))
			writeJSON(w, http.StatusOK, ev)
			return
		}
		call, err := d.PlaceCall(r.Context(), to)
		answerCall(w, call, err)
	})
	mux.HandleFunc("POST /answer-mode", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		q := r.URL.Query()
		spec := q.Get("mode")
		if v := q.Get("seconds"); v != "" {
			spec += ":" + v
		}
		if v := q.Get("code"); v != "" {
			spec += ":" + v
		}
		p, err := parseAnswer(spec)
		if err == nil {
			err = d.SetAnswerMode(p)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"mode": p.Mode, "seconds": int(p.Delay / time.Second), "code": p.Code})
	})
	mux.HandleFunc("POST /unlock", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		call, err := d.SendUnlock(r.Context(), r.URL.Query().Get("via"))
		answerCall(w, call, err)
	})
	mux.HandleFunc("POST /ignore-commands", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		on := r.URL.Query().Get("on") != "0"
		d.IgnoreCommands(on)
		writeJSON(w, http.StatusOK, map[string]bool{"ignoring_commands": on})
	})
	mux.HandleFunc("POST /hangup", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		call, err := d.Hangup()
		answerCall(w, call, err)
	})
	return mux
}

// Holding says how many of the devices hold an entry: for load tests, which
// wait until all do and take the time the last of them changed.
type Holding struct {
	Devices int `json:"devices"`
	Holding int `json:"holding"`
	// Last is when the whitelist of the last of them changed, in seconds
	// since 1970 (0 when none holds it).
	Last float64 `json:"last"`
}

func holding(devices []*Device, key string) Holding {
	h := Holding{Devices: len(devices)}
	var last time.Time
	for _, d := range devices {
		d.mu.Lock()
		_, ok := d.whitelist[key]
		changed := d.changed
		d.mu.Unlock()
		if ok {
			h.Holding++
			if changed.After(last) {
				last = changed
			}
		}
	}
	if !last.IsZero() {
		h.Last = float64(last.UnixMicro()) / 1e6
	}
	return h
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// answerCall answers a call action with the call's state, or 409 and the
// reason the action was not possible.
func answerCall(w http.ResponseWriter, call ua.CallInfo, err error) {
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]any{"error": err.Error(), "call": call})
		return
	}
	writeJSON(w, http.StatusOK, call)
}

// parseAnswer reads an answer mode: auto, after:N (seconds), reject,
// reject:486, reject:603 or never.
func parseAnswer(spec string) (ua.AnswerPolicy, error) {
	mode, arg, _ := strings.Cut(spec, ":")
	switch mode {
	case ua.AnswerAuto, ua.AnswerNever:
		return ua.AnswerPolicy{Mode: mode}, nil
	case ua.AnswerAfter:
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 || n > 600 {
			return ua.AnswerPolicy{}, errors.New("after 需要 0–600 秒，如 mode=after&seconds=5")
		}
		return ua.AnswerPolicy{Mode: mode, Delay: time.Duration(n) * time.Second}, nil
	case ua.AnswerReject:
		code := 486
		if arg != "" {
			var err error
			if code, err = strconv.Atoi(arg); err != nil || code != 486 && code != 603 {
				return ua.AnswerPolicy{}, errors.New("拒接的应答码只能是 486（忙）或 603（拒绝）")
			}
		}
		return ua.AnswerPolicy{Mode: mode, Code: code}, nil
	}
	return ua.AnswerPolicy{}, fmt.Errorf("接听方式 %q 无效：auto、after、reject 或 never", spec)
}
