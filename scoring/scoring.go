package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// Settings are how sources are scored. The zero value scores whole
// signals, estimate i against reference i.
type Settings struct {
	// Permute searches the pairing of estimates and references that
	// maximises the mean SIR.
	Permute bool
	// Window, when above 0, scores frames of Window samples every Hop
	// samples (0: Window/2) instead of whole signals.
	Window, Hop int
	// Jobs is the number of sets ScoreDirs scores at once (0: GOMAXPROCS).
	Jobs int
}

func (s Settings) check() error {
	switch {
	case s.Window < 0 || s.Hop < 0:
		return fmt.Errorf("the window (%d) and the hop (%d) must not be negative", s.Window, s.Hop)
	case s.Hop > 0 && s.Window == 0:
		return errors.New("a hop needs a window")
	case s.Jobs < 0:
		return fmt.Errorf("%d jobs: give at least 1 (0: one per core)", s.Jobs)
	}
	return nil
}

// hop is the frame step: Hop, or Window/2 (at least 1).
func (s Settings) hop() int {
	if s.Window > 0 && s.Hop == 0 {
		return max(1, s.Window/2)
	}
	return s.Hop
}

// DB is a score in dB. Its JSON form is null for a NaN or an infinity.
type DB float64

// MarshalJSON writes v as a JSON number, or null when it is not finite.
func (v DB) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// Scores are the scores of whole signals, indexed by reference source.
type Scores struct {
	SDR   []DB  `json:"sdr"`
	SIR   []DB  `json:"sir"`
	SAR   []DB  `json:"sar"`
	SISDR []DB  `json:"si_sdr"`
	Perm  []int `json:"perm"` // the estimate scored against each reference
	// With the mixture: the improvements over it.
	SDRi   []DB `json:"sdri,omitempty"`
	SISDRi []DB `json:"si_sdri,omitempty"`
}

// Frames are framewise scores, indexed [reference source][frame]. Frame f
// starts at sample f*Hop. An undefined frame has NaN scores and a nil Perm.
type Frames struct {
	Window int      `json:"window"`
	Hop    int      `json:"hop"`
	SDR    [][]DB   `json:"sdr"`
	SIR    [][]DB   `json:"sir"`
	SAR    [][]DB   `json:"sar"`
	SISDR  [][]DB   `json:"si_sdr"`
	Perm   [][]*int `json:"perm"`
}

// Set is one set of sources to score, as files, and after Score its
// scores: Scores for whole signals, Frames with a window.
type Set struct {
	Item       string   `json:"item,omitempty"`    // the set's name, in a batch
	Sources    []string `json:"sources,omitempty"` // the sources' names, in a batch
	References []string `json:"references"`
	Estimates  []string `json:"estimates"`
	Mixture    string   `json:"mixture,omitempty"` // the estimates were separated from it
	Rate       int      `json:"sample_rate"`
	Scores     *Scores  `json:"scores,omitempty"`
	Frames     *Frames  `json:"frames,omitempty"`
}

// Score reads the files of set and scores them, after checking from their
// headers that the machine has the memory it takes. With s.Window the
// mixture, if any, is read and checked like the other files but adds no
// scores.
func Score(ctx context.Context, set Set, s Settings) (*Set, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return score(ctx, set, s, 1)
}

// score is Score for one of atOnce sets scored at the same time.
func score(ctx context.Context, set Set, s Settings, atOnce int) (*Set, error) {
	nsrc := len(set.References)
	switch {
	case nsrc == 0:
		return nil, errors.New("no reference files to score against")
	case len(set.Estimates) != nsrc:
		return nil, fmt.Errorf("%d reference files but %d estimated files: give one estimate per reference", nsrc, len(set.Estimates))
	}
	files := append(append([]string(nil), set.References...), set.Estimates...)
	if set.Mixture != "" {
		files = append(files, set.Mixture)
	}
	if err := checkMemory(files, nsrc, s, atOnce); err != nil {
		return nil, err
	}
	signals := make([][]float64, len(files))
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, err := wav.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			set.Rate = a.Rate
		} else if a.Rate != set.Rate {
			return nil, fmt.Errorf("%s is at %d Hz but %s is at %d Hz: all files must have the same sample rate", f, a.Rate, files[0], set.Rate)
		}
		signals[i] = a.Mono()
		if len(signals[i]) != len(signals[0]) {
			return nil, fmt.Errorf("%s has %d samples but %s has %d: all files must have the same length", f, len(signals[i]), files[0], len(signals[0]))
		}
		if isSilent(signals[i]) {
			return nil, fmt.Errorf("%s is silent (all zeros): BSS Eval is undefined for a silent source", f)
		}
	}
	refs, ests := signals[:nsrc], signals[nsrc:2*nsrc]
	if s.Window > 0 {
		fr, err := Framewise(refs, ests, s.Window, s.hop(), s.Permute)
		if err != nil {
			return nil, err
		}
		set.Frames = fr
		return &set, nil
	}
	var mix []float64
	if set.Mixture != "" {
		mix = signals[2*nsrc]
	}
	sc, err := whole(refs, ests, mix, s.Permute, labels{set.References, set.Estimates, set.Mixture})
	if err != nil {
		return nil, err
	}
	set.Scores = sc
	return &set, nil
}

// checkMemory estimates, from the files' headers, the memory that scoring
// them takes (the signals, one file's decoding, and bsseval.Memory for
// the whole signals or one frame), times the sets scored at once, and
// refuses it with one line when the machine does not have it.
func checkMemory(files []string, nsrc int, s Settings, atOnce int) error {
	var frames, decode uint64
	for _, f := range files {
		rd, err := wav.Open(f)
		if err != nil {
			return err
		}
		n, nc, format := uint64(max(rd.Frames(), 0)), uint64(rd.Channels()), rd.Format()
		rd.Close()
		size := uint64(0)
		if st, err := os.Stat(f); err == nil {
			size = uint64(st.Size())
		}
		if format == wav.WAV {
			n = min(n, size) // a WAV holds at least a byte per sample (FLAC compresses)
		}
		frames = max(frames, n)
		decode = max(decode, size+8*n*(nc+1))
	}
	n := int(min(frames, math.MaxInt32))
	if s.Window > 0 {
		n = min(n, s.Window)
	}
	need := uint64(len(files))*8*frames + decode + bsseval.Memory(nsrc, n, bsseval.Options{Permute: s.Permute})
	what := fmt.Sprintf("scoring %d sources of %d samples", nsrc, frames)
	if atOnce > 1 {
		need *= uint64(atOnce)
		what = fmt.Sprintf("scoring %d sets like this one at once (%d jobs)", atOnce, atOnce)
	}
	return separation.CheckMemory(what, need)
}

// labels name the signals of a set in errors.
type labels struct {
	refs, ests []string
	mix        string
}

func (l labels) ref(i int) string {
	if i < len(l.refs) {
		return l.refs[i]
	}
	return fmt.Sprintf("reference %d", i)
}

func (l labels) est(i int) string {
	if i < len(l.ests) {
		return l.ests[i]
	}
	return fmt.Sprintf("estimate %d", i)
}

// Whole scores the estimates ests against the references refs over whole
// signals: BSS Eval and SI-SDR, and when mix (the mixture the estimates
// were separated from) is not nil, the improvements over it.
func Whole(refs, ests [][]float64, mix []float64, permute bool) (*Scores, error) {
	return whole(refs, ests, mix, permute, labels{})
}

func whole(refs, ests [][]float64, mix []float64, permute bool, names labels) (*Scores, error) {
	plan, err := bsseval.NewPlan(refs, bsseval.Options{Permute: permute})
	if err != nil {
		return nil, err
	}
	r, err := plan.Evaluate(ests)
	if err != nil {
		return nil, err
	}
	mixName := "the mixture"
	if names.mix != "" {
		mixName += " " + names.mix
	}
	var mixSDR []float64
	if mix != nil {
		if mixSDR, err = plan.MixtureSDR(mix); err != nil {
			if names.mix != "" {
				return nil, fmt.Errorf("%s: %w", names.mix, err)
			}
			return nil, fmt.Errorf("the mixture: %w", err)
		}
	}
	out := &Scores{Perm: r.Perm}
	for i, k := range r.Perm {
		si, err := bsseval.SISDR(refs[i], ests[k], true)
		if err != nil {
			return nil, fmt.Errorf("SI-SDR of %s against %s: %w", names.est(k), names.ref(i), err)
		}
		out.SDR = append(out.SDR, DB(r.SDR[i]))
		out.SIR = append(out.SIR, DB(r.SIR[i]))
		out.SAR = append(out.SAR, DB(r.SAR[i]))
		out.SISDR = append(out.SISDR, DB(si))
		if mix != nil {
			mixSI, err := bsseval.SISDR(refs[i], mix, true)
			if err != nil {
				return nil, fmt.Errorf("SI-SDR of %s against %s: %w", mixName, names.ref(i), err)
			}
			out.SDRi = append(out.SDRi, DB(r.SDR[i]-mixSDR[i]))
			out.SISDRi = append(out.SISDRi, DB(si-mixSI))
		}
	}
	return out, nil
}

// Framewise scores the estimates ests against the references refs on
// frames of window samples every hop samples (0: window/2): BSS Eval as
// mir_eval's bss_eval_sources_framewise, and SI-SDR per frame.
func Framewise(refs, ests [][]float64, window, hop int, permute bool) (*Frames, error) {
	if hop == 0 {
		hop = Settings{Window: window}.hop()
	}
	r, err := bsseval.SourcesFramewise(refs, ests, window, hop, bsseval.Options{Permute: permute})
	if err != nil {
		return nil, err
	}
	nsrc, frames := len(refs), r.Frames()
	out := &Frames{Window: r.Window, Hop: r.Hop}
	for i := 0; i < nsrc; i++ {
		var sdr, sir, sar, si []DB
		var perm []*int
		for f := 0; f < frames; f++ {
			sdr, sir, sar = append(sdr, DB(r.SDR[i][f])), append(sir, DB(r.SIR[i][f])), append(sar, DB(r.SAR[i][f]))
			k := r.Perm[i][f]
			if k < 0 {
				perm, si = append(perm, nil), append(si, DB(math.NaN()))
				continue
			}
			perm = append(perm, &k)
			start := f * r.Hop
			v, err := bsseval.SISDR(refs[i][start:start+r.Window], ests[k][start:start+r.Window], true)
			if err != nil {
				v = math.NaN() // a frame silent after mean removal
			}
			si = append(si, DB(v))
		}
		out.SDR, out.SIR, out.SAR, out.SISDR, out.Perm = append(out.SDR, sdr), append(out.SIR, sir), append(out.SAR, sar), append(out.SISDR, si), append(out.Perm, perm)
	}
	return out, nil
}

func isSilent(x []float64) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// MeanDB is the mean of the finite values of v (an infinite SIR of a
// single source would swamp it), NaN if none.
func MeanDB(v []DB) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			s += f
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// MedianDB is the median of the defined (not NaN) values of v, NaN if
// none: how museval summarises a source's frames.
func MedianDB(v []DB) float64 {
	var d []float64
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			d = append(d, float64(x))
		}
	}
	if len(d) == 0 {
		return math.NaN()
	}
	sort.Float64s(d)
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}
