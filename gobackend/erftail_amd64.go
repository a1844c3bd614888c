package gobackend

import "math"

// erfTailConsts are the constants of math.Erf's range 1.25 <= |x| < 6 (the
// same literals as $GOROOT/src/math/erf.go), each in four lanes for
// erfTailAVX2: the mask that keeps the high 32 bits, 0.5625, 1, 1/0.35,
// ra0..ra7, sa1..sa8, rb0..rb6, sb1..sb7, and the sign bit.
const erfTailConsts = 35

var erfTailTable = func() (t [erfTailConsts][4]float64) {
	vals := [...]float64{
		math.Float64frombits(0xffffffff00000000),
		0.5625,
		1,
		1 / 0.35,
		-9.86494403484714822705e-03, // ra0
		-6.93858572707181764372e-01, // ra1
		-1.05586262253232909814e+01, // ra2
		-6.23753324503260060396e+01, // ra3
		-1.62396669462573470355e+02, // ra4
		-1.84605092906711035994e+02, // ra5
		-8.12874355063065934246e+01, // ra6
		-9.81432934416914548592e+00, // ra7
		1.96512716674392571292e+01,  // sa1
		1.37657754143519042600e+02,  // sa2
		4.34565877475229228821e+02,  // sa3
		6.45387271733267880336e+02,  // sa4
		4.29008140027567833386e+02,  // sa5
		1.08635005541779435134e+02,  // sa6
		6.57024977031928170135e+00,  // sa7
		-6.04244152148580987438e-02, // sa8
		-9.86494292470009928597e-03, // rb0
		-7.99283237680523006574e-01, // rb1
		-1.77579549177547519889e+01, // rb2
		-1.60636384855821916062e+02, // rb3
		-6.37566443368389627722e+02, // rb4
		-1.02509513161107724954e+03, // rb5
		-4.83519191608651397019e+02, // rb6
		3.03380607434824582924e+01,  // sb1
		3.25792512996573918826e+02,  // sb2
		1.53672958608443695994e+03,  // sb3
		3.19985821950859553908e+03,  // sb4
		2.55305040643316442583e+03,  // sb5
		4.74528541206955367215e+02,  // sb6
		-2.24409524465858183362e+01, // sb7
		math.Float64frombits(1 << 63),
	}
	for i, v := range vals {
		t[i] = [4]float64{v, v, v, v}
	}
	return t
}()

//go:noescape
func erfTailAVX2(o, x *float64, n int, c *[erfTailConsts][4]float64, e *[expConsts][4]float64)

// erfTail holds the lanes of a chunk that erfAVX2 left to the caller and
// that fall in math.Erf's range 1.25 <= |x| < 6 (|x| and the index).
type erfTail struct {
	x, r [fuseChunk]float64
	idx  [fuseChunk]int32
	neg  [fuseChunk]bool
	n    int
}

// add queues lane i of value x (1.25 <= |x| < 6).
func (t *erfTail) add(i int, x float64) {
	t.idx[t.n], t.neg[t.n], t.x[t.n] = int32(i), x < 0, math.Abs(x)
	t.n++
}

// flush computes the queued lanes four at a time (padded with 2) and writes
// float32 of math.Erf into o.
func (t *erfTail) flush(o []float32) {
	if t.n == 0 {
		return
	}
	m := (t.n + 3) &^ 3
	for k := t.n; k < m; k++ {
		t.x[k] = 2
	}
	erfTailAVX2(&t.r[0], &t.x[0], m, &erfTailTable, &expTable)
	for k := range t.n {
		r := t.r[k]
		if t.neg[k] {
			r = -r // r/x - 1 == -(1 - r/x) exactly
		}
		o[t.idx[k]] = float32(r)
	}
	t.n = 0
}
