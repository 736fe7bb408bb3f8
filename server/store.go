package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// The folders of the data folder.
const (
	modelsDir   = "models"
	speakersDir = "speakers"
	jobsDir     = "jobs"
	modelExt    = ".npz"
)

// checkName answers a name that separation.CheckName refuses with 400:
// such a name could leave the data folder or fail to travel in a file name.
func checkName(what, name string) error {
	if err := separation.CheckName(name); err != nil {
		// The rule is the speakers' for every name: say which name it is.
		return errorf(http.StatusBadRequest, "%s", strings.Replace(err.Error(), "speaker name", what+" name", 1))
	}
	return nil
}

// modelCache holds each model's Separators, one per output container,
// reloaded when the file changes.
type modelCache struct {
	dir   string
	sep   recording.Settings
	mu    sync.Mutex
	byKey map[string]*cachedModel
}

type cachedModel struct {
	mod time.Time
	sp  *recording.Separator
}

func (c *modelCache) path(name string) string { return filepath.Join(c.dir, name+modelExt) }

// separator returns the Separator of model name writing container format
// ("" the input's).
func (c *modelCache) separator(name, format string, inf Inference) (*recording.Separator, error) {
	if err := checkName("model", name); err != nil {
		return nil, err
	}
	fi, err := os.Stat(c.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(http.StatusNotFound, "no model named %q", name)
	} else if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s\x00%s\x00%+v", name, format, inf)
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.byKey[key]; ok && m.mod.Equal(fi.ModTime()) {
		return m.sp, nil
	}
	model, err := separation.ReadFile(c.path(name))
	if err != nil {
		return nil, err
	}
	s := c.sep
	s.Format = format
	plain := s
	if inf.Bands != 0 {
		s.Separation.Bands = inf.Bands
	}
	if inf.CoarseBands != 0 || inf.CoarseIters != 0 {
		s.Separation.CoarseBands, s.Separation.CoarseIters = inf.CoarseBands, inf.CoarseIters
	}
	if inf.StepExponent != 0 {
		s.Separation.NMF.StepExponent = inf.StepExponent
	}
	sp, err := recording.New(model, s)
	if err != nil {
		// The library owns the rules of the request's inference settings:
		// when the model is fine without them, they are the request's
		// fault.
		if inf != (Inference{}) {
			if _, e := recording.New(model, plain); e == nil {
				return nil, errorf(http.StatusBadRequest, "%v", err)
			}
		}
		return nil, errorf(http.StatusUnprocessableEntity, "model %s: %v", name, err)
	}
	c.byKey[key] = &cachedModel{mod: fi.ModTime(), sp: sp}
	return sp, nil
}

func (c *modelCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.byKey {
		if strings.HasPrefix(k, name+"\x00") {
			delete(c.byKey, k)
		}
	}
}

// ModelInfo is what GET /v1/models lists for a model.
type ModelInfo struct {
	Name     string   `json:"name"`
	Speakers []string `json:"speakers"`
	Sources  []string `json:"sources"`
	Rate     int      `json:"rate"`
	Method   string   `json:"method"`
	Sizes    []int    `json:"sizes"`
	// Bands is the number of mel-spaced bands the model's activations
	// are inferred on by default (separation.Model.Bands); absent: every
	// bin.
	Bands int `json:"bands,omitempty"`
	// StepExponent and SeparateIters are the inference the model's
	// separations run by default (separation.Model.StepExponent and
	// SeparateIters); absent: the usual update, the library's count.
	StepExponent  float64 `json:"step_exponent,omitempty"`
	SeparateIters int     `json:"separate_iters,omitempty"`
	// ReconstructionBases reports gains on reconstruction bases of the
	// model's own (separation.Model.HasReconstructionBases: trained for
	// its inference, or a deep-unfolded model's).
	ReconstructionBases bool  `json:"reconstruction_bases,omitempty"`
	Bytes               int64 `json:"bytes"`
}

func (c *modelCache) info(name string) (*ModelInfo, error) {
	sp, err := c.separator(name, "", Inference{})
	if err != nil {
		return nil, err
	}
	m := sp.Model()
	fi, err := os.Stat(c.path(name))
	if err != nil {
		return nil, err
	}
	return &ModelInfo{Name: name, Speakers: m.Names(), Sources: sp.Sources(), Rate: m.SampleRate,
		Method: string(m.Method), Sizes: m.Sizes(), Bands: m.Bands,
		StepExponent: m.StepExponent, SeparateIters: m.SeparateIters, ReconstructionBases: m.HasReconstructionBases(), Bytes: fi.Size()}, nil
}

func (c *modelCache) list() ([]*ModelInfo, error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	out := []*ModelInfo{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), modelExt)
		if !ok || e.IsDir() || separation.CheckName(name) != nil {
			continue
		}
		if info, err := c.info(name); err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// SpeakerInfo is what GET /v1/speakers lists for an enrolled speaker.
type SpeakerInfo struct {
	Name    string  `json:"name"`
	Files   int     `json:"files"`
	Seconds float64 `json:"seconds"`
}

func (srv *Server) speakerDir(name string) string {
	return filepath.Join(srv.s.Dir, speakersDir, name)
}

// speakerInfo sums the lengths of a speaker's recordings from their headers.
func (srv *Server) speakerInfo(name string) (*SpeakerInfo, error) {
	entries, err := os.ReadDir(srv.speakerDir(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(http.StatusNotFound, "no speaker named %q", name)
	} else if err != nil {
		return nil, err
	}
	info := &SpeakerInfo{Name: name}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		r, err := wav.Open(filepath.Join(srv.speakerDir(name), e.Name()))
		if err != nil {
			continue
		}
		info.Files++
		info.Seconds += float64(r.Frames()) / float64(r.Rate())
		r.Close()
	}
	return info, nil
}

func (srv *Server) speakers() ([]*SpeakerInfo, error) {
	entries, err := os.ReadDir(filepath.Join(srv.s.Dir, speakersDir))
	if err != nil {
		return nil, err
	}
	out := []*SpeakerInfo{}
	for _, e := range entries {
		if !e.IsDir() || separation.CheckName(e.Name()) != nil {
			continue
		}
		if info, err := srv.speakerInfo(e.Name()); err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// enrol checks each recording and adds it to the speaker's folder, each
// file atomically, numbered after the ones there.
func (srv *Server) enrol(name string, recordings []*upload) (*SpeakerInfo, error) {
	srv.speakMu.Lock()
	defer srv.speakMu.Unlock()
	dir := srv.speakerDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	next := 1
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if n, err := strconv.Atoi(base); err == nil && n >= next {
			next = n + 1
		}
	}
	for _, u := range recordings {
		path := filepath.Join(dir, fmt.Sprintf("%04d%s", next, u.ext))
		if err := atomicfile.Write(path, func(w io.Writer) error {
			_, err := u.file.Seek(0, io.SeekStart)
			if err == nil {
				_, err = io.Copy(w, u.file)
			}
			return err
		}); err != nil {
			return nil, err
		}
		next++
	}
	return srv.speakerInfo(name)
}

// speakerFiles lists a speaker's recordings, sorted.
func (srv *Server) speakerFiles(name string) ([]string, error) {
	entries, err := os.ReadDir(srv.speakerDir(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no speaker named %q", name)
	} else if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, filepath.Join(srv.speakerDir(name), e.Name()))
		}
	}
	slices.Sort(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("speaker %s has no recordings", name)
	}
	return files, nil
}
