package bsseval

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
)

func noise(seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func TestEdgeCaseErrors(t *testing.T) {
	a, b := noise(1, 2000), noise(2, 2000)
	nan := append([]float64(nil), a...)
	nan[17] = math.NaN()
	inf := append([]float64(nil), b...)
	inf[3] = math.Inf(-1)
	for _, c := range []struct {
		name       string
		refs, ests [][]float64
		want       string
	}{
		{"no sources", nil, nil, "no reference sources"},
		{"source counts", [][]float64{a, b}, [][]float64{a}, "1 estimated sources for 2"},
		{"lengths within refs", [][]float64{a, b[:1999]}, [][]float64{a, b}, "same length"},
		{"lengths refs vs ests", [][]float64{a, b}, [][]float64{a[:1000], b[:1000]}, "lengths must match"},
		{"shorter than filter", [][]float64{a[:511], b[:511]}, [][]float64{a[:511], b[:511]}, "fewer than the 512-tap"},
		{"silent reference", [][]float64{a, make([]float64, 2000)}, [][]float64{a, b}, "reference source 1 is silent"},
		{"silent estimate", [][]float64{a, b}, [][]float64{make([]float64, 2000), b}, "estimate source 0 is silent"},
		{"NaN", [][]float64{nan, b}, [][]float64{a, b}, "non-finite sample (NaN) at index 17"},
		{"Inf", [][]float64{a, b}, [][]float64{a, inf}, "non-finite sample (-Inf) at index 3"},
	} {
		_, err := Sources(c.refs, c.ests, Options{Permute: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	_, err := Sources([][]float64{a}, [][]float64{make([]float64, 2000)}, Options{})
	if !errors.Is(err, ErrSilent) {
		t.Errorf("silent estimate: error %v does not wrap ErrSilent", err)
	}
}

// An estimate equal to its reference (or a short filtering of it) has no
// distortion: mir_eval gives some 300 dB of rounding noise; so do we, or
// +Inf. The other metrics must be just as large.
func TestPerfectEstimate(t *testing.T) {
	a, b := noise(3, 8000), noise(4, 8000)
	r, err := Sources([][]float64{a, b}, [][]float64{b, a}, Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Perm[0] != 1 || r.Perm[1] != 0 {
		t.Errorf("perm %v, want [1 0]", r.Perm)
	}
	for i := range r.SDR {
		if r.SDR[i] < 200 || r.SIR[i] < 200 || r.SAR[i] < 200 {
			t.Errorf("source %d: SDR %g SIR %g SAR %g, want all above 200 dB", i, r.SDR[i], r.SIR[i], r.SAR[i])
		}
	}
}

func TestOneSource(t *testing.T) {
	a := noise(5, 4000)
	e := noise(6, 4000)
	for i := range e {
		e[i] = a[i] + 0.1*e[i]
	}
	r, err := Sources([][]float64{a}, [][]float64{e}, Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(r.SIR[0], 1) || r.SDR[0] != r.SAR[0] || r.Perm[0] != 0 {
		t.Errorf("one source: %+v, want SIR +Inf and SDR == SAR", r)
	}
	// The 512-tap filter absorbs 512/4000 of the noise: 20.6 dB.
	if r.SDR[0] < 20 || r.SDR[0] > 21.5 {
		t.Errorf("SDR %g, want about 20.6 dB", r.SDR[0])
	}
}

// Linearly dependent references (one a delayed copy of the other) make the
// Gram matrix singular: Cholesky fails and the LU / least-squares fallback
// must still give finite scores, as mir_eval's lstsq fallback does.
func TestDependentReferences(t *testing.T) {
	a := noise(7, 3000)
	b := make([]float64, 3000)
	copy(b[5:], a)
	e1, e2 := noise(8, 3000), noise(9, 3000)
	for i := range e1 {
		e1[i] = a[i] + 0.3*e1[i]
		e2[i] = b[i] + 0.3*e2[i]
	}
	r, err := Sources([][]float64{a, b}, [][]float64{e1, e2}, Options{FilterLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.SDR {
		if math.IsNaN(r.SDR[i]) || math.IsNaN(r.SAR[i]) {
			t.Errorf("source %d: %+v has NaN", i, r)
		}
	}
}

func TestPlanReuse(t *testing.T) {
	refs, ests := benchSignals(3, 3, 6000)
	p, err := NewPlan(refs, Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Sources(refs, ests, Options{Permute: true})
	for range 2 {
		got, err := p.Evaluate(ests)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got.SDR {
			if got.SDR[i] != want.SDR[i] || got.SIR[i] != want.SIR[i] || got.SAR[i] != want.SAR[i] || got.Perm[i] != want.Perm[i] {
				t.Fatalf("plan reuse: %+v, want %+v", got, want)
			}
		}
	}
}

// permutations yields the permutations of 0..n-1 in lexicographic order,
// as Python's itertools.permutations.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		_ = p
	}
	var rec func(prefix []int, used []bool)
	rec = func(prefix []int, used []bool) {
		if len(prefix) == n {
			out = append(out, append([]int(nil), prefix...))
			return
		}
		for k := 0; k < n; k++ {
			if !used[k] {
				used[k] = true
				rec(append(prefix, k), used)
				used[k] = false
			}
		}
	}
	rec(nil, make([]bool, n))
	return out
}

// bruteForce is mir_eval's rule: the first permutation with the largest
// mean of sir[perm[j]][j].
func bruteForce(sir [][]float64) []int {
	var best []int
	bestMean := math.Inf(-1)
	for _, p := range permutations(len(sir)) {
		s := 0.0
		for j, k := range p {
			s += sir[k][j]
		}
		if m := s / float64(len(p)); best == nil || m > bestMean {
			best, bestMean = p, m
		}
	}
	return best
}

func TestAssignmentMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 500; trial++ {
		n := 1 + rng.IntN(6)
		sir := make([][]float64, n)
		for k := range sir {
			sir[k] = make([]float64, n)
			for j := range sir[k] {
				switch {
				case trial%3 == 0:
					sir[k][j] = float64(rng.IntN(3)) // many exact ties
				case trial%7 == 0 && rng.IntN(4) == 0:
					sir[k][j] = math.Inf(1)
				default:
					sir[k][j] = 30*rng.Float64() - 10
				}
			}
		}
		got, want := bestAssignment(sir), bruteForce(sir)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("trial %d: sir %v: got %v, brute force %v", trial, sir, got, want)
			}
		}
	}
}

func TestSISDR(t *testing.T) {
	ref := noise(20, 1000)
	est := make([]float64, len(ref))
	n := noise(21, 1000)
	for i := range est {
		est[i] = 3*ref[i] + 0.1*n[i]
	}
	// Reference value computed independently: project, then ratio.
	var rr, re float64
	for i := range ref {
		rr += ref[i] * ref[i]
		re += ref[i] * est[i]
	}
	var tt, ee float64
	for i := range ref {
		s := re / rr * ref[i]
		tt += s * s
		ee += (est[i] - s) * (est[i] - s)
	}
	want := 10 * math.Log10(tt/ee)
	got, err := SISDR(ref, est, false)
	if err != nil || math.Abs(got-want) > 1e-9 {
		t.Errorf("SISDR = %v, %v; want %v", got, err, want)
	}
	// Scale invariance, and the mean removal makes an offset harmless.
	shifted := make([]float64, len(est))
	for i := range est {
		shifted[i] = -0.5*est[i] + 7
	}
	got2, err := SISDR(ref, shifted, true)
	got3, _ := SISDR(ref, est, true)
	if err != nil || math.Abs(got2-got3) > 1e-9 {
		t.Errorf("zero-mean SISDR not scale/offset invariant: %v vs %v (%v)", got2, got3, err)
	}
	if v, err := SISDR(ref, ref, true); err != nil || !math.IsInf(v, 1) && v < 250 {
		t.Errorf("perfect estimate: %v, %v", v, err)
	}
	for _, c := range []struct {
		ref, est []float64
		zm       bool
		want     string
	}{
		{ref, est[:10], false, "different lengths"},
		{nil, nil, false, "empty"},
		{make([]float64, 1000), est, false, "reference is silent"},
		{ref, make([]float64, 1000), false, "estimate is silent"},
		{ref, []float64{math.NaN()}, false, "different lengths"},
		{[]float64{1, 2, math.Inf(1)}, []float64{1, 2, 3}, false, "non-finite"},
		{[]float64{2, 2, 2}, []float64{1, 2, 3}, true, "reference is silent"},
	} {
		if _, err := SISDR(c.ref, c.est, c.zm); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SISDR error %v, want %q", err, c.want)
		}
	}
}

func TestFramewiseSilentFrame(t *testing.T) {
	a, b := noise(30, 6000), noise(31, 6000)
	clear(a[2000:4000]) // frames 1 (2000..4000) silent in reference 0
	e1, e2 := noise(32, 6000), noise(33, 6000)
	for i := range e1 {
		e1[i] = a[i] + 0.2*b[i] + 0.1*e1[i]
		e2[i] = b[i] + 0.2*a[i] + 0.1*e2[i]
	}
	r, err := SourcesFramewise([][]float64{a, b}, [][]float64{e1, e2}, 2000, 2000, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames() != 3 {
		t.Fatalf("%d frames, want 3", r.Frames())
	}
	for i := 0; i < 2; i++ {
		if !math.IsNaN(r.SDR[i][1]) || r.Perm[i][1] != -1 || math.IsNaN(r.SDR[i][0]) || math.IsNaN(r.SDR[i][2]) {
			t.Errorf("source %d: SDR %v perm %v, want NaN and -1 in frame 1 only", i, r.SDR[i], r.Perm[i])
		}
	}
	if _, err := SourcesFramewise([][]float64{a, b}, [][]float64{e1, e2}, 0, 10, Options{}); err == nil {
		t.Error("window 0 accepted")
	}
	if _, err := SourcesFramewise([][]float64{a, b}, [][]float64{e1, e2}, 300, 300, Options{}); err == nil {
		t.Error("window shorter than the filter accepted")
	}
	// Fewer than two frames: the whole signals, as one frame.
	one, err := SourcesFramewise([][]float64{a, b}, [][]float64{e1, e2}, 10000, 5000, Options{})
	whole, _ := Sources([][]float64{a, b}, [][]float64{e1, e2}, Options{})
	if err != nil || one.Frames() != 1 || one.SDR[0][0] != whole.SDR[0] {
		t.Errorf("single frame: %+v, %v; want the whole-signal SDR %v", one, err, whole.SDR)
	}
}

func TestFFTLen(t *testing.T) {
	smooth := func(m int) bool {
		if m%2 != 0 {
			return false
		}
		for _, p := range []int{2, 3, 5} {
			for m%p == 0 {
				m /= p
			}
		}
		return m == 1
	}
	for n := 1; n < 5000; n++ {
		m := fftLen(n)
		if m < n || !smooth(m) {
			t.Fatalf("fftLen(%d) = %d", n, m)
		}
		for k := n; k < m; k++ {
			if smooth(k) {
				t.Fatalf("fftLen(%d) = %d, but %d is smaller", n, m, k)
			}
		}
	}
	if got := fftLen(48511); got != 48600 {
		t.Errorf("fftLen(48511) = %d, want 48600", got)
	}
}

// The Levinson solve must agree with a dense Cholesky on badly conditioned
// references (sharp resonances, pole radius 0.999): compare the energies of
// the projections, the quantities the scores use.
func TestLevinsonMatchesDense(t *testing.T) {
	n := 4000
	refs := make([][]float64, 2)
	for i := range refs {
		x := noise(uint64(40+i), n)
		var y1, y2 float64
		c := 2 * 0.999 * math.Cos(0.3+0.4*float64(i))
		for t := range x {
			y := x[t] + c*y1 - 0.998*y2
			y2, y1 = y1, y
			x[t] = y
		}
		refs[i] = x
	}
	e := noise(50, n)
	for t := range e {
		e[t] = refs[0][t] + 0.5*refs[1][t] + e[t]
	}
	p, err := NewPlan(refs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dim := 2 * p.flen
	b := blas64.General{Rows: dim, Cols: 1, Stride: 1, Data: make([]float64, dim)}
	for i := 0; i < 2; i++ {
		for d := 0; d < p.flen; d++ {
			var s float64
			for t := d; t < n; t++ {
				s += refs[i][t-d] * e[t]
			}
			b.Data[i*p.flen+d] = s
		}
	}
	xl := blas64.General{Rows: dim, Cols: 1, Stride: 1, Data: append([]float64(nil), b.Data...)}
	xd := blas64.General{Rows: dim, Cols: 1, Stride: 1, Data: append([]float64(nil), b.Data...)}
	p.full.solve(xl)
	factorize(p.gram.dense(), dim, dim).solve(xd)
	// |P|^2 = D'x for the exact solution.
	el, ed := dot(b.Data, xl.Data), dot(b.Data, xd.Data)
	if math.Abs(el-ed) > 1e-9*ed {
		t.Errorf("projection energy: Levinson %.15g, dense %.15g", el, ed)
	}
}

// The recursion alone (no refinement, no fallback) solves block Toeplitz
// systems of 1, 2 and 3 sources for any number of right-hand sides: its
// solution satisfies the dense system to rounding.
func TestLevinsonRecursion(t *testing.T) {
	for _, m := range []int{1, 2, 3} {
		for _, nrhs := range []int{1, 2, 3, 5} {
			const n, L = 3000, 64
			refs := make([][]float64, m)
			for i := range refs {
				refs[i] = noise(uint64(60+i), n)
			}
			for i := range refs {
				for t := n - 1; t > 0; t-- { // some colour, and cross-correlation
					refs[i][t] += 0.7*refs[i][t-1] + 0.2*refs[(i+1)%m][t-1]
				}
			}
			p, err := NewPlan(refs, Options{FilterLen: L})
			if err != nil {
				t.Fatal(err)
			}
			dim := m * L
			g := p.gram.dense()
			d := noise(uint64(70+m*10+nrhs), dim*nrhs) // delay-major rows a*m+i
			lv := p.full.(*toeplitzFactor).lv
			kernels := map[string]func(x, d []float64, nrhs int) bool{"solve": lv.solve}
			if m == 2 {
				kernels["solve2Go"] = lv.solve2Go // the C kernel's twin, in the cgo build
			}
			for name, solve := range kernels {
				x := make([]float64, dim*nrhs)
				if !solve(x, d, nrhs) {
					t.Fatalf("%s m=%d nrhs=%d: recursion broke down", name, m, nrhs)
				}
				// Residual G x - d, with G source-major and x delay-major.
				worst, scale := 0.0, 0.0
				for i := 0; i < m; i++ {
					for a := 0; a < L; a++ {
						for c := 0; c < nrhs; c++ {
							s := -d[(a*m+i)*nrhs+c]
							for j := 0; j < m; j++ {
								for b := 0; b < L; b++ {
									s += g[(i*L+a)*dim+j*L+b] * x[(b*m+j)*nrhs+c]
								}
							}
							worst = math.Max(worst, math.Abs(s))
							scale = math.Max(scale, math.Abs(d[(a*m+i)*nrhs+c]))
						}
					}
				}
				if worst > 1e-11*scale {
					t.Errorf("%s m=%d nrhs=%d: residual %g (right-hand side %g)", name, m, nrhs, worst, scale)
				}
			}
		}
	}
}

// TestMixtureSDR checks the baseline of SDR improvement: the mixture
// scored as every source's estimate, whatever the plan's permutation.
func TestMixtureSDR(t *testing.T) {
	const n = 8000
	a, b := noise(1, n), noise(2, n)
	mix := make([]float64, n)
	for i := range mix {
		mix[i] = a[i] + 0.1*b[i]
	}
	want, err := Sources([][]float64{a, b}, [][]float64{mix, mix}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan([][]float64{a, b}, Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.MixtureSDR(mix)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want.SDR[i] {
			t.Errorf("source %d: MixtureSDR %v, Sources %v", i, got[i], want.SDR[i])
		}
	}
	// a is 20 dB above b in the mixture; b is 20 dB below a, but the
	// 512-tap filter on 8000 samples of noise absorbs about 6% of a's
	// energy into b's target (-12 dB).
	if math.Abs(got[0]-20) > 0.5 || got[1] > -10 {
		t.Errorf("MixtureSDR %v, want about +20 dB and below -10 dB", got)
	}
	// The plan keeps its permutation search.
	if r, err := p.Evaluate([][]float64{b, a}); err != nil || r.Perm[0] != 1 {
		t.Errorf("after MixtureSDR: perm %v, %v", r.Perm, err)
	}
}
