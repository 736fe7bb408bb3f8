package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/server"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve the API, a live WebSocket and a web page: enrol voices, train, separate",
		usage: `Usage: dlnmf serve [--addr 127.0.0.1:8080] [--data DIR] [--token-file F] [--cors ORIGIN]

Serves, until SIGTERM or SIGINT, a web page at / (enrol speakers from files
or the microphone, train a model, separate a recording or the microphone
live), the JSON API under /v1 that the page uses (described at
/v1/openapi.json), /healthz and /metrics (Prometheus). Models, enrolled
speakers and jobs are kept under --data: a restarted server has them all,
and resumes the jobs that were queued or running (docs/serve.md).

Listening on anything but loopback needs --token-file: a file holding one
token that every request but /healthz and the page's files must give
as "Authorization: Bearer TOKEN". Browsers of other origins may call the
API only when --cors names their origin.

SIGTERM stops taking work and lets running jobs finish for --grace; what
is left stays queued on disk for the next start.

Examples:
  dlnmf serve
  dlnmf serve --addr 0.0.0.0:8080 --token-file /etc/dlnmf/token --data /var/lib/dlnmf`,
		run: runServe,
	})
}

// serveFlags are serve's flags, bound into server.Settings where a field
// of it holds them.
type serveFlags struct {
	settings  server.Settings
	addr      string
	tokenFile string
	grace     time.Duration
	quiet     bool
}

func bindServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{}
	s := &f.settings
	fs.StringVar(&f.addr, "addr", server.DefaultAddr, "address to listen on, host:port")
	fs.StringVar(&s.Dir, "data", server.DefaultDir, "data folder: models/, speakers/, jobs/ (created if missing)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token every request must give; required beyond loopback")
	fs.StringVar(&s.CORSOrigin, "cors", "", "an origin (https://example.org) whose pages may call the API; CORS is off without it")
	fs.Int64Var(&s.MaxUpload, "max-upload", server.DefaultMaxUpload, "largest request body, bytes (413 beyond)")
	fs.IntVar(&s.Queue, "queue", server.DefaultQueue, "jobs waiting to run at most (429 beyond)")
	fs.Int64Var(&s.QueueBytes, "queue-bytes", server.DefaultQueueBytes, "bytes of recordings waiting to be separated at most (429 beyond)")
	fs.Int64Var(&s.StoreBytes, "store-bytes", server.DefaultStoreBytes, "bytes the jobs keep on disk at most (recordings, estimates); finished jobs make room early, 507 beyond")
	fs.IntVar(&s.Workers, "workers", 0, "jobs running at once; 0: one per core")
	fs.DurationVar(&s.JobTimeout, "job-timeout", server.DefaultJobTimeout, "the longest one job may run")
	fs.DurationVar(&s.ResultsTTL, "results-ttl", server.DefaultResultsTTL, "how long finished jobs and their outputs are kept")
	fs.DurationVar(&f.grace, "grace", server.DefaultGrace, "on SIGTERM, how long running jobs may take to finish")
	fs.BoolVar(&f.quiet, "quiet", false, "log only errors")
	return f
}

func runServe(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	f := bindServeFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	s := f.settings
	if s.MaxUpload < 1 || s.Queue < 1 || s.QueueBytes < 1 || s.StoreBytes < 1 || s.Workers < 0 || s.JobTimeout <= 0 || s.ResultsTTL <= 0 || f.grace < 0 {
		return usagef("--max-upload, --queue, --queue-bytes, --store-bytes, --job-timeout and --results-ttl must be positive, --workers and --grace not negative")
	}
	var token string
	if f.tokenFile != "" {
		file, _, err := inputfile.Open(f.tokenFile)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(file, 4096))
		file.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.tokenFile, err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return fmt.Errorf("%s: the token file must hold one word", f.tokenFile)
		}
	}
	if err := server.CheckAddr(f.addr, token != ""); err != nil {
		return usageError{err.Error()}
	}
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelError
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	s.Token, s.Logger = token, log
	srv, err := server.New(s)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	// main ends the process a moment after SIGTERM unless told to wait:
	// the grace time, and a little for the HTTP server.
	extendInterruptGrace(f.grace + 5*time.Second)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "url", "http://"+l.Addr().String()+"/", "data", s.Dir, "token", token != "", "workers", srv.Settings().Workers)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	select {
	case err := <-served:
		srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("stopping: no new work; running jobs have the grace time to finish", "grace", f.grace)
	stop, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	hs.Shutdown(stop)
	if err := srv.Shutdown(stop); err != nil {
		log.Warn(err.Error())
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
