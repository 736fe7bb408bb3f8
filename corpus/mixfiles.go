package corpus

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// MixPeak is the highest peak of the files MixFiles writes, 1 dB below
// full scale: an integer file clips nothing, and the references still add
// up to the mixture.
var MixPeak = math.Pow(10, -1.0/20)

// MixedFiles is what MixFiles wrote.
type MixedFiles struct {
	Mixture    string   // the mixture's file
	References []string // each source's file, scaled as in the mixture
	Names      []string // the sources' names in those files' names
	Rate       int      // the sample rate of every file: the first input's
	Samples    int      // the length of every file: the shortest input's
	GainDB     float64  // the gain applied to every file to keep MixPeak (0 or negative)
	Resampled  []string // inputs resampled to Rate
	DownMixed  []string // inputs of more than one channel, mixed as their mean
}

// MixFiles makes, from the recordings at inputs (two or more; WAV or
// FLAC), the test case a separation paper describes: the mixture at snrDB
// of the first source over each of the others (Mix, the rule of the
// experiment's mixtures: cut to the shortest, the first's energy snrDB
// above each other's), and the scaled sources that add up to it, its
// references. Every input is down-mixed to mono and resampled to the first
// input's rate; when the mixture or a source would peak above MixPeak,
// all are scaled by one gain. It writes the mixture to out (FLAC for a
// .flac name, WAV otherwise, in the first input's encoding; 24-bit for a
// float input in FLAC) and each reference beside it as OUT.NAME.wav (or
// .flac), where OUT is out's base name and NAME the source's name: names[i],
// or when names is nil the input's base name without its extension; names
// must be valid speaker names (separation.CheckName) that differ by more
// than case (separation.NameKey). That is the layout dlnmf eval's folder
// mode reads, mixture included. All files are written atomically, all or
// none.
func MixFiles(out string, inputs []string, snrDB float64, names []string) (*MixedFiles, error) {
	if len(inputs) < 2 {
		return nil, fmt.Errorf("mixing needs at least 2 recordings, got %d", len(inputs))
	}
	if math.IsNaN(snrDB) || math.IsInf(snrDB, 0) {
		return nil, fmt.Errorf("an SNR of %v dB: want a finite number", snrDB)
	}
	if names == nil {
		for _, in := range inputs {
			base := filepath.Base(in)
			names = append(names, strings.TrimSuffix(base, filepath.Ext(base)))
		}
	}
	if err := CheckSourceNames(names, len(inputs)); err != nil {
		return nil, err
	}
	res := &MixedFiles{Names: names}
	var sources [][]float64
	var enc wav.Encoding
	for i, in := range inputs {
		a, err := wav.ReadFile(in)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			res.Rate, enc = a.Rate, a.Encoding
		}
		if len(a.Channels) > 1 {
			res.DownMixed = append(res.DownMixed, in)
		}
		x := a.Mono()
		if a.Rate != res.Rate {
			if x, err = ToRate(x, a.Rate, res.Rate); err != nil {
				return nil, fmt.Errorf("%s: %w", in, err)
			}
			res.Resampled = append(res.Resampled, in)
		}
		sources = append(sources, x)
	}
	mix, scaled, err := Mix(sources, snrDB)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(inputs, " + "), err)
	}
	res.Samples = len(mix)
	peak := maxAbs(mix)
	for _, s := range scaled {
		peak = math.Max(peak, maxAbs(s))
	}
	if peak > MixPeak {
		g := MixPeak / peak
		for _, x := range append([][]float64{mix}, scaled...) {
			for j := range x {
				x[j] *= g
			}
		}
		res.GainDB = 20 * math.Log10(g)
	}
	format := wav.WAV
	if strings.EqualFold(filepath.Ext(out), ".flac") {
		format = wav.FLAC
		if enc == wav.Float32 || enc == wav.Float64 || enc == wav.PCM32 {
			enc = wav.PCM24
		}
	}
	res.Mixture = out
	stem := strings.TrimSuffix(out, filepath.Ext(out))
	for _, name := range names {
		res.References = append(res.References, stem+"."+name+format.Ext())
	}
	if err := writeAll(append([]string{out}, res.References...), append([][]float64{mix}, scaled...), format, res.Rate, enc); err != nil {
		return nil, err
	}
	return res, nil
}

// CheckSourceNames checks the names MixFiles gives n sources: n of them,
// each a valid speaker name without a ".", no two the same by
// separation.NameKey.
func CheckSourceNames(names []string, n int) error {
	if len(names) != n {
		return fmt.Errorf("%s for %d recordings", plural.Count(len(names), "name"), n)
	}
	seen := map[string]string{}
	for _, name := range names {
		if err := separation.CheckName(name); err != nil {
			return err
		}
		if strings.Contains(name, ".") {
			return fmt.Errorf("source name %q holds a \".\": the reference's file name is OUT.NAME.wav, read as set OUT and source NAME", name)
		}
		if prev, dup := seen[separation.NameKey(name)]; dup {
			return fmt.Errorf("two sources are named %q and %q: their files would have one name (name them apart)", prev, name)
		}
		seen[separation.NameKey(name)] = name
	}
	return nil
}

// writeAll writes each signal to its path, atomically, all or none: a
// failure removes the files it already wrote.
func writeAll(paths []string, signals [][]float64, format wav.Format, rate int, enc wav.Encoding) (err error) {
	var done []string
	defer func() {
		if err != nil {
			for _, p := range done {
				os.Remove(p)
			}
		}
	}()
	for i, p := range paths {
		w, err := wav.CreateFormat(p, format, rate, enc, len(signals[i]))
		if err != nil {
			return err
		}
		if err := w.Write(signals[i]); err != nil {
			w.Abort()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		done = append(done, p)
	}
	return nil
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
