package recording

import (
	"fmt"
	"sync"

	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// Settings control a Separator; zero values mean the defaults.
type Settings struct {
	// Separation sets the separation; its Rate is the recording's, set
	// by the rate policy for each recording (leave it 0).
	Separation separation.SeparateSettings
	// Encoding is the outputs' sample format; 0: the input's (for FLAC
	// outputs, 24-bit PCM when the input's is float or 32-bit).
	Encoding wav.Encoding
	// Format is the outputs' container, "wav" or "flac"; "": the input's
	// (FLAC for a FLAC recording, WAV otherwise).
	Format string
}

// Separator separates recordings at any rate with one model. It is safe for
// concurrent use.
type Separator struct {
	model    *separation.Model
	settings Settings
	format   wav.Format // when formatSet
	formatOK bool
	base     *separation.Separator // at the model's rate

	mu     sync.Mutex
	byRate map[int]*separation.Separator // the separators met, by their rate
}

// New prepares m for separating recordings with s. It checks the model and
// the settings once, so that a bad combination fails here rather than on
// the first recording.
func New(m *separation.Model, s Settings) (*Separator, error) {
	if s.Separation.Rate != 0 {
		return nil, fmt.Errorf("recording: Settings.Separation.Rate is set by each recording's rate; leave it 0")
	}
	if err := s.CheckOutputs(); err != nil {
		return nil, err
	}
	sp := &Separator{model: m, settings: s, byRate: map[int]*separation.Separator{}}
	if s.Format != "" {
		sp.format, _ = wav.ParseFormat(s.Format)
		sp.formatOK = true
	}
	base, err := sp.at(m.SampleRate)
	if err != nil {
		return nil, err
	}
	sp.base = base
	return sp, nil
}

// CheckOutputs checks the settings of the outputs: a known container that
// can hold the encoding.
func (s Settings) CheckOutputs() error {
	if s.Format == "" {
		return nil
	}
	f, err := wav.ParseFormat(s.Format)
	if err != nil {
		return fmt.Errorf("output format: %w", err)
	}
	return checkContainer(f, s.Encoding)
}

// checkContainer refuses an encoding that format f cannot hold.
func checkContainer(f wav.Format, enc wav.Encoding) error {
	if f == wav.FLAC && (enc == wav.Float32 || enc == wav.Float64 || enc == wav.PCM32) {
		return fmt.Errorf("FLAC holds 8, 16 or 24-bit PCM, not %v", enc)
	}
	return nil
}

// Model returns the model.
func (sp *Separator) Model() *separation.Model { return sp.model }

// Sources returns the names of the separated sources, in the order of the
// estimates: the model's speakers, then separation.OtherName for free bases
// or the universal model's name.
func (sp *Separator) Sources() []string { return sp.base.Sources() }

// Free returns the number of free bases learned on each recording: the
// settings', or separation.DefaultFree for a model of one speaker without a
// universal model (which needs another source); 0 for none.
func (sp *Separator) Free() int { return sp.base.Free() }

// at returns the separator for a recording at rate (the rate policy): full
// band above the model's rate, the model's own at and below it (the caller
// resamples), an error below half of it.
func (sp *Separator) at(rate int) (*separation.Separator, error) {
	mr := sp.model.SampleRate
	if rate <= 0 {
		return nil, fmt.Errorf("sample rate %d Hz", rate)
	}
	if 2*int64(rate) < int64(mr) {
		return nil, fmt.Errorf("the recording is at %d Hz, below half the model's %d Hz: it holds nothing above %.1f kHz of the model's %.1f kHz band; train a model at its rate (dlnmf train --rate %d)",
			rate, mr, float64(rate)/2000, float64(mr)/2000, rate)
	}
	rate = max(rate, mr)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sep := sp.byRate[rate]; sep != nil {
		return sep, nil
	}
	st := sp.settings.Separation
	if rate != mr {
		st.Rate = rate
	}
	sep, err := separation.NewSeparator(sp.model, st)
	if err != nil {
		return nil, err
	}
	sp.byRate[rate] = sep
	return sep, nil
}

// outputFormat returns the container and encoding of the outputs of a
// recording in container in with encoding enc.
func (sp *Separator) outputFormat(in wav.Format, enc wav.Encoding) (wav.Format, wav.Encoding) {
	f := in
	if sp.formatOK {
		f = sp.format
	}
	if sp.settings.Encoding != 0 {
		return f, sp.settings.Encoding
	}
	if f == wav.FLAC && checkContainer(f, enc) != nil {
		enc = wav.PCM24
	}
	return f, enc
}
