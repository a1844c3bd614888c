package gobackend

import (
	"math"
	"math/rand"
	"testing"
)

// TestErfLoop: erfLoop is float32(math.Erf(float64(x))) bit for bit (on the
// range boundaries too).
func TestErfLoop(t *testing.T) {
	testLoop(t, erfLoop, math.Erf, []float32{0.84375, 1.25, 1.0 / (1 << 28), 6}, 1.3)
}

// TestErfLoopTail: the range 1.25 <= |x| < 6 (erfTailAVX2), uniform over
// [-7, 7], with its boundaries (1/0.35 switches the rational, 6 ends it).
func TestErfLoopTail(t *testing.T) {
	testLoop(t, erfLoop, math.Erf, []float32{1.25, 1 / 0.35, 6, 2, 5.9}, 7)
}

// TestExpLoop: expLoop is float32(math.Exp(float64(x))) bit for bit.
func TestExpLoop(t *testing.T) {
	testLoop(t, expLoop, math.Exp, []float32{-103, 88, -87.5, 0.5, 1, -1, 1e-8}, 30)
}

// testLoop checks loop against float32(ref(float64(x))) on random values
// (normal, uniform in [-span, span], any bits), the edges +-8 ulps, special
// values, and in place on odd lengths.
func testLoop(t *testing.T, loop func(o, a []float32), ref func(float64) float64, edges []float32, span float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(32))
	var xs []float32
	for _, b := range edges {
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
			xs = append(xs, float32((rng.Float64()*2-1)*span))
		default:
			xs = append(xs, math.Float32frombits(rng.Uint32()))
		}
	}
	check := func(got []float32) {
		t.Helper()
		for i, x := range xs {
			want := float32(ref(float64(x)))
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
				t.Fatalf("f(%v) = %v, want %v", x, got[i], want)
			}
		}
	}
	o := make([]float32, len(xs))
	loop(o, xs)
	check(o)
	in := append([]float32(nil), xs...)
	for lo := 0; lo < len(in); lo += 1023 { // in place, odd lengths
		loop(in[lo:min(lo+1023, len(in))], in[lo:min(lo+1023, len(in))])
	}
	check(in)
}

// BenchmarkErfLoop and BenchmarkExpLoop: one chunk of GELU-like inputs
// (erf of x/sqrt2 for x ~ N(0, 1), about 8% of them in the tail range; exp
// of -x^2/2).
func BenchmarkErfLoop(b *testing.B) {
	benchLoop(b, erfLoop, func(rng *rand.Rand) float64 { return rng.NormFloat64() / math.Sqrt2 })
}

func BenchmarkExpLoop(b *testing.B) {
	benchLoop(b, expLoop, func(rng *rand.Rand) float64 { x := rng.NormFloat64(); return -x * x / 2 })
}

func benchLoop(b *testing.B, loop func(o, a []float32), draw func(*rand.Rand) float64) {
	rng := rand.New(rand.NewSource(1))
	a := make([]float32, fuseChunk)
	for i := range a {
		a[i] = float32(draw(rng))
	}
	o := make([]float32, fuseChunk)
	b.SetBytes(int64(4 * len(a)))
	for b.Loop() {
		loop(o, a)
	}
}
