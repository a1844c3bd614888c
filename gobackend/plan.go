package gobackend

import (
	"container/heap"
	"fmt"
	"maps"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
)

// step is one unit of execution: a simplego segment, one product, one
// broadcast, one fused element-wise group or one reduction.
type step struct {
	seg  *segment // nil for a product or a broadcast
	dot  *dotStep
	bin  *binStep
	fuse *fuseStep
	red  *redStep
	rng  *rngStep
	tr   *trStep
	gat  *gatherStep
	// free lists the value ids whose last use is this step.
	free []int
}

// segment is a maximal group of ops between products, compiled as one
// simplego executable.
type segment struct {
	exec    backends.Executable
	imports []int // value ids, in the order of the executable's parameters
	exports []int // value ids, in the order of its outputs
	donate  []bool
	numOps  int
	opNames []string // the members' ops, for StepTimes
}

// dotStep is a DotGeneral run on gemm.MulBatch.
type dotStep struct {
	lhs, rhs, out int // value ids
	shape         shapes.Shape
	tmpl          gemm.Batch // strides and sizes; the Data fields are set per run
	// outer are batch axes that do not merge with the inner ones (Count):
	// loops around MulBatch, outermost first.
	outer []batchGroup
}

// batchGroup is a run of batch axes walked with one stride in each operand.
type batchGroup struct{ size, sa, sb, sc int }

// dotPlan is how a product runs: its operands (possibly the sources of
// Transpose and Reshape ops read through strides) and the gemm batch.
type dotPlan struct {
	lhs, rhs *value
	tmpl     gemm.Batch
	outer    []batchGroup
	bin      *binStep // instead, a broadcasting binary op (same inputs)
	// fuse: instead, a fused group (fuse.go) reading ins.
	fuse *fuseStep
	ins  []*value
	red  *redStep    // instead, a reduction (lhs = rhs = its operand)
	rng  *rngStep    // instead, RNGBitGenerator (lhs = rhs = the state)
	tr   *trStep     // instead, a Transpose (lhs = rhs = its operand)
	gat  *gatherStep // instead, a row Gather (lhs = operand, rhs = indices)
}

// isProduct: the plan is a product (staged as early as its inputs allow),
// not one of the other accelerated steps (staged as late as their readers
// allow).
func (p dotPlan) isProduct() bool {
	return p.bin == nil && p.fuse == nil && p.red == nil && p.rng == nil && p.tr == nil && p.gat == nil
}

// operand is a strided view of a value's row-major data.
type operand struct {
	v             *value
	dims, strides []int
}

// viewOf returns v as a view, looking through Reshape (same data) and
// Transpose (permuted strides) ops, so that a product reads their source and
// the copy they make is not needed.
func viewOf(v *value) operand {
	op := plainOf(v)
	for op.v.call != nil && len(op.v.call.inputs) == 1 {
		c, src := op.v.call, op.v.call.inputs[0]
		if src.shape.DType != v.shape.DType || src.shape.Size() != v.shape.Size() {
			break
		}
		switch c.op {
		case "Reshape":
			op.v = src // identical data: the strides hold for the source
			continue
		case "Transpose":
			perm, _ := c.statics[0].([]int)
			if len(perm) != src.shape.Rank() || !slices.Equal(op.dims, op.v.shape.Dimensions) ||
				!slices.Equal(op.strides, rowMajorStrides(op.dims)) {
				break
			}
			ss := rowMajorStrides(src.shape.Dimensions)
			st := make([]int, len(perm))
			for k, p := range perm {
				st[k] = ss[p]
			}
			op = operand{v: src, dims: op.dims, strides: st}
			continue
		}
		break
	}
	return op
}

// mergeAxes merges a list of (dim, stride) axes, outer to inner, into one
// index: it returns the product of the dims and the stride of the merged
// index, or ok=false when they cannot be walked with one stride. Axes of
// dimension 1 are ignored.
func mergeAxes(dims, strides []int) (size, stride int, ok bool) {
	size, stride = 1, 0
	first := true
	for i, d := range dims {
		if d == 1 {
			continue
		}
		if !first && stride != strides[i]*d {
			return 0, 0, false
		}
		first = false
		size *= d
		stride = strides[i]
	}
	return size, stride, true
}

func rowMajorStrides(dims []int) []int {
	s := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= dims[i]
	}
	return s
}

func pick(xs []int, axes []int) []int {
	r := make([]int, len(axes))
	for i, a := range axes {
		r[i] = xs[a]
	}
	return r
}

func freeAxes(rank int, used ...[]int) []int {
	var r []int
	for a := 0; a < rank; a++ {
		in := false
		for _, u := range used {
			if slices.Contains(u, a) {
				in = true
			}
		}
		if !in {
			r = append(r, a)
		}
	}
	return r
}

// planDot returns how a recorded DotGeneral or Dot runs on gemm, or ok=false
// when it stays on simplego (not float32, too small, free or contracting axes
// not expressible as one stride each). It first tries to read the operands
// through the Transpose and Reshape ops that produced them.
func (b *Builder) planDot(c *call) (dotPlan, bool) {
	if len(c.inputs) != 2 || len(c.outputs) != 1 {
		return dotPlan{}, false
	}
	l, r := viewOf(c.inputs[0]), viewOf(c.inputs[1])
	if p, ok := b.planDotOn(c, l, r); ok {
		return p, true
	}
	if l.v != c.inputs[0] || r.v != c.inputs[1] {
		return b.planDotOn(c, plainOf(c.inputs[0]), plainOf(c.inputs[1]))
	}
	return dotPlan{}, false
}

// plainOf returns v itself as an operand (no looking through).
func plainOf(v *value) operand {
	return operand{v: v, dims: v.shape.Dimensions, strides: rowMajorStrides(v.shape.Dimensions)}
}

func (b *Builder) planDotOn(c *call, l, r operand) (dotPlan, bool) {
	lhs, rhs, out := c.inputs[0].shape, c.inputs[1].shape, c.outputs[0].shape
	var lc, lb, rc, rb []int
	switch {
	case c.op == "DotGeneral" && len(c.statics) == 4:
		lc, _ = c.statics[0].([]int)
		lb, _ = c.statics[1].([]int)
		rc, _ = c.statics[2].([]int)
		rb, _ = c.statics[3].([]int)
	case c.op == "Dot" && lhs.Rank() >= 1 && lhs.Rank() <= 2 && rhs.Rank() >= 1 && rhs.Rank() <= 2:
		// Dot (graph.MatMul of two matrices): the last axis of lhs with the first of rhs.
		lc, rc = []int{lhs.Rank() - 1}, []int{0}
	default:
		return dotPlan{}, false
	}
	if lhs.DType != dtypes.Float32 || rhs.DType != dtypes.Float32 || out.DType != dtypes.Float32 ||
		l.v.shape.DType != dtypes.Float32 || r.v.shape.DType != dtypes.Float32 {
		return dotPlan{}, false
	}
	if lhs.Size() == 0 || rhs.Size() == 0 || out.Size() == 0 || len(lb) != len(rb) {
		return dotPlan{}, false
	}
	ld, rd, ls, rs := l.dims, r.dims, l.strides, r.strides
	lf, rf := freeAxes(len(ld), lc, lb), freeAxes(len(rd), rc, rb)
	// The output is [batch..., lhs free..., rhs free...], row-major.
	want := append(append(pick(ld, lb), pick(ld, lf)...), pick(rd, rf)...)
	if !slices.Equal(want, out.Dimensions) {
		return dotPlan{}, false
	}
	m, amr, ok3 := mergeAxes(pick(ld, lf), pick(ls, lf))
	k, amc, ok4 := mergeAxes(pick(ld, lc), pick(ls, lc))
	_, bkr, ok5 := mergeAxes(pick(rd, rc), pick(rs, rc))
	n, bnc, ok6 := mergeAxes(pick(rd, rf), pick(rs, rf))
	if !(ok3 && ok4 && ok5 && ok6) || !slices.Equal(pick(ld, lc), pick(rd, rc)) {
		return dotPlan{}, false
	}
	// Batch axes: groups that merge in both operands (the output is
	// contiguous); the innermost group is the gemm batch, the others loops.
	os := rowMajorStrides(out.Dimensions)
	var groups []batchGroup
	count := 1
	for i := range lb {
		d := ld[lb[i]]
		if d == 1 {
			continue
		}
		count *= d
		g := batchGroup{size: d, sa: ls[lb[i]], sb: rs[rb[i]], sc: os[i]}
		if n := len(groups); n > 0 {
			last := &groups[n-1]
			if last.sa == g.sa*d && last.sb == g.sb*d && last.sc == g.sc*d {
				last.size *= d
				last.sa, last.sb, last.sc = g.sa, g.sb, g.sc
				continue
			}
		}
		groups = append(groups, g)
	}
	if 2*count*m*n*k < b.backend.minDotFlops {
		return dotPlan{}, false
	}
	inner := batchGroup{size: 1}
	if len(groups) > 0 {
		inner, groups = groups[len(groups)-1], groups[:len(groups)-1]
	}
	return dotPlan{
		lhs: l.v, rhs: r.v, outer: groups,
		tmpl: gemm.Batch{
			Count: inner.size, M: m, N: n, K: k,
			A:       gemm.Operand{RowStride: amr, ColStride: amc},
			B:       gemm.Operand{RowStride: bkr, ColStride: bnc},
			C:       gemm.Out{Stride: n},
			StrideA: inner.sa, StrideB: inner.sb, StrideC: inner.sc,
		},
	}, true
}

// Compile implements backends.Builder: it splits the recorded graph into
// products (run on gemm) and segments (compiled on simplego).
func (b *Builder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	if b.compiled {
		return nil, fmt.Errorf("gobackend Compile: builder %q already compiled", b.name)
	}
	if len(shardings) != 0 {
		return nil, fmt.Errorf("gobackend Compile: sharding is not supported")
	}
	outs := make([]*value, len(outputs))
	for i, o := range outputs {
		v, err := b.toValue(o, "Compile")
		if err != nil {
			return nil, err
		}
		outs[i] = v
	}
	b.compiled = true

	// Liveness and consumers; a product planned on gemm reads its planned
	// operands (maybe the sources of a Transpose or Reshape, then not needed).
	nv := len(b.values)
	isOutput := make([]bool, nv)
	for _, v := range outs {
		isOutput[v.id] = true
	}
	dots := make(map[int]dotPlan)
	inputsOf := func(c *call) []*value {
		if p, ok := dots[c.id]; ok {
			if p.fuse != nil {
				return p.ins
			}
			return []*value{p.lhs, p.rhs}
		}
		return c.inputs
	}
	// calls is b.calls with each fused group replaced by one call (at the
	// place of its last member; the other members are nil), and producer
	// the call that computes a value.
	calls := b.calls
	fusedInto := make(map[int]*call)
	producer := func(v *value) *call {
		if v.call == nil {
			return nil
		}
		if f, ok := fusedInto[v.call.id]; ok {
			return f
		}
		return v.call
	}
	var live []bool
	var consumers [][]*call
	liveness := func() {
		live = make([]bool, len(b.calls))
		consumers = make([][]*call, nv)
		var mark func(v *value)
		mark = func(v *value) {
			c := producer(v)
			if c == nil || live[c.id] {
				return
			}
			live[c.id] = true
			for _, in := range inputsOf(c) {
				consumers[in.id] = append(consumers[in.id], c)
				mark(in)
			}
		}
		for _, v := range outs {
			mark(v)
		}
	}
	liveness()
	for _, c := range b.calls {
		if live[c.id] {
			if p, ok := b.planDot(c); ok {
				dots[c.id] = p
			} else if bs, ok := b.planBinary(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[1], bin: bs}
			} else if bs, ok := b.planBroadcastInDim(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[0], bin: bs}
			} else if rs, ok := b.planReduce(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[0], red: rs}
			} else if rs, ok := b.planRNG(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[0], rng: rs}
			} else if ts, ok := b.planTranspose(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[0], tr: ts}
			} else if ts, ok := b.planSlice(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[0], tr: ts}
			} else if gs, ok := b.planGather(c); ok {
				dots[c.id] = dotPlan{lhs: c.inputs[0], rhs: c.inputs[1], gat: gs}
			}
		}
	}
	liveness()
	if groups := b.planFusion(live, consumers, isOutput); len(groups) > 0 {
		unfusedDots := maps.Clone(dots)
		calls = slices.Clone(b.calls)
		member := make(map[int]bool)
		for _, g := range groups {
			for _, c := range g.members {
				member[c.id] = true
			}
		}
		for _, g := range groups {
			inGroup := func(c *call) bool { return slices.Contains(g.members, c) }
			fs := buildFuse(g, consumers, isOutput, inGroup, func(c *call) bool { return member[c.id] })
			lastM := g.members[len(g.members)-1]
			fc := &call{id: lastM.id, op: "Fused"}
			for _, in := range fs.inputs {
				fc.inputs = append(fc.inputs, b.values[in.vid])
			}
			for _, o := range fs.outs {
				fc.outputs = append(fc.outputs, b.values[o.vid])
			}
			for _, c := range g.members {
				delete(dots, c.id)
				calls[c.id] = nil
				fusedInto[c.id] = fc
			}
			calls[lastM.id] = fc
			dots[fc.id] = dotPlan{fuse: fs, ins: fc.inputs}
		}
		liveness()
		var ok bool
		if calls, ok = topoOrder(calls, live, consumers, inputsOf, producer); !ok {
			// A cycle through a group would be a bug of planFusion; run unfused.
			calls, dots = b.calls, unfusedDots
			clear(fusedInto)
			liveness()
		}
	}

	if len(dots) == 0 {
		// Nothing to accelerate: the shadow graph is the whole program.
		shadowOuts := make([]backends.Op, len(outs))
		for i, v := range outs {
			shadowOuts[i] = v.shadow
		}
		return b.shadow.Compile(shadowOuts, nil)
	}

	// Stages: a product runs at the earliest stage its inputs allow (ASAP)
	// (then broadcast steps are moved to the latest, like other ops);
	// its output is available from the next stage on. Other ops go to the
	// latest segment their consumers allow (ALAP), which keeps values alive
	// for less time.
	vstage := make([]int, nv)
	cstage := make([]int, len(b.calls))
	last := 0
	for _, c := range calls {
		if c == nil || !live[c.id] {
			continue
		}
		s := 0
		for _, in := range inputsOf(c) {
			s = max(s, vstage[in.id])
		}
		cstage[c.id] = s
		os := s
		if _, ok := dots[c.id]; ok {
			os = s + 1
		}
		for _, o := range c.outputs {
			vstage[o.id] = os
		}
		last = max(last, os)
	}
	seg := make([]int, len(b.calls))
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		if c == nil || !live[c.id] {
			continue
		}
		p, acc := dots[c.id]
		if acc && p.isProduct() {
			seg[c.id] = cstage[c.id]
			continue
		}
		// The latest stage the consumers allow. A broadcast step (run after
		// segment s, like a product) must run before the segments that read
		// it and may share the stage of an accelerated reader recorded later.
		s := last
		for _, o := range c.outputs {
			for _, u := range consumers[o.id] {
				if _, ok := dots[u.id]; ok {
					s = min(s, cstage[u.id])
				} else if acc {
					s = min(s, seg[u.id]-1)
				} else {
					s = min(s, seg[u.id])
				}
			}
		}
		if acc {
			cstage[c.id] = max(s, cstage[c.id])
		}
		seg[c.id] = max(s, cstage[c.id])
	}

	e := &Executable{backend: b.backend, name: b.name, numValues: nv, outputs: make([]int, len(outs))}
	e.params = make([]int, len(b.params))
	e.paramShapes = make([]shapes.Shape, len(b.params))
	e.paramNames = make([]string, len(b.params))
	for i, p := range b.params {
		e.params[i] = p.id
		e.paramShapes[i] = p.shape
		e.paramNames[i] = p.name
	}
	for i, v := range outs {
		e.outputs[i] = v.id
		e.outputShapes = append(e.outputShapes, v.shape)
	}

	// needed[v]: v is read by a later step or is a graph output.
	neededOutside := func(v *value, segIdx int) bool {
		if isOutput[v.id] {
			return true
		}
		for _, u := range consumers[v.id] {
			if _, ok := dots[u.id]; ok {
				return true
			}
			if seg[u.id] != segIdx && (v.call == nil || v.call.op != "Constant") {
				return true
			}
		}
		return false
	}

	for s := 0; s <= last; s++ {
		var members []*call
		for _, c := range calls {
			if c == nil {
				continue
			}
			if _, ok := dots[c.id]; live[c.id] && !ok && seg[c.id] == s {
				members = append(members, c)
			}
		}
		if len(members) > 0 {
			sg, err := b.buildSegment(fmt.Sprintf("%s#%d", b.name, len(e.steps)), s, members, seg, neededOutside)
			if err != nil {
				e.Finalize()
				return nil, err
			}
			if sg != nil {
				e.steps = append(e.steps, step{seg: sg})
				e.numSegments++
			}
		}
		for _, c := range calls {
			if c == nil {
				continue
			}
			if !live[c.id] {
				continue // e.g. a Transpose that products read through strides
			}
			if p, ok := dots[c.id]; ok && cstage[c.id] == s && p.rng != nil {
				e.steps = append(e.steps, step{rng: p.rng})
				e.numReds++
			} else if ok && cstage[c.id] == s && p.red != nil {
				e.steps = append(e.steps, step{red: p.red})
				e.numReds++
			} else if ok && cstage[c.id] == s && p.tr != nil {
				e.steps = append(e.steps, step{tr: p.tr})
				e.numTrans++
			} else if ok && cstage[c.id] == s && p.gat != nil {
				e.steps = append(e.steps, step{gat: p.gat})
				e.numTrans++
			} else if ok && cstage[c.id] == s && p.fuse != nil {
				e.steps = append(e.steps, step{fuse: p.fuse})
				e.numFused++
				e.numFusedOps += p.fuse.numOps
			} else if ok && cstage[c.id] == s && p.bin != nil {
				e.steps = append(e.steps, step{bin: p.bin})
				e.numBins++
			} else if ok && cstage[c.id] == s {
				e.steps = append(e.steps, step{dot: &dotStep{
					lhs: p.lhs.id, rhs: p.rhs.id, out: c.outputs[0].id,
					shape: c.outputs[0].shape, tmpl: p.tmpl, outer: p.outer,
				}})
				e.numDots++
			}
		}
	}
	e.finishPlan()
	return e, nil
}

// topoOrder returns the live calls in a topological order that keeps the
// recording order where it can (Kahn's algorithm, smallest id first): a fused
// group's call sits at its last member's id, but a reader of one of its
// exports may have been recorded before that member. ok is false when some
// calls are left (a cycle).
func topoOrder(calls []*call, live []bool, consumers [][]*call, inputsOf func(*call) []*value,
	producer func(*value) *call) ([]*call, bool) {
	pending := make(map[*call]int)
	var ready callHeap
	for _, c := range calls {
		if c == nil || !live[c.id] {
			continue
		}
		n := 0
		for _, in := range inputsOf(c) {
			if p := producer(in); p != nil && live[p.id] {
				n++
			}
		}
		if n == 0 {
			heap.Push(&ready, c)
		} else {
			pending[c] = n
		}
	}
	var order []*call
	for ready.Len() > 0 {
		c := heap.Pop(&ready).(*call)
		order = append(order, c)
		for _, o := range c.outputs {
			for _, u := range consumers[o.id] {
				if pending[u]--; pending[u] == 0 {
					delete(pending, u)
					heap.Push(&ready, u)
				}
			}
		}
	}
	return order, len(pending) == 0
}

// callHeap orders calls by id (container/heap).
type callHeap []*call

func (h callHeap) Len() int           { return len(h) }
func (h callHeap) Less(i, j int) bool { return h[i].id < h[j].id }
func (h callHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *callHeap) Push(x any)        { *h = append(*h, x.(*call)) }
func (h *callHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// buildSegment compiles the members (in recording order) as one simplego
// executable; values from outside become its parameters, and the values that
// later steps or the graph outputs need become its outputs. Constants are
// rebuilt in each segment that reads them instead of being passed around.
func (b *Builder) buildSegment(name string, segIdx int, members []*call, seg []int,
	neededOutside func(*value, int) bool) (*segment, error) {
	sb := b.backend.Backend.Builder(name)
	local := make(map[int]backends.Op)
	sg := &segment{numOps: len(members)}
	for _, m := range members {
		sg.opNames = append(sg.opNames, m.op)
	}
	var resolve func(v *value) (backends.Op, error)
	resolve = func(v *value) (backends.Op, error) {
		if op, ok := local[v.id]; ok {
			return op, nil
		}
		if v.call != nil && v.call.op == "Constant" {
			outs, err := v.call.replay(sb, nil)
			if err != nil {
				return nil, err
			}
			local[v.id] = outs[0]
			return outs[0], nil
		}
		op, err := sb.Parameter(fmt.Sprintf("v%d", v.id), v.shape, nil)
		if err != nil {
			return nil, err
		}
		local[v.id] = op
		sg.imports = append(sg.imports, v.id)
		return op, nil
	}
	var exportOps []backends.Op
	for _, c := range members {
		if c.op == "Constant" && !slices.ContainsFunc(c.outputs, func(v *value) bool { return neededOutside(v, segIdx) }) {
			continue // rebuilt where it is read
		}
		in := make([]backends.Op, len(c.inputs))
		for i, v := range c.inputs {
			op, err := resolve(v)
			if err != nil {
				return nil, fmt.Errorf("gobackend: segment %s: %w", name, err)
			}
			in[i] = op
		}
		outs, err := c.replay(sb, in)
		if err != nil {
			return nil, fmt.Errorf("gobackend: segment %s, replaying %s: %w", name, c.op, err)
		}
		for i, v := range c.outputs {
			local[v.id] = outs[i]
			if neededOutside(v, segIdx) {
				sg.exports = append(sg.exports, v.id)
				exportOps = append(exportOps, outs[i])
			}
		}
	}
	if len(exportOps) == 0 {
		return nil, nil
	}
	exec, err := sb.Compile(exportOps, nil)
	if err != nil {
		return nil, fmt.Errorf("gobackend: compiling segment %s: %w", name, err)
	}
	sg.exec = exec
	sg.donate = make([]bool, len(sg.imports))
	return sg, nil
}

// describe says what a step is, for StepTimes.
func (s *step) describe() (kind, what string) {
	switch {
	case s.seg != nil:
		return "segment", fmt.Sprintf("%d ops %v", s.seg.numOps, s.seg.opNames)
	case s.dot != nil:
		p := s.dot.tmpl
		return "product", fmt.Sprintf("%dx%dx%dx%d (batch x M x N x K)", p.Count, p.M, p.N, p.K)
	case s.fuse != nil:
		ops := make([]string, len(s.fuse.instrs))
		for i, in := range s.fuse.instrs {
			ops[i] = in.op.String()
		}
		return "fused", fmt.Sprintf("%v %v, %d inputs, %d exports", s.fuse.dims, ops, len(s.fuse.inputs), len(s.fuse.outs))
	case s.red != nil:
		return "reduce", fmt.Sprintf("%s [%d %d %d] -> %v", s.red.op, s.red.outer, s.red.red, s.red.inner, s.red.shape.Dimensions)
	case s.tr != nil:
		return "transpose", fmt.Sprintf("%v strides %v -> %v", s.tr.dims, s.tr.strides, s.tr.shape.Dimensions)
	case s.gat != nil:
		return "gather", fmt.Sprintf("%d rows of [%d %d] -> %v", s.gat.shape.Size()/max(1, s.gat.width), s.gat.rows, s.gat.width, s.gat.shape.Dimensions)
	case s.bin != nil:
		return "broadcast", fmt.Sprintf("%c %v", s.bin.op, s.bin.shape.Dimensions)
	case s.rng != nil:
		return "rng", fmt.Sprint(s.rng.shape)
	}
	return "?", ""
}
