package nmf

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// naiveIterate is one MU iteration of X ≈ F[0] ... F[L] written from the
// formulas with plain float64 loops: for each factor in turn (layers, then
// H), Xhat = product of all factors, G = X Xhat^(beta-2), Q = Xhat^(beta-1),
// F_l *= ((A^T G B^T) / (A^T Q B^T + l1))^gamma, with A the product of the
// factors before l and B the product after it.
//
// With unitW1, W1 has unit columns on entry and takes the update of
// Settings.UnitNorm instead (Le Roux et al. 2015): with N and D the
// numerator and denominator above, W1 *= ((N + W1 diag(1^T (D * W1))) /
// (D + W1 diag(1^T (N * W1))))^gamma, then its columns are scaled to unit
// norm.
func naiveIterate(X [][]float64, F [][][]float64, beta, l1, eps float64, freezeLayers, freezeH, unitW1 bool) {
	L := len(F) - 1
	gamma := gammaOf(beta)
	for l := 0; l <= L; l++ {
		if (l < L && freezeLayers) || (l == L && freezeH) {
			continue
		}
		V := naiveChain(F)
		M, N := len(X), len(X[0])
		G := make([][]float64, M)
		Q := make([][]float64, M)
		for i := range M {
			G[i], Q[i] = make([]float64, N), make([]float64, N)
			for j := range N {
				v := V[i][j]
				if beta < 2 {
					v = math.Max(v, eps)
				}
				G[i][j] = X[i][j] * math.Pow(v, beta-2)
				Q[i][j] = math.Pow(v, beta-1)
			}
		}
		var A, B [][]float64
		if l > 0 {
			A = naiveChain(F[:l])
		} else {
			A = naiveIdentity(M)
		}
		if l < L {
			B = naiveChain(F[l+1:])
		} else {
			B = naiveIdentity(N)
		}
		num := naiveMul(naiveMul(naiveT(A), G), naiveT(B))
		den := naiveMul(naiveMul(naiveT(A), Q), naiveT(B))
		if l == 0 && unitW1 {
			W := F[0]
			K := len(W[0])
			dw, nw := make([]float64, K), make([]float64, K)
			for i := range W {
				for k := range K {
					dw[k] += den[i][k] * W[i][k]
					nw[k] += num[i][k] * W[i][k]
				}
			}
			for i := range W {
				for k := range K {
					W[i][k] *= math.Pow((num[i][k]+W[i][k]*dw[k])/math.Max(den[i][k]+W[i][k]*nw[k], eps), gamma)
				}
			}
			naiveUnitColumns(W)
			continue
		}
		add := 0.0
		if l == L {
			add = l1
		}
		for i := range F[l] {
			for j := range F[l][i] {
				F[l][i][j] *= math.Pow(num[i][j]/math.Max(den[i][j]+add, eps), gamma)
			}
		}
	}
}

// naiveUnitColumns scales the columns of W to unit Euclidean norm and
// returns the norms.
func naiveUnitColumns(W [][]float64) []float64 {
	norms := make([]float64, len(W[0]))
	for i := range W {
		for k, v := range W[i] {
			norms[k] += v * v
		}
	}
	for k := range norms {
		norms[k] = math.Sqrt(norms[k])
	}
	for i := range W {
		for k := range W[i] {
			W[i][k] /= norms[k]
		}
	}
	return norms
}

func naiveChain(F [][][]float64) [][]float64 {
	p := F[0]
	for _, f := range F[1:] {
		p = naiveMul(p, f)
	}
	return p
}

func naiveMul(a, b [][]float64) [][]float64 {
	c := make([][]float64, len(a))
	for i := range a {
		c[i] = make([]float64, len(b[0]))
		for k := range b {
			for j := range b[0] {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}

func naiveT(a [][]float64) [][]float64 {
	t := make([][]float64, len(a[0]))
	for j := range t {
		t[j] = make([]float64, len(a))
		for i := range a {
			t[j][i] = a[i][j]
		}
	}
	return t
}

func naiveIdentity(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
		m[i][i] = 1
	}
	return m
}

func toRows(m *Dense[float64]) [][]float64 {
	r := make([][]float64, m.Rows)
	for i := range r {
		r[i] = append([]float64(nil), m.row(i)...)
	}
	return r
}

func maxRelDiff(a [][]float64, b *Dense[float64]) float64 {
	var d float64
	for i := range a {
		for j := range a[i] {
			x, y := a[i][j], b.At(i, j)
			d = max(d, math.Abs(x-y)/max(math.Abs(x), 1e-12))
		}
	}
	return d
}

// TestUpdateMatchesNaive checks every update rule (each beta, L = 1..3,
// each freeze) against naiveIterate. Normalisation rescales the factors
// without changing the model, so the comparison is on H when only H moves,
// on the basis when only the layers move, and on the reconstruction when
// both do.
func TestUpdateMatchesNaive(t *testing.T) {
	for _, beta := range []float64{0, 0.5, 1, 1.5, 2, 3} {
		for L := 1; L <= 3; L++ {
			for _, fr := range []Freeze{{}, {Layers: true}, {H: true}} {
				X := randDense[float64](9, 11, 0.05, 5)
				X.Set(2, 3, 0) // an exact zero
				f := &Factorization[float64]{}
				rows := 9
				for l, k := range []int{5, 4, 3}[:L] {
					f.Layers = append(f.Layers, randDense[float64](rows, k, 0.1, uint64(20+l)))
					rows = k
				}
				f.H = randDense[float64](rows, 11, 0.1, 30)
				F := [][][]float64{}
				for _, w := range f.Layers {
					F = append(F, toRows(w))
				}
				F = append(F, toRows(f.H))
				s := Settings{Divergence: BetaDivergence, Beta: beta, MaxIter: 1, Tol: -1, L1: 0.01}
				if _, err := Update(X, f, fr, s); err != nil {
					t.Fatal(err)
				}
				naiveIterate(toRows(X), F, beta, 0.01, DefaultEpsilon, fr.Layers, fr.H, false)
				var d float64
				switch {
				case fr.Layers:
					d = maxRelDiff(F[L], f.H)
				case fr.H:
					d = maxRelDiff(naiveChain(F[:L]), f.Basis(nil))
				default:
					d = maxRelDiff(naiveChain(F), f.Reconstruct(nil))
				}
				if d > 1e-10 {
					t.Errorf("beta %g L %d freeze %+v: max relative difference %g from the naive update", beta, L, fr, d)
				}
			}
		}
	}
}

func TestAgainstScikitLearn(t *testing.T) {
	raw, err := os.ReadFile("testdata/sklearn_kl.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		M, N, K, Iterations int
		X, W0, H0           []float64
		Cost                float64
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	X := NewDense(g.M, g.N, g.X)
	f := &Factorization[float64]{Layers: []*Dense[float64]{NewDense(g.M, g.K, g.W0).Clone()}, H: NewDense(g.K, g.N, g.H0).Clone()}
	res, err := Update(X, f, Freeze{}, Settings{MaxIter: g.Iterations, Tol: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Cost[len(res.Cost)-1]
	if rel := math.Abs(got-g.Cost) / g.Cost; rel > 1e-4 {
		t.Errorf("KL cost after %d iterations: %.10g, scikit-learn %.10g (relative %g)", g.Iterations, got, g.Cost, rel)
	}
	// float32 follows within float tolerance.
	X32 := Convert[float64, float32](nil, X)
	f32 := &Factorization[float32]{Layers: []*Dense[float32]{Convert[float64, float32](nil, NewDense(g.M, g.K, g.W0))},
		H: Convert[float64, float32](nil, NewDense(g.K, g.N, g.H0))}
	res32, err := Update(X32, f32, Freeze{}, Settings{MaxIter: g.Iterations, Tol: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got32 := res32.Cost[len(res32.Cost)-1]; math.Abs(got32-g.Cost)/g.Cost > 1e-4 {
		t.Errorf("float32 KL cost %.10g, scikit-learn %.10g", got32, g.Cost)
	}
}

// TestKLBlocksAgree runs the fused KL pass with narrow column blocks and
// several workers, and with one block, for L = 1..3 and both orders of the
// middle-layer numerator: the models agree to rounding.
func TestKLBlocksAgree(t *testing.T) {
	defer func(b int) { BlockCols = b }(BlockCols)
	for L := 1; L <= 3; L++ {
		for _, sizes := range [][]int{{8, 6, 3}, {4, 7, 5}} {
			run := func(width, workers int) *Dense[float64] {
				BlockCols = width
				X := randDense[float64](13, 37, 0.05, 5)
				f, _, err := Train(X, sizes[:L], Settings{MaxIter: 15, Tol: -1, Workers: workers, Seed: 4, L1: 0.01})
				if err != nil {
					t.Fatal(err)
				}
				return f.Reconstruct(nil)
			}
			a, b := run(5, 3), run(1000, 1)
			if d := maxRelDiff(toRows(a), b); d > 1e-10 {
				t.Errorf("L %d sizes %v: blocked and whole differ by %g", L, sizes[:L], d)
			}
		}
	}
}

// TestUnitNormMatchesNaive checks the UnitNorm update of W1 (each beta,
// L = 1..3, H free or frozen, with an L1 penalty) against naiveIterate:
// W1 itself (its scale stays out of the model) and the reconstruction
// after one iteration, and W1's columns at unit norm after several.
func TestUnitNormMatchesNaive(t *testing.T) {
	for _, beta := range []float64{0.5, 1, 2} {
		for L := 1; L <= 3; L++ {
			for _, fr := range []Freeze{{}, {H: true}} {
				X := randDense[float64](9, 11, 0.05, 5)
				X.Set(2, 3, 0)
				f := &Factorization[float64]{}
				rows := 9
				for l, k := range []int{5, 4, 3}[:L] {
					f.Layers = append(f.Layers, randDense[float64](rows, k, 0.1, uint64(20+l)))
					rows = k
				}
				f.H = randDense[float64](rows, 11, 0.1, 30)
				F := [][][]float64{}
				for _, w := range f.Layers {
					F = append(F, toRows(w))
				}
				F = append(F, toRows(f.H))
				// The solver starts by scaling W1 to unit columns, the
				// scale going into the next factor unless that is a
				// frozen H.
				norms := naiveUnitColumns(F[0])
				if !(fr.H && L == 1) {
					for k := range F[1] {
						for j := range F[1][k] {
							F[1][k][j] *= norms[k]
						}
					}
				}
				s := Settings{Divergence: BetaDivergence, Beta: beta, MaxIter: 1, Tol: -1, L1: 0.3, UnitNorm: true}
				if _, err := Update(X, f, fr, s); err != nil {
					t.Fatal(err)
				}
				naiveIterate(toRows(X), F, beta, 0.3, DefaultEpsilon, fr.Layers, fr.H, true)
				if d := maxRelDiff(F[0], f.Layers[0]); d > 1e-10 {
					t.Errorf("beta %g L %d freeze %+v: W1 differs from the naive update by %g", beta, L, fr, d)
				}
				if d := maxRelDiff(naiveChain(F), f.Reconstruct(nil)); d > 1e-10 {
					t.Errorf("beta %g L %d freeze %+v: reconstruction differs from the naive update by %g", beta, L, fr, d)
				}
				s.MaxIter = 20
				if _, err := Update(X, f, fr, s); err != nil {
					t.Fatal(err)
				}
				for k, n := range naiveUnitColumns(toRows(f.Layers[0])) {
					if math.Abs(n-1) > 1e-12 {
						t.Errorf("beta %g L %d freeze %+v: column %d of W1 has norm %v", beta, L, fr, k, n)
					}
				}
			}
		}
	}
}
