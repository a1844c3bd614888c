//go:build amd64

package gemm

import "golang.org/x/sys/cpu"

//go:generate sh -c "go run gen/asm.go > kernel_amd64.s"

// Micro-kernels of kernel_amd64.s (see gen/asm.go): C tile = (load ? C : 0) + A panel · B
// panel; the "of" kernels compute the left half of a tile (the last columns of a row of
// tiles when at most half are left) from a full-width B panel.

//go:noescape
func k512_12x32(kc int, a, b, c *float32, ldc int, load int)

//go:noescape
func k512_12x16of32(kc int, a, b, c *float32, ldc int, load int)

//go:noescape
func k512_4x32a12(kc int, a, b, c *float32, ldc int, load int)

//go:noescape
func k512_8x32a12(kc int, a, b, c *float32, ldc int, load int)

//go:noescape
func kavx2_6x16(kc int, a, b, c *float32, ldc int, load int)

//go:noescape
func kavx2_6x8of16(kc int, a, b, c *float32, ldc int, load int)

// interleave4 writes d[x*w + r] = s[r*rs + x] for r < 4, x < n; n is a multiple of 4.
//
//go:noescape
func interleave4(d *float32, w int, s *float32, rs int, n int)

// interleave8 writes d[x*w + r] = s[r*rs + x] for r < 8, x < n; n is a multiple of 8.
// It needs AVX (hasAVX).
//
//go:noescape
func interleave8(d *float32, w int, s *float32, rs int, n int)

// copyRunsAVX is copyRuns with 32-byte moves; it needs AVX (hasAVX).
//
//go:noescape
func copyRunsAVX(d *float32, w int, s *float32, xs int, rows int, n int)

// hasAVX allows interleave8 and copyRunsAVX.
var hasAVX = cpu.X86.HasAVX

// copyRuns writes d[x*w + r] = s[x*xs + r] for r < rows, x < n.
//
//go:noescape
func copyRuns(d *float32, w int, s *float32, xs int, rows int, n int)

// peak512 and peakavx2 run n iterations of 24 (resp. 12) independent vector FMAs.
func peak512(n int)
func peakavx2(n int)

var hasAVX512 = cpu.X86.HasAVX512F
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func archKernels() []*kernel {
	var ks []*kernel
	if hasAVX512 {
		ks = append(ks, &kernel{name: "avx512-12x32", mr: 12, nr: 32, kc: 512, mc: 240, nc: 512, aOuter: true, packAOnce: true,
			fn: k512_12x32, half: k512_12x16of32, peak: peak512, peakFlops: 24 * 16 * 2,
			lastRows: []rowKernel{{4, k512_4x32a12}, {8, k512_8x32a12}}})
	}
	if hasAVX2 {
		ks = append(ks, &kernel{name: "avx2-6x16", mr: 6, nr: 16, kc: 256, mc: 120, nc: 4096,
			fn: kavx2_6x16, half: kavx2_6x8of16, peak: peakavx2, peakFlops: 12 * 8 * 2})
	}
	return ks
}
