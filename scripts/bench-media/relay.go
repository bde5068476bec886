package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"

	"linli/internal/media"
)

// runRelay is the relay process: the media relay behind a small loopback
// HTTP control API, so that the load runs in another process and the
// relay's CPU and memory can be read from /proc alone.
func runRelay() error {
	r, err := media.New(media.Config{MaxSessions: 1000, MaxPerCommunity: 1000})
	if err != nil {
		return err
	}
	defer r.Close()
	var (
		mu      sync.Mutex
		streams = map[int]*media.RTPStream{}
		next    int
	)
	get := func(w http.ResponseWriter, req *http.Request) *media.RTPStream {
		id, _ := strconv.Atoi(req.PathValue("id"))
		mu.Lock()
		defer mu.Unlock()
		s := streams[id]
		if s == nil {
			http.Error(w, "no such stream", http.StatusNotFound)
		}
		return s
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /streams", func(w http.ResponseWriter, _ *http.Request) {
		s, err := r.NewRTPStream(1, "bench")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		next++
		id := next
		streams[id] = s
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(streamInfo{ID: id, Audio: s.Audio(), Video: s.Video()})
	})
	mux.HandleFunc("POST /streams/{id}/start", func(w http.ResponseWriter, req *http.Request) {
		s := get(w, req)
		if s == nil {
			return
		}
		var p media.Peer
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Start(p)
	})
	mux.HandleFunc("POST /streams/{id}/viewers", func(w http.ResponseWriter, req *http.Request) {
		s := get(w, req)
		if s == nil {
			return
		}
		offer, _ := io.ReadAll(req.Body)
		_, answer, err := s.Stream().AddViewer(string(offer), media.ViewerOptions{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, answer)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		all := streams
		streams = map[int]*media.RTPStream{}
		mu.Unlock()
		for _, s := range all {
			s.Close()
		}
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(r.Stats())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, "control", ln.Addr())
	// The load process closes our stdin when it is done.
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = ln.Close() }()
	_ = http.Serve(ln, mux)
	return nil
}

type streamInfo struct {
	ID    int            `json:"id"`
	Audio netip.AddrPort `json:"audio"`
	Video netip.AddrPort `json:"video"`
}
