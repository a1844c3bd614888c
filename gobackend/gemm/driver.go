package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

var threads atomic.Int32

// SetThreads sets how many goroutines (at most) one product uses; n <= 0 restores the
// default, runtime.GOMAXPROCS(0) at the time of each call.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threads.Store(int32(n))
}

// Threads returns the number of goroutines a product may use.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFlops is the product size (2·Count·M·N·K) below which one goroutine does it all.
// BenchmarkParallelCrossover on the shared 2-core machine (load about 4.5): two goroutines
// lost at 128³ (4 MFLOP: 51 µs vs 50 µs) and won from 192³ (14 MFLOP: 141 µs vs 158 µs).
const parallelFlops = 1 << 23

// workspace holds one goroutine's packing buffers; they are reused through wsPool.
type workspace struct {
	a, b, tmp []float32
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// job is one MulBatch call split into tasks: task t is batch element t/(tm*tn), rows
// chunk (t/tn)%tm of mChunk rows, columns chunk t%tn of nChunk columns. Tasks write
// disjoint parts of C and each computes its elements in the same order whoever runs it,
// so the result does not depend on the number of goroutines or their scheduling.
type job struct {
	p              Batch
	k              *kernel
	fn             func(part int) // instead of a product: Parallel's parts
	mChunk, nChunk int
	tm, tn, total  int
	next           atomic.Int64
	wg             sync.WaitGroup
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

// MulBatch computes every product of the batch, using up to Threads() goroutines.
func MulBatch(p Batch) {
	if p.Count <= 0 || p.M <= 0 || p.N <= 0 || p.Outer < 0 {
		return
	}
	if p.Outer > 1 && (p.K <= 0 || p.C.Stride < 0 || p.M*p.N <= directMaxMN) {
		// The paths without a task grid take one batch at a time.
		for o := range p.Outer {
			MulBatch(p.inner(o))
		}
		return
	}
	if p.K <= 0 {
		if !p.Accumulate {
			zeroOut(&p)
		}
		return
	}
	if p.C.Stride < 0 {
		// The kernels write C through pointers: only non-negative row strides are
		// checked by the bounds of the tile's first and last elements.
		mulBatchReference(p)
		return
	}
	if p.M*p.N <= directMaxMN {
		mulDirect(&p)
		return
	}
	k := active.Load()
	j := jobPool.Get().(*job)
	j.p, j.k = p, k
	nt := Threads()
	j.split(nt)
	if flops := 2 * float64(p.total()) * float64(p.M) * float64(p.N) * float64(p.K); flops < parallelFlops {
		nt = 1
	}
	if nt > j.total {
		nt = j.total
	}
	j.runOn(nt)
	j.p = Batch{}
	jobPool.Put(j)
}

// runOn runs the job's tasks on the caller and nt-1 helpers and returns when
// every task is done.
func (j *job) runOn(nt int) {
	j.next.Store(0)
	if nt > 1 {
		startWorkers(nt - 1)
		j.wg.Add(nt - 1)
		for i := 0; i < nt-1; i++ {
			workCh <- j
		}
	}
	j.run()
	j.wg.Wait()
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// split chooses the task grid: as few tasks as give each goroutine one (the larger of
// M and N split first), since each task packs its own copy of the blocks it reads.
func (j *job) split(nt int) {
	p, k := &j.p, j.k
	cm, cn := 1, 1
	// Each task packs its own rows of A and all of B under them (rows chunks) or all of
	// A and its columns of B (columns chunks): splitting the larger of M and N packs
	// less (K·(M/2+N) against K·(M+N/2) for two tasks).
	colsFirst := p.N > p.M
	for p.total()*cm*cn < nt {
		canM := roundUp((p.M+cm-1)/cm, k.mr) > k.mr
		canN := roundUp((p.N+cn-1)/cn, k.nr) > k.nr
		if canN && (colsFirst || !canM) {
			cn++
		} else if canM {
			cm++
		} else {
			break
		}
	}
	j.mChunk = roundUp((p.M+cm-1)/cm, k.mr)
	j.nChunk = roundUp((p.N+cn-1)/cn, k.nr)
	j.tm = (p.M + j.mChunk - 1) / j.mChunk
	j.tn = (p.N + j.nChunk - 1) / j.nChunk
	j.total = p.total() * j.tm * j.tn
}

func (j *job) run() {
	if j.fn != nil {
		for {
			t := int(j.next.Add(1)) - 1
			if t >= j.total {
				return
			}
			j.fn(t)
		}
	}
	ws := wsPool.Get().(*workspace)
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.total {
			break
		}
		b := t / (j.tm * j.tn)
		r := t % (j.tm * j.tn)
		i0 := (r / j.tn) * j.mChunk
		j0 := (r % j.tn) * j.nChunk
		j.k.product(ws, &j.p, b, i0, min(i0+j.mChunk, j.p.M), j0, min(j0+j.nChunk, j.p.N))
	}
	wsPool.Put(ws)
}

var (
	workMu  sync.Mutex
	workers int
	workCh  = make(chan *job, 64)
)

// Parallel runs fn(0), ..., fn(parts-1) on up to Threads() goroutines (the
// caller and the helpers that run products, which are found awake between the
// steps of a graph: see spinWait) and returns when all have returned. Each
// part runs exactly once, on any goroutine: the backend's element-wise,
// reduction and copy steps give each part a fixed range of their output, so
// their results do not depend on which goroutine runs it.
func Parallel(parts int, fn func(part int)) {
	nt := min(Threads(), parts)
	if nt <= 1 {
		for t := range parts {
			fn(t)
		}
		return
	}
	j := jobPool.Get().(*job)
	j.fn, j.total = fn, parts
	j.runOn(nt)
	j.fn = nil
	jobPool.Put(j)
}

// spinWait is how long a helper goroutine keeps polling for the next job after
// one before it blocks on workCh. A blocked helper's thread sleeps, and waking
// it (a futex wake, on a virtual machine an idle vCPU woken by the hypervisor)
// took up to a few hundred microseconds here: long enough for the caller to
// run a 1 ms product's both halves alone. A training step issues its products
// well within this window of each other, so the helper is found awake;
// OpenBLAS's threads spin about 0.1 s after a call for the same reason.
const spinWait = 500 * time.Microsecond

// startWorkers makes sure at least n helper goroutines wait on workCh.
func startWorkers(n int) {
	workMu.Lock()
	for ; workers < n; workers++ {
		go func() {
			for j := range workCh {
				for j != nil {
					j.run()
					j.wg.Done()
					j = pollJob()
				}
			}
		}()
	}
	workMu.Unlock()
}

// pollJob polls workCh for up to spinWait, yielding the processor between
// polls, and returns the job received or nil.
func pollJob() *job {
	deadline := time.Now().Add(spinWait)
	for i := 0; ; i++ {
		select {
		case j := <-workCh:
			return j
		default:
		}
		if i%64 == 63 && time.Now().After(deadline) {
			return nil
		}
		runtime.Gosched()
	}
}

func zeroOut(p *Batch) {
	for b := 0; b < p.Count; b++ {
		for i := 0; i < p.M; i++ {
			s := p.C.Offset + b*p.StrideC + i*p.C.Stride
			clear(p.C.Data[s : s+p.N])
		}
	}
}

// product computes rows [i0, i1) × columns [j0, j1) of batch element b: the BLIS loops
// (nc columns, kc depth: pack B; mc rows: pack A; then nr × mr tiles).
func (k *kernel) product(ws *workspace, p *Batch, b, i0, i1, j0, j1 int) {
	a, bb, c := p.A, p.B, p.C
	da, db, dc := p.offsets(b)
	a.Offset += da
	bb.Offset += db
	c.Offset += dc
	ws.tmp = grow(ws.tmp, k.mr*k.nr)
	if k.packAOnce && j1-j0 > k.nc {
		// A panel outer: the A panel comes into L1 for its row of tiles whatever the
		// size of the A block, so all the task's rows are packed at once for each kc
		// block and the nc-column B blocks are packed in turn under it: A and B are
		// each packed once, where the loops below pack A once per B block. (With one
		// B block those pack each operand once too, and an mc-row A block is used
		// while it is still in L2: faster by about 4% on the 2048×256 shapes.)
		// Every element still adds the kc blocks in order.
		mcb := i1 - i0
		for pc := 0; pc < p.K; pc += k.kc {
			kcb := min(k.kc, p.K-pc)
			ws.a = grow(ws.a, roundUp(mcb, k.mr)*kcb)
			packA(ws.a, a, i0, mcb, pc, kcb, k.mr)
			load := 0
			if p.Accumulate || pc > 0 {
				load = 1
			}
			for jc := j0; jc < j1; jc += k.nc {
				ncb := min(k.nc, j1-jc)
				ws.b = grow(ws.b, roundUp(ncb, k.nr)*kcb)
				packB(ws.b, bb, pc, kcb, jc, ncb, k.nr)
				k.macro(ws, c, i0, mcb, jc, ncb, kcb, load)
			}
		}
		return
	}
	for jc := j0; jc < j1; jc += k.nc {
		ncb := min(k.nc, j1-jc)
		for pc := 0; pc < p.K; pc += k.kc {
			kcb := min(k.kc, p.K-pc)
			ws.b = grow(ws.b, roundUp(ncb, k.nr)*kcb)
			packB(ws.b, bb, pc, kcb, jc, ncb, k.nr)
			load := 0
			if p.Accumulate || pc > 0 {
				load = 1
			}
			for ic := i0; ic < i1; ic += k.mc {
				mcb := min(k.mc, i1-ic)
				ws.a = grow(ws.a, roundUp(mcb, k.mr)*kcb)
				packA(ws.a, a, ic, mcb, pc, kcb, k.mr)
				k.macro(ws, c, ic, mcb, jc, ncb, kcb, load)
			}
		}
	}
}

// macro runs the micro-kernel over the packed blocks: C[ic:ic+mcb, jc:jc+ncb] (+)= A·B.
// Partial tiles go through ws.tmp and are written back element by element.
func (k *kernel) macro(ws *workspace, c Out, ic, mcb, jc, ncb, kcb, load int) {
	mr, nr := k.mr, k.nr
	if k.aOuter {
		for ir := 0; ir < mcb; ir += mr {
			for jr := 0; jr < ncb; jr += nr {
				k.tile(ws, c, ic, mcb, jc, ncb, kcb, load, ir, jr)
			}
		}
		return
	}
	for jr := 0; jr < ncb; jr += nr {
		for ir := 0; ir < mcb; ir += mr {
			k.tile(ws, c, ic, mcb, jc, ncb, kcb, load, ir, jr)
		}
	}
}

// tile runs the micro-kernel on tile (ir, jr) of the packed blocks.
func (k *kernel) tile(ws *workspace, c Out, ic, mcb, jc, ncb, kcb, load, ir, jr int) {
	mr, nr := k.mr, k.nr
	{
		nn := min(nr, ncb-jr)
		bp := &ws.b[(jr/nr)*nr*kcb]
		{
			mm := min(mr, mcb-ir)
			ap := &ws.a[(ir/mr)*mr*kcb]
			ci := c.Offset + (ic+ir)*c.Stride + jc + jr
			if mm == mr && nn == nr {
				_ = c.Data[ci+(mr-1)*c.Stride+nr-1]
				k.fn(kcb, ap, bp, &c.Data[ci], c.Stride, load)
				return
			}
			if mm == mr && nn == nr/2 && k.half != nil {
				_ = c.Data[ci+(mr-1)*c.Stride+nn-1]
				k.half(kcb, ap, bp, &c.Data[ci], c.Stride, load)
				return
			}
			fn := k.fn
			if nn <= nr/2 && k.half != nil {
				fn = k.half
			} else if nn == nr {
				// The last rows of M: the smallest row kernel that covers them, straight
				// into C when it has exactly mm rows.
				for _, rk := range k.lastRows {
					if mm > rk.rows {
						continue
					}
					if mm == rk.rows {
						_ = c.Data[ci+(mm-1)*c.Stride+nr-1]
						rk.fn(kcb, ap, bp, &c.Data[ci], c.Stride, load)
						return
					}
					fn = rk.fn
					break
				}
			}
			fn(kcb, ap, bp, &ws.tmp[0], nr, 0)
			for r := 0; r < mm; r++ {
				row := c.Data[ci+r*c.Stride : ci+r*c.Stride+nn]
				t := ws.tmp[r*nr : r*nr+nn]
				if load != 0 {
					for x := range row {
						row[x] += t[x]
					}
				} else {
					copy(row, t)
				}
			}
		}
	}
}

// packA copies rows [i0, i0+mcb) × depth [k0, k0+kcb) of a into mr-row micro-panels:
// panel q holds, for each k, the mr values a[i0+q*mr+r, k0+k] (rows past the end are 0).
func packA(dst []float32, a Operand, i0, mcb, k0, kcb, mr int) {
	ip := 0
	if a.RowStride == 1 && a.ColStride > 0 && mcb >= mr {
		// A stored transposed: the rows of all full panels are contiguous for each k.
		ip = mcb / mr * mr
		packFull(dst, mr, ip/mr, a.Data, a.Offset+i0+k0*a.ColStride, a.ColStride, kcb)
	}
	for ; ip < mcb; ip += mr {
		d := dst[(ip/mr)*mr*kcb : (ip/mr+1)*mr*kcb]
		rows := min(mr, mcb-ip)
		base := a.Offset + (i0+ip)*a.RowStride + k0*a.ColStride
		packPanel(d, mr, a.Data, base, a.RowStride, a.ColStride, rows, kcb)
	}
}

// packB copies depth [k0, k0+kcb) × columns [j0, j0+ncb) of b into nr-column micro-panels:
// panel q holds, for each k, the nr values b[k0+k, j0+q*nr+c] (columns past the end are 0).
func packB(dst []float32, b Operand, k0, kcb, j0, ncb, nr int) {
	jp := 0
	if b.ColStride == 1 && b.RowStride > 0 && ncb >= nr {
		// B row-major: the columns of all full panels are contiguous for each k.
		jp = ncb / nr * nr
		packFull(dst, nr, jp/nr, b.Data, b.Offset+k0*b.RowStride+j0, b.RowStride, kcb)
	}
	for ; jp < ncb; jp += nr {
		d := dst[(jp/nr)*nr*kcb : (jp/nr+1)*nr*kcb]
		cols := min(nr, ncb-jp)
		base := b.Offset + k0*b.RowStride + (j0+jp)*b.ColStride
		packPanel(d, nr, b.Data, base, b.ColStride, b.RowStride, cols, kcb)
	}
}

// packFull writes np full micro-panels of width w and depth n when, for each depth x,
// their np·w values are contiguous in memory: d[q*w*n + x*w + r] = data[base + x*xs +
// q*w + r]. It goes depth by depth (one sequential read of np·w values per x, rows of a
// row-major B or columns of a transposed A), which measured faster than panel by panel
// (np strided reads of w values per x).
func packFull(d []float32, w, np int, data []float32, base, xs, n int) {
	if np <= 0 || n <= 0 {
		return
	}
	// Check the extreme elements once; copyRuns stays inside them.
	_ = d[np*w*n-1]
	_ = data[base]
	_ = data[base+(n-1)*xs+np*w-1]
	if hasAVX {
		for x := 0; x < n; x++ {
			copyRunsAVX(&d[x*w], w*n, &data[base+x*xs], w, w, np)
		}
		return
	}
	for x := 0; x < n; x++ {
		copyRuns(&d[x*w], w*n, &data[base+x*xs], w, w, np)
	}
}

// packPanel writes d[x*w + r] = data[base + r*rs + x*xs] for r < rows, x < n, and zeros
// d[x*w + r] for rows <= r < w. The two common layouts get dedicated loops: xs == 1
// (each r is a contiguous run: interleave) and rs == 1 (each x is a contiguous run: copy).
func packPanel(d []float32, w int, data []float32, base, rs, xs, rows, n int) {
	if rows < w {
		clear(d[:n*w]) // the padding (one pass is cheaper than a clear per k)
	}
	switch {
	case rs == 1 && xs >= 0 && rows > 0 && n > 0:
		// Check the extreme elements once; copyRuns stays inside them.
		_ = d[(n-1)*w+rows-1]
		_ = data[base]
		_ = data[base+(n-1)*xs+rows-1]
		copyRuns(&d[0], w, &data[base], xs, rows, n)
	case xs == 1 && rs > 0:
		interleave(d, w, data, base, rs, rows, n)
	default:
		for r := 0; r < rows; r++ {
			for x := 0; x < n; x++ {
				d[x*w+r] = data[base+r*rs+x*xs]
			}
		}
	}
}

// interleave writes d[x*w + r] = data[base + r*rs + x] for r < rows, x < n (rs > 0).
func interleave(d []float32, w int, data []float32, base, rs, rows, n int) {
	if rows == 0 || n == 0 {
		return
	}
	// Check the extreme elements once; the loops below stay inside them.
	_ = d[(n-1)*w+rows-1]
	_ = data[base]
	_ = data[base+(rows-1)*rs+n-1]
	dp := unsafe.Pointer(&d[0])
	sp := unsafe.Pointer(&data[base])
	const f = 4 // bytes per float32
	r := 0
	if hasAVX {
		n8 := n &^ 7
		for ; r+8 <= rows; r += 8 {
			interleave8((*float32)(unsafe.Add(dp, r*f)), w, (*float32)(unsafe.Add(sp, r*rs*f)), rs, n8)
			for x := n8; x < n; x++ {
				for i := r; i < r+8; i++ {
					*(*float32)(unsafe.Add(dp, (x*w+i)*f)) = *(*float32)(unsafe.Add(sp, (i*rs+x)*f))
				}
			}
		}
	}
	n4 := n &^ 3
	for ; r+4 <= rows; r += 4 {
		interleave4((*float32)(unsafe.Add(dp, r*f)), w, (*float32)(unsafe.Add(sp, r*rs*f)), rs, n4)
		for x := n4; x < n; x++ {
			for i := r; i < r+4; i++ {
				*(*float32)(unsafe.Add(dp, (x*w+i)*f)) = *(*float32)(unsafe.Add(sp, (i*rs+x)*f))
			}
		}
	}
	for ; r < rows; r++ {
		s0 := unsafe.Add(sp, r*rs*f)
		o := unsafe.Add(dp, r*f)
		for x := 0; x < n; x++ {
			*(*float32)(unsafe.Add(o, x*w*f)) = *(*float32)(unsafe.Add(s0, x*f))
		}
	}
}
