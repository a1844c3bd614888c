//go:build !amd64

package gobackend

import "math"

// simdBinary: no vector loops on this architecture (the Go loops do it all).
func simdBinary(op fop, o, a, b []float32, sa, sb int) int { return 0 }

// erfLoop computes o[i] = float32(math.Erf(float64(a[i]))).
func erfLoop(o, a []float32) {
	a = a[:len(o)]
	for i, x := range a {
		o[i] = float32(math.Erf(float64(x)))
	}
}

// expLoop computes o[i] = float32(math.Exp(float64(a[i]))).
func expLoop(o, a []float32) {
	a = a[:len(o)]
	for i, x := range a {
		o[i] = float32(math.Exp(float64(x)))
	}
}

func simdSelect(o []float32, m, a, b fslot) int             { return 0 }
func simdCompare(op fop, o, a, b []float32, sa, sb int) int { return 0 }
func simdConvert(r []float32, f any) int                    { return 0 }

// rowSums8: no vector loop on this architecture.
func rowSums8(o, x []float32, stride, n int) bool { return false }
