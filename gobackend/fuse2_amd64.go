package gobackend

// The AVX2 loops of fuse2_amd64.s: Where (o = m != 0 ? a : b, the mask a
// 0/1 float32), the comparisons to a 0/1 mask (VCMPPS with the predicate of
// Go's operator: LT_OS, LE_OS, EQ_OQ, NEQ_UQ, so NaN compares as in Go), and
// the loads of int32, uint32 (hi*65536 + lo: one rounding of the exact value,
// as Go's conversion) and bool inputs as float32. Each does the first n
// elements, n a multiple of 8.

//go:noescape
func selVVAVX2(o, m, a, b *float32, n int)

//go:noescape
func selVSAVX2(o, m, a *float32, y float32, n int)

//go:noescape
func selSVAVX2(o, m *float32, x float32, b *float32, n int)

//go:noescape
func cmpLTVVAVX2(o, a, b *float32, n int)

//go:noescape
func cmpLTVSAVX2(o, a *float32, y float32, n int)

//go:noescape
func cmpLTSVAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func cmpLEVVAVX2(o, a, b *float32, n int)

//go:noescape
func cmpLEVSAVX2(o, a *float32, y float32, n int)

//go:noescape
func cmpLESVAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func cmpEQVVAVX2(o, a, b *float32, n int)

//go:noescape
func cmpEQVSAVX2(o, a *float32, y float32, n int)

//go:noescape
func cmpEQSVAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func cmpNEVVAVX2(o, a, b *float32, n int)

//go:noescape
func cmpNEVSAVX2(o, a *float32, y float32, n int)

//go:noescape
func cmpNESVAVX2(o *float32, x float32, b *float32, n int)

//go:noescape
func cvtU32AVX2(o *float32, a *uint32, n int)

//go:noescape
func cvtI32AVX2(o *float32, a *int32, n int)

//go:noescape
func cvtBoolAVX2(o *float32, a *bool, n int)

// simdSelect does the first len(o)&^7 elements of a Where with a vector mask
// and returns how many (0: none).
func simdSelect(o []float32, m, a, b fslot) int {
	n := len(o) &^ 7
	if !hasAVX2 || n == 0 || m.scalar || (a.scalar && b.scalar) {
		return 0
	}
	_ = m.v[n-1]
	switch {
	case !a.scalar && !b.scalar:
		_, _ = a.v[n-1], b.v[n-1]
		selVVAVX2(&o[0], &m.v[0], &a.v[0], &b.v[0], n)
	case !a.scalar:
		_ = a.v[n-1]
		selVSAVX2(&o[0], &m.v[0], &a.v[0], b.x, n)
	default:
		_ = b.v[n-1]
		selSVAVX2(&o[0], &m.v[0], a.x, &b.v[0], n)
	}
	return n
}

// simdCompare does the first len(o)&^7 elements of a comparison (sa, sb: 1
// for a vector operand, 0 for a scalar one) and returns how many.
func simdCompare(op fop, o, a, b []float32, sa, sb int) int {
	n := len(o) &^ 7
	if !hasAVX2 || n == 0 || (sa == 0 && sb == 0) {
		return 0
	}
	// a > b is b < a and a >= b is b <= a (both false on NaN, as in Go).
	swap := false
	switch op {
	case opGT:
		op, swap = opLT, true
	case opGE:
		op, swap = opLE, true
	case opLT, opLE, opEQ, opNE:
	default:
		return 0
	}
	if swap {
		a, b, sa, sb = b, a, sb, sa
	}
	type fns struct {
		vv func(o, a, b *float32, n int)
		vs func(o, a *float32, y float32, n int)
		sv func(o *float32, x float32, b *float32, n int)
	}
	var f fns
	switch op {
	case opLT:
		f = fns{cmpLTVVAVX2, cmpLTVSAVX2, cmpLTSVAVX2}
	case opLE:
		f = fns{cmpLEVVAVX2, cmpLEVSAVX2, cmpLESVAVX2}
	case opEQ:
		f = fns{cmpEQVVAVX2, cmpEQVSAVX2, cmpEQSVAVX2}
	default:
		f = fns{cmpNEVVAVX2, cmpNEVSAVX2, cmpNESVAVX2}
	}
	switch {
	case sa == 1 && sb == 1:
		_, _ = a[n-1], b[n-1]
		f.vv(&o[0], &a[0], &b[0], n)
	case sa == 1:
		_ = a[n-1]
		f.vs(&o[0], &a[0], b[0], n)
	default:
		_ = b[n-1]
		f.sv(&o[0], a[0], &b[0], n)
	}
	return n
}

// simdConvert loads the first len(r)&^7 elements of an int32, uint32 or
// bool input as float32 and returns how many.
func simdConvert(r []float32, f any) int {
	n := len(r) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	switch f := f.(type) {
	case []uint32:
		_ = f[n-1]
		cvtU32AVX2(&r[0], &f[0], n)
	case []int32:
		_ = f[n-1]
		cvtI32AVX2(&r[0], &f[0], n)
	case []bool:
		_ = f[n-1]
		cvtBoolAVX2(&r[0], &f[0], n)
	default:
		return 0
	}
	return n
}
