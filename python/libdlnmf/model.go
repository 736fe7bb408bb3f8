package main

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/cgo"
	"unsafe"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// modelOf returns the model behind a handle.
func modelOf(h C.uintptr_t) (*separation.Model, error) {
	return handleValue[*separation.Model](h, "model")
}

// dlnmf_model_load reads a model file (separation.ReadFile: untrusted input,
// every field checked) and sets *handle.
//
//export dlnmf_model_load
func dlnmf_model_load(path *C.char, handle *C.uintptr_t) *C.char {
	return call(func() error {
		m, err := separation.ReadFile(C.GoString(path))
		if err != nil {
			return err
		}
		*handle = C.uintptr_t(cgo.NewHandle(m))
		return nil
	})
}

// dlnmf_model_decode reads a model from the n bytes of an .npz archive at
// data (separation.Decode) and sets *handle.
//
//export dlnmf_model_decode
func dlnmf_model_decode(data *C.char, n C.int64_t, handle *C.uintptr_t) *C.char {
	return call(func() error {
		if err := checkSize(n); err != nil {
			return err
		}
		b := C.GoBytes(unsafe.Pointer(data), C.int(n))
		m, err := separation.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return err
		}
		*handle = C.uintptr_t(cgo.NewHandle(m))
		return nil
	})
}

// dlnmf_model_encode writes the model as the .npz bytes a model file holds
// (separation.Model.Encode) to *out (malloc'ed) and their count to *n.
//
//export dlnmf_model_encode
func dlnmf_model_encode(handle C.uintptr_t, out **C.char, n *C.int64_t) *C.char {
	return call(func() error {
		m, err := modelOf(handle)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			return err
		}
		*out, *n = (*C.char)(C.CBytes(buf.Bytes())), C.int64_t(buf.Len())
		return nil
	})
}

// dlnmf_model_save writes the model file at path
// (separation.Model.WriteFile: complete or not at all).
//
//export dlnmf_model_save
func dlnmf_model_save(handle C.uintptr_t, path *C.char) *C.char {
	return call(func() error {
		m, err := modelOf(handle)
		if err != nil {
			return err
		}
		return m.WriteFile(C.GoString(path))
	})
}

// trainRequest is what dlnmf_train reads from its JSON argument: the
// settings of separation.TrainSettings under the names of dlnmf train's
// flags (a zero or missing field is the library's default), and the
// speakers' data.
type trainRequest struct {
	Method     string   `json:"method"` // "": the preset
	Preset     string   `json:"preset"` // "": separation.PresetValidated unless Method is given
	Sizes      []int    `json:"sizes"`
	Rate       int      `json:"rate"`
	Iters      int      `json:"iters"`
	InferIters int      `json:"infer_iters"`
	Rounds     int      `json:"rounds"`
	DiscIters  int      `json:"disc_iters"`
	Beta       *float64 `json:"beta"`
	Tol        float64  `json:"tol"`
	Seed       *uint64  `json:"seed"` // absent: separation.DefaultSeed
	Context    *int     `json:"context"`
	Sparsity   *float64 `json:"sparsity"`
	MaskPower  *float64 `json:"mask_power"`
	Bands      *int     `json:"bands"`
	// The inference the model's separations run by default
	// (--step-exponent, --separate-iters).
	StepExponent  *float64 `json:"step_exponent"`
	SeparateIters *int     `json:"separate_iters"`
	// Discriminative reconstruction bases for the model's inference
	// (--reconstruction-bases, --deep-epochs) and the mixtures per
	// held-back file (--disc-pairings); absent: the preset's.
	ReconstructionBases *bool         `json:"reconstruction_bases"`
	DeepEpochs          int           `json:"deep_epochs"`
	DiscPairings        int           `json:"disc_pairings"`
	SNR                 float64       `json:"snr"`
	Speakers            []speakerData `json:"speakers"`
	// Disc holds, for DL-NMF, each speaker's files for the discriminative
	// mixtures, in the speakers' order (dlnmf train --disc); absent: a
	// seeded DiscShare of the training files is held back, as dlnmf train
	// does (recording.Train).
	Disc      []speakerData `json:"disc"`
	DiscShare float64       `json:"disc_share"`
	// Universal trains a universal speech model into the model (dlnmf
	// train --universal NAME=DIR,... --universal-k K --universal-prune R).
	Universal *struct {
		Name     string        `json:"name"`
		Speakers []speakerData `json:"speakers"`
		K        int           `json:"k"`
		Prune    float64       `json:"prune"` // 0: the default; negative: keep all
	} `json:"universal"`
}

// speakerData is one speaker's audio: a folder (Dir), a list of files
// (Files), or Arrays arrays of samples at Rate Hz taken in order from the
// samples passed beside the JSON.
type speakerData struct {
	Name   string   `json:"name"`
	Dir    string   `json:"dir"`
	Files  []string `json:"files"`
	Arrays int      `json:"arrays"`
	Rate   int      `json:"rate"`
}

// arrayFeed hands out the arrays passed beside the JSON, in order.
type arrayFeed struct {
	samples []float64
	lengths []int64
}

func (f *arrayFeed) next() ([]float64, error) {
	if len(f.lengths) == 0 {
		return nil, errors.New("fewer arrays than the speakers name")
	}
	n := f.lengths[0]
	if n < 0 || n > int64(len(f.samples)) {
		return nil, fmt.Errorf("array of %d samples: only %d left", n, len(f.samples))
	}
	x := f.samples[:n:n]
	f.samples, f.lengths = f.samples[n:], f.lengths[1:]
	return x, separation.CheckSamples(x)
}

// load reads one speaker's utterances at rate Hz, as corpus reads them (a
// folder as dlnmf train --speaker NAME=DIR does).
func (d speakerData) load(rate int, feed *arrayFeed) ([]corpus.Utterance, error) {
	switch {
	case d.Dir != "":
		sp, err := corpus.LoadSpeaker(corpus.SpeakerSettings{Name: d.Name, Dir: d.Dir, Rate: rate})
		if err != nil {
			return nil, err
		}
		return sp.Utterances, nil
	case len(d.Files) > 0:
		files := make([]corpus.File, len(d.Files))
		for i, p := range d.Files {
			files[i] = corpus.File{Path: p}
		}
		sp, err := corpus.Load(d.Name, files, rate)
		if err != nil {
			return nil, err
		}
		return sp.Utterances, nil
	case d.Arrays > 0:
		us := make([]corpus.Utterance, d.Arrays)
		for i := range us {
			x, err := feed.next()
			if err != nil {
				return nil, fmt.Errorf("speaker %s: %w", d.Name, err)
			}
			if x, err = corpus.ToRate(x, d.Rate, rate); err != nil {
				return nil, fmt.Errorf("speaker %s: %w", d.Name, err)
			}
			// Names only pair the discriminative mixtures (corpus.Pair
			// never mixes two utterances of one name): arrays have none.
			us[i] = corpus.Utterance{Name: fmt.Sprintf("%s/%d", d.Name, i), Samples: x}
		}
		return us, nil
	}
	return nil, fmt.Errorf("speaker %s: no folder, files or arrays", d.Name)
}

// dlnmf_train trains a model (separation.Train) from the request in
// settings (JSON, see trainRequest) and the arrays it names (samples,
// lengths), and sets *handle.
//
//export dlnmf_train
func dlnmf_train(settings *C.char, samples *C.double, lengths *C.int64_t, nArrays C.int64_t, handle *C.uintptr_t) *C.char {
	return call(func() error {
		var req trainRequest
		if err := json.Unmarshal([]byte(C.GoString(settings)), &req); err != nil {
			return fmt.Errorf("train settings: %w", err)
		}
		if err := checkSize(nArrays); err != nil {
			return err
		}
		var total int64
		feed := &arrayFeed{}
		if nArrays > 0 {
			feed.lengths = unsafe.Slice((*int64)(unsafe.Pointer(lengths)), int(nArrays))
			for _, n := range feed.lengths {
				if err := checkSize(C.int64_t(n)); err != nil {
					return err
				}
				total += n
			}
			if err := checkSize(C.int64_t(total)); err != nil {
				return err
			}
			feed.samples = doubles(samples, int(total))
		}
		m, err := train(req, feed)
		if err != nil {
			return err
		}
		*handle = C.uintptr_t(cgo.NewHandle(m))
		return nil
	})
}

func train(req trainRequest, feed *arrayFeed) (*separation.Model, error) {
	// A preset (separation.Preset: "validated" when neither is given, the
	// library's zero Method) or a method with the paper's settings, as
	// dlnmf train takes --preset or --method.
	var base separation.TrainSettings
	var err error
	switch {
	case req.Method != "" && req.Preset != "":
		return nil, fmt.Errorf("preset %q and method %q: give one (a preset names its method)", req.Preset, req.Method)
	case req.Method != "":
		m, err := separation.ParseMethod(req.Method)
		if err != nil {
			return nil, err
		}
		base = separation.MethodSettings(m)
	default:
		preset := req.Preset
		if preset == "" {
			preset = separation.PresetValidated
		}
		if base, err = separation.Preset(preset); err != nil {
			return nil, err
		}
	}
	if req.Sizes != nil {
		base.Sizes = req.Sizes
	}
	if req.Context != nil {
		base.Context = *req.Context
	}
	if req.Sparsity != nil {
		base.Sparsity = *req.Sparsity
	}
	if req.MaskPower != nil {
		base.MaskPower = *req.MaskPower
	}
	if req.Bands != nil {
		base.Bands = *req.Bands
	}
	if req.StepExponent != nil {
		base.StepExponent = *req.StepExponent
	}
	if req.SeparateIters != nil {
		base.SeparateIters = *req.SeparateIters
	}
	if req.ReconstructionBases != nil {
		base.ReconstructionBases = separation.ReconstructionNone
		if *req.ReconstructionBases {
			base.ReconstructionBases = separation.ReconstructionTrained
		}
	}
	base.DeepEpochs = req.DeepEpochs
	seed := uint64(separation.DefaultSeed)
	if req.Seed != nil {
		seed = *req.Seed
	}
	rate := req.Rate
	if rate == 0 {
		rate = separation.DefaultSampleRate
	}
	if err := separation.CheckSampleRate(rate); err != nil {
		return nil, err
	}
	base.SampleRate = rate
	base.NMF = nmf.Settings{MaxIter: req.Iters, Tol: req.Tol, Seed: seed}
	base.InferIter, base.Rounds, base.DiscIter = req.InferIters, req.Rounds, req.DiscIters
	s := recording.TrainSettings{TrainSettings: base, DiscShare: req.DiscShare, DiscSNR: req.SNR, DiscPairings: req.DiscPairings}
	if req.Beta != nil {
		s.NMF.Divergence, s.NMF.Beta = nmf.ForBeta(*req.Beta)
	}
	if len(req.Disc) > 0 && len(req.Disc) != len(req.Speakers) {
		return nil, fmt.Errorf("discriminative files for %d speakers of %d: give them for every speaker or none", len(req.Disc), len(req.Speakers))
	}
	speakers := make([]recording.TrainSpeaker, len(req.Speakers))
	for i, sd := range req.Speakers {
		if err := separation.CheckName(sd.Name); err != nil {
			return nil, err
		}
		speakers[i].Name = sd.Name
		if speakers[i].Utterances, err = sd.load(rate, feed); err != nil {
			return nil, err
		}
	}
	// The arrays come in the request's order: speakers, disc, universal.
	for i, sd := range req.Disc {
		if speakers[i].Disc, err = sd.load(rate, feed); err != nil {
			return nil, err
		}
	}
	if u := req.Universal; u != nil {
		us := &recording.UniversalSettings{Name: u.Name, K: u.K, Prune: u.Prune}
		if err := separation.CheckName(u.Name); err != nil {
			return nil, err
		}
		for _, sd := range u.Speakers {
			utts, err := sd.load(rate, feed)
			if err != nil {
				return nil, err
			}
			d := separation.SpeakerData{Name: sd.Name}
			for _, x := range utts {
				d.Utterances = append(d.Utterances, x.Samples)
			}
			us.Speakers = append(us.Speakers, d)
		}
		s.Universal = us
	}
	if len(feed.lengths) > 0 {
		return nil, fmt.Errorf("%d arrays more than the speakers name", len(feed.lengths))
	}
	m, _, err := recording.Train(context.Background(), speakers, s)
	return m, err
}
