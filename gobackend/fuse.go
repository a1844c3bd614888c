package gobackend

import (
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Element-wise fusion: at Compile, maximal groups of float32 element-wise ops
// that share one output shape (bias add + GELU, the LayerNorm pieces, the
// softmax's exp and scaling, dropout's mask, AdamW's update...) become one
// fuseStep, run in one pass over chunks of the output (fuse_exec.go) instead
// of one simplego op (and one buffer) per op.
//
// A group member is a call recorded on float32 operands whose output has the
// group's dimensions: the unary and binary ops of fuseUnary and fuseBinary,
// the comparisons of fuseCompare (bool output, kept as a 0/1 mask), Where,
// ConvertDType to float32, Identity and BroadcastInDim. An operand that is not
// a member (an external input) is either of the group's shape, or broadcast
// to it (dimensions of 1, rank 0, or the operand of a BroadcastInDim member),
// read in place through strides; a size-1 Constant is folded in as an
// immediate. Values that anything outside the group reads (or graph outputs)
// are written to buffers (the group's exports); the others live only in
// per-chunk registers.
//
// Groups are grown in recording order (a topological order): a call joins the
// group of one of its member inputs only if none of its other inputs depends
// on that group, so a group never has a path that leaves it and comes back
// (the softmax's exp, its ReduceSum and the division by the sum are two
// groups, not one), and it can run as one step.

// fuseUnary are the unary ops a group runs, with simplego's float32 arithmetic.
var fuseUnary = map[string]fop{
	"Neg": opNeg, "Abs": opAbs, "Sign": opSign, "Exp": opExp, "Expm1": opExpm1, "Log": opLog,
	"Log1p": opLog1p, "Floor": opFloor, "Ceil": opCeil, "Round": opRound, "Rsqrt": opRsqrt,
	"Sqrt": opSqrt, "Logistic": opLogistic, "Tanh": opTanh, "Erf": opErf, "Identity": opCopy,
}

// fuseBinary are the binary float32 ops.
var fuseBinary = map[string]fop{
	"Add": opAdd, "Sub": opSub, "Mul": opMul, "Div": opDiv, "Max": opMax, "Min": opMin, "Pow": opPow,
}

// fuseCompare are the comparisons of two float32 operands (bool output).
var fuseCompare = map[string]fop{
	"LessThan": opLT, "LessOrEqual": opLE, "GreaterThan": opGT, "GreaterOrEqual": opGE,
	"Equal": opEQ, "NotEqual": opNE,
}

// fuseGroup is a group being planned.
type fuseGroup struct {
	id      int
	dims    []int
	members []*call
}

// planFusion finds the groups among the live calls. consumers and isOutput
// are the current liveness; dots the steps already planned (a member that was
// planned as a broadcast step is taken over by its group). It returns the
// groups worth running fused (see worthFusing).
func (b *Builder) planFusion(live []bool, consumers [][]*call, isOutput []bool) []*fuseGroup {
	nv := len(b.values)
	groupOf := make([]int, len(b.calls)) // group id + 1, 0: none
	var groups []*fuseGroup
	// dep[v]: the groups value v depends on (its own included), as a bit set.
	dep := make([][]uint64, nv)
	orInto := func(dst []uint64, src []uint64) []uint64 {
		if len(src) > len(dst) {
			dst = append(dst, make([]uint64, len(src)-len(dst))...)
		}
		for i, w := range src {
			dst[i] |= w
		}
		return dst
	}
	has := func(set []uint64, g int) bool { return g/64 < len(set) && set[g/64]&(1<<(g%64)) != 0 }
	for _, c := range b.calls {
		// Dependencies are carried through every call, live or not: a product
		// reads the source of a Transpose that is no longer live, and the
		// dependency must not be lost on the way.
		var d []uint64
		for _, in := range c.inputs {
			d = orInto(d, dep[in.id])
		}
		if dims, ok := b.fusable(c); ok && live[c.id] {
			// Join the group of a member input, if no other input depends on it.
			join := -1
			for _, in := range c.inputs {
				if in.call == nil || groupOf[in.call.id] == 0 {
					continue
				}
				g := groupOf[in.call.id] - 1
				if !slices.Equal(groups[g].dims, dims) {
					continue
				}
				var bad []uint64
				for _, u := range c.inputs {
					if u.call == nil || groupOf[u.call.id]-1 != g {
						bad = orInto(bad, dep[u.id])
					}
				}
				if !has(bad, g) {
					join = g
					break
				}
			}
			if join < 0 {
				join = len(groups)
				groups = append(groups, &fuseGroup{id: join, dims: dims})
			}
			groups[join].members = append(groups[join].members, c)
			groupOf[c.id] = join + 1
			need := join/64 + 1
			if len(d) < need {
				d = append(d, make([]uint64, need-len(d))...)
			}
			d[join/64] |= 1 << (join % 64)
		}
		for _, o := range c.outputs {
			dep[o.id] = d
		}
	}
	var used []*fuseGroup
	for _, g := range groups {
		if b.worthFusing(g) {
			used = append(used, g)
		}
	}
	return used
}

// worthFusing: a group runs fused when its output has at least minFuse
// elements and it does more than broadcasting (a lone BroadcastInDim or
// Identity is better left to the broadcast step or to simplego).
func (b *Builder) worthFusing(g *fuseGroup) bool {
	size := 1
	for _, d := range g.dims {
		size *= d
	}
	if size < b.backend.minFuse || b.backend.minFuse < 0 {
		return false
	}
	for _, c := range g.members {
		if c.op != "BroadcastInDim" && c.op != "Identity" {
			return true
		}
	}
	return false
}

// fusable reports whether c can be a member of a group, and the group's
// dimensions (c's output dimensions).
func (b *Builder) fusable(c *call) ([]int, bool) {
	if len(c.outputs) != 1 {
		return nil, false
	}
	out := c.outputs[0].shape
	if out.Rank() == 0 || out.Size() < max(b.backend.minFuse, 1) {
		return nil, false
	}
	isF32 := func(i int) bool { return c.inputs[i].shape.DType == dtypes.Float32 }
	compatible := func(i int) bool { // same dims, rank 0, or dims of 1
		s := c.inputs[i].shape
		if s.Rank() == 0 {
			return true
		}
		if s.Rank() != out.Rank() {
			return false
		}
		for k, d := range s.Dimensions {
			if d != 1 && d != out.Dimensions[k] {
				return false
			}
		}
		return true
	}
	switch {
	case fuseUnary[c.op] != 0:
		if len(c.inputs) != 1 || !isF32(0) || out.DType != dtypes.Float32 || !compatible(0) ||
			c.inputs[0].shape.Size() != out.Size() {
			return nil, false
		}
	case fuseBinary[c.op] != 0 || fuseCompare[c.op] != 0:
		want := dtypes.Float32
		if fuseCompare[c.op] != 0 {
			want = dtypes.Bool
		}
		if len(c.inputs) != 2 || !isF32(0) || !isF32(1) || out.DType != want || !compatible(0) || !compatible(1) {
			return nil, false
		}
	case c.op == "Where":
		if len(c.inputs) != 3 || c.inputs[0].shape.DType != dtypes.Bool || !isF32(1) || !isF32(2) ||
			out.DType != dtypes.Float32 || !compatible(0) || !compatible(1) || !compatible(2) {
			return nil, false
		}
		// simplego's Where takes the condition and each value whole or as a scalar.
		for i := range 3 {
			if s := c.inputs[i].shape; s.Size() != 1 && s.Size() != out.Size() {
				return nil, false
			}
		}
	case c.op == "ConvertDType":
		if len(c.inputs) != 1 || out.DType != dtypes.Float32 || c.inputs[0].shape.Size() != out.Size() {
			return nil, false
		}
		switch c.inputs[0].shape.DType {
		case dtypes.Float32, dtypes.Uint32, dtypes.Int32:
		default:
			return nil, false
		}
	case c.op == "BroadcastInDim":
		if len(c.inputs) != 1 || !isF32(0) || out.DType != dtypes.Float32 || len(c.statics) != 2 {
			return nil, false
		}
		if _, ok := broadcastStrides(c); !ok {
			return nil, false
		}
		// Increasing axes only: a transposing broadcast of a member could not
		// be read element-wise (it stays a broadcast step).
		if axes, _ := c.statics[1].([]int); !slices.IsSorted(axes) {
			return nil, false
		}
	default:
		return nil, false
	}
	return out.Dimensions, true
}

// broadcastStrides returns, for a BroadcastInDim call, the stride of its
// operand along each output axis (0 where broadcast).
func broadcastStrides(c *call) ([]int, bool) {
	x, out := c.inputs[0].shape, c.outputs[0].shape
	axes, _ := c.statics[1].([]int)
	if len(axes) != x.Rank() {
		return nil, false
	}
	xs := rowMajorStrides(x.Dimensions)
	strides := make([]int, out.Rank())
	for i, a := range axes {
		if a < 0 || a >= out.Rank() || (x.Dimensions[i] != 1 && x.Dimensions[i] != out.Dimensions[a]) {
			return nil, false
		}
		if x.Dimensions[i] != 1 {
			strides[a] = xs[i]
		}
	}
	return strides, true
}

// scalarConstant returns the value of a float32 Constant of one element.
func scalarConstant(v *value) (float32, bool) {
	if v.call == nil || v.call.op != "Constant" || v.shape.DType != dtypes.Float32 || v.shape.Size() != 1 ||
		len(v.call.statics) < 1 {
		return 0, false
	}
	flat, ok := v.call.statics[0].([]float32)
	if !ok || len(flat) != 1 {
		return 0, false
	}
	return flat[0], true
}

// buildFuse compiles a group to its program: external inputs, immediates,
// instructions (one per member, in recording order) and exports.
//
// An external input made by a BroadcastInDim of a float32 operand that no
// group takes (member reports the calls of every group) is read from that
// operand through the broadcast's strides, or folded in when the operand is a
// one-element Constant: the broadcast is then not materialized unless
// something else reads it (autodiff broadcasts scalar constants, 0 and 1, to
// whole activations; each was a buffer written and read again).
func buildFuse(g *fuseGroup, consumers [][]*call, isOutput []bool, inGroup, member func(*call) bool) *fuseStep {
	fs := &fuseStep{dims: g.dims}
	size := 1
	for _, d := range g.dims {
		size *= d
	}
	fs.size = size
	slot := make(map[int]int) // value id -> slot
	// Slots: inputs first (in order of appearance), then immediates, then results.
	var imms []float32
	var ins []fuseInput
	inputSlot := func(v *value, strides []int) int {
		key := v.id
		if strides != nil {
			key = -1 - v.id // a broadcast read is a different slot than a plain one
		}
		if s, ok := slot[key]; ok {
			return s
		}
		var in fuseInput
		in.vid = v.id
		in.dtype = v.shape.DType
		switch {
		case v.shape.Size() == 1:
			in.kind = inScalar
		case strides == nil && v.shape.Size() == size:
			in.kind = inFlat
		default:
			in.kind = inStrided
			if strides == nil {
				strides = rowMajorStrides(v.shape.Dimensions)
				if len(v.shape.Dimensions) == len(g.dims) {
					for k, d := range v.shape.Dimensions {
						if d == 1 {
							strides[k] = 0
						}
					}
				}
			}
			in.dims, in.strides = mergeStrided(g.dims, strides)
		}
		ins = append(ins, in)
		s := -len(ins) // inputs are numbered -1, -2, ... until the layout is final
		slot[key] = s
		return s
	}
	immSlot := func(x float32) int {
		imms = append(imms, x)
		return -1000000 - (len(imms) - 1)
	}
	operand := func(v *value) int {
		if v.call != nil && inGroup(v.call) {
			return slot[v.id]
		}
		if x, ok := scalarConstant(v); ok {
			return immSlot(x)
		}
		if c := v.call; c != nil && c.op == "BroadcastInDim" && !member(c) && len(c.inputs) == 1 && len(c.statics) == 2 &&
			c.inputs[0].shape.DType == dtypes.Float32 && v.shape.DType == dtypes.Float32 && slices.Equal(v.shape.Dimensions, g.dims) {
			src := c.inputs[0]
			if x, ok := scalarConstant(src); ok {
				return immSlot(x)
			}
			if st, ok := broadcastStrides(c); ok && (src.call == nil || !inGroup(src.call)) {
				return inputSlot(src, st)
			}
		}
		return inputSlot(v, nil)
	}
	var instrs []finstr
	for _, c := range g.members {
		var in fins
		var op fop
		switch {
		case fuseUnary[c.op] != 0:
			op = fuseUnary[c.op]
			in = fins{operand(c.inputs[0])}
		case fuseBinary[c.op] != 0:
			op = fuseBinary[c.op]
			in = fins{operand(c.inputs[0]), operand(c.inputs[1])}
		case fuseCompare[c.op] != 0:
			op = fuseCompare[c.op]
			in = fins{operand(c.inputs[0]), operand(c.inputs[1])}
		case c.op == "Where":
			op = opSelect
			in = fins{operand(c.inputs[0]), operand(c.inputs[1]), operand(c.inputs[2])}
		case c.op == "ConvertDType":
			op = opCopy // the conversion happens when the input is loaded
			in = fins{operand(c.inputs[0])}
		case c.op == "BroadcastInDim":
			op = opCopy
			src := c.inputs[0]
			if x, ok := scalarConstant(src); ok {
				in = fins{immSlot(x)}
			} else if src.call != nil && inGroup(src.call) {
				in = fins{slot[src.id]} // same size: a plain copy
			} else {
				st, _ := broadcastStrides(c)
				in = fins{inputSlot(src, st)}
			}
		}
		if len(in) == 1 {
			in = append(in, 0, 0)
		} else if len(in) == 2 {
			in = append(in, 0)
		}
		v := c.outputs[0]
		instrs = append(instrs, finstr{op: op, a: in[0], b: in[1], c: in[2], nargs: nargsOf(op)})
		slot[v.id] = len(instrs) - 1 // results: instruction index (>= 0)
		export := isOutput[v.id]
		for _, u := range consumers[v.id] {
			if !inGroup(u) {
				export = true
			}
		}
		if export {
			fs.outs = append(fs.outs, fuseOutput{vid: v.id, instr: len(instrs) - 1, dtype: v.shape.DType, shape: v.shape})
		}
	}
	// Final layout: slot index = inputs, then immediates, then instruction results.
	ni, nm := len(ins), len(imms)
	remap := func(s int) int {
		switch {
		case s <= -1000000:
			return ni + (-1000000 - s)
		case s < 0:
			return -1 - s
		default:
			return ni + nm + s
		}
	}
	for i := range instrs {
		n := instrs[i].nargs
		instrs[i].a = remap(instrs[i].a)
		if n > 1 {
			instrs[i].b = remap(instrs[i].b)
		}
		if n > 2 {
			instrs[i].c = remap(instrs[i].c)
		}
	}
	fs.inputs, fs.imms, fs.instrs = ins, imms, instrs
	fs.finish()
	return fs
}

type fins []int

// mergeStrided merges the output axes for a strided read: it drops axes of
// size 1 and merges neighbours the operand walks with one stride.
func mergeStrided(dims, strides []int) (md, ms []int) {
	for i, d := range dims {
		if d == 1 {
			continue
		}
		s := strides[i]
		if n := len(md); n > 0 && ms[n-1] == s*d {
			md[n-1] *= d
			ms[n-1] = s
			continue
		}
		md = append(md, d)
		ms = append(ms, s)
	}
	if len(md) == 0 {
		md, ms = []int{1}, []int{0}
	}
	return md, ms
}
