package gobackend

import (
	"math"
	"sync"
)

// erfConsts are the constants of math.Erf's two first ranges (the same
// literals as $GOROOT/src/math/erf.go), each repeated in four lanes for
// erfAVX2, then erx, 1, 2^-28, 0.84375, 1.25 and the |x| mask.
const erfConsts = 29

var erfTable = func() (t [erfConsts][4]float64) {
	vals := [...]float64{
		1.28379167095512558561e-01,  // pp0
		-3.25042107247001499370e-01, // pp1
		-2.84817495755985104766e-02, // pp2
		-5.77027029648944159157e-03, // pp3
		-2.37630166566501626084e-05, // pp4
		3.97917223959155352819e-01,  // qq1
		6.50222499887672944485e-02,  // qq2
		5.08130628187576562776e-03,  // qq3
		1.32494738004321644526e-04,  // qq4
		-3.96022827877536812320e-06, // qq5
		-2.36211856075265944077e-03, // pa0
		4.14856118683748331666e-01,  // pa1
		-3.72207876035701323847e-01, // pa2
		3.18346619901161753674e-01,  // pa3
		-1.10894694282396677476e-01, // pa4
		3.54783043256182359371e-02,  // pa5
		-2.16637559486879084300e-03, // pa6
		1.06420880400844228286e-01,  // qa1
		5.40397917702171048937e-01,  // qa2
		7.18286544141962662868e-02,  // qa3
		1.26171219808761642112e-01,  // qa4
		1.36370839120290507362e-02,  // qa5
		1.19844998467991074170e-02,  // qa6
		8.45062911510467529297e-01,  // erx
		1,
		1.0 / (1 << 28),
		0.84375,
		1.25,
		math.Float64frombits(0x7fffffffffffffff),
	}
	for i, v := range vals {
		t[i] = [4]float64{v, v, v, v}
	}
	return t
}()

// erfTails are the scratch queues of erfLoop.
var erfTails = sync.Pool{New: func() any { return new(erfTail) }}

//go:noescape
func erfAVX2(o, a *float32, n int, bad *uint8, c *[erfConsts][4]float64)

// erfLoop computes o[i] = float32(math.Erf(float64(a[i]))), four at a time
// with AVX2 where math.Erf's own polynomial applies (bit-identical: the same
// float64 operations in the same order; Go does not contract them into FMAs
// on amd64), math.Erf itself for the other elements. o may be a.
func erfLoop(o, a []float32) {
	a = a[:len(o)]
	n := 0
	if hasAVX2 {
		var bad [fuseChunk / 4]uint8
		var tail *erfTail
		for n+4 <= len(o) {
			m := min(len(o)-n, fuseChunk) &^ 3
			erfAVX2(&o[n], &a[n], m, &bad[0], &erfTable)
			forBadLanes(bad[:m/4], 4, func(l int) {
				i := n + l
				x := float64(o[i]) // o[i] holds a[i]
				if ax := math.Abs(x); hasExpAVX2 && ax >= 1.25 && ax < 6 {
					if tail == nil {
						tail = erfTails.Get().(*erfTail)
					}
					tail.add(i, x)
				} else {
					o[i] = float32(math.Erf(x))
				}
			})
			if tail != nil {
				tail.flush(o)
			}
			n += m
		}
		if tail != nil {
			erfTails.Put(tail)
		}
	}
	for i := n; i < len(o); i++ {
		o[i] = float32(math.Erf(float64(a[i])))
	}
}
