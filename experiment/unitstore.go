package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
)

// The store of units: each unit a JSON file in Units.Dir, written
// atomically, with the fingerprint of what it was computed from and a
// checksum, so that a shard, a resumed run and a summary agree on what is
// there.

// fingerprint identifies what a unit was computed from: the experiment's
// whole configuration (defaults applied) and its speakers' files.
type fingerprint struct {
	Config   Config   `json:"config"`
	Speakers []string `json:"speakers"`
	Files    []int    `json:"files"`
	Content  string   `json:"content"` // SHA-256 over every file's name and length, speaker by speaker
	// Interference is an interference experiment's rows and universal
	// model (Interference.Job).
	Interference *interferenceFingerprint `json:"interference,omitempty"`
}

// unitFile is the saved form of a unit. Sum is the SHA-256 of the file's
// JSON with Sum empty: a truncated or altered file fails it.
type unitFile struct {
	Unit        int         `json:"unit"`
	Experiment  string      `json:"experiment"`
	Family      string      `json:"family"`
	Repeat      int         `json:"repeat"` // 1-based
	Fingerprint fingerprint `json:"fingerprint"`
	Scores      []Score     `json:"scores"`
	Curves      []Curve     `json:"curves"` // their Seconds are zero: timing is in uNNNNN.time.json
	// Selection is a selection unit's validation scores and choice.
	Selection *SelectionRepeat `json:"selection,omitempty"`
	// Interference is an interference experiment's repeat.
	Interference *interferenceRepeat `json:"interference,omitempty"`
	Sum          string              `json:"sum"`
	Examples     []Example           `json:"-"`
}

func newFingerprint(cfg Config, sps []*corpus.Speaker) fingerprint {
	fp := fingerprint{Config: cfg, Speakers: speakerNames(sps)}
	h := sha256.New()
	for _, sp := range sps {
		fp.Files = append(fp.Files, len(sp.Utterances))
		fmt.Fprintf(h, "%s\n", sp.Name)
		for _, u := range sp.Utterances {
			fmt.Fprintf(h, "%s %d\n", u.Name, len(u.Samples))
		}
	}
	fp.Content = hex.EncodeToString(h.Sum(nil))[:16]
	return fp
}

func (s *Units) path(u int) string {
	return filepath.Join(s.Dir, "units", fmt.Sprintf("u%05d.json", u))
}

// errCorrupt marks a unit file that is truncated or altered.
var errCorrupt = errors.New("corrupt")

// load reads unit u from disk: (nil, nil) when it is not there, errCorrupt
// when it is damaged (it is then computed again), and an error naming both
// configurations when it was made by another experiment.
func (s *Units) load(u unitRef) (*unitFile, error) {
	if f := s.mem[u.index]; f != nil {
		return f, nil
	}
	if s.Dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(s.path(u.index))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f unitFile
	if json.Unmarshal(b, &f) != nil {
		return nil, errCorrupt
	}
	sum := f.Sum
	f.Sum = ""
	if sum == "" || checksum(&f) != sum {
		return nil, errCorrupt
	}
	f.Sum = sum
	want := s.fps[u.job]
	if !sameFingerprint(f.Fingerprint, want) || f.Unit != u.index || f.Family != u.label || f.Repeat != u.repeat+1 {
		d := fingerprintDiff(f.Fingerprint, want)
		if d == "" {
			d = fmt.Sprintf("there unit %d is %s, repeat %d; here %s, repeat %d", f.Unit, f.Family, f.Repeat, u.label, u.repeat+1)
		}
		return nil, fmt.Errorf("%s holds a unit of another experiment (%s): use another output folder, or delete its units folder to start over", s.path(u.index), d)
	}
	if u.repeat == 0 && s.cfgs[u.job].Examples > 0 {
		f.Examples = readExamples(s.path(u.index) + ".examples")
	}
	return &f, nil
}

func checksum(f *unitFile) string {
	b, _ := json.Marshal(f)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func sameFingerprint(a, b fingerprint) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// fingerprintDiff names the settings in which a and b differ, as
// "iters: 20 there, 200 here; ...", or returns "" when they agree.
func fingerprintDiff(there, here fingerprint) string {
	flat := func(fp fingerprint) map[string]string {
		b, _ := json.Marshal(fp)
		var m map[string]any
		json.Unmarshal(b, &m)
		out := map[string]string{}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			if o, ok := v.(map[string]any); ok {
				for k, x := range o {
					walk(strings.TrimPrefix(prefix+"."+k, "."), x)
				}
				return
			}
			js, _ := json.Marshal(v)
			out[prefix] = string(js)
		}
		walk("", m)
		return out
	}
	a, b := flat(there), flat(here)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if a[k] != b[k] {
			name := strings.TrimPrefix(k, "config.")
			diffs = append(diffs, fmt.Sprintf("%s: %s there, %s here", name, orNone(a[k]), orNone(b[k])))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// save sets f's checksum and writes it (and its example audio) to Dir,
// atomically: the unit file is renamed into place last.
func (s *Units) save(u unitRef, f *unitFile) error {
	f.Sum = ""
	f.Sum = checksum(f)
	if s.Dir == "" {
		return nil
	}
	if len(f.Examples) > 0 {
		if err := writeExamples(s.path(u.index)+".examples", sampleRateOf(u.config), f.Examples); err != nil {
			return err
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(s.path(u.index), append(b, '\n'))
}
