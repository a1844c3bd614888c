// Package goldentest holds what the golden tests of every backbone family
// share: comparing a Go output with the values a PyTorch reference wrote into
// a golden JSON file.
package goldentest

import "math"

// MaxAbsDiff is the largest |got[i] - want[i]|. A length mismatch or a NaN on
// either side gives +Inf, so a broken output can never pass a tolerance check
// (Go's max(x, NaN) is NaN, and NaN > tol is false).
func MaxAbsDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// Flatten3 flattens a [B][T][d] array row-major, as the graph's output is.
func Flatten3(x [][][]float64) []float64 {
	var out []float64
	for _, a := range x {
		for _, b := range a {
			out = append(out, b...)
		}
	}
	return out
}

// Flatten2 flattens a [B][d] array row-major.
func Flatten2(x [][]float64) []float64 {
	var out []float64
	for _, a := range x {
		out = append(out, a...)
	}
	return out
}
