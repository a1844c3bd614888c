package gemm

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// kernel is one register-tile micro-kernel and the cache blocking that goes with it.
type kernel struct {
	name   string
	mr, nr int // register tile: mr rows of A (broadcast) × nr columns of B (vectors)
	// kc: depth of one packed block (A micro-panel mr×kc and B micro-panel kc×nr stay in L1);
	// mc: rows of a packed A block (mc×kc stays in L2); nc: columns of a packed B block.
	kc, mc, nc int
	// aOuter visits the tiles A panel by A panel (the mr×kc A panel stays in L1 and the
	// B block streams from L2) instead of B panel by B panel.
	aOuter bool
	// packAOnce (with aOuter) packs all the rows of a task's A for each kc block and
	// loops over the B blocks under it, instead of packing mc-row A blocks per B block
	// (mc is then unused): each operand is packed once.
	packAOnce bool
	// fn computes C[0:mr, 0:nr] = (load != 0 ? C : 0) + a·b, where a holds kc steps of mr
	// values and b kc steps of nr values; row r of C starts ldc elements after row r-1.
	fn func(kc int, a, b, c *float32, ldc int, load int)
	// half, if not nil, computes the tile's first nr/2 columns only (same arguments).
	half func(kc int, a, b, c *float32, ldc int, load int)
	// lastRows, in increasing rows, compute only the first rows of a full-width tile
	// from an mr-row A panel (same arguments): the last rows of M, which would
	// otherwise cost a full tile.
	lastRows []rowKernel
	// peak, if not nil, runs n iterations of peakFlops floating-point operations of
	// independent FMAs in registers: the core's FMA throughput for this instruction set.
	peak      func(n int)
	peakFlops int
}

// rowKernel computes the first rows rows of a tile (see kernel.lastRows).
type rowKernel struct {
	rows int
	fn   func(kc int, a, b, c *float32, ldc int, load int)
}

var (
	kernels []*kernel              // available on this processor, preferred first
	active  atomic.Pointer[kernel] // the one MulBatch uses
)

func init() {
	kernels = append(archKernels(), portableKernel)
	active.Store(kernels[0])
}

// Kernel names the micro-kernel in use, e.g. "avx512-12x32", "avx2-6x16" or "go-4x4".
func Kernel() string { return active.Load().name }

// Kernels lists the micro-kernels this processor can run, the default first.
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// SetKernel chooses the micro-kernel by name (one of Kernels()); "" restores the default.
// It is meant for tests and benchmarks: it must not be called while products run.
func SetKernel(name string) error {
	if name == "" {
		active.Store(kernels[0])
		return nil
	}
	for _, k := range kernels {
		if k.name == name {
			active.Store(k)
			return nil
		}
	}
	return fmt.Errorf("gemm: no kernel %q on this processor (have %v)", name, Kernels())
}

// PeakGFLOPS measures, for about d, the FMA throughput of the core it runs on with the
// instruction set of the active kernel (a register-only loop of independent FMAs), in
// GFLOP/s: the best of repeated timed runs, on one OS thread. It returns 0 for kernels
// without such a loop (the portable one).
//
// The loop (peak512: 24 independent zmm accumulators, 6 times the 4-cycle FMA latency
// over 2 FMA ports) measured the same with 12, 16 or 24 chains and with distinct source
// registers, and twice the FLOP/s of 12 ymm chains (the same FMAs per cycle): on the
// development machine (Xeon family 6 model 207) 170-178 GFLOP/s, 2 ports × 16 lanes ×
// 2 flops at about 2.7 GHz. OpenBLAS seemed to beat it only because the benchmark's
// "1 thread" torch ran OpenBLAS on two (see cmd/apt-gemm-bench).
func PeakGFLOPS(d time.Duration) float64 {
	k := active.Load()
	if k.peak == nil {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := 0.0
	n := 1 << 16
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		t0 := time.Now()
		k.peak(n)
		el := time.Since(t0).Seconds()
		if el < 1e-3 {
			n *= 4
			continue
		}
		if g := float64(n) * float64(k.peakFlops) / el / 1e9; g > best {
			best = g
		}
	}
	return best
}

// portableKernel is the Go micro-kernel for processors without an assembly one.
var portableKernel = &kernel{name: "go-4x4", mr: 4, nr: 4, kc: 256, mc: 128, nc: 1024, fn: kernGo4x4}

func kernGo4x4(kc int, a, b, c *float32, ldc int, load int) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	if kc > 0 {
		ap := unsafeSlice(a, kc*4)
		bp := unsafeSlice(b, kc*4)
		for k := 0; k < kc; k++ {
			av := ap[k*4 : k*4+4 : k*4+4]
			bv := bp[k*4 : k*4+4 : k*4+4]
			a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
			b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
			c20 += a2 * b0
			c21 += a2 * b1
			c22 += a2 * b2
			c23 += a2 * b3
			c30 += a3 * b0
			c31 += a3 * b1
			c32 += a3 * b2
			c33 += a3 * b3
		}
	}
	cs := unsafeSlice(c, 3*ldc+4)
	r0 := cs[0:4:4]
	r1 := cs[ldc : ldc+4 : ldc+4]
	r2 := cs[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := cs[3*ldc : 3*ldc+4 : 3*ldc+4]
	if load != 0 {
		c00 += r0[0]
		c01 += r0[1]
		c02 += r0[2]
		c03 += r0[3]
		c10 += r1[0]
		c11 += r1[1]
		c12 += r1[2]
		c13 += r1[3]
		c20 += r2[0]
		c21 += r2[1]
		c22 += r2[2]
		c23 += r2[3]
		c30 += r3[0]
		c31 += r3[1]
		c32 += r3[2]
		c33 += r3[3]
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}
