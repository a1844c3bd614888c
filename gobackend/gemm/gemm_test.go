package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// forEachKernel runs f once for each kernel this processor has, forcing its choice.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range Kernels() {
		t.Run(name, func(t *testing.T) {
			if err := SetKernel(name); err != nil {
				t.Fatal(err)
			}
			defer SetKernel("")
			f(t)
		})
	}
}

// problem is a random batched product with its own strides and offsets.
type problem struct {
	p    Batch
	desc string
}

// randProblem builds a Batch of the given sizes; transA/transB store the operand
// column-major (so RowStride is 1), pad adds unused elements between rows and
// offsets, and the batch strides leave gaps between batch elements.
func randProblem(rng *rand.Rand, count, m, n, k int, transA, transB, accumulate bool, pad int) problem {
	mk := func(rows, cols int, trans bool) (Operand, int) {
		off := rng.IntN(pad + 1)
		var o Operand
		if trans {
			o = Operand{Offset: off, RowStride: 1, ColStride: rows + rng.IntN(pad+1)}
		} else {
			o = Operand{Offset: off, RowStride: cols + rng.IntN(pad+1), ColStride: 1}
		}
		size := off + (rows-1)*o.RowStride + (cols-1)*o.ColStride + 1
		if rows == 0 || cols == 0 {
			size = off
		}
		return o, size + rng.IntN(pad+1)
	}
	a, sa := mk(m, k, transA)
	b, sb := mk(k, n, transB)
	coff := rng.IntN(pad + 1)
	cst := n + rng.IntN(pad+1)
	sc := coff + max(m-1, 0)*cst + n + rng.IntN(pad+1)
	if count > 1 && rng.IntN(4) == 0 {
		sb = 0 // B shared by the whole batch
	}
	p := Batch{Count: count, M: m, N: n, K: k, A: a, B: b, StrideA: sa, StrideB: sb,
		C: Out{Offset: coff, Stride: cst}, StrideC: sc, Accumulate: accumulate}
	p.A.Data = randSlice(rng, count*sa+1)
	p.B.Data = randSlice(rng, count*max(sb, 1)+sb+1)
	if sb == 0 {
		_, size := mk(k, n, transB)
		p.B.Data = randSlice(rng, size+1+b.Offset+k*b.RowStride+n*b.ColStride)
	}
	p.C.Data = randSlice(rng, count*sc+1)
	return problem{p, fmt.Sprintf("count=%d m=%d n=%d k=%d transA=%v transB=%v acc=%v", count, m, n, k, transA, transB, accumulate)}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func clone(p Batch) Batch {
	p.C.Data = append([]float32(nil), p.C.Data...)
	return p
}

// check compares got against the reference: |c - ref| <= 1e-5·Σ_k |a_ik b_kj| (+ |c_old|
// with accumulate) + 1e-30, and elements outside the C views must be untouched.
func check(t *testing.T, pr problem, got Batch) {
	t.Helper()
	p := pr.p
	want := clone(p)
	mulBatchReference(want)
	inView := make([]bool, len(p.C.Data))
	for b := 0; b < p.Count; b++ {
		a, bb := p.A, p.B
		a.Offset += b * p.StrideA
		bb.Offset += b * p.StrideB
		for i := 0; i < p.M; i++ {
			for j := 0; j < p.N; j++ {
				idx := p.C.Offset + b*p.StrideC + i*p.C.Stride + j
				inView[idx] = true
				var mag float64
				for l := 0; l < p.K; l++ {
					mag += math.Abs(float64(a.At(i, l)) * float64(bb.At(l, j)))
				}
				if p.Accumulate {
					mag += math.Abs(float64(p.C.Data[idx]))
				}
				d := math.Abs(float64(got.C.Data[idx]) - float64(want.C.Data[idx]))
				if d > 1e-5*mag+1e-30 || math.IsNaN(float64(got.C.Data[idx])) {
					t.Fatalf("%s: C[%d][%d,%d] = %g, want %g (|diff| %g, scale %g)", pr.desc, b, i, j,
						got.C.Data[idx], want.C.Data[idx], d, mag)
				}
			}
		}
	}
	for i, in := range inView {
		if !in && got.C.Data[i] != p.C.Data[i] {
			t.Fatalf("%s: C.Data[%d] outside the output views changed: %g -> %g", pr.desc, i, p.C.Data[i], got.C.Data[i])
		}
	}
}

func runCheck(t *testing.T, pr problem) {
	t.Helper()
	got := clone(pr.p)
	MulBatch(got)
	check(t, pr, got)
}

func TestRandomShapes(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		dims := []int{1, 2, 3, 5, 7, 12, 13, 16, 17, 24, 31, 33, 47, 48, 64, 65, 100}
		for it := 0; it < 150; it++ {
			m := dims[rng.IntN(len(dims))]
			n := dims[rng.IntN(len(dims))]
			k := dims[rng.IntN(len(dims))]
			count := 1 + rng.IntN(3)
			runCheck(t, randProblem(rng, count, m, n, k, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0, 3))
		}
	})
}

// TestBlockEdges crosses the kc, mc and nc block boundaries of every kernel.
func TestBlockEdges(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		k := active.Load()
		rng := rand.New(rand.NewPCG(3, 4))
		shapes := [][3]int{
			{k.mc + 1, 2*k.nr + 3, k.kc + 1},
			{2*k.mc - 1, k.nr - 1, 2*k.kc + 5},
			{k.mr + 1, k.nc + 5, 3},
			{1, k.nc + 1, k.kc + 7},
			{k.mc*2 + k.mr, 1, 2*k.kc - 1},
		}
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {true, true}, {true, false}, {false, true}} {
				runCheck(t, randProblem(rng, 1, s[0], s[1], s[2], tr[0], tr[1], rng.IntN(2) == 0, 2))
			}
		}
	})
}

func TestDegenerate(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range [][3]int{{1, 1, 1}, {1, 1, 300}, {1, 700, 1}, {700, 1, 1}, {1, 300, 300}, {300, 1, 300}, {5, 7, 0}, {1, 1, 0}} {
			for _, acc := range []bool{false, true} {
				runCheck(t, randProblem(rng, 2, s[0], s[1], s[2], false, false, acc, 2))
				runCheck(t, randProblem(rng, 1, s[0], s[1], s[2], true, true, acc, 0))
			}
		}
		// Empty products do nothing.
		for _, s := range [][3]int{{0, 5, 5}, {5, 0, 5}} {
			runCheck(t, randProblem(rng, 1, s[0], s[1], s[2], false, false, false, 2))
		}
	})
}

// TestGeneralStrides uses operands that are neither row- nor column-contiguous and a
// batch whose elements overlap in A (stride smaller than a matrix).
func TestGeneralStrides(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		m, n, k := 37, 45, 29
		a := Operand{Data: randSlice(rng, 4000), Offset: 3, RowStride: 2, ColStride: 2 * m}
		b := Operand{Data: randSlice(rng, 8000), Offset: 1, RowStride: 3 * n, ColStride: 3}
		c := Out{Data: randSlice(rng, 4*m*n), Offset: 5, Stride: n + 1}
		p := Batch{Count: 2, M: m, N: n, K: k, A: a, B: b, C: c, StrideA: 1, StrideB: 0, StrideC: m*(n+1) + 7}
		runCheck(t, problem{p, "general strides"})
		p.Accumulate = true
		runCheck(t, problem{p, "general strides, accumulate"})
	})
}

// TestLarge runs products big enough to use several goroutines and several blocks.
func TestLarge(t *testing.T) {
	SetThreads(3)
	defer SetThreads(0)
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		runCheck(t, randProblem(rng, 1, 161, 130, 520, false, false, false, 1))
		runCheck(t, randProblem(rng, 1, 131, 150, 300, true, true, true, 1))
		runCheck(t, randProblem(rng, 6, 40, 70, 64, false, true, false, 1))
	})
}

func TestConcurrentCalls(t *testing.T) {
	SetThreads(2)
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(11, 12))
	var prs []problem
	for i := 0; i < 8; i++ {
		prs = append(prs, randProblem(rng, 1+i%3, 60+i*13, 90-i*7, 70+i*11, i%2 == 0, i%3 == 0, i%4 == 0, 2))
	}
	want := make([]Batch, len(prs))
	for i, pr := range prs {
		want[i] = clone(pr.p)
		MulBatch(want[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 5; rep++ {
				for i, pr := range prs {
					got := clone(pr.p)
					MulBatch(got)
					for x := range got.C.Data {
						if got.C.Data[x] != want[i].C.Data[x] {
							errs <- fmt.Sprintf("%s: concurrent call differs at %d", pr.desc, x)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestDeterminism: the same inputs give bit-identical outputs run after run and whatever
// the number of goroutines (each element is reduced in one fixed order).
func TestDeterminism(t *testing.T) {
	defer SetThreads(0)
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		pr := randProblem(rng, 3, 257, 199, 600, false, true, true, 1)
		var first []float32
		for rep, nt := range []int{1, 2, 3, 2, 5, 2} {
			SetThreads(nt)
			got := clone(pr.p)
			MulBatch(got)
			if rep == 0 {
				first = got.C.Data
				continue
			}
			for x := range first {
				if got.C.Data[x] != first[x] {
					t.Fatalf("threads=%d: element %d = %g, first run %g", nt, x, got.C.Data[x], first[x])
				}
			}
		}
	})
}

func TestNoAllocs(t *testing.T) {
	SetThreads(2)
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(15, 16))
	pr := randProblem(rng, 1, 200, 200, 200, false, false, false, 0)
	MulBatch(pr.p)
	allocs := testing.AllocsPerRun(20, func() { MulBatch(pr.p) })
	if allocs > 0.5 {
		t.Errorf("MulBatch allocates %.1f times per call", allocs)
	}
}

func TestSetKernel(t *testing.T) {
	if err := SetKernel("no-such"); err == nil {
		t.Error("SetKernel accepted an unknown name")
	}
	if Kernel() != Kernels()[0] {
		t.Errorf("Kernel() = %q, want the default %q", Kernel(), Kernels()[0])
	}
}

// TestManyBlocks covers products with two kc and nc blocks and more than one mc
// block of rows, every layout, so that both loop orders of kernel.product (packAOnce
// and the mc-blocked one) and the depth-by-depth packing (packFull) meet partial
// panels and blocks at once.
func TestManyBlocks(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		k := active.Load()
		rng := rand.New(rand.NewPCG(11, 12))
		m, n, kk := k.mc+k.mr+5, k.nc+k.nr+7, k.kc+3
		// Aᵀ with B row-major packs both depth by depth; the other, both through
		// the 4×4 transposes (the reference is slow: two layouts are enough).
		for _, tr := range [][2]bool{{true, false}, {false, true}} {
			runCheck(t, randProblem(rng, 1, m, n, kk, tr[0], tr[1], rng.IntN(2) == 0, 2))
		}
	})
}

// TestLastRows covers every remainder of M by the tile height (the row kernels of
// kernel.lastRows, straight into C or through the scratch tile) beside full-width,
// half-width and narrower last columns.
func TestLastRows(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		k := active.Load()
		rng := rand.New(rand.NewPCG(13, 14))
		for m := k.mr + 1; m <= 2*k.mr; m++ {
			for _, n := range []int{k.nr, 2*k.nr + k.nr/2, 2*k.nr + 3} {
				runCheck(t, randProblem(rng, 1, m, n, 37, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0, 2))
			}
		}
	})
}

// TestOuterBatch: a batch with a second batch axis (Outer) whose stride is
// smaller than the inner one's, as multi-head attention reads [B,T,n,dh]
// (batch stride T·d, head stride dh): bit-identical to one call per outer
// index, on one and two goroutines, small (direct path) and large shapes.
func TestOuterBatch(t *testing.T) {
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{5, 6, 7}, {70, 90, 40}, {128, 144, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		const outer, count = 3, 4
		// Products laid out (count, outer): element (o, i) at i*outer + o.
		pr := randProblem(rng, outer*count, m, n, k, false, rng.IntN(2) == 0, false, 0)
		p := pr.p
		q := p
		q.Count, q.Outer = count, outer
		q.StrideA, q.StrideB, q.StrideC = outer*p.StrideA, outer*p.StrideB, outer*p.StrideC
		q.OuterA, q.OuterB, q.OuterC = p.StrideA, p.StrideB, p.StrideC
		for _, nt := range []int{1, 2} {
			SetThreads(nt)
			want := clone(q)
			for o := range outer {
				MulBatch(want.inner(o))
			}
			got := clone(q)
			MulBatch(got)
			for i := range got.C.Data {
				if math.Float32bits(got.C.Data[i]) != math.Float32bits(want.C.Data[i]) {
					t.Fatalf("%dx%dx%d, %d goroutines: C.Data[%d] = %g, per-outer calls %g", m, n, k, nt, i, got.C.Data[i], want.C.Data[i])
				}
			}
			check(t, pr, got) // the same products as the flat batch of outer*count
		}
	}
}
