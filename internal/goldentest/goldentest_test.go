package goldentest

import (
	"math"
	"testing"
)

func TestMaxAbsDiff(t *testing.T) {
	if d := MaxAbsDiff([]float32{1, 2.5}, []float64{1, 2}); d != 0.5 {
		t.Errorf("MaxAbsDiff = %g, want 0.5", d)
	}
	if d := MaxAbsDiff([]float32{float32(math.NaN()), 1}, []float64{0, 1}); !math.IsInf(d, 1) {
		t.Errorf("a NaN output gives %g, want +Inf", d)
	}
	if d := MaxAbsDiff([]float32{1}, []float64{1, 2}); !math.IsInf(d, 1) {
		t.Errorf("a short output gives %g, want +Inf", d)
	}
	if got := Flatten3([][][]float64{{{1, 2}, {3}}, {{4}}}); len(got) != 4 || got[3] != 4 {
		t.Errorf("Flatten3 = %v", got)
	}
	if got := Flatten2([][]float64{{1}, {2, 3}}); len(got) != 3 || got[2] != 3 {
		t.Errorf("Flatten2 = %v", got)
	}
}
