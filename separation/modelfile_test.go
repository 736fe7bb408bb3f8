package separation

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/npz"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"alice", "FA", "spk_01", "a.b-c", "9", "Zoë", "李雷", strings.Repeat("x", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".hidden", "-flag", "_x", "a/b", `a\b`, "x/../../evil", "/abs", "a b", "a\nb", "a\x00b", "a\tb", "\u202eevil", "a\xffb", strings.Repeat("x", MaxNameLen+1)} {
		if err := CheckName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestNameKey checks that names a case-insensitive file system would take
// for one file have one key: full case folding, not only lower case.
func TestNameKey(t *testing.T) {
	for _, same := range [][2]string{
		{"Ann", "ann"}, {"σοφία", "ςοφία"}, {"ΣΟΦΊΑ", "σοφία"}, {"sam", "ſam"},
		{"µ", "μ"}, {"Straße", "STRASSE"}, {"café", "cafe\u0301"}, {"K", "\u212a"},
	} {
		if NameKey(same[0]) != NameKey(same[1]) {
			t.Errorf("%q and %q have keys %q and %q", same[0], same[1], NameKey(same[0]), NameKey(same[1]))
		}
	}
	for _, other := range [][2]string{{"ann", "anne"}, {"café", "cafe"}, {"σ", "s"}, {"i", "ı"}} {
		if NameKey(other[0]) == NameKey(other[1]) {
			t.Errorf("%q and %q have the same key %q", other[0], other[1], NameKey(other[0]))
		}
	}
}

// TestDecodeRefusesUntrustedMeta checks that a model file declaring unsafe
// speaker names, names that collide or sizes that would exhaust memory is
// refused with an error, before anything is allocated from it.
func TestDecodeRefusesUntrustedMeta(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	from := good
	for _, tc := range []struct{ old, new, want string }{
		{`"high"`, `"x/../../evil"`, "speaker name"},
		{`"high"`, `".."`, "speaker name"},
		{`"high"`, `"a\nb"`, "speaker name"},
		{`"high"`, `"LOW"`, "used twice"},
		{`"low"`, `"ſ"`, ""}, // with the next: "ſ" and "S" fold to "s"
		{`"high"`, `"S"`, "used twice"},
		{`"low"`, `"µ"`, ""}, // the micro sign and the Greek mu
		{`"high"`, `"μ"`, "used twice"},
		{`"fft_size":1024`, `"fft_size":1099511627776`, "STFT sizes"},
		{`"window_size":1024`, `"window_size":-4`, "STFT sizes"},
		{`"sample_rate":16000`, `"sample_rate":0`, "sample rate"},
		{`"sizes":[4]`, `"sizes":[]`, "layers"},
		{`"sample_rate":16000`, `"sample_rate":1`, "sample rate 1 Hz: want 1000 to 384000 Hz"},
		{`"fft_size":1024,"window_size":1024,"hop":256`, `"fft_size":65536,"window_size":65536,"hop":1`, "a window longer than one second"},
		{`"hop":256`, `"hop":1`, "FFT size 1024 with a hop of 1: more than 16 frames overlap"},
	} {
		if tc.want == "" { // a first rewrite, checked with the next
			from = rewriteMeta(t, from, tc.old, tc.new)
			continue
		}
		b := rewriteMeta(t, from, tc.old, tc.new)
		from = good
		_, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s -> %s: got %v, want an error with %q", tc.old, tc.new, err, tc.want)
		}
	}
	// A one-second window at 96 kHz, but 1024 frames overlapping (901 MB
	// for a 2 s mixture).
	b := rewriteMeta(t, good, `"sample_rate":16000`, `"sample_rate":96000`)
	b = rewriteMeta(t, b, `"fft_size":1024,"window_size":1024,"hop":256`, `"fft_size":65536,"window_size":65536,"hop":64`)
	want := "FFT size 65536 with a hop of 64: more than 16 frames overlap (want a hop of at least 4096)"
	if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("FFT 65536, hop 64: got %v, want an error with %q", err, want)
	}
}

// A layer whose shape the meta text does not call for is refused from its
// header, before its data is decoded: a 2^28-element array took 3.6 GB
// before its shape was refused.
func TestDecodeChecksShapesBeforeData(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	arrays, err := npz.Read(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	w := npz.NewWriter(&buf)
	for name, a := range arrays {
		switch {
		case name == "meta":
			w.Text(name, a.Text)
		case name == "s0_W1":
			const rows = 1 << 24 // 64 Mi float32, 256 MiB: zeros compress to little
			w.Float32(name, []int{rows, 4}, make([]float32, rows*4))
		default:
			w.Float32(name, a.Shape, a.Float32)
		}
	}
	w.Close()
	b := buf.Bytes()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Decode(bytes.NewReader(b), int64(len(b)))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "shape [16777216 4], want float32 of 513 x 4") {
		t.Errorf("got %v, want the layer's shape refused", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("Decode allocated %d MB before refusing the shape", got>>20)
	}
}
