package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// TrainRequest is the body of POST /v1/train: a model of enrolled
// speakers, trained by recording.Train as dlnmf train trains one. Zero
// fields mean the library's defaults.
type TrainRequest struct {
	Model    string   `json:"model"`    // the name of the model to write
	Speakers []string `json:"speakers"` // enrolled speakers, in the model's order
	Method   string   `json:"method"`   // nmf, lnmf or dlnmf; "": the validated preset, dlnmf train's default
	Sizes    []int    `json:"sizes,omitempty"`
	Iters    int      `json:"iters,omitempty"` // training iterations (nmf.DefaultMaxIter)
	Seed     uint64   `json:"seed,omitempty"`
	Rate     int      `json:"rate,omitempty"` // separation.DefaultSampleRate
}

// settings checks the request and returns recording.Train's settings.
func (t *TrainRequest) settings() (recording.TrainSettings, error) {
	var ts recording.TrainSettings
	bad := func(format string, args ...any) error { return errorf(http.StatusBadRequest, format, args...) }
	if err := checkName("model", t.Model); err != nil {
		return ts, err
	}
	var m separation.Method // "": the preset
	if t.Method != "" {
		var err error
		if m, err = separation.ParseMethod(t.Method); err != nil {
			return ts, bad("%v", err)
		}
	}
	if len(t.Speakers) < 1 || (m == separation.DLNMF && len(t.Speakers) < 2) {
		return ts, bad("give at least one speaker (two for dlnmf)")
	}
	seen := map[string]bool{}
	for _, s := range t.Speakers {
		if err := checkName("speaker", s); err != nil {
			return ts, err
		}
		if seen[s] {
			return ts, bad("speaker %s is named twice", s)
		}
		seen[s] = true
	}
	if t.Sizes != nil {
		if err := separation.CheckLayerSizes(t.Sizes); err != nil {
			return ts, bad("sizes: %v", err)
		}
		if (m == separation.NMF || m == "") && len(t.Sizes) != 1 {
			return ts, bad("sizes: nmf and the preset take one size")
		}
	}
	if t.Iters < 0 {
		return ts, bad("iters must be positive (leave it out for the default)")
	}
	if t.Rate != 0 {
		if err := separation.CheckSampleRate(t.Rate); err != nil {
			return ts, bad("rate: %v", err)
		}
	}
	ts.Method, ts.Sizes, ts.SampleRate = m, t.Sizes, t.Rate
	ts.NMF = nmf.Settings{MaxIter: t.Iters, Seed: t.Seed}
	// The preset's settings, as recording.Train settles them, so that the
	// progress counts the stages that will run.
	ts.TrainSettings = ts.ForModel(len(t.Speakers), false)
	return ts, nil
}

// trainProgress turns the engine's events into a fraction: each stage
// (a layer's pretraining, fine-tuning, a DL-NMF round) counts as one part
// of an estimated whole, and within it the iterations done of the most.
type trainProgress struct {
	mu       sync.Mutex
	parts    int // expected stages
	done     int
	last     nmf.Event
	maxIter  int
	report   func(float64, string)
	lastSent float64
}

func (p *trainProgress) Record(e nmf.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Stage != p.last.Stage || e.Layer != p.last.Layer || e.Iter < p.last.Iter {
		if p.last.Stage != "" {
			p.done++
		}
	}
	p.last = e
	f := (float64(p.done) + min(1, float64(e.Iter)/float64(p.maxIter))) / float64(p.parts)
	f = min(f, 0.99)
	if f-p.lastSent >= 0.01 || f < p.lastSent {
		p.lastSent = f
		p.report(f, fmt.Sprintf("%s iteration %d", e.Stage, e.Iter))
	}
}

// runTrain trains a job's model from its enrolled speakers and writes it
// into the models folder (atomically, as Model.WriteFile does).
func (srv *Server) runTrain(ctx context.Context, j *Job, report func(float64, string)) error {
	ts, err := j.Train.settings()
	if err != nil {
		return err
	}
	rate := ts.SampleRate
	if rate == 0 {
		rate = separation.DefaultSampleRate
	}
	data := make([]recording.TrainSpeaker, len(j.Train.Speakers))
	for i, name := range j.Train.Speakers {
		paths, err := srv.speakerFiles(name)
		if err != nil {
			return err
		}
		files := make([]corpus.File, len(paths))
		for k, p := range paths {
			files[k] = corpus.File{Path: p, Name: name + "/" + filepath.Base(p)}
		}
		sp, err := corpus.Load(name, files, rate)
		if err != nil {
			return err
		}
		for _, u := range sp.Utterances {
			if err := separation.CheckSamples(u.Samples); err != nil {
				return fmt.Errorf("speaker %s: %s: %w", name, filepath.Base(u.Path), err)
			}
		}
		data[i] = recording.TrainSpeaker{Name: name, Utterances: sp.Utterances}
	}
	sizes := ts.Sizes
	if sizes == nil {
		sizes = separation.DefaultSizes(ts.Method)
	}
	parts := len(data) * len(sizes)
	if len(sizes) > 1 {
		parts += len(data) // fine-tuning
	}
	if ts.Method == separation.DLNMF {
		parts += 3 * separation.DefaultRounds // each round's inference, update and end
	}
	maxIter := ts.NMF.MaxIter
	if maxIter == 0 {
		maxIter = nmf.DefaultMaxIter
	}
	ts.NMF.Recorder = &trainProgress{parts: parts, maxIter: maxIter, report: report}
	model, _, err := recording.Train(ctx, data, ts)
	if err != nil {
		return err
	}
	if err := model.WriteFile(srv.models.path(j.Train.Model)); err != nil {
		return err
	}
	srv.models.forget(j.Train.Model)
	return nil
}
