// Command server runs Linli's SIP server for scripts/bench-sip.sh: a fresh
// SQLite database (registrations are written to it as in production) and a
// Directory seeded in memory with N accounts u00001…uNNNNN (password
// pw-NNNNN-x, the same as the Kamailio yardstick's subscribers), a door
// station door1, and the number 0502 forking to an indoor monitor m1 and
// two app installations a1 and a2. It writes the sipp injection file
// users.csv into -dir, prints "ready <addr>" and serves until SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"linli/internal/sip"
	"linli/internal/store"
)

type directory struct{ accounts map[string]sip.Account }

func (d directory) Account(_ context.Context, username string) (sip.Account, bool, error) {
	a, ok := d.accounts[username]
	return a, ok, nil
}

func (d directory) Route(_ context.Context, _ sip.Account, number string) (sip.Route, error) {
	if number != "0502" {
		return sip.Route{}, &sip.RouteError{Code: 404, Reason: "Number not in the dial plan"}
	}
	return sip.Route{Number: number, Target: "1-1-1-0502", RoomID: 1, RingTime: 30 * time.Second,
		Branches: []sip.Branch{{Username: "m1", Who: "室内分机"}, {Username: "a1", Who: "张三"}, {Username: "a2", Who: "李四"}}}, nil
}

type callLog struct{}

func (callLog) CallStarted(context.Context, sip.Call)  {}
func (callLog) CallAnswered(context.Context, sip.Call) {}
func (callLog) CallEnded(context.Context, sip.Call)    {}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:5070", "SIP address")
	dir := flag.String("dir", "", "work directory (database, users.csv)")
	users := flag.Int("users", 10000, "accounts")
	dbURL := flag.String("db", "", "database URL; empty: SQLite in -dir")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGTERM")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := directory{accounts: map[string]sip.Account{}}
	f, err := os.Create(filepath.Join(*dir, "users.csv"))
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "SEQUENTIAL")
	for i := 1; i <= *users; i++ {
		u, pw := fmt.Sprintf("u%05d", i), fmt.Sprintf("pw-%05d-x", i)
		d.accounts[u] = sip.Account{Username: u, Password: pw, Kind: sip.KindIndoor, CommunityID: 1, DeviceID: i}
		fmt.Fprintf(f, "%s;%s\n", u, pw)
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, a := range []sip.Account{
		{Username: "door1", Password: "door-pw", Kind: sip.KindDoor, CommunityID: 1},
		{Username: "m1", Password: "m1-pw", Kind: sip.KindIndoor, CommunityID: 1},
		{Username: "a1", Password: "a1-pw", Kind: sip.KindApp, CommunityID: 1, ResidentID: 1},
		{Username: "a2", Password: "a2-pw", Kind: sip.KindApp, CommunityID: 1, ResidentID: 2},
	} {
		d.accounts[a.Username] = a
	}
	db, err := store.Open(ctx, *dbURL, *dir)
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := sip.Start(ctx, sip.Config{Addr: *addr}, db, d, callLog{}, logger)
	if err != nil {
		return err
	}
	fmt.Println("ready", s.Addr())
	// SIGUSR1 prints the Go heap and goroutine count (after a GC).
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	for {
		select {
		case <-usr:
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("heap-inuse %d heap-sys %d goroutines %d\n", m.HeapInuse, m.HeapSys, runtime.NumGoroutine())
			continue
		case <-ctx.Done():
		}
		break
	}
	return s.Close()
}
