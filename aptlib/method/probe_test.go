package method_test

import (
	"math"
	"slices"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
)

func TestLayerScores(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name   string
		lambda []float64
		alpha  [][]float64
		want   []float64
	}{
		{
			// APT [2, 0, 3]: 1.5 * (0.2+0.6)/2 = 0.6; no prefix; |-0.5| * (0.1+0.2+0.9)/3 = 0.2.
			name:   "apt",
			lambda: []float64{1.5, nan, -0.5},
			alpha:  [][]float64{{0.2, 0.6}, nil, {0.1, 0.2, 0.9}},
			want:   []float64{0.6, nan, 0.2},
		},
		{
			name:   "no token gate: |lambda|",
			lambda: []float64{0.8, 1.25, nan},
			alpha:  nil,
			want:   []float64{0.8, 1.25, nan},
		},
		{
			name:   "no layer gate: mean alpha",
			lambda: []float64{nan, nan},
			alpha:  [][]float64{{0.5, 0.25, 0.75, 0.5}, {}},
			want:   []float64{0.5, nan},
		},
		{
			name:   "alpha longer than lambda",
			lambda: nil,
			alpha:  [][]float64{nil, {1, 0}},
			want:   []float64{nan, 0.5},
		},
	}
	for _, c := range cases {
		got := method.LayerScores(c.lambda, c.alpha)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d scores, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			if math.IsNaN(c.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-c.want[i]) > 1e-15) {
				t.Errorf("%s: score[%d] = %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
	}
}

func TestProbeLengths(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name           string
		scores         []float64
		budget, minLen int
		want           []int
	}{
		// k = 3 scored layers, R = 10 - 3 = 7, S = 1.8; quotas 3.5, 1.1667, 2.3333;
		// integer parts 3+1+2 = 6; the last slot to the largest fraction (.5, layer 0).
		{"doc example", []float64{0.9, nan, 0.3, 0.6}, 10, 1, []int{5, 0, 2, 3}},
		// Same without a minimum: quotas 5, 1.667, 3.333 -> 5, 1, 3 + 1 slot to .667 (layer 2).
		{"no minimum", []float64{0.9, nan, 0.3, 0.6}, 10, 0, []int{5, 0, 2, 3}},
		// Equal scores: quotas 2.667 each, 2+2+2 = 6, 2 slots left, equal fractions and
		// scores -> lower layers first.
		{"ties by layer", []float64{1, 1, 1}, 8, 0, []int{3, 3, 2}},
		// Scores 2, 1, 1 with R = 2: quotas 1, .5, .5; one slot left, layers 1 and 2 tie
		// on fraction and score -> layer 1.
		{"half tie", []float64{2, 1, 1}, 2, 0, []int{1, 1, 0}},
		// scores [1, 3, 4], R = 4: quotas 0.5, 1.5, 2 -> 0, 1, 2 (+1 left); fractions .5, .5
		// tie -> the larger score (layer 1).
		{"tie by score", []float64{1, 3, 4}, 4, 0, []int{0, 2, 2}},
		// A closed gate (0), a negative score, an infinite one and NaN get nothing.
		{"unusable scores", []float64{0, 2, -1, math.Inf(1), nan, 6}, 8, 0, []int{0, 2, 0, 0, 0, 6}},
		// The minimum takes the whole budget.
		{"minimum only", []float64{0.1, 5, nan}, 4, 2, []int{2, 2, 0}},
		{"zero budget", []float64{1, 2}, 0, 3, []int{0, 0}},
		// Bert-base scale: 12 layers, the budget of p = 16 everywhere (192 slots).
		{"bert-base budget", []float64{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2}, 192, 1, []int{11, 11, 11, 11, 11, 11, 21, 21, 21, 21, 21, 21}},
	}
	for _, c := range cases {
		got := method.ProbeLengths(c.scores, c.budget, c.minLen)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: ProbeLengths(%v, %d, %d) = %v, want %v", c.name, c.scores, c.budget, c.minLen, got, c.want)
		}
		sum := 0
		for _, p := range got {
			sum += p
		}
		if sum != c.budget {
			t.Errorf("%s: lengths %v sum to %d, want the budget %d", c.name, got, sum, c.budget)
		}
		// Deterministic: the same call gives the same answer.
		if again := method.ProbeLengths(c.scores, c.budget, c.minLen); !slices.Equal(again, got) {
			t.Errorf("%s: second call gave %v, first %v", c.name, again, got)
		}
	}
}

// TestProbeLengthsSums: for many score vectors and budgets the lengths sum exactly to
// the budget, respect the minimum, and are monotone in the score.
func TestProbeLengthsSums(t *testing.T) {
	scores := []float64{0.013, 0.7, 0.21, math.NaN(), 0.3333333, 0.99, 0.5, 0.5}
	for budget := 7; budget <= 300; budget += 7 {
		for _, minLen := range []int{0, 1} {
			got := method.ProbeLengths(scores, budget, minLen)
			sum := 0
			for i, p := range got {
				sum += p
				if math.IsNaN(scores[i]) && p != 0 {
					t.Errorf("budget %d: layer %d without score got %d", budget, i, p)
				}
				if !math.IsNaN(scores[i]) && p < minLen {
					t.Errorf("budget %d: layer %d got %d < minLen %d", budget, i, p, minLen)
				}
				for j := range got {
					if scores[i] > scores[j] && got[i] < got[j] {
						t.Errorf("budget %d: layer %d (score %v) got %d < layer %d (score %v) %d", budget, i, scores[i], p, j, scores[j], got[j])
					}
				}
			}
			if sum != budget {
				t.Errorf("budget %d minLen %d: %v sums to %d", budget, minLen, got, sum)
			}
		}
	}
}

func TestProbeLengthsPanics(t *testing.T) {
	for _, c := range []struct {
		scores         []float64
		budget, minLen int
	}{
		{[]float64{1, 2}, -1, 0},
		{[]float64{1, 2}, 3, 2},          // 2 layers x 2 > 3
		{[]float64{math.NaN(), 0}, 5, 0}, // nowhere to put the budget
		{[]float64{1}, 3, -1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ProbeLengths(%v, %d, %d) did not panic", c.scores, c.budget, c.minLen)
				}
			}()
			method.ProbeLengths(c.scores, c.budget, c.minLen)
		}()
	}
}

func TestMatchParameters(t *testing.T) {
	cases := []struct {
		name     string
		apt      method.Config
		d        int
		wantP    int
		wantDiff int // PT-2+ minus APT parameters
	}{
		// bert-base: APT 12 x 16 = 294,912 + 147,660 = 442,572 parameters;
		// 442,572 = 24 * 18,432 + 204, 204 < 9,216 -> p = 24, 442,368, 204 fewer.
		{"bert-base", method.Default(method.APT, 12), 768, 24, -204},
		// tiny APT [4, 0, 2], d = 32: prefixes 2*6*32 = 384, gates 32*6 + 6 = 198,
		// lambdas 2: 584; unit 2*3*32 = 192; 584 = 3*192 + 8 -> p = 3, 576, 8 fewer.
		{"tiny unequal", method.Config{Kind: method.APT, PrefixLens: []int{4, 0, 2}, GatePooling: method.PoolMean}, 32, 3, -8},
		// An exact half rounds up: APT [3], d = 2: 2*3*2 + (2*3+3) + 1 = 22; unit 4;
		// 22 / 4 = 5.5 -> p = 6, 24 parameters, 2 more.
		{"half rounds up", method.Config{Kind: method.APT, PrefixLens: []int{3}, GatePooling: method.PoolMean}, 2, 6, 2},
		// Rounds up above the half: apt_no_layer_gate [1, 0], d = 4: 8 + 5 = 13;
		// unit 16; 13 > 8 -> p = 1, 16, 3 more.
		{"rounds up", method.Config{Kind: method.APTNoLayerGate, PrefixLens: []int{1, 0}, GatePooling: method.PoolMean}, 4, 1, 3},
		// PT-2 matches itself.
		{"pt2 itself", method.Config{Kind: method.PT2, PrefixLens: method.Uniform(4, 5), GatePooling: method.PoolMean}, 16, 5, 0},
	}
	for _, c := range cases {
		got := method.MatchParameters(c.apt, c.d)
		if got.Kind != method.PT2 {
			t.Errorf("%s: kind %s, want pt2", c.name, got.Kind)
		}
		if !slices.Equal(got.PrefixLens, method.Uniform(len(c.apt.PrefixLens), c.wantP)) {
			t.Errorf("%s: lengths %v, want %d in each of %d layers", c.name, got.PrefixLens, c.wantP, len(c.apt.PrefixLens))
		}
		if diff := got.NumTrainable(c.d) - c.apt.NumTrainable(c.d); diff != c.wantDiff {
			t.Errorf("%s: PT-2+ has %d parameters, APT %d: difference %d, want %d",
				c.name, got.NumTrainable(c.d), c.apt.NumTrainable(c.d), diff, c.wantDiff)
		}
		if diff := got.NumTrainable(c.d) - c.apt.NumTrainable(c.d); abs(diff) > len(c.apt.PrefixLens)*c.d {
			t.Errorf("%s: difference %d exceeds L*d = %d", c.name, diff, len(c.apt.PrefixLens)*c.d)
		}
		if err := got.Validate(len(c.apt.PrefixLens)); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got.PrefixDropout != c.apt.PrefixDropout || got.InitStd != c.apt.InitStd {
			t.Errorf("%s: settings not copied: %+v from %+v", c.name, got, c.apt)
		}
	}
	// The input is not modified (PrefixLens is a new slice).
	apt := method.Config{Kind: method.APT, PrefixLens: []int{4, 0, 2}, GatePooling: method.PoolMean}
	method.MatchParameters(apt, 32)
	if !slices.Equal(apt.PrefixLens, []int{4, 0, 2}) || apt.Kind != method.APT {
		t.Errorf("MatchParameters changed its argument: %+v", apt)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MatchParameters of a prompt-tuning config did not panic")
			}
		}()
		method.MatchParameters(method.Default(method.PT, 12), 768)
	}()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestPT2StarFromGates: the whole PT-2* path on hand numbers: gates of a 4-layer APT
// (layer 1 without prefix) -> scores -> lengths for the budget of the APT's slots.
func TestPT2StarFromGates(t *testing.T) {
	nan := math.NaN()
	lambda := []float64{1.2, nan, 0.4, 2.0}
	alpha := [][]float64{{0.5, 0.5}, nil, {1.0, 0.5, 0.0}, {0.25}}
	scores := method.LayerScores(lambda, alpha) // 0.6, NaN, 0.2, 0.5
	// budget 2+3+1 = 6, minLen 1: R = 3, S = 1.3; quotas 1.385, 0.4615, 1.154 ->
	// 1, 0, 1 (+1 to the largest fraction .4615, layer 2) -> [2, 0, 2, 2].
	got := method.ProbeLengths(scores, 6, 1)
	if want := []int{2, 0, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("PT-2* lengths %v (scores %v), want %v", got, scores, want)
	}
}
