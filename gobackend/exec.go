package gobackend

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
)

// dotRuns counts the products run on gemm (for tests).
var dotRuns atomic.Int64

// Executable runs a graph split into segments and products.
type Executable struct {
	backend      *Backend
	name         string
	numValues    int
	params       []int // value id of each parameter
	paramNames   []string
	paramShapes  []shapes.Shape
	outputs      []int // value id of each output
	outputShapes []shapes.Shape
	steps        []step
	numSegments  int
	numDots      int
	numBins      int
	numFused     int
	numFusedOps  int
	numReds      int
	numTrans     int
	// lastUse[v] is the index of the last step reading value v; -1 if none.
	lastUse []int
	// isOut[v]: v is a graph output.
	isOut  []bool
	states sync.Pool

	// Accumulated run times when profiling (see Stats).
	profile               atomic.Bool
	dotNanos, segNanos    atomic.Int64
	fuseNanos             atomic.Int64
	otherNanos, runsCount atomic.Int64
	finalized             atomic.Bool
	// stepNanos[k]: step k's accumulated run time when profiling.
	stepNanos []atomic.Int64
}

var _ backends.Executable = (*Executable)(nil)

// execState holds the buffers of one run.
type execState struct {
	bufs  []backends.Buffer
	owned []bool
	in    []backends.Buffer
	don   []bool
}

// Stats describes an executable: how it was split, and where its time went
// (only when profiling is on: see SetProfile).
type Stats struct {
	Segments, Dots, SegmentOps int
	// Broadcasts is the number of broadcasting binary ops run outside simplego.
	Broadcasts int
	// Fused is the number of fused element-wise steps, FusedOps the ops in them.
	Fused, FusedOps int
	// Reductions is the number of reductions (and RNGBitGenerator ops) run
	// outside simplego.
	Reductions int
	// Transposes is the number of Transpose ops run as blocked copies
	// (transpose.go) and of row Gathers (gather.go); their time counts in
	// SegmentTime.
	Transposes int
	Runs       int64
	// DotFlops is the floating-point work of the products of one run (2·M·N·K each).
	DotFlops             int64
	DotTime, SegmentTime time.Duration
	// FusedTime is the run time of the fused element-wise steps.
	FusedTime time.Duration
	// OtherTime is the run time outside products and segments (bookkeeping).
	OtherTime time.Duration
}

// Stats returns the split and the accumulated times.
func (e *Executable) Stats() Stats {
	s := Stats{Segments: e.numSegments, Dots: e.numDots, Broadcasts: e.numBins, Runs: e.runsCount.Load(),
		Fused: e.numFused, FusedOps: e.numFusedOps, Reductions: e.numReds, Transposes: e.numTrans,
		DotTime: time.Duration(e.dotNanos.Load()), SegmentTime: time.Duration(e.segNanos.Load()),
		OtherTime: time.Duration(e.otherNanos.Load()), FusedTime: time.Duration(e.fuseNanos.Load())}
	for _, st := range e.steps {
		if st.seg != nil {
			s.SegmentOps += st.seg.numOps
		} else if st.dot != nil {
			p := st.dot.tmpl
			f := 2 * int64(p.Count) * int64(p.M) * int64(p.N) * int64(p.K)
			for _, g := range st.dot.outer {
				f *= int64(g.size)
			}
			s.DotFlops += f
		}
	}
	return s
}

var (
	profiledMu sync.Mutex
	profiled   []*Executable
)

// Profiles returns the Stats of every executable compiled by a backend
// created with the "profile" option (or $GOBACKEND_PROFILE), in compilation
// order, with the name given to its Builder.
func Profiles() (names []string, stats []Stats) {
	profiledMu.Lock()
	defer profiledMu.Unlock()
	for _, e := range profiled {
		names = append(names, e.name)
		stats = append(stats, e.Stats())
	}
	return names, stats
}

// StepTime is one step of an executable and its accumulated run time.
type StepTime struct {
	Kind string // "product", "segment", "fused", "reduce", "transpose", "broadcast", "rng"
	What string // the step in words: shapes, ops
	Time time.Duration
}

// StepTimes returns every step, in run order, with its run time accumulated
// over the profiled runs (zero unless profiling is on; see Profiles).
func (e *Executable) StepTimes() []StepTime {
	out := make([]StepTime, len(e.steps))
	for k := range e.steps {
		kind, what := e.steps[k].describe()
		out[k] = StepTime{Kind: kind, What: what, Time: time.Duration(e.stepNanos[k].Load())}
	}
	return out
}

// ProfiledStepTimes is StepTimes of the i-th executable of Profiles.
func ProfiledStepTimes(i int) []StepTime {
	profiledMu.Lock()
	e := profiled[i]
	profiledMu.Unlock()
	return e.StepTimes()
}

// SetProfile turns the accumulation of run times on or off.
func (e *Executable) SetProfile(on bool) { e.profile.Store(on) }

// finishPlan computes the last use of every value and the free lists.
func (e *Executable) finishPlan() {
	e.lastUse = make([]int, e.numValues)
	for i := range e.lastUse {
		e.lastUse[i] = -1
	}
	for k, st := range e.steps {
		if st.seg != nil {
			for _, v := range st.seg.imports {
				e.lastUse[v] = k
			}
		} else if st.bin != nil {
			e.lastUse[st.bin.lhs] = k
			e.lastUse[st.bin.rhs] = k
		} else if st.fuse != nil {
			for _, in := range st.fuse.inputs {
				e.lastUse[in.vid] = k
			}
		} else if st.red != nil {
			e.lastUse[st.red.in] = k
		} else if st.tr != nil {
			e.lastUse[st.tr.in] = k
		} else if st.gat != nil {
			e.lastUse[st.gat.operand] = k
			e.lastUse[st.gat.indices] = k
		} else if st.rng != nil {
			e.lastUse[st.rng.state] = k
		} else {
			e.lastUse[st.dot.lhs] = k
			e.lastUse[st.dot.rhs] = k
		}
	}
	e.stepNanos = make([]atomic.Int64, len(e.steps))
	isOut := make([]bool, e.numValues)
	for _, v := range e.outputs {
		isOut[v] = true
	}
	e.isOut = isOut
	for v, k := range e.lastUse {
		if k >= 0 && !isOut[v] {
			e.steps[k].free = append(e.steps[k].free, v)
		}
	}
	for k := range e.steps {
		if sg := e.steps[k].seg; sg != nil {
			for i, v := range sg.imports {
				// A segment may take over a value it is the last reader of.
				sg.donate[i] = e.lastUse[v] == k && !isOut[v]
			}
		}
	}
	if e.backend.profile {
		e.profile.Store(true)
		profiledMu.Lock()
		profiled = append(profiled, e)
		profiledMu.Unlock()
	}
	e.states.New = func() any {
		return &execState{bufs: make([]backends.Buffer, e.numValues), owned: make([]bool, e.numValues)}
	}
}

// Finalize implements backends.Executable.
func (e *Executable) Finalize() {
	if e.finalized.Swap(true) {
		return
	}
	for _, st := range e.steps {
		if st.seg != nil && st.seg.exec != nil {
			st.seg.exec.Finalize()
		}
	}
}

// Inputs implements backends.Executable.
func (e *Executable) Inputs() (names []string, inputShapes []shapes.Shape) {
	return e.paramNames, e.paramShapes
}

// Outputs implements backends.Executable.
func (e *Executable) Outputs() []shapes.Shape { return e.outputShapes }

// Execute implements backends.Executable.
func (e *Executable) Execute(inputs []backends.Buffer, donate []bool, _ backends.DeviceNum) (_ []backends.Buffer, err error) {
	if e.finalized.Load() {
		return nil, fmt.Errorf("gobackend Execute(%q): executable already finalized", e.name)
	}
	if len(inputs) != len(e.params) {
		return nil, fmt.Errorf("gobackend Execute(%q): expected %d inputs, got %d", e.name, len(e.params), len(inputs))
	}
	data := e.backend.Backend
	for i, in := range inputs {
		if in == nil {
			return nil, fmt.Errorf("gobackend Execute(%q): input #%d is nil", e.name, i)
		}
		s, err := data.BufferShape(in)
		if err != nil {
			return nil, fmt.Errorf("gobackend Execute(%q): input #%d: %w", e.name, i, err)
		}
		if !s.Equal(e.paramShapes[i]) {
			return nil, fmt.Errorf("gobackend Execute(%q): parameter %q (input #%d): expected shape %s, got %s",
				e.name, e.paramNames[i], i, e.paramShapes[i], s)
		}
	}
	profile := e.profile.Load()
	var t0 time.Time
	if profile {
		t0 = time.Now()
	}
	st := e.states.Get().(*execState)
	defer func() {
		// Release whatever is left (on errors, or donated inputs never read).
		for v, b := range st.bufs {
			if b != nil && st.owned[v] {
				_ = data.BufferFinalize(b)
			}
			st.bufs[v] = nil
			st.owned[v] = false
		}
		e.states.Put(st)
	}()
	for i, in := range inputs {
		v := e.params[i]
		st.bufs[v] = in
		st.owned[v] = len(donate) > i && donate[i]
	}
	var segT, dotT, fuseT time.Duration
	var tprev time.Time
	kprev := -1
	for k := range e.steps {
		s := &e.steps[k]
		var ts time.Time
		if profile {
			ts = time.Now()
			if kprev >= 0 {
				e.stepNanos[kprev].Add(int64(ts.Sub(tprev)))
			}
			kprev, tprev = k, ts
		}
		if sg := s.seg; sg != nil {
			st.in, st.don = st.in[:0], st.don[:0]
			for i, v := range sg.imports {
				st.in = append(st.in, st.bufs[v])
				st.don = append(st.don, sg.donate[i] && st.owned[v])
				don := st.don
				if don[i] {
					st.bufs[v] = nil // taken over by simplego
					st.owned[v] = false
				}
			}
			outs, err := sg.exec.Execute(st.in, st.don, 0)
			if err != nil {
				return nil, fmt.Errorf("gobackend Execute(%q): segment #%d: %w", e.name, k, err)
			}
			for i, v := range sg.exports {
				st.bufs[v] = outs[i]
				st.owned[v] = true
			}
			if profile {
				segT += time.Since(ts)
			}
		} else if s.bin != nil {
			if err := e.runBin(s.bin, st); err != nil {
				return nil, err
			}
			if profile {
				segT += time.Since(ts)
			}
		} else if s.rng != nil {
			if err := e.runRNG(k, s.rng, st); err != nil {
				return nil, err
			}
			if profile {
				fuseT += time.Since(ts)
			}
		} else if s.red != nil {
			if err := e.runReduce(s.red, st); err != nil {
				return nil, err
			}
			if profile {
				fuseT += time.Since(ts)
			}
		} else if s.tr != nil || s.gat != nil {
			var err error
			if s.tr != nil {
				err = e.runTranspose(s.tr, st)
			} else {
				err = e.runGather(s.gat, st)
			}
			if err != nil {
				return nil, err
			}
			if profile {
				segT += time.Since(ts)
			}
		} else if s.fuse != nil {
			if err := e.runFuse(k, s.fuse, st); err != nil {
				return nil, err
			}
			if profile {
				fuseT += time.Since(ts)
			}
		} else {
			if err := e.runDot(s.dot, st); err != nil {
				return nil, err
			}
			if profile {
				dotT += time.Since(ts)
			}
		}
		for _, v := range s.free {
			if b := st.bufs[v]; b != nil && st.owned[v] {
				if err := data.BufferFinalize(b); err != nil {
					return nil, fmt.Errorf("gobackend Execute(%q): freeing an intermediate: %w", e.name, err)
				}
			}
			st.bufs[v] = nil
			st.owned[v] = false
		}
	}
	if profile && kprev >= 0 {
		e.stepNanos[kprev].Add(int64(time.Since(tprev)))
	}
	results := make([]backends.Buffer, len(e.outputs))
	for i, v := range e.outputs {
		b := st.bufs[v]
		if b == nil {
			return nil, fmt.Errorf("gobackend Execute(%q): output #%d was not computed (bug)", e.name, i)
		}
		if st.owned[v] {
			// Handed over; a repeated output gets a copy of it.
			results[i] = b
			st.owned[v] = false
			continue
		}
		c, err := e.copyBuffer(b, e.outputShapes[i])
		if err != nil {
			return nil, err
		}
		results[i] = c
	}
	if profile {
		e.runsCount.Add(1)
		e.segNanos.Add(int64(segT))
		e.dotNanos.Add(int64(dotT))
		e.fuseNanos.Add(int64(fuseT))
		e.otherNanos.Add(int64(time.Since(t0) - segT - dotT - fuseT))
	}
	return results, nil
}

func (e *Executable) copyBuffer(b backends.Buffer, shape shapes.Shape) (backends.Buffer, error) {
	data := e.backend.Backend
	src, err := data.BufferData(b)
	if err != nil {
		return nil, err
	}
	c, dst, err := data.NewSharedBuffer(0, shape)
	if err != nil {
		return nil, err
	}
	reflect.Copy(reflect.ValueOf(dst), reflect.ValueOf(src))
	return c, nil
}

func (e *Executable) runDot(d *dotStep, st *execState) error {
	data := e.backend.Backend
	a, err := data.BufferData(st.bufs[d.lhs])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): product operand: %w", e.name, err)
	}
	b, err := data.BufferData(st.bufs[d.rhs])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): product operand: %w", e.name, err)
	}
	out, c, err := data.NewSharedBuffer(0, d.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): product output: %w", e.name, err)
	}
	p := d.tmpl
	p.A.Data = a.([]float32)
	p.B.Data = b.([]float32)
	p.C.Data = c.([]float32)
	if len(d.outer) == 0 {
		gemm.MulBatch(p)
	} else {
		mulOuter(p, d.outer)
	}
	dotRuns.Add(1)
	st.bufs[d.out] = out
	st.owned[d.out] = true
	return nil
}

// mulOuter runs p once per index of the outer batch groups, shifting the
// operands' offsets.
func mulOuter(p gemm.Batch, outer []batchGroup) {
	if len(outer) == 0 {
		gemm.MulBatch(p)
		return
	}
	if len(outer) == 1 {
		// The innermost loop is gemm's second batch axis: one call.
		g := outer[0]
		p.Outer, p.OuterA, p.OuterB, p.OuterC = g.size, g.sa, g.sb, g.sc
		gemm.MulBatch(p)
		return
	}
	g, rest := outer[0], outer[1:]
	a, b, c := p.A.Offset, p.B.Offset, p.C.Offset
	for i := 0; i < g.size; i++ {
		p.A.Offset, p.B.Offset, p.C.Offset = a+i*g.sa, b+i*g.sb, c+i*g.sc
		mulOuter(p, rest)
	}
}
