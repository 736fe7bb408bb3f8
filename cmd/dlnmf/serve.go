package main

import (
	"context"
	"errors"
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

func runServe(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	addr := fs.String("addr", server.DefaultAddr, "address to listen on, host:port")
	data := fs.String("data", server.DefaultDir, "data folder: models/, speakers/, jobs/ (created if missing)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token every request must give; required beyond loopback")
	cors := fs.String("cors", "", "an origin (https://example.org) whose pages may call the API; CORS is off without it")
	maxUpload := fs.Int64("max-upload", server.DefaultMaxUpload, "largest request body, bytes (413 beyond)")
	queueLen := fs.Int("queue", server.DefaultQueue, "jobs waiting to run at most (429 beyond)")
	jobTimeout := fs.Duration("job-timeout", server.DefaultJobTimeout, "the longest one job may run")
	ttl := fs.Duration("results-ttl", server.DefaultResultsTTL, "how long finished jobs and their outputs are kept")
	grace := fs.Duration("grace", server.DefaultGrace, "on SIGTERM, how long running jobs may take to finish")
	quiet := fs.Bool("quiet", false, "log only errors")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *maxUpload < 1 || *queueLen < 1 || *jobTimeout <= 0 || *ttl <= 0 || *grace < 0 {
		return usagef("--max-upload, --queue, --job-timeout and --results-ttl must be positive, --grace not negative")
	}
	var token string
	if *tokenFile != "" {
		f, _, err := inputfile.Open(*tokenFile)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *tokenFile, err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return fmt.Errorf("%s: the token file must hold one word", *tokenFile)
		}
	}
	if err := server.CheckAddr(*addr, token != ""); err != nil {
		return usageError{err.Error()}
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelError
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(server.Settings{Dir: *data, Token: token, CORSOrigin: *cors, MaxUpload: *maxUpload,
		Queue: *queueLen, JobTimeout: *jobTimeout, ResultsTTL: *ttl, Logger: log})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	// main ends the process a moment after SIGTERM unless told to wait:
	// the grace time, and a little for the HTTP server.
	extendInterruptGrace(*grace + 5*time.Second)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "url", "http://"+l.Addr().String()+"/", "data", *data, "token", token != "", "workers", srv.Settings().Workers)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	select {
	case err := <-served:
		srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("stopping: no new work; running jobs have the grace time to finish", "grace", *grace)
	stop, cancel := context.WithTimeout(context.Background(), *grace)
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
