package gobackend

import "golang.org/x/sys/cpu"

// The AVX2 loops of fuse_amd64.s: o[i] = a[i] op b[i] (vv), a[i] op y (vs)
// and x op b[i] (sv) for i < n - n%8 (the caller does the tail). One
// VADDPS/VSUBPS/VMULPS/VDIVPS per 8 elements: the same IEEE float32
// operation as Go's scalar code, so the results are bit-identical.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func vvAddAVX2(o, a, b *float32, n int)

//go:noescape
func vvSubAVX2(o, a, b *float32, n int)

//go:noescape
func vvMulAVX2(o, a, b *float32, n int)

//go:noescape
func vvDivAVX2(o, a, b *float32, n int)

//go:noescape
func vsAddAVX2(o, a *float32, y float32, n int)

//go:noescape
func vsSubAVX2(o, a *float32, y float32, n int)

//go:noescape
func vsMulAVX2(o, a *float32, y float32, n int)

//go:noescape
func vsDivAVX2(o, a *float32, y float32, n int)

//go:noescape
func svAddAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func svSubAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func svMulAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func svDivAVX2(o *float32, x float32, b *float32, n int)

// simdBinary runs op on the first len(o) - len(o)%8 elements with AVX2 when
// the CPU has it and returns how many it did (0: none, op not vectorized).
// sa, sb are 1 for a vector operand, 0 for a scalar (a[0] or b[0]).
func simdBinary(op fop, o, a, b []float32, sa, sb int) int {
	n := len(o) &^ 7
	if !hasAVX2 || n == 0 || (sa == 0 && sb == 0) {
		return 0
	}
	switch {
	case sa == 1 && sb == 1:
		_, _ = a[n-1], b[n-1]
		switch op {
		case opAdd:
			vvAddAVX2(&o[0], &a[0], &b[0], n)
		case opSub:
			vvSubAVX2(&o[0], &a[0], &b[0], n)
		case opMul:
			vvMulAVX2(&o[0], &a[0], &b[0], n)
		case opDiv:
			vvDivAVX2(&o[0], &a[0], &b[0], n)
		default:
			return 0
		}
	case sa == 1:
		_ = a[n-1]
		switch op {
		case opAdd:
			vsAddAVX2(&o[0], &a[0], b[0], n)
		case opSub:
			vsSubAVX2(&o[0], &a[0], b[0], n)
		case opMul:
			vsMulAVX2(&o[0], &a[0], b[0], n)
		case opDiv:
			vsDivAVX2(&o[0], &a[0], b[0], n)
		default:
			return 0
		}
	default:
		_ = b[n-1]
		switch op {
		case opAdd:
			svAddAVX2(&o[0], a[0], &b[0], n)
		case opSub:
			svSubAVX2(&o[0], a[0], &b[0], n)
		case opMul:
			svMulAVX2(&o[0], a[0], &b[0], n)
		case opDiv:
			svDivAVX2(&o[0], a[0], &b[0], n)
		default:
			return 0
		}
	}
	return n
}
