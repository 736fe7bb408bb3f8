package separation

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/npz"
)

// fuzzModel returns a small valid model (randomModel's), with a universal
// model of two more speakers when universal is set.
func fuzzModel(method Method, sizes []int, universal bool) *Model {
	m := randomModel(method, sizes)
	if universal {
		m.Universal = &Universal{Name: "ubm", Speakers: randomModel(method, sizes).Speakers}
		m.Universal.Speakers[0].Name, m.Universal.Speakers[1].Name = "u1", "u2"
	}
	return m
}

func encodeModel(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkDecoded is what every model Decode accepts must satisfy: it
// validates, its names are safe as file name parts, and it survives an
// encode and decode unchanged.
func checkDecoded(t *testing.T, m *Model) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("Decode accepted a model that does not validate: %v", err)
	}
	for _, name := range m.Names() {
		if err := CheckName(name); err != nil {
			t.Fatalf("Decode accepted an unsafe name: %v", err)
		}
	}
	back := roundTrip(t, m)
	if !reflect.DeepEqual(back.Names(), m.Names()) || !reflect.DeepEqual(back.Sizes(), m.Sizes()) || back.SampleRate != m.SampleRate {
		t.Fatalf("round trip changed the model: %v %v %d -> %v %v %d", m.Names(), m.Sizes(), m.SampleRate, back.Names(), back.Sizes(), back.SampleRate)
	}
}

// FuzzDecode checks that no byte string makes Decode panic, hang or
// allocate without bound, and that what it accepts is a valid model (as
// FuzzDecode does for WAV files in package wav).
func FuzzDecode(f *testing.F) {
	for _, m := range []*Model{fuzzModel(NMF, []int{3}, false), fuzzModel(LNMF, []int{4, 2}, false), fuzzModel(NMF, []int{2}, true)} {
		good := encodeModel(f, m)
		f.Add(good)
		f.Add(good[:len(good)/2])
		f.Add(good[:len(good)-1])
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if m != nil {
				t.Fatal("non-nil model with an error")
			}
			return
		}
		checkDecoded(t, m)
	})
}

// FuzzDecodeMeta fuzzes the meta text of a well-formed archive whose
// arrays are a valid model's: the zip layer is not in the way, so the
// mutations reach the model validation (names, sizes, STFT settings,
// versions, the universal model).
func FuzzDecodeMeta(f *testing.F) {
	arrays := map[string]*npz.Array{}
	for _, m := range []*Model{fuzzModel(LNMF, []int{4, 2}, true)} {
		good := encodeModel(f, m)
		var err error
		if arrays, err = npz.Read(bytes.NewReader(good), int64(len(good))); err != nil {
			f.Fatal(err)
		}
		meta := arrays["meta"].Text
		f.Add(meta)
		for _, edit := range [][2]string{{`"b"`, `"../b"`}, {`"b"`, `"A"`}, {`1024`, `1099511627776`}, {`"version":2`, `"version":1`},
			{`"sizes":[4,2]`, `"sizes":[4]`}, {`"hann-periodic"`, `"hamming"`}, {`16000`, `-1`}} {
			f.Add(strings.Replace(meta, edit[0], edit[1], 1))
		}
	}
	f.Fuzz(func(t *testing.T, meta string) {
		var buf bytes.Buffer
		w := npz.NewWriter(&buf)
		for name, a := range arrays {
			if name == "meta" {
				w.Text(name, meta)
			} else {
				w.Float32(name, a.Shape, a.Float32)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		m, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			return
		}
		checkDecoded(t, m)
	})
}
