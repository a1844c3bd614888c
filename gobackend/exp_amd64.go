package gobackend

import (
	"math"
	"math/bits"

	"golang.org/x/sys/cpu"
)

// expConsts are the constants of math.Exp's amd64 assembly (the same
// literals as $GOROOT/src/math/exp_amd64.s), each in four lanes for expAVX2:
// log2e, ln2u, ln2l, 1/16, the Taylor coefficients (1/8! ... 1/3!, 1/2, 1),
// 2, the exponent bias (as an int64), then -103 and 88 (the lanes done here).
const expConsts = 16

var expTable = func() (t [expConsts][4]float64) {
	vals := [...]float64{
		1.4426950408889634073599246810018920,                  // LOG2E
		0.69314718055966295651160180568695068359375,           // LN2U
		0.28235290563031577122588448175013436025525412068e-12, // LN2L
		0.0625,
		2.4801587301587301587e-5,
		1.9841269841269841270e-4,
		1.3888888888888888889e-3,
		8.3333333333333333333e-3,
		4.1666666666666666667e-2,
		1.6666666666666666667e-1,
		0.5,
		1.0,
		2.0,
		math.Float64frombits(1023),
		-103,
		88,
	}
	for i, v := range vals {
		t[i] = [4]float64{v, v, v, v}
	}
	return t
}()

// expTable512 is expTable in eight lanes, for expAVX512.
var expTable512 = func() (t [expConsts][8]float64) {
	for i, v := range expTable {
		for l := range t[i] {
			t[i][l] = v[0]
		}
	}
	return t
}()

// hasExpAVX512: expAVX512 runs (AVX-512 F, with math.Exp's FMA path).
var hasExpAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX && cpu.X86.HasFMA

//go:noescape
func expAVX512(o, a *float32, n int, bad *uint8, c *[expConsts][8]float64)

// hasExpAVX2: math.Exp takes its FMA path (internal/cpu: AVX and FMA), which
// expAVX2 reproduces.
var hasExpAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func expAVX2(o, a *float32, n int, bad *uint8, c *[expConsts][4]float64)

// expLoop computes o[i] = float32(math.Exp(float64(a[i]))), eight at a time
// with AVX-512 or four with AVX2+FMA where math.Exp's normal path applies
// (bit-identical: see expAVX2), math.Exp itself for the other elements. o may
// be a.
func expLoop(o, a []float32) {
	a = a[:len(o)]
	n := 0
	if hasExpAVX2 {
		var bad [fuseChunk / 4]uint8
		for n+4 <= len(o) {
			m := min(len(o)-n, fuseChunk) &^ 3
			lanes := 4 // per bad byte
			if m8 := m &^ 7; hasExpAVX512 && m8 > 0 {
				lanes, m = 8, m8
				expAVX512(&o[n], &a[n], m, &bad[0], &expTable512)
			} else {
				expAVX2(&o[n], &a[n], m, &bad[0], &expTable)
			}
			forBadLanes(bad[:m/lanes], lanes, func(l int) {
				o[n+l] = float32(math.Exp(float64(o[n+l]))) // o[i] holds a[i]
			})
			n += m
		}
	}
	for i := n; i < len(o); i++ {
		o[i] = float32(math.Exp(float64(a[i])))
	}
}

// forBadLanes calls f(l) for every lane l whose bit a vector kernel set in
// bad (lanes lanes per byte, lane l's bit in byte l/lanes).
func forBadLanes(bad []uint8, lanes int, f func(l int)) {
	for g, b := range bad {
		for ; b != 0; b &= b - 1 {
			f(lanes*g + bits.TrailingZeros8(b))
		}
	}
}
