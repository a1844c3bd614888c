package gobackend

import (
	"math"
	"math/rand"
	"testing"
)

// TestErfLoop: erfLoop is float32(math.Erf(float64(x))) bit for bit, on
// random values of every magnitude, both range boundaries, special values,
// odd lengths and in place.
func TestErfLoop(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	var xs []float32
	for _, b := range []float32{0.84375, 1.25, 1.0 / (1 << 28), 6} {
		for d := -8; d <= 8; d++ {
			v := math.Float32frombits(uint32(int32(math.Float32bits(b)) + int32(d)))
			xs = append(xs, v, -v)
		}
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), 1e-40, -1e-45, 3e38)
	for len(xs) < 3_000_003 {
		switch rng.Intn(3) {
		case 0:
			xs = append(xs, float32(rng.NormFloat64()))
		case 1:
			xs = append(xs, float32((rng.Float64()*2-1)*1.3))
		default:
			xs = append(xs, math.Float32frombits(rng.Uint32()))
		}
	}
	check := func(got []float32) {
		t.Helper()
		for i, x := range xs {
			want := float32(math.Erf(float64(x)))
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
				t.Fatalf("erf(%v) = %v, math.Erf %v", x, got[i], want)
			}
		}
	}
	o := make([]float32, len(xs))
	erfLoop(o, xs)
	check(o)
	in := append([]float32(nil), xs...)
	for lo := 0; lo < len(in); lo += 1023 { // in place, odd lengths
		erfLoop(in[lo:min(lo+1023, len(in))], in[lo:min(lo+1023, len(in))])
	}
	check(in)
}
