package gobackend

//go:noescape
func rowSum8AVX2(o, x *float32, stride, n int)

// rowSums8 sets o[0..8) to the sums of the rows x[r*stride : r*stride+n], r < 8,
// each from 0 with its elements added one at a time in order (simplego's
// loop), eight rows at a time with AVX2 (rowSum8AVX2), the last n mod 8
// elements of each row after the rest. It reports false without AVX2 (the
// caller sums the rows itself).
func rowSums8(o, x []float32, stride, n int) bool {
	if !hasAVX2 || n < 8 {
		return false
	}
	m := n &^ 7
	_ = x[7*stride+n-1]
	_ = o[7]
	rowSum8AVX2(&o[0], &x[0], stride, m)
	for r := range 8 {
		row := x[r*stride+m : r*stride+n]
		acc := o[r]
		for _, v := range row {
			acc += v
		}
		o[r] = acc
	}
	return true
}
