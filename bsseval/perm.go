package bsseval

import "math"

// bestAssignment returns perm, perm[j] = the estimate assigned to reference
// j, maximising the mean of score[perm[j]][j] (score is indexed
// [estimate][reference]), with ties going to the lexicographically first
// permutation, the one mir_eval's argmax over itertools.permutations picks.
//
// The optimum is found with the Hungarian algorithm in O(n^3), and the
// lexicographic tie-break costs O(n^2) more assignments, so the search grows
// polynomially, not as n!.
//
// Non-finite scores follow numpy's mean: a permutation using a +Inf score
// has mean +Inf, and all such permutations tie. -Inf is treated as a very
// low score (numpy would give NaN for +Inf plus -Inf; such matrices need
// exactly silent projections and are not reproduced).
func bestAssignment(score [][]float64) []int {
	n := len(score)
	hasInf := false
	for _, row := range score {
		for _, v := range row {
			if math.IsInf(v, 1) {
				hasInf = true
			}
		}
	}
	if hasInf {
		return firstWithInf(score)
	}
	// w[j][k]: weight of assigning estimate k to reference j.
	w := make([][]float64, n)
	for j := range w {
		w[j] = make([]float64, n)
		for k := range w[j] {
			v := score[k][j]
			if math.IsInf(v, -1) || math.IsNaN(v) {
				v = -1e300 / float64(n)
			}
			w[j][k] = v
		}
	}
	best := maxAssignment(w, nil)
	tol := 1e-12 * (1 + math.Abs(best))
	perm := make([]int, n)
	used := make([]bool, n)
	fixed := 0.0
	for j := 0; j < n; j++ {
		for k := 0; k < n; k++ {
			if used[k] {
				continue
			}
			used[k] = true
			perm[j] = k
			// Best completion of references j+1.. with the unused estimates.
			rest := maxAssignmentSub(w, j+1, used)
			if fixed+w[j][k]+rest >= best-tol {
				fixed += w[j][k]
				break
			}
			used[k] = false
		}
	}
	return perm
}

// firstWithInf returns the lexicographically first permutation that uses at
// least one +Inf score.
func firstWithInf(score [][]float64) []int {
	n := len(score)
	perm := make([]int, n)
	used := make([]bool, n)
	have := false
	for j := 0; j < n; j++ {
		for k := 0; k < n; k++ {
			if used[k] {
				continue
			}
			ok := have || math.IsInf(score[k][j], 1)
			// Otherwise a later reference must still be able to take a +Inf.
			for jj := j + 1; jj < n && !ok; jj++ {
				for kk := 0; kk < n; kk++ {
					if !used[kk] && kk != k && math.IsInf(score[kk][jj], 1) {
						ok = true
						break
					}
				}
			}
			if ok {
				have = have || math.IsInf(score[k][j], 1)
				used[k] = true
				perm[j] = k
				break
			}
		}
	}
	return perm
}

// maxAssignmentSub returns the best total weight assigning rows from..n-1
// of w to the columns not marked used.
func maxAssignmentSub(w [][]float64, from int, used []bool) float64 {
	var cols []int
	for k, u := range used {
		if !u {
			cols = append(cols, k)
		}
	}
	m := len(w) - from
	if m == 0 {
		return 0
	}
	sub := make([][]float64, m)
	for r := range sub {
		sub[r] = make([]float64, m)
		for c, k := range cols {
			sub[r][c] = w[from+r][k]
		}
	}
	return maxAssignment(sub, nil)
}

// maxAssignment returns the largest total weight sum_j w[j][a[j]] over the
// assignments a of rows to columns of the square matrix w (Hungarian
// algorithm with potentials, O(n^3)); it stores the assignment in a when a
// is not nil.
func maxAssignment(w [][]float64, a []int) float64 {
	n := len(w)
	// Minimise the cost -w; 1-based arrays as in the classic formulation.
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	match := make([]int, n+1) // match[col] = row
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	usedCol := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		match[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			usedCol[j] = false
		}
		for {
			usedCol[j0] = true
			i0 := match[j0]
			delta := math.Inf(1)
			j1 := 0
			for j := 1; j <= n; j++ {
				if usedCol[j] {
					continue
				}
				cur := -w[i0-1][j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta = minv[j]
					j1 = j
				}
			}
			for j := 0; j <= n; j++ {
				if usedCol[j] {
					u[match[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if match[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			match[j0] = match[j1]
			j0 = j1
		}
	}
	total := 0.0
	for j := 1; j <= n; j++ {
		total += w[match[j]-1][j-1]
		if a != nil {
			a[match[j]-1] = j - 1
		}
	}
	return total
}
