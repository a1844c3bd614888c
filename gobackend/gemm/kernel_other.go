//go:build !amd64

package gemm

import "unsafe"

// interleave4 writes d[x*w + r] = s[r*rs + x] for r < 4, x < n; n is a multiple of 4.
func interleave4(d *float32, w int, s *float32, rs int, n int) {
	dp, sp := unsafe.Pointer(d), unsafe.Pointer(s)
	for r := 0; r < 4; r++ {
		for x := 0; x < n; x++ {
			*(*float32)(unsafe.Add(dp, (x*w+r)*4)) = *(*float32)(unsafe.Add(sp, (r*rs+x)*4))
		}
	}
}

// interleave8 writes d[x*w + r] = s[r*rs + x] for r < 8, x < n (unused here:
// hasAVX is false; interleave4 serves).
func interleave8(d *float32, w int, s *float32, rs int, n int) {
	interleave4(d, w, s, rs, n)
	interleave4((*float32)(unsafe.Add(unsafe.Pointer(d), 16)), w, (*float32)(unsafe.Add(unsafe.Pointer(s), 4*rs*4)), rs, n)
}

// copyRunsAVX is copyRuns (unused here: hasAVX is false).
func copyRunsAVX(d *float32, w int, s *float32, xs int, rows int, n int) {
	copyRuns(d, w, s, xs, rows, n)
}

// hasAVX is false: interleave4 and copyRuns serve.
const hasAVX = false

func archKernels() []*kernel { return nil }

// copyRuns writes d[x*w + r] = s[x*xs + r] for r < rows, x < n.
func copyRuns(d *float32, w int, s *float32, xs int, rows int, n int) {
	dp, sp := unsafe.Pointer(d), unsafe.Pointer(s)
	for x := 0; x < n; x++ {
		copy(unsafe.Slice((*float32)(unsafe.Add(dp, x*w*4)), rows), unsafe.Slice((*float32)(unsafe.Add(sp, x*xs*4)), rows))
	}
}
