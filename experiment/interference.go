package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// Interference scores a known speaker's separation from something no model
// of the known speaker's was trained with: an unknown talker or
// noise, mixed at Config.SNR (the known speaker's level over it). Every
// repeat splits both "speakers" as the protocol does (70/20/10; noise comes
// as chunks, see NoiseSpeaker) and pairs their test shares into mixtures;
// the rows, all NMF with K = Config.K[0]:
//
//   - mixture: the unprocessed mixture as the known speaker's estimate (a
//     one-speaker model without free bases gives exactly this: its Wiener
//     gain is 1 everywhere);
//   - supervised: a model of both, the interferer's trained on its own
//     training share (the upper bound: someone trained the interferer);
//   - free K: the known speaker's model (the same one, bit for bit) with K
//     free bases learned on each mixture;
//   - universal: the known speaker's model with a universal speech model
//     (when given) as the other source.
//
// Scores are the known speaker's BSS Eval SDR per test mixture and its
// improvement over the mixture's (SDRi).
//
// Settings of the free and universal rows (free bases, universal weight, inference
// iterations) are chosen honestly by scoring on validation mixtures first
// (ScoreOn = ScoreValidation): the known speaker's and the interferer's
// held-back 20% share (the discriminative share, which no row of this
// experiment trains on: every model is NMF), paired like the test
// mixtures; Picked then names the best free and universal rows' settings,
// which a second run scores once on the test mixtures.
//
// The experiment runs as units (see Units) that resume and shard like the
// protocol's: one unit per repeat. Every row of a repeat separates with the
// one model trained in it (the supervised model of both; its known speaker
// alone for the free and universal rows) and the universal model pruned
// with the shares measured on it, so the repeat is the family of rows that
// share work: a finer unit would train that model again. Job gives the
// units' job, for Units with a shard; Run computes and collects them all.
type Interference struct {
	Known, Interferer *corpus.Speaker
	// Universal, when set, adds the universal rows: a universal speech
	// model trained from these speakers by recording.TrainUniversal (its
	// Prune unused: see Prune) with NMF of Config.K[0] bases per speaker
	// (or Universal.K), Config's iterations, tolerance, divergence and
	// seed. Each process trains it once, when its first unit needs it, on
	// single-threaded BLAS like the units, so that every shard has the same
	// model; a summary trains nothing.
	Universal        *recording.UniversalSettings
	Free             []int     // free bases of each free row
	UniversalWeights []float64 // the universal model's group weights, one row each; 0 or nil: separation's default (SeparateSettings.UniversalWeight)
	// Prune are the universal rows' separation.PruneUniversal ratios, one
	// row each with every universal weight; the shares are measured in every
	// repeat on the known speaker's training utterances with its model
	// (separation.UniversalShares). nil: {0}, no pruning.
	Prune []float64
	// SemiIters are the inference iterations of the free and universal
	// rows, one row per value and setting; nil: Config.InferIters (the
	// supervised row always runs Config.InferIters). This differs from
	// dlnmf separate's default for free bases (separation.DefaultFreeIters)
	// on purpose: the experiment is the grid that chose that default, so
	// its rows name their iterations and compare them at one count unless
	// asked for several; Free is likewise a grid around separate's K.
	SemiIters []int
	// FreeStarts are the free rows' starts (nmf.Settings.FreeStart), one
	// row per value and setting; nil: the default, nmf.FreeQuiet. FreeL1 is their L1
	// penalty on the free activations.
	FreeStarts []nmf.FreeStart
	FreeL1     float64
	ScoreOn    string // ScoreTest ("" too) or ScoreValidation
	Config     Config // Repeats, K[0], Iters, InferIters, Tol, SNR, Seed, splits
	Dir        string // units go to Dir/units (Run); "" keeps them in memory only
	Workers    int    // units (repeats) run at once, one core each; 0: GOMAXPROCS
	// Progress, when set, is called after every repeat (done counts them)
	// and for the repeats already in Dir.
	Progress func(done, total int, what string)
}

// The mixtures Interference scores.
const (
	ScoreTest       = "test"       // the test share (10%)
	ScoreValidation = "validation" // the held-back discriminative share (20%)
)

// interferenceFamily labels an interference experiment's units.
const interferenceFamily = "interference"

// interferencePlan is an Interference checked and expanded into its rows:
// what its units compute and how they are gathered.
type interferencePlan struct {
	in   Interference // Universal trained lazily, see universal
	cfg  Config       // defaults applied, NMF of K[0] only
	on   string       // ScoreTest or ScoreValidation
	rows []InterferenceRow
	// The settings behind the rows, defaults applied.
	prune, weights []float64
	semiIters      []int
	starts         []nmf.FreeStart
	nfree          int

	once      sync.Once
	universal *separation.Universal
	uniErr    error
}

// Job checks the settings and returns the experiment as the job of Units:
// its units run in any shard and gather (Units.Collect) into
// Results.Interference.
func (in *Interference) Job() (Job, error) {
	p, err := in.plan()
	if err != nil {
		return Job{}, err
	}
	return Job{Speakers: []*corpus.Speaker{in.Known, in.Interferer}, Config: p.cfg, interference: p}, nil
}

// Run computes every repeat not already saved in Dir and summarises them
// all.
func (in *Interference) Run(ctx context.Context) (*InterferenceResults, error) {
	job, err := in.Job()
	if err != nil {
		return nil, err
	}
	u := &Units{Dir: in.Dir, Jobs: []Job{job}, Workers: in.Workers, Progress: in.Progress}
	start := time.Now()
	if _, err := u.Run(ctx); err != nil {
		return nil, err
	}
	all, err := u.Collect()
	if err != nil {
		return nil, err
	}
	res := all[0].Interference
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func (in *Interference) plan() (*interferencePlan, error) {
	if in.Known == nil || in.Interferer == nil {
		return nil, errors.New("an interference experiment needs a known speaker and an interferer")
	}
	cfg := in.Config
	if cfg.Select != nil {
		return nil, errors.New("a selection is for the protocol's rows, not an interference experiment's")
	}
	cfg.Methods = []separation.Method{separation.NMF}
	cfg.Examples = 0
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	cfg.K = cfg.K[:1]
	// A speaker with too few files fails here, not in the units.
	for i, sp := range []*corpus.Speaker{in.Known, in.Interferer} {
		if _, err := corpus.SplitSpeaker(len(sp.Utterances), cfg.Seed, 0, i, cfg.TrainFraction, cfg.DiscFraction); err != nil {
			return nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
	}
	p := &interferencePlan{in: *in, cfg: cfg, on: in.ScoreOn}
	switch p.on {
	case "":
		p.on = ScoreTest
	case ScoreTest, ScoreValidation:
	default:
		return nil, fmt.Errorf("score on %q: want %s or %s", p.on, ScoreTest, ScoreValidation)
	}
	for _, it := range in.SemiIters {
		if it < 1 {
			return nil, fmt.Errorf("%d inference iterations", it)
		}
	}
	for _, pr := range in.Prune {
		if err := separation.CheckPrune(pr); err != nil {
			return nil, err
		}
	}
	iters := in.SemiIters
	suffix := func(int) string { return "" }
	if len(iters) == 0 {
		iters = []int{cfg.InferIters}
	} else {
		suffix = func(it int) string { return fmt.Sprintf(", %d iters", it) }
	}
	p.semiIters = iters
	p.rows = []InterferenceRow{{Label: "mixture"}, {Label: "supervised"}}
	p.starts = in.FreeStarts
	if len(p.starts) == 0 {
		p.starts = []nmf.FreeStart{nmf.FreeQuiet}
	}
	for _, k := range in.Free {
		for _, st := range p.starts {
			for _, it := range iters {
				label := fmt.Sprintf("free K=%d", k) + suffix(it)
				if st == nmf.FreeRandom {
					label += ", random start"
				}
				p.rows = append(p.rows, InterferenceRow{Label: label, Free: k, FreeStart: st, Iters: it})
			}
		}
	}
	p.nfree = len(p.rows) - 2
	if in.Universal == nil {
		return p, nil
	}
	p.weights = in.UniversalWeights
	if len(p.weights) == 0 {
		p.weights = []float64{0} // separation's default for the (pruned) universal model
	}
	p.prune = in.Prune
	if len(p.prune) == 0 {
		p.prune = []float64{0}
	}
	name := in.Universal.Name
	for _, pr := range p.prune {
		for _, rho := range p.weights {
			for _, it := range iters {
				label := fmt.Sprintf("universal %s, weight %g", name, rho) + suffix(it)
				if rho == 0 {
					label = fmt.Sprintf("universal %s, default weight", name) + suffix(it)
				}
				if pr > 0 {
					label += fmt.Sprintf(", pruned at %gx", pr)
				}
				p.rows = append(p.rows, InterferenceRow{Label: label, UniversalWeight: rho, Prune: pr, Iters: it})
			}
		}
	}
	return p, nil
}

// interferenceFingerprint identifies an interference experiment's rows
// and universal model beyond its Config and speakers (fingerprint).
type interferenceFingerprint struct {
	ScoreOn    string                `json:"score_on"`
	Free       []int                 `json:"free"`
	FreeStarts []nmf.FreeStart       `json:"free_starts"`
	FreeL1     float64               `json:"free_l1"`
	SemiIters  []int                 `json:"semi_iters"`
	Weights    []float64             `json:"universal_weights,omitempty"`
	Prune      []float64             `json:"prune,omitempty"`
	Universal  *universalFingerprint `json:"universal,omitempty"`
}

// universalFingerprint identifies Interference.Universal by what it is
// trained from.
type universalFingerprint struct {
	Name     string   `json:"name"`
	K        int      `json:"k"`
	Speakers []string `json:"speakers"`
	Files    []int    `json:"files"`
	Content  string   `json:"content"` // SHA-256 over every speaker's name and samples
}

func (p *interferencePlan) fingerprint() *interferenceFingerprint {
	fp := &interferenceFingerprint{ScoreOn: p.on, Free: p.in.Free, FreeStarts: p.starts, FreeL1: p.in.FreeL1, SemiIters: p.semiIters,
		Weights: p.weights, Prune: p.prune}
	u := p.in.Universal
	if u == nil {
		return fp
	}
	fp.Universal = &universalFingerprint{Name: u.Name, K: u.K}
	h := sha256.New()
	var b [8]byte
	for _, sp := range u.Speakers {
		fp.Universal.Speakers = append(fp.Universal.Speakers, sp.Name)
		fp.Universal.Files = append(fp.Universal.Files, len(sp.Utterances))
		fmt.Fprintf(h, "%s\n", sp.Name)
		for _, x := range sp.Utterances {
			fmt.Fprintf(h, "%d\n", len(x))
			for _, v := range x {
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
				h.Write(b[:])
			}
		}
	}
	fp.Universal.Content = hex.EncodeToString(h.Sum(nil))[:16]
	return fp
}

// universalModel trains the universal model once, on the given cores.
func (p *interferencePlan) universalModel(ctx context.Context, cores int) (*separation.Universal, error) {
	p.once.Do(func() {
		div, beta := p.cfg.divergence()
		ts := separation.TrainSettings{Method: separation.NMF, Sizes: p.cfg.K, SampleRate: p.cfg.SampleRate,
			NMF: nmf.Settings{Divergence: div, Beta: beta, MaxIter: p.cfg.Iters, Tol: p.cfg.Tol, Seed: p.cfg.Seed, Workers: cores}}
		p.universal, p.uniErr = recording.TrainUniversal(ctx, p.in.Universal, ts)
		if p.uniErr != nil {
			p.uniErr = fmt.Errorf("universal model %s: %w", p.in.Universal.Name, p.uniErr)
		}
	})
	return p.universal, p.uniErr
}

// interferenceRepeat is one repeat of an interference experiment, as its
// unit saves it.
type interferenceRepeat struct {
	Mixtures []string   `json:"mixtures"` // the scored mixtures' files
	SDR      [][]Number `json:"sdr"`      // the known speaker's, row by row (the plan's order), mixture by mixture
	Shares   []Number   `json:"shares,omitempty"`
}

// repeat computes repeat rep (0-based) with the engine on the given cores.
func (p *interferencePlan) repeat(ctx context.Context, rep, cores int, step func(string)) (*interferenceRepeat, error) {
	in, cfg := &p.in, p.cfg
	rp, err := PrepareRepeat([]*corpus.Speaker{in.Known, in.Interferer}, cfg, rep)
	if err != nil {
		return nil, err
	}
	both, _, err := rp.set.Train(ctx, rp.TrainSettings(Row{separation.NMF, cfg.K}, cores))
	if err != nil {
		return nil, err
	}
	one := *both
	one.Speakers = both.Speakers[:1]
	out := &interferenceRepeat{SDR: make([][]Number, len(p.rows))}
	var (
		universal *separation.Universal
		shares    []float64
	)
	if in.Universal != nil {
		if universal, err = p.universalModel(ctx, cores); err != nil {
			return nil, err
		}
	}
	universalAt := map[float64]*separation.Model{}
	withUniversal := func(pr float64) *separation.Model {
		if m, ok := universalAt[pr]; ok {
			return m
		}
		m := one
		m.Universal = universal
		if pr > 0 {
			m.Universal = separation.PruneUniversal(universal, shares, pr)
		}
		universalAt[pr] = &m
		return &m
	}
	if universal != nil && slices.ContainsFunc(p.prune, func(p float64) bool { return p > 0 }) {
		known := separation.SpeakerData{Name: in.Known.Name}
		for _, u := range rp.Train[0] {
			known.Utterances = append(known.Utterances, u.Samples)
		}
		// The first separation.ShareSeconds, as dlnmf train measures.
		clean := separation.ShareAudio([]separation.SpeakerData{known}, cfg.SampleRate)
		s := separation.SeparateSettings{}
		s.NMF.MaxIter, s.NMF.Tol, s.NMF.Workers = cfg.InferIters, cfg.Tol, cores
		if shares, err = separation.UniversalShares(withUniversal(0), clean, s); err != nil {
			return nil, err
		}
		for _, v := range shares {
			out.Shares = append(out.Shares, Number(v))
		}
	}
	seps := []*separation.Separator{nil}
	add := func(m *separation.Model, s separation.SeparateSettings, iters int) error {
		s.NMF.MaxIter, s.NMF.Tol, s.NMF.Workers, s.NMF.Seed = iters, cfg.Tol, cores, rp.Seed
		sep, err := separation.NewSeparator(m, s)
		seps = append(seps, sep)
		return err
	}
	if err := add(both, separation.SeparateSettings{}, cfg.InferIters); err != nil {
		return nil, err
	}
	for _, row := range p.rows[2:] {
		var err error
		if row.Free > 0 {
			s := separation.SeparateSettings{Free: row.Free}
			s.NMF.FreeStart, s.NMF.FreeL1 = row.FreeStart, in.FreeL1
			err = add(&one, s, row.Iters)
		} else {
			err = add(withUniversal(row.Prune), separation.SeparateSettings{UniversalWeight: row.UniversalWeight}, row.Iters)
		}
		if err != nil {
			return nil, err
		}
	}
	mixtures := rp.Tests
	if p.on == ScoreValidation {
		if mixtures, err = corpus.Pair(rp.Disc, cfg.SNR); err != nil {
			return nil, fmt.Errorf("validation mixtures: %w", err)
		}
	}
	for j, tm := range mixtures {
		base, err := knownSDR(tm.Sources, [][]float64{tm.Mixture, tm.Mixture})
		if err != nil {
			return nil, fmt.Errorf("mixture %s: %w", tm.Name(), err)
		}
		for i, sep := range seps {
			sdr := base
			if sep != nil {
				est, err := sep.Separate(tm.Mixture)
				if err != nil {
					return nil, fmt.Errorf("%s, mixture %d: %w", p.rows[i].Label, j+1, err)
				}
				if sdr, err = knownSDR(tm.Sources, est); err != nil {
					return nil, fmt.Errorf("%s, mixture %s: %w", p.rows[i].Label, tm.Name(), err)
				}
			}
			out.SDR[i] = append(out.SDR[i], Number(sdr))
		}
		out.Mixtures = append(out.Mixtures, tm.Name())
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	step(fmt.Sprintf("%d %s mixtures", len(mixtures), p.on))
	return out, nil
}

// NoiseSpeaker cuts the noise signals of a "speaker" (its utterances, at
// rate Hz) into chunks of the given length (the last partial chunk of each
// signal dropped) and returns them as the utterances of a speaker of the
// same name, so that the protocol's splits and pairing apply to noise:
// training, held-back and test chunks never overlap.
func NoiseSpeaker(noise *corpus.Speaker, rate int, seconds float64) (*corpus.Speaker, error) {
	n := int(seconds * float64(rate))
	if n < 1 {
		return nil, fmt.Errorf("noise chunks of %g s", seconds)
	}
	name := noise.Name
	sp := &corpus.Speaker{Name: name}
	for _, u := range noise.Utterances {
		x := u.Samples
		for a := 0; a+n <= len(x); a += n {
			sp.Utterances = append(sp.Utterances, corpus.Utterance{Name: fmt.Sprintf("%s_%03d", name, len(sp.Utterances)+1), Samples: x[a : a+n]})
		}
	}
	if len(sp.Utterances) == 0 {
		return nil, fmt.Errorf("noise %s is shorter than one chunk of %g s", name, seconds)
	}
	return sp, nil
}
