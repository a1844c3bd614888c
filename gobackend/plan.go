package gobackend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"

	"github.com/aptbench/apt/gobackend/gemm"
)

// step is one unit of execution: a simplego segment or one product.
type step struct {
	seg *segment // nil for a product
	dot *dotStep
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
}

// dotStep is a DotGeneral run on gemm.MulBatch.
type dotStep struct {
	lhs, rhs, out int // value ids
	shape         shapes.Shape
	tmpl          gemm.Batch // strides and sizes; the Data fields are set per run
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

// planDot returns the gemm batch for a recorded DotGeneral or Dot, or ok=false when
// it stays on simplego (not float32, too small, axes not expressible as one
// stride each).
func (b *Builder) planDot(c *call) (gemm.Batch, bool) {
	if len(c.inputs) != 2 || len(c.outputs) != 1 {
		return gemm.Batch{}, false
	}
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
		return gemm.Batch{}, false
	}
	if lhs.DType != dtypes.Float32 || rhs.DType != dtypes.Float32 || out.DType != dtypes.Float32 {
		return gemm.Batch{}, false
	}
	if lhs.Size() == 0 || rhs.Size() == 0 || out.Size() == 0 {
		return gemm.Batch{}, false
	}
	ld, rd := lhs.Dimensions, rhs.Dimensions
	ls, rs := rowMajorStrides(ld), rowMajorStrides(rd)
	lf, rf := freeAxes(len(ld), lc, lb), freeAxes(len(rd), rc, rb)
	// The output is [batch..., lhs free..., rhs free...], row-major.
	want := append(append(pick(ld, lb), pick(ld, lf)...), pick(rd, rf)...)
	if !slices.Equal(want, out.Dimensions) {
		return gemm.Batch{}, false
	}
	count, sa, ok1 := mergeAxes(pick(ld, lb), pick(ls, lb))
	_, sb, ok2 := mergeAxes(pick(rd, rb), pick(rs, rb))
	m, amr, ok3 := mergeAxes(pick(ld, lf), pick(ls, lf))
	k, amc, ok4 := mergeAxes(pick(ld, lc), pick(ls, lc))
	_, bkr, ok5 := mergeAxes(pick(rd, rc), pick(rs, rc))
	n, bnc, ok6 := mergeAxes(pick(rd, rf), pick(rs, rf))
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return gemm.Batch{}, false
	}
	if 2*count*m*n*k < b.backend.minDotFlops {
		return gemm.Batch{}, false
	}
	return gemm.Batch{
		Count: count, M: m, N: n, K: k,
		A:       gemm.Operand{RowStride: amr, ColStride: amc},
		B:       gemm.Operand{RowStride: bkr, ColStride: bnc},
		C:       gemm.Out{Stride: n},
		StrideA: sa, StrideB: sb, StrideC: m * n,
	}, true
}

// Compile implements backends.Builder: it splits the recorded graph into
// products (run on gemm) and segments (compiled on simplego).
func (b *Builder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	if b.compiled {
		return nil, errors.Errorf("gobackend Compile: builder %q already compiled", b.name)
	}
	if len(shardings) != 0 {
		return nil, errors.Errorf("gobackend Compile: sharding is not supported")
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

	// Liveness and consumers.
	nv := len(b.values)
	live := make([]bool, len(b.calls))
	consumers := make([][]*call, nv)
	isOutput := make([]bool, nv)
	var mark func(v *value)
	mark = func(v *value) {
		if v.call == nil || live[v.call.id] {
			return
		}
		live[v.call.id] = true
		for _, in := range v.call.inputs {
			consumers[in.id] = append(consumers[in.id], v.call)
			mark(in)
		}
	}
	for _, v := range outs {
		isOutput[v.id] = true
		mark(v)
	}

	// Which products go to gemm.
	dots := make(map[int]gemm.Batch)
	for _, c := range b.calls {
		if live[c.id] {
			if t, ok := b.planDot(c); ok {
				dots[c.id] = t
			}
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

	// Stages: a product runs at the earliest stage its inputs allow (ASAP);
	// its output is available from the next stage on. Other ops go to the
	// latest segment their consumers allow (ALAP), which keeps values alive
	// for less time.
	vstage := make([]int, nv)
	cstage := make([]int, len(b.calls))
	last := 0
	for _, c := range b.calls {
		if !live[c.id] {
			continue
		}
		s := 0
		for _, in := range c.inputs {
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
	for i := len(b.calls) - 1; i >= 0; i-- {
		c := b.calls[i]
		if !live[c.id] {
			continue
		}
		if _, ok := dots[c.id]; ok {
			seg[c.id] = cstage[c.id]
			continue
		}
		s := last
		for _, o := range c.outputs {
			for _, u := range consumers[o.id] {
				if _, ok := dots[u.id]; ok {
					s = min(s, cstage[u.id])
				} else {
					s = min(s, seg[u.id])
				}
			}
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
		for _, c := range b.calls {
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
		for _, c := range b.calls {
			if t, ok := dots[c.id]; ok && cstage[c.id] == s {
				e.steps = append(e.steps, step{dot: &dotStep{
					lhs: c.inputs[0].id, rhs: c.inputs[1].id, out: c.outputs[0].id,
					shape: c.outputs[0].shape, tmpl: t,
				}})
				e.numDots++
			}
		}
	}
	e.finishPlan()
	return e, nil
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
				return nil, errors.WithMessagef(err, "gobackend: segment %s", name)
			}
			in[i] = op
		}
		outs, err := c.replay(sb, in)
		if err != nil {
			return nil, errors.WithMessagef(err, "gobackend: segment %s, replaying %s", name, c.op)
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
		return nil, errors.WithMessagef(err, "gobackend: compiling segment %s", name)
	}
	sg.exec = exec
	sg.donate = make([]bool, len(sg.imports))
	return sg, nil
}
