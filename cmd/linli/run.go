package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"linli/internal/app"
	"linli/internal/config"
	"linli/internal/fakecam"
	"linli/internal/memory"
	"linli/internal/sim"
)

const usage = `用法 / usage: linli <command> [flags]

commands:
  serve     start the server (console, API) — see "linli serve -h"
  version   print the version
  openapi   print the OpenAPI 3.1 document of the console API
  backup    back up the database (SQLite), files and data key into a tar.gz — see "linli backup -h"
  restore   restore a backup into the data directory — see "linli restore -h"
  routes    list every HTTP route: method, path, who may call it, where it is declared
  sim       run simulated door stations against a server — see "linli sim -h";
            "linli sim camera" runs a fake ONVIF camera (RTSP on loopback)
`

// run is the whole program; main only calls it, and tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "linli", app.Version)
		return nil
	case "openapi":
		doc, err := app.OpenAPI()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", doc)
		return err
	case "backup":
		return backupCmd(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], getenv, stdout, stderr)
	case "routes":
		routes, err := app.Routes()
		if err != nil {
			return err
		}
		return app.WriteRoutes(stdout, routes)
	case "sim":
		if len(args) > 1 && args[1] == "camera" {
			return fakecam.Main(ctx, args[2:], stdout, stderr)
		}
		return sim.Main(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level, _ := cfg.Level()
	opts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	if cfg.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stdout, opts))
	} else {
		logger = slog.New(slog.NewTextHandler(stdout, opts))
	}
	if cfg.MemoryLimit > 0 {
		// The garbage collector works harder near the limit instead of
		// letting the heap double (GOGC) past it.
		debug.SetMemoryLimit(cfg.MemoryLimit)
		logger.Info("memory limit", "bytes", cfg.MemoryLimit)
	}
	go memory.Trim(ctx, logger)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Listen(); err != nil {
		return err
	}
	return a.Serve(ctx)
}
