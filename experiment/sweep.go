package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// SweepSpec is a sweep: every configuration of a grid run by the protocol on
// every speaker pair (JSON, documented in "dlnmf sweep -h"):
//
//	{
//	  "pairs": [{"speakers": ["FA=tsp/FA", "MC=tsp/MC"]}, {"name": "arctic", "speakers": ["slt=arctic/slt", "bdl=arctic/bdl"]}],
//	  "protocol": {"repeats": 15, "seed": 1, "snr": 0, "iters": 200},
//	  "grid": [{"method": ["lnmf", "dlnmf"], "layers": [[180, 20], [180, 30]]}, {"method": ["nmf"], "k": [20]}],
//	  "baseline": {"method": "dlnmf", "layers": [180, 20]}
//	}
//
// protocol holds any field of Config (by its JSON name) shared by every
// configuration. Each object of grid is a cross product: a key names a
// setting and lists its values. "method", "layers" and "k" give one row (a
// method, its layer sizes, an NMF size); every other key is a field of
// Config set to each listed value (iters, rounds, beta, ...; settings
// added to Config later are grid keys as they are). Every grid point must
// make exactly one row. baseline picks the configuration every other is
// compared with: the grid point whose values include all of its values.
type SweepSpec struct {
	Pairs    []SweepPair                  `json:"pairs"`
	Protocol json.RawMessage              `json:"protocol"`
	Grid     []map[string]json.RawMessage `json:"grid"`
	Baseline map[string]json.RawMessage   `json:"baseline"`
}

// SweepPair is a set of speakers, each "NAME=DIR" or "NAME=@LIST".
type SweepPair struct {
	Name     string   `json:"name"` // "": the speakers' names joined by "+"
	Speakers []string `json:"speakers"`
}

// SweepConfig is one grid point: its label (the grid's keys and values,
// "layers=180,20 method=dlnmf") and its configuration.
type SweepConfig struct {
	Label  string
	Config Config
	point  map[string]string // key -> canonical JSON value
}

// ParseSweepSpec reads a sweep spec, rejecting unknown fields.
func ParseSweepSpec(r io.Reader) (*SweepSpec, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	if len(b) > MaxSpecBytes {
		return nil, fmt.Errorf("sweep spec: larger than %d bytes", MaxSpecBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s SweepSpec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	if len(s.Pairs) == 0 {
		return nil, errors.New("sweep spec: no pairs")
	}
	for i, p := range s.Pairs {
		if len(p.Speakers) < 2 {
			return nil, fmt.Errorf("sweep spec: pair %d has %d speakers; give at least 2 as \"NAME=DIR\"", i+1, len(p.Speakers))
		}
	}
	if len(s.Grid) == 0 {
		return nil, errors.New("sweep spec: an empty grid")
	}
	return &s, nil
}

// Configs expands the grid into its configurations, in grid order (each
// object's keys in sorted order, the last key varying fastest), and returns
// the index of the baseline among them. base is the configuration the
// protocol starts from (the command line's defaults).
func (s *SweepSpec) Configs(base Config) ([]SweepConfig, int, error) {
	proto := base
	if len(s.Protocol) > 0 {
		dec := json.NewDecoder(bytes.NewReader(s.Protocol))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&proto); err != nil {
			return nil, 0, fmt.Errorf("sweep spec: protocol: %w", err)
		}
	}
	out, err := ExpandGrid(proto, s.Grid)
	if err != nil {
		return nil, 0, fmt.Errorf("sweep spec: %w", err)
	}
	if len(s.Baseline) == 0 {
		return nil, 0, errors.New("sweep spec: no baseline (a grid point every configuration is compared with)")
	}
	want := map[string]string{}
	for k, v := range s.Baseline {
		want[k] = canonical(v)
	}
	baseline := -1
	for i, sc := range out {
		match := true
		for k, v := range want {
			if sc.point[k] != v {
				match = false
			}
		}
		if match {
			if baseline >= 0 {
				return nil, 0, fmt.Errorf("sweep spec: the baseline matches %q and %q; name more of its settings", out[baseline].Label, sc.Label)
			}
			baseline = i
		}
	}
	if baseline < 0 {
		return nil, 0, errors.New("sweep spec: the baseline is none of the grid's configurations")
	}
	return out, baseline, nil
}

// MaxGridPoints bounds the points of a grid (a sweep's, experiment
// --select's), counted before any is expanded: 10^6 points from a 2 kB
// grid would take gigabytes before any training.
const MaxGridPoints = 1000

// MaxSpecBytes bounds a sweep spec or grid file.
const MaxSpecBytes = 1 << 20

// ExpandGrid expands grid objects (a sweep's "grid", experiment --select's
// GRID) into their configurations, in grid order: each object's keys in
// sorted order, the last key varying fastest; a point that repeats an
// earlier one is left out. Each object is a cross product: a key names a
// setting and lists its values. "method", "layers" and "k" give one row (a
// method, its layer sizes, an NMF size); every other key is a field of
// Config by its JSON name, set to each listed value, over proto. Every
// point must make exactly one row.
func ExpandGrid(proto Config, grid []map[string]json.RawMessage) ([]SweepConfig, error) {
	if len(grid) == 0 {
		return nil, errors.New("an empty grid")
	}
	var out []SweepConfig
	seen := map[string]bool{}
	points := 0 // the grid's points, counted before any is expanded
	for g, obj := range grid {
		n := 1
		for k, v := range obj {
			var values []json.RawMessage
			if err := json.Unmarshal(v, &values); err != nil || len(values) == 0 {
				return nil, fmt.Errorf("grid %d: %q must list its values, e.g. [20, 30]", g+1, k)
			}
			n = min(n*len(values), MaxGridPoints+1)
		}
		if points += n; points > MaxGridPoints {
			return nil, fmt.Errorf("a grid of more than %d points; each point trains its models in every repeat: split it", MaxGridPoints)
		}
	}
	for g, obj := range grid {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		values := make([][]json.RawMessage, len(keys))
		for i, k := range keys {
			if !gridKey(k) {
				return nil, fmt.Errorf("grid %d: unknown setting %q (want method, layers, k or a field of the protocol's config, e.g. iters, context, sparsity, mask_power)", g+1, k)
			}
			if err := json.Unmarshal(obj[k], &values[i]); err != nil || len(values[i]) == 0 {
				return nil, fmt.Errorf("grid %d: %q must list its values, e.g. [20, 30]", g+1, k)
			}
		}
		idx := make([]int, len(keys))
		for {
			point := map[string]json.RawMessage{}
			for i, k := range keys {
				point[k] = values[i][idx[i]]
			}
			sc, err := sweepConfig(proto, point)
			if err != nil {
				return nil, fmt.Errorf("grid %d, %s: %w", g+1, sc.Label, err)
			}
			if !seen[sc.Label] {
				seen[sc.Label] = true
				out = append(out, sc)
			}
			i := len(idx) - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < len(values[i]) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	return out, nil
}

// gridKey tells whether k names a grid setting: "method", "layers", "k"
// or a field of Config by its JSON name.
func gridKey(k string) bool {
	if k == "method" || k == "layers" || k == "k" {
		return true
	}
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == k && name != "methods" {
			return true
		}
	}
	return false
}

func canonical(v json.RawMessage) string {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return string(v)
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// sweepConfig builds the configuration of one grid point.
func sweepConfig(proto Config, point map[string]json.RawMessage) (SweepConfig, error) {
	sc := SweepConfig{point: map[string]string{}}
	keys := make([]string, 0, len(point))
	for k := range point {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var label []string
	fields := map[string]json.RawMessage{}
	for _, k := range keys {
		v := point[k]
		sc.point[k] = canonical(v)

		label = append(label, k+"="+strings.Trim(strings.ReplaceAll(sc.point[k], `"`, ""), "[]"))
		switch k {
		case "method":
			fields["methods"] = json.RawMessage("[" + string(v) + "]")
		case "layers", "k":
			fields[k] = json.RawMessage("[" + string(v) + "]")
		default:
			fields[k] = v
		}
	}
	sc.Label = strings.Join(label, " ")
	b, _ := json.Marshal(fields)
	// A fresh copy of every slice and pointer of proto: decoding a JSON
	// array into a slice reuses its backing array, so a shallow copy let
	// one point's "method" or "layers" overwrite every other point's (all
	// of --select's points became the last one's method).
	cfg := proto.clone()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return sc, err
	}
	for _, m := range cfg.Methods {
		if _, err := separation.ParseMethod(string(m)); err != nil {
			return sc, err
		}
	}
	d, err := cfg.Defaults()
	if err != nil {
		return sc, err
	}
	if n := len(d.Rows()); n != 1 {
		return sc, fmt.Errorf("makes %d rows; give each grid point one method and one size (\"layers\" or \"k\")", n)
	}
	sc.Config = cfg
	return sc, nil
}

// SweepRow is one configuration's line of a sweep table: the mean SDR over
// every separated speaker of every test mixture, and its paired difference
// from the baseline over the same mixtures and speakers.
type SweepRow struct {
	Pair     string `json:"pair"` // "" in the table across pairs
	Config   string `json:"config"`
	Row      string `json:"row"` // the method and sizes, "DL-NMF 180,20"
	Baseline bool   `json:"baseline"`
	SDR      Number `json:"sdr"`
	SDRCI95  Number `json:"sdr_ci95"`
	Diff     Number `json:"diff"` // mean SDR difference from the baseline
	DiffCI95 Number `json:"diff_ci95"`
	P        Number `json:"p"` // two-sided paired t-test
	N        int    `json:"n"`
}

// SweepTables summarises a sweep's results (one per pair and configuration,
// pair-major, as the sweep's jobs): one table per pair, then the table
// across pairs.
func SweepTables(pairs []string, configs []SweepConfig, baseline int, res []*Results) [][]SweepRow {
	type key struct {
		pair            int
		mixture, source string
	}
	sdr := func(r *Results) map[key]float64 {
		m := map[key]float64{}
		for _, s := range r.Scores {
			m[key{0, s.Mixture, s.Speaker}] = float64(s.SDR)
		}
		return m
	}
	table := func(pair string, byConfig []map[key]float64) []SweepRow {
		var rows []SweepRow
		base := byConfig[baseline]
		for c, m := range byConfig {
			r := SweepRow{Pair: pair, Config: configs[c].Label, Baseline: c == baseline, N: len(m)}
			if d, err := configs[c].Config.Defaults(); err == nil {
				r.Row = d.Rows()[0].Label()
			}
			var x, a, b []float64
			keys := make([]key, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				if keys[i].pair != keys[j].pair {
					return keys[i].pair < keys[j].pair
				}
				if keys[i].mixture != keys[j].mixture {
					return keys[i].mixture < keys[j].mixture
				}
				return keys[i].source < keys[j].source
			})
			for _, k := range keys {
				x = append(x, m[k])
				if v, ok := base[k]; ok {
					a, b = append(a, m[k]), append(b, v)
				}
			}
			sum := stats.Summarize(x)
			r.SDR, r.SDRCI95 = Number(sum.Mean), Number(sum.CI95)
			r.Diff, r.DiffCI95, r.P = Number(math.NaN()), Number(math.NaN()), Number(math.NaN())
			if c != baseline && len(a) >= 2 {
				d, ci, p := stats.PairedT(a, b)
				r.Diff, r.DiffCI95, r.P = Number(d), Number(ci), Number(p)
			}
			rows = append(rows, r)
		}
		return rows
	}
	var tables [][]SweepRow
	all := make([]map[key]float64, len(configs))
	for c := range configs {
		all[c] = map[key]float64{}
	}
	for p, name := range pairs {
		byConfig := make([]map[key]float64, len(configs))
		for c := range configs {
			byConfig[c] = sdr(res[p*len(configs)+c])
			for k, v := range byConfig[c] {
				k.pair = p
				all[c][k] = v
			}
		}
		tables = append(tables, table(name, byConfig))
	}
	return append(tables, table("", all))
}

// SweepMarkdown renders the sweep's tables, then extra (more sections in
// markdown, such as SpeakerMarkdown's), then the notes.
func SweepMarkdown(tables [][]SweepRow, repeats int, extra string, notes []string) string {
	var b strings.Builder
	b.WriteString("# Sweep results\n\n")
	fmt.Fprintf(&b, "Mean SDR in dB over every separated speaker of every test mixture (%d repeats), ± the half-width of the 95%% confidence interval; ΔSDR is the paired difference from the baseline over the same mixtures and speakers, with its 95%% CI and the p-value of a two-sided paired t-test.\n", repeats)
	for _, t := range tables {
		if len(t) == 0 {
			continue
		}
		if t[0].Pair == "" {
			b.WriteString("\n## All pairs\n\n")
		} else {
			fmt.Fprintf(&b, "\n## %s\n\n", t[0].Pair)
		}
		b.WriteString("| configuration | row | SDR | ΔSDR vs baseline | p | n |\n|---|---|---|---|---|---|\n")
		for _, r := range t {
			diff, p := pm(r.Diff, r.DiffCI95), pval(r.P)
			if r.Baseline {
				diff, p = "baseline", ""
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", r.Config, r.Row, pm(r.SDR, r.SDRCI95), diff, p, r.N)
		}
	}
	b.WriteString(extra)
	if len(notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// clone returns c with its own copies of every slice and pointer field.
func (c Config) clone() Config {
	c.K = slices.Clone(c.K)
	c.Methods = slices.Clone(c.Methods)
	if c.Layers != nil {
		layers := make([][]int, len(c.Layers))
		for i, l := range c.Layers {
			layers[i] = slices.Clone(l)
		}
		c.Layers = layers
	}
	if c.Beta != nil {
		b := *c.Beta
		c.Beta = &b
	}
	if c.Select != nil {
		sel := *c.Select
		c.Select = &sel
	}
	return c
}
