package metrics

import (
	"fmt"
	"math"
)

// Summary is a score over several runs (seeds).
type Summary struct {
	N    int
	Mean float64
	// Std is the sample standard deviation (divisor N-1), NaN when N < 2: one run
	// says nothing about the spread.
	Std float64
}

// Mean is the mean of xs (summed in order), NaN when xs is empty: "no value"
// for the plots and tables that show it, never a division by zero.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// RowMeans is the Mean of each row: a layer's mean gate over its prefix slots,
// NaN for a layer without a prefix (an empty or nil row).
func RowMeans(rows [][]float64) []float64 {
	out := make([]float64, len(rows))
	for i, row := range rows {
		out[i] = Mean(row)
	}
	return out
}

// Summarize returns the mean and the sample standard deviation of xs. Empty xs
// gives N = 0 and NaN for both.
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs), Mean: Mean(xs), Std: math.NaN()}
	if len(xs) < 2 {
		return s
	}
	ss := 0.0
	for _, x := range xs {
		d := x - s.Mean
		ss += d * d
	}
	s.Std = math.Sqrt(ss / float64(len(xs)-1))
	return s
}

// String formats the summary as percentages, e.g. "72.31 ± 1.20 (n=5)".
func (s Summary) String() string {
	if s.N == 0 {
		return "no runs"
	}
	if s.N < 2 {
		return fmt.Sprintf("%.2f (n=1)", 100*s.Mean)
	}
	return fmt.Sprintf("%.2f ± %.2f (n=%d)", 100*s.Mean, 100*s.Std, s.N)
}
