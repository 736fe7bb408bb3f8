package separation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/npz"
	"github.com/dlnmf/dlnmf/stft"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// A model file is a NumPy .npz archive that numpy.load opens:
//
//	meta            JSON text (0-d unicode array): fileMeta (modelmeta.go),
//	                which says how to use the file
//	s<i>_W<l>       float32 array, speaker i's layer l (1-based), rows x cols
//	u<i>_W<l>       the same for speaker i of the universal model, if any
//	s<i>_U<u>       a deep-unfolded model's speaker i's bases in untied layer u
//	s<i>_R          a deep-unfolded or discriminative model's speaker i's
//	                reconstruction bases
//
// In Python: z = np.load("model.npz"); meta = json.loads(str(z["meta"]));
// W1 = z["s0_W1"].
const (
	fileFormat = "dlnmf-model"
	// FileVersion is the model file format version this build reads and
	// writes. A file of another version is rejected with a clear error.
	FileVersion = 7
)

// MaxNameLen is the most characters a speaker name may have.
const MaxNameLen = 64

// CheckName reports whether name may name a speaker. A name ends up in file
// names (separate writes <mix>.<name>.wav) and model files travel between
// people, so only a safe set is allowed: letters and digits (any script),
// combining marks, "-", "_" and "."; the first character is a letter or a
// digit (no ".", "..", hidden or flag-like names); at most MaxNameLen
// characters; valid UTF-8. So a name can never hold a path separator, a
// control character or a newline.
func CheckName(name string) error {
	if name == "" {
		return errors.New("a speaker name is empty")
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("speaker name %q is not valid UTF-8", name)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return fmt.Errorf("speaker name %q has %d characters, at most %d are allowed", name, n, MaxNameLen)
	}
	for i, r := range name {
		letterOrDigit := unicode.IsLetter(r) || unicode.IsDigit(r)
		if i == 0 && !letterOrDigit {
			return fmt.Errorf("speaker name %q must start with a letter or a digit", name)
		}
		if !letterOrDigit && !unicode.IsMark(r) && r != '-' && r != '_' && r != '.' {
			return fmt.Errorf("speaker name %q holds %q: only letters, digits, \"-\", \"_\" and \".\" are allowed", name, r)
		}
	}
	return nil
}

// NameKey returns the form under which two speaker names are the same
// name: Unicode full case folding (CaseFolding.txt, cases.Fold) of the
// name's canonical composition (NFC). Names with one key would write the
// same file on a case-insensitive file system (macOS, Windows), which also
// treats composed and decomposed accents alike: "Ann" and "ann", but also
// "σ" and "ς", "s" and "ſ", "µ" (micro sign) and "μ", "Straße" and
// "STRASSE", "é" and "e" + U+0301. A model's names, and the names given to
// train, must have distinct keys.
func NameKey(name string) string {
	return cases.Fold().String(norm.NFC.String(name))
}

// Bounds on what a model file may declare, checked before anything is
// allocated from it: far above any real model, far below what would
// exhaust memory.
const (
	maxFileSpeakers = 1024
	maxFileLayers   = 64
	maxFileFFT      = 1 << 16 // 4 s at 16 kHz
)

// divergence names as written in model files.
var divergenceNames = map[nmf.Divergence]string{
	nmf.KullbackLeibler: "kl",
	nmf.Euclidean:       "euclidean",
	nmf.ItakuraSaito:    "is",
	nmf.BetaDivergence:  "beta",
}

// WriteFile writes m to path atomically: a reader sees the old file or the
// whole new one, never a part.
func (m *Model) WriteFile(path string) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, m.Encode)
}

// Encode writes m as an .npz archive to w.
func (m *Model) Encode(w io.Writer) error {
	st, err := stft.NewPlan(m.STFT)
	if err != nil {
		return err
	}
	js, err := json.Marshal(newFileMeta(m, st.Settings()))
	if err != nil {
		return err
	}
	zw := npz.NewWriter(w)
	if err := zw.Text("meta", string(js)); err != nil {
		return err
	}
	var universal []Speaker
	if m.Universal != nil {
		universal = m.Universal.Speakers
	}
	for _, group := range []struct {
		prefix   string
		speakers []Speaker
	}{{"s", m.Speakers}, {"u", universal}} {
		for i, sp := range group.speakers {
			for l, layer := range sp.Layers {
				data := layer.Data
				if layer.Stride != layer.Cols {
					data = layer.Clone().Data
				}
				if err := zw.Float32(fmt.Sprintf("%s%d_W%d", group.prefix, i, l+1), []int{layer.Rows, layer.Cols}, data[:layer.Rows*layer.Cols]); err != nil {
					return err
				}
			}
		}
	}
	for i, sp := range m.Speakers {
		keys, mats := deepArrays(i, sp)
		for j, w := range mats {
			if w.Stride != w.Cols {
				w = w.Clone()
			}
			if err := zw.Float32(keys[j], []int{w.Rows, w.Cols}, w.Data[:w.Rows*w.Cols]); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// deepArrays returns the keys and matrices of speaker i's unfolded and
// reconstruction bases (none for a model without them).
func deepArrays(i int, sp Speaker) ([]string, []*nmf.Dense[float32]) {
	var keys []string
	var mats []*nmf.Dense[float32]
	for u, w := range sp.Untied {
		keys, mats = append(keys, fmt.Sprintf("s%d_U%d", i, u+1)), append(mats, w)
	}
	if sp.Reconstruction != nil {
		keys, mats = append(keys, fmt.Sprintf("s%d_R", i)), append(mats, sp.Reconstruction)
	}
	return keys, mats
}

// ReadFile reads a model file. Every problem, from a missing or truncated
// file to a model of another format version, is one error naming the file.
//
// Model files travel between people: ReadFile treats them as untrusted. It
// refuses a path that is not a regular file, reads the archive in place
// (npz bounds every array), and Decode checks every field, speaker names
// included, before anything is built from them.
func ReadFile(path string) (*Model, error) {
	f, size, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Decode(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode reads a model from an .npz archive of size bytes.
func Decode(r io.ReaderAt, size int64) (*Model, error) {
	ar, err := npz.Open(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a dlnmf model file (%v)", err)
	}
	metaArr, err := ar.Header("meta")
	if err == nil && metaArr != nil && strings.HasPrefix(metaArr.Descr, "<U") {
		metaArr, err = ar.Array("meta")
	}
	if err != nil {
		return nil, fmt.Errorf("not a dlnmf model file (%v)", err)
	}
	if metaArr == nil || !strings.HasPrefix(metaArr.Descr, "<U") {
		return nil, fmt.Errorf("not a dlnmf model file (no meta entry)")
	}
	meta, err := parseMeta(metaArr.Text)
	if err != nil {
		return nil, err
	}
	if err := checkMetaBounds(&meta); err != nil {
		return nil, err
	}
	m := &Model{
		Method: meta.Method, SampleRate: meta.SampleRate, Beta: meta.Beta, Training: meta.Training,
		STFT:    stft.Settings{FFTSize: meta.STFT.FFTSize, WindowSize: meta.STFT.WindowSize, Hop: meta.STFT.Hop},
		Context: meta.Context, Sparsity: meta.Sparsity,
	}
	if meta.Mask != nil {
		m.MaskPower = meta.Mask.Exponent
	}
	if _, err := ParseMethod(string(meta.Method)); err != nil {
		return nil, err
	}
	if meta.STFT.Window != "hann-periodic" {
		return nil, fmt.Errorf("unsupported STFT window %q", meta.STFT.Window)
	}
	found := false
	for d, name := range divergenceNames {
		if name == meta.Divergence {
			m.Divergence, found = d, true
		}
	}
	if !found {
		return nil, fmt.Errorf("unknown divergence %q", meta.Divergence)
	}
	// Every layer's shape is known from the meta text: the first has the
	// STFT's bins (times the patch width) as rows, each next one the
	// previous one's columns. An array of another shape is refused from
	// its header, before its data is decoded.
	bins := meta.STFT.FFTSize/2 + 1
	read := func(prefix string, names []string, sizes []int) ([]Speaker, error) {
		var out []Speaker
		for i, name := range names {
			sp := Speaker{Name: name}
			for l := range sizes {
				key := fmt.Sprintf("%s%d_W%d", prefix, i, l+1)
				rows := bins * max(meta.Context, 1)
				if l > 0 {
					rows = sizes[l-1]
				}
				a, err := ar.Header(key)
				if err != nil {
					return nil, fmt.Errorf("speaker %s: %w", name, err)
				}
				if a == nil {
					return nil, fmt.Errorf("speaker %s: layer %d (%s) is missing", name, l+1, key)
				}
				if a.Descr != "<f4" || len(a.Shape) != 2 || a.Shape[0] != rows || a.Shape[1] != sizes[l] {
					return nil, fmt.Errorf("speaker %s: layer %d has type %s and shape %v, want float32 of %d x %d", name, l+1, a.Descr, a.Shape, rows, sizes[l])
				}
				if a, err = ar.Array(key); err != nil {
					return nil, fmt.Errorf("speaker %s: %w", name, err)
				}
				sp.Layers = append(sp.Layers, nmf.NewDense(a.Shape[0], a.Shape[1], a.Float32))
			}
			out = append(out, sp)
		}
		return out, nil
	}
	if m.Speakers, err = read("s", meta.Speakers, meta.Sizes); err != nil {
		return nil, err
	}
	untied, recon := 0, meta.Reconstruction != nil
	if d := meta.Unfold; d != nil {
		if err := CheckUnfold(d.Iterations, d.Untied); err != nil {
			return nil, fmt.Errorf("the model's %w", err)
		}
		if d.Iterations < 1 {
			return nil, errors.New("the model's unfold entry has no iterations")
		}
		m.Unfold, untied, recon = d.Iterations, d.Untied, true
	}
	if recon {
		rows, k := bins*max(meta.Context, 1), meta.Sizes[len(meta.Sizes)-1]
		for i := range m.Speakers {
			sp := &m.Speakers[i]
			keys := make([]string, 0, untied+1)
			for u := range untied {
				keys = append(keys, fmt.Sprintf("s%d_U%d", i, u+1))
			}
			keys = append(keys, fmt.Sprintf("s%d_R", i))
			for _, key := range keys {
				a, err := ar.Header(key)
				if err != nil {
					return nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
				}
				if a == nil {
					return nil, fmt.Errorf("speaker %s: the model's %s is missing", sp.Name, key)
				}
				if a.Descr != "<f4" || len(a.Shape) != 2 || a.Shape[0] != rows || a.Shape[1] != k {
					return nil, fmt.Errorf("speaker %s: %s has type %s and shape %v, want float32 of %d x %d (its analysis bases')", sp.Name, key, a.Descr, a.Shape, rows, k)
				}
				if a, err = ar.Array(key); err != nil {
					return nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
				}
				w := nmf.NewDense(a.Shape[0], a.Shape[1], a.Float32)
				if strings.HasSuffix(key, "_R") {
					sp.Reconstruction = w
				} else {
					sp.Untied = append(sp.Untied, w)
				}
			}
		}
	}
	if in := meta.Inference; in != nil && (in.Bands != 0 || in.BandEdges != nil) {
		if in.Bands == 0 {
			return nil, errors.New("the model has band edges but no bands")
		}
		if err := checkModelBands(in.Bands, bins, m.Unfold); err != nil {
			return nil, fmt.Errorf("the model's default %w", err)
		}
		if !slices.Equal(in.BandEdges, BandEdges(bins, in.Bands, float64(meta.SampleRate))) {
			return nil, fmt.Errorf("the model's band edges are not those of %d mel-spaced bands over %d bins at %d Hz", in.Bands, bins, meta.SampleRate)
		}
		m.Bands = in.Bands
	}
	if in := meta.Inference; in != nil && meta.Version >= 6 {
		// Versions 5 and earlier wrote nmf.DefaultMaxIter whatever the
		// model; from 6 the file's count is the model's default.
		m.StepExponent = in.StepExponent
		if in.Iterations != nmf.DefaultMaxIter {
			m.SeparateIters = in.Iterations
		}
	}
	if u := meta.Universal; u != nil {
		m.Universal = &Universal{Name: u.Name}
		sizes := meta.Sizes
		if len(u.Sizes) > 0 {
			sizes = u.Sizes
		}
		if m.Universal.Speakers, err = read("u", u.Speakers, sizes); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkMetaBounds checks what a model file declares before Decode builds
// anything from it: speaker names (they become file names), and sizes that
// would otherwise make the STFT plan allocate without limit.
func checkMetaBounds(meta *fileMeta) error {
	if n := len(meta.Speakers); n > maxFileSpeakers {
		return fmt.Errorf("%d speakers; at most %d are supported", n, maxFileSpeakers)
	}
	names := meta.Speakers
	if u := meta.Universal; u != nil {
		if n := len(u.Speakers); n > maxFileSpeakers {
			return fmt.Errorf("%d universal speakers; at most %d are supported", n, maxFileSpeakers)
		}
		names = append(append([]string{u.Name}, names...), u.Speakers...)
	}
	for _, name := range names {
		if err := CheckName(name); err != nil {
			return err
		}
	}
	sizes := [][]int{meta.Sizes}
	if u := meta.Universal; u != nil && u.Sizes != nil {
		sizes = append(sizes, u.Sizes)
	}
	for _, sz := range sizes {
		if n := len(sz); n == 0 || n > maxFileLayers {
			return fmt.Errorf("%d layers; want 1 to %d", n, maxFileLayers)
		}
		if err := CheckLayerSizes(sz); err != nil {
			return err
		}
	}
	if c := meta.Context; c != 0 {
		if err := CheckContext(c); err != nil {
			return err
		}
	}
	if err := CheckSampleRate(meta.SampleRate); err != nil {
		return err
	}
	st := meta.STFT
	for _, v := range []int{st.FFTSize, st.WindowSize, st.Hop} {
		if v < 1 || v > maxFileFFT {
			return fmt.Errorf("STFT sizes %d/%d/%d (FFT/window/hop); each must lie between 1 and %d", st.FFTSize, st.WindowSize, st.Hop, maxFileFFT)
		}
	}
	if err := checkSTFTBounds(stft.Settings{FFTSize: st.FFTSize, WindowSize: st.WindowSize, Hop: st.Hop}, meta.SampleRate); err != nil {
		return fmt.Errorf("STFT settings: %w", err)
	}
	return nil
}
