// Package fakecam is a small IP camera for tests and for trying the
// console's 监控设备 by hand: an HTTP server with the ONVIF device and media
// service SOAP endpoints that Linli's client calls (checking WS-Security
// UsernameToken digests), a JPEG snapshot behind HTTP digest
// authentication, and an RTSP server (gortsplib) that plays the door
// station clip (internal/clip) at 25 frames a second with continuous
// timestamps, plus a G.711 µ-law tone. It listens on loopback unless told
// otherwise and counts the RTSP sessions it served.
package fakecam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a fake camera; zero values take defaults.
type Config struct {
	Name     string // shown in the snapshot (ASCII); default "LINLI CAM"
	Username string // default "admin"
	Password string // default "admin123"
	HTTPAddr string // ONVIF and snapshot, default 127.0.0.1:0
	RTSPAddr string // default 127.0.0.1:0
	// NoAudio leaves the G.711 track out of the RTSP stream.
	NoAudio bool
	// UDP offers RTP over UDP too (on a free even/odd port pair of
	// loopback); without it only TCP is offered.
	UDP bool
	// NoInbandParams leaves SPS and PPS out of the stream (they are only in
	// the SDP), as some cameras do.
	NoInbandParams bool
	// NoH264 makes the only profile's encoder JPEG (a camera Linli cannot relay).
	NoH264 bool
	Logger *slog.Logger
}

// Camera is a running fake camera.
type Camera struct {
	cfg      Config
	http     *http.Server
	httpLn   net.Listener
	rtsp     *rtspServer
	sessions atomic.Int64 // RTSP sessions opened so far
	active   atomic.Int64 // RTSP sessions open now
	snaps    atomic.Int64 // snapshots served
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closing  sync.Once
}

// Start starts a fake camera; Close stops it.
func Start(cfg Config) (*Camera, error) {
	if cfg.Name == "" {
		cfg.Name = "LINLI CAM"
	}
	if cfg.Username == "" {
		cfg.Username = "admin"
	}
	if cfg.Password == "" {
		cfg.Password = "admin123"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.RTSPAddr == "" {
		cfg.RTSPAddr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Camera{cfg: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	rs, err := startRTSP(ctx, c)
	if err != nil {
		cancel()
		return nil, err
	}
	c.rtsp = rs
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		cancel()
		rs.close()
		return nil, fmt.Errorf("fakecam: listen %s: %w", cfg.HTTPAddr, err)
	}
	c.httpLn = ln
	mux := http.NewServeMux()
	mux.HandleFunc("POST /onvif/device_service", c.deviceService)
	mux.HandleFunc("POST /onvif/media_service", c.mediaService)
	mux.HandleFunc("GET /snapshot.jpg", c.snapshot)
	c.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("fakecam http", "err", err)
		}
	}()
	return c, nil
}

// Addr is the host:port of the ONVIF service (what staff type in 地址).
func (c *Camera) Addr() string { return c.httpLn.Addr().String() }

// RTSPURL is the stream's address without credentials.
func (c *Camera) RTSPURL() string { return "rtsp://" + c.rtsp.addr + "/live" }

// SnapshotURL is the snapshot's address without credentials.
func (c *Camera) SnapshotURL() string { return "http://" + c.Addr() + "/snapshot.jpg" }

// Username and Password are the camera's credentials.
func (c *Camera) Username() string { return c.cfg.Username }

// Password returns the camera's password.
func (c *Camera) Password() string { return c.cfg.Password }

// Sessions is how many RTSP sessions the camera opened since it started.
func (c *Camera) Sessions() int { return int(c.sessions.Load()) }

// ActiveSessions is how many RTSP sessions are open now.
func (c *Camera) ActiveSessions() int { return int(c.active.Load()) }

// Snapshots is how many snapshots the camera served.
func (c *Camera) Snapshots() int { return int(c.snaps.Load()) }

// Close stops the servers and the streamer; closing again does nothing.
func (c *Camera) Close() {
	c.closing.Do(func() {
		c.cancel()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.http.Shutdown(shut)
		c.rtsp.close()
		c.wg.Wait()
	})
}
