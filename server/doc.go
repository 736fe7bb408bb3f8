// Package server is dlnmf's HTTP door: a versioned JSON API (/v1, described
// by /v1/openapi.json), a live WebSocket and a web page, over the same
// library entry points as the command line (package recording for
// separating and training, scoring for scores as dlnmf eval gives them,
// separation for model files). It parses no flags: "dlnmf serve" binds its flags into Settings.
//
// Everything it keeps lives under one data folder (Settings.Dir):
//
//	DIR/models/NAME.npz              models, uploaded or trained
//	DIR/speakers/NAME/N.wav|N.flac   each enrolled speaker's recordings
//	DIR/jobs/ID/job.json             a job's state, written atomically
//	DIR/jobs/ID/input.wav|.flac      a separation job's recording
//	DIR/jobs/ID/out/                 its estimates, all or none
//
// Names of models and speakers follow separation.CheckName, so no request
// can name a path outside the folder; job ids are the server's own.
//
// Jobs. Separation and training run as jobs in a queue bounded in jobs and
// in bytes of input; at most Settings.Workers run at once (one per core by
// default) and a submission beyond the queue gets 429 with Retry-After.
// A job's state is on disk before it is acknowledged and is rewritten
// atomically at each change, and its outputs appear whole or not at all, so
// a server killed at any moment restarts with every job it acknowledged:
// finished ones as they were, queued and running ones queued again (a job
// interrupted MaxAttempts times is failed with that reason). Finished jobs
// expire after Settings.ResultsTTL.
//
// Errors are one JSON object {"error": "..."} with the status code that
// says whose fault it is; a panic in a handler or a job becomes a 500 or a
// failed job, never a crash.
package server
