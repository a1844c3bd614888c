package gobackend

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
)

// fop is an instruction of a fused program.
type fop byte

const (
	opNone fop = iota
	// Unary (a).
	opCopy
	opNeg
	opAbs
	opSign
	opExp
	opExpm1
	opLog
	opLog1p
	opFloor
	opCeil
	opRound
	opRsqrt
	opSqrt
	opLogistic
	opTanh
	opErf
	// Binary (a, b).
	opAdd
	opSub
	opMul
	opDiv
	opMax
	opMin
	opPow
	// Comparisons (a, b): a 0/1 mask.
	opLT
	opLE
	opGT
	opGE
	opEQ
	opNE
	// opSelect (mask a, b, c): a != 0 ? b : c (Where).
	opSelect
)

var fopNames = [...]string{opNone: "none", opCopy: "Copy", opNeg: "Neg", opAbs: "Abs", opSign: "Sign",
	opExp: "Exp", opExpm1: "Expm1", opLog: "Log", opLog1p: "Log1p", opFloor: "Floor", opCeil: "Ceil",
	opRound: "Round", opRsqrt: "Rsqrt", opSqrt: "Sqrt", opLogistic: "Logistic", opTanh: "Tanh", opErf: "Erf",
	opAdd: "Add", opSub: "Sub", opMul: "Mul", opDiv: "Div", opMax: "Max", opMin: "Min", opPow: "Pow",
	opLT: "LT", opLE: "LE", opGT: "GT", opGE: "GE", opEQ: "EQ", opNE: "NE", opSelect: "Select"}

func (op fop) String() string {
	if int(op) < len(fopNames) {
		return fopNames[op]
	}
	return fmt.Sprintf("fop(%d)", int(op))
}

func nargsOf(op fop) int {
	switch {
	case op == opSelect:
		return 3
	case op >= opAdd:
		return 2
	default:
		return 1
	}
}

// fuseChunk is the number of output elements a fused program runs over at a
// time (each register is one chunk: 4 KiB, so a program's registers stay in
// the L1/L2 cache).
const fuseChunk = 1024

// fuseParallelMin is the output size from which a fused step splits its
// chunks over gemm.Threads() goroutines (at least this many elements each).
const fuseParallelMin = 16384

// Input kinds of a fused program.
const (
	inFlat    = iota // the group's shape (any dtype converted to float32)
	inScalar         // one element, broadcast
	inStrided        // broadcast along some axes: read through strides (float32)
)

// fuseInput is an external input of a group.
type fuseInput struct {
	vid   int
	kind  int
	dtype dtypes.DType
	// dims, strides: the merged output axes and the input's strides along
	// them (inStrided).
	dims, strides []int
}

// fuseOutput is a value of the group written to a buffer.
type fuseOutput struct {
	vid, instr int
	dtype      dtypes.DType
	shape      shapes.Shape
	// alias: index of an input whose buffer this output may take over when the
	// step is that input's last reader (-1: none); see finish.
	alias int
}

// finstr is one instruction: op on slots a, b, c (slots: the inputs, then the
// immediates, then the instruction results, in that order).
type finstr struct {
	op      fop
	nargs   int
	a, b, c int
	// reg is the register of the result, or -1 when it is written straight
	// to an output buffer (out >= 0: that output).
	reg, out int
}

// fuseStep is a fused group of element-wise ops: one pass over the output's
// chunks runs every instruction.
type fuseStep struct {
	dims    []int
	size    int
	inputs  []fuseInput
	imms    []float32
	instrs  []finstr
	outs    []fuseOutput
	numOps  int
	numRegs int
	scratch sync.Pool // *fuseScratch
}

type fuseScratch struct {
	regs  []float32
	slots []fslot
}

// fslot is an operand during a chunk: a vector of the chunk's length, or a
// scalar.
type fslot struct {
	v      []float32
	x      float32
	scalar bool
}

// finish assigns registers (reused once a result is read for the last time)
// and finds the outputs that may be written over an input's buffer.
func (fs *fuseStep) finish() {
	fs.numOps = len(fs.instrs)
	base := len(fs.inputs) + len(fs.imms)
	lastRead := make([]int, base+len(fs.instrs)) // slot -> last instruction reading it
	for i := range lastRead {
		lastRead[i] = -1
	}
	for k, in := range fs.instrs {
		for _, s := range []int{in.a, in.b, in.c}[:in.nargs] {
			lastRead[s] = k
		}
	}
	for k := range fs.instrs {
		fs.instrs[k].reg, fs.instrs[k].out = -1, -1
	}
	exported := make([]bool, len(fs.instrs))
	for j, o := range fs.outs {
		fs.outs[j].alias = -1
		exported[o.instr] = true
		if o.dtype == dtypes.Float32 {
			fs.instrs[o.instr].out = j
		}
	}
	var free []int
	for k := range fs.instrs {
		in := &fs.instrs[k]
		// Registers whose last reader was an earlier instruction are free;
		// this one's operands stay reserved until it has run (in place is
		// fine element-wise, but keep it simple).
		if in.out < 0 {
			if n := len(free); n > 0 {
				in.reg, free = free[n-1], free[:n-1]
			} else {
				in.reg = fs.numRegs
				fs.numRegs++
			}
		}
		args := []int{in.a, in.b, in.c}[:in.nargs]
		for i, s := range args {
			if slices.Contains(args[:i], s) {
				continue // the same operand twice (x*x): free its register once
			}
			if s >= base && lastRead[s] == k {
				// A mask that is exported is converted at the end of the chunk:
				// its register stays reserved.
				if r := fs.instrs[s-base].reg; r >= 0 && !exported[s-base] {
					free = append(free, r)
				}
			}
		}
	}
	// Input conversions (non-float32, strided) need a register each.
	taken := make([]bool, len(fs.inputs))
	for j, o := range fs.outs {
		if o.dtype != dtypes.Float32 {
			continue
		}
		for i, in := range fs.inputs {
			if taken[i] || in.kind != inFlat || in.dtype != dtypes.Float32 {
				continue
			}
			// The same value read again (through strides) by another slot.
			if slices.ContainsFunc(fs.inputs, func(o fuseInput) bool { return o.vid == in.vid && o.kind != inFlat }) {
				continue
			}
			// Safe when no instruction after the output's reads the input.
			if lastRead[i] <= o.instr {
				fs.outs[j].alias = i
				taken[i] = true
				break
			}
		}
	}
	nregs := fs.numRegs
	for _, in := range fs.inputs {
		if in.kind == inStrided || (in.kind == inFlat && in.dtype != dtypes.Float32) {
			nregs++
		}
	}
	nregs++ // scratch for a scalar operand of a select
	nslots := base + len(fs.instrs)
	fs.scratch.New = func() any {
		return &fuseScratch{regs: make([]float32, nregs*fuseChunk), slots: make([]fslot, nslots)}
	}
}

// fuseRuns counts the fused steps run, fuseAliases the outputs written over
// an input's buffer (for tests).
var fuseRuns, fuseAliases atomic.Int64

// runFuse runs a fused step k: reads its inputs, writes its exports (over a
// donated input buffer where allowed), splitting the chunks over threads.
func (e *Executable) runFuse(k int, s *fuseStep, st *execState) error {
	data := e.backend.Backend
	flats := make([]any, len(s.inputs))
	for i, in := range s.inputs {
		f, err := data.BufferData(st.bufs[in.vid])
		if err != nil {
			return fmt.Errorf("gobackend Execute(%q): fused operand: %w", e.name, err)
		}
		flats[i] = f
	}
	outF := make([][]float32, len(s.outs))
	outB := make([][]bool, len(s.outs))
	for j, o := range s.outs {
		if a := o.alias; a >= 0 {
			v := s.inputs[a].vid
			if st.owned[v] && e.lastUse[v] == k && !e.isOut[v] {
				st.bufs[o.vid], st.owned[o.vid] = st.bufs[v], true
				st.bufs[v], st.owned[v] = nil, false
				outF[j] = flats[a].([]float32)
				fuseAliases.Add(1)
				continue
			}
		}
		buf, f, err := data.NewSharedBuffer(0, o.shape)
		if err != nil {
			return fmt.Errorf("gobackend Execute(%q): fused output: %w", e.name, err)
		}
		st.bufs[o.vid], st.owned[o.vid] = buf, true
		if o.dtype == dtypes.Float32 {
			outF[j] = f.([]float32)
		} else {
			outB[j] = f.([]bool)
		}
	}
	nchunks := (s.size + fuseChunk - 1) / fuseChunk
	workers := min(gemm.Threads(), max(1, s.size/fuseParallelMin))
	if workers <= 1 {
		s.runChunks(0, nchunks, flats, outF, outB)
	} else {
		gemm.Parallel(workers, func(w int) {
			s.runChunks(w*nchunks/workers, (w+1)*nchunks/workers, flats, outF, outB)
		})
	}
	fuseRuns.Add(1)
	return nil
}

// runChunks runs the program over chunks [c0, c1) of the output.
func (s *fuseStep) runChunks(c0, c1 int, flats []any, outF [][]float32, outB [][]bool) {
	sc := s.scratch.Get().(*fuseScratch)
	defer s.scratch.Put(sc)
	sl := sc.slots
	base := len(s.inputs) + len(s.imms)
	// Scalars and immediates are the same for every chunk.
	for i, in := range s.inputs {
		if in.kind == inScalar {
			sl[i] = fslot{x: scalarOf(flats[i]), scalar: true}
		}
	}
	for i, x := range s.imms {
		sl[len(s.inputs)+i] = fslot{x: x, scalar: true}
	}
	reg := func(r, n int) []float32 { return sc.regs[r*fuseChunk : r*fuseChunk+n] }
	for c := c0; c < c1; c++ {
		lo := c * fuseChunk
		hi := min(lo+fuseChunk, s.size)
		n := hi - lo
		extra := s.numRegs
		for i, in := range s.inputs {
			switch in.kind {
			case inFlat:
				switch f := flats[i].(type) {
				case []float32:
					sl[i] = fslot{v: f[lo:hi]}
				case []uint32:
					r := reg(extra, n)
					extra++
					k := simdConvert(r, f[lo:hi])
					for j, x := range f[lo+k : hi] {
						r[k+j] = float32(x)
					}
					sl[i] = fslot{v: r}
				case []int32:
					r := reg(extra, n)
					extra++
					k := simdConvert(r, f[lo:hi])
					for j, x := range f[lo+k : hi] {
						r[k+j] = float32(x)
					}
					sl[i] = fslot{v: r}
				case []bool:
					r := reg(extra, n)
					extra++
					k := simdConvert(r, f[lo:hi])
					for j, x := range f[lo+k : hi] {
						r[k+j] = b2f(x)
					}
					sl[i] = fslot{v: r}
				}
			case inStrided:
				r := reg(extra, n)
				extra++
				gatherStrided(r, flats[i].([]float32), in.dims, in.strides, lo)
				sl[i] = fslot{v: r}
			}
		}
		tmp := reg(extra, n)
		for k := range s.instrs {
			in := &s.instrs[k]
			a := sl[in.a]
			var dst []float32
			if in.out >= 0 {
				dst = outF[in.out][lo:hi]
			} else {
				dst = reg(in.reg, n)
			}
			switch in.nargs {
			case 1:
				if a.scalar {
					var one [1]float32
					unaryLoop(in.op, one[:], []float32{a.x})
					sl[base+k] = fslot{x: one[0], scalar: true}
					continue
				}
				unaryLoop(in.op, dst, a.v)
			case 2:
				b := sl[in.b]
				if a.scalar && b.scalar {
					var one [1]float32
					binaryLoop(in.op, one[:], []float32{a.x}, []float32{b.x}, 0, 0)
					sl[base+k] = fslot{x: one[0], scalar: true}
					continue
				}
				binarySlots(in.op, dst, a, b)
			default:
				b, cc := sl[in.b], sl[in.c]
				if a.scalar && b.scalar && cc.scalar {
					x := cc.x
					if a.x != 0 {
						x = b.x
					}
					sl[base+k] = fslot{x: x, scalar: true}
					continue
				}
				selectSlots(dst, a, b, cc, tmp)
			}
			sl[base+k] = fslot{v: dst}
		}
		// Exports: scalar results are filled; masks become bools.
		for j, o := range s.outs {
			r := sl[base+o.instr]
			if o.dtype == dtypes.Float32 {
				if r.scalar {
					d := outF[j][lo:hi]
					for i := range d {
						d[i] = r.x
					}
				}
				continue
			}
			d := outB[j][lo:hi]
			if r.scalar {
				for i := range d {
					d[i] = r.x != 0
				}
				continue
			}
			for i, x := range r.v {
				d[i] = x != 0
			}
		}
	}
}

func scalarOf(f any) float32 {
	switch f := f.(type) {
	case []float32:
		return f[0]
	case []uint32:
		return float32(f[0])
	case []int32:
		return float32(f[0])
	case []bool:
		if f[0] {
			return 1
		}
	}
	return 0
}

// gatherStrided fills r with src read through strides along the merged
// output axes dims, starting at flat output index lo.
func gatherStrided(r, src []float32, dims, strides []int, lo int) {
	rank := len(dims)
	var idxBuf [16]int
	idx := idxBuf[:0]
	if rank > len(idxBuf) {
		idx = make([]int, 0, rank)
	}
	idx = idx[:rank]
	off, rem := 0, lo
	for k := rank - 1; k >= 0; k-- {
		idx[k] = rem % dims[k]
		rem /= dims[k]
		off += idx[k] * strides[k]
	}
	last := rank - 1
	d, s := dims[last], strides[last]
	for i := 0; i < len(r); {
		run := min(d-idx[last], len(r)-i)
		seg := r[i : i+run]
		if s == 0 {
			x := src[off]
			for j := range seg {
				seg[j] = x
			}
		} else if s == 1 {
			copy(seg, src[off:off+run])
		} else {
			o := off
			for j := range seg {
				seg[j] = src[o]
				o += s
			}
		}
		i += run
		off += run * s
		idx[last] += run
		if idx[last] < d {
			continue
		}
		// Carry into the outer axes.
		off -= d * s
		idx[last] = 0
		for k := last - 1; k >= 0; k-- {
			idx[k]++
			off += strides[k]
			if idx[k] < dims[k] {
				break
			}
			off -= dims[k] * strides[k]
			idx[k] = 0
		}
	}
}

// unaryLoop computes o[i] = op(a[i]) with the float32 expression simplego
// uses for op (transcendentals in float64, rounded to float32).
func unaryLoop(op fop, o, a []float32) {
	a = a[:len(o)]
	switch op {
	case opCopy:
		copy(o, a)
	case opNeg:
		for i, x := range a {
			o[i] = -x
		}
	case opAbs:
		for i, x := range a {
			if x < 0 {
				o[i] = -x
			} else {
				o[i] = x
			}
		}
	case opSign:
		for i, x := range a {
			switch {
			case x < 0:
				o[i] = -1
			case x > 0:
				o[i] = 1
			default:
				o[i] = 0
			}
		}
	case opExp:
		expLoop(o, a)
	case opExpm1:
		for i, x := range a {
			o[i] = float32(math.Expm1(float64(x)))
		}
	case opLog:
		for i, x := range a {
			o[i] = float32(math.Log(float64(x)))
		}
	case opLog1p:
		for i, x := range a {
			o[i] = float32(math.Log1p(float64(x)))
		}
	case opFloor:
		for i, x := range a {
			o[i] = float32(math.Floor(float64(x)))
		}
	case opCeil:
		for i, x := range a {
			o[i] = float32(math.Ceil(float64(x)))
		}
	case opRound:
		for i, x := range a {
			o[i] = float32(math.Round(float64(x)))
		}
	case opRsqrt:
		for i, x := range a {
			o[i] = float32(1.0 / math.Sqrt(float64(x)))
		}
	case opSqrt:
		for i, x := range a {
			o[i] = float32(math.Sqrt(float64(x)))
		}
	case opLogistic:
		for i, x := range a {
			if x >= 0 {
				o[i] = float32(1.0 / (1.0 + math.Exp(-float64(x))))
			} else {
				ex := math.Exp(float64(x))
				o[i] = float32(ex / (1.0 + ex))
			}
		}
	case opTanh:
		for i, x := range a {
			o[i] = float32(math.Tanh(float64(x)))
		}
	case opErf:
		erfLoop(o, a)
	}
}

// binarySlots runs a binary op with either operand possibly a scalar.
func binarySlots(op fop, o []float32, a, b fslot) {
	switch {
	case a.scalar:
		binaryLoop(op, o, []float32{a.x}, b.v, 0, 1)
	case b.scalar:
		binaryLoop(op, o, a.v, []float32{b.x}, 1, 0)
	default:
		binaryLoop(op, o, a.v, b.v, 1, 1)
	}
}

// binaryLoop computes o[i] = a[i*sa] op b[i*sb] (sa, sb in {0, 1}), with
// simplego's float32 arithmetic; comparisons give 1 or 0.
func binaryLoop(op fop, o, a, b []float32, sa, sb int) {
	k := simdBinary(op, o, a, b, sa, sb)
	if k == 0 {
		k = simdCompare(op, o, a, b, sa, sb)
	}
	if k > 0 {
		o = o[k:]
		if sa == 1 {
			a = a[k:]
		}
		if sb == 1 {
			b = b[k:]
		}
	}
	n := len(o)
	if sa == 1 && sb == 1 {
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		default:
			if !otherLoop(op, o, a, b, 1) {
				for i := range o {
					o[i] = binaryOne(op, a[i], b[i])
				}
			}
		}
		return
	}
	if sa == 1 {
		a, y := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + y
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - y
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * y
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / y
			}
		default:
			if !otherLoop(op, o, a, b, 0) {
				for i := range o {
					o[i] = binaryOne(op, a[i], y)
				}
			}
		}
		return
	}
	if sb == 1 {
		x, b := a[0], b[:n]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = x + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = x - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = x * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = x / b[i]
			}
		default:
			for i := range o {
				o[i] = binaryOne(op, x, b[i])
			}
		}
		return
	}
	v := binaryOne(op, a[0], b[0])
	for i := range o {
		o[i] = v
	}
}

// otherLoop runs Max, Min and the comparisons with a vector lhs and a vector
// (sb = 1) or scalar (sb = 0) rhs, without a switch per element; false for
// the other ops.
func otherLoop(op fop, o, a, b []float32, sb int) bool {
	a = a[:len(o)]
	if sb == 1 {
		b = b[:len(o)]
	}
	at := func(i int) float32 { return b[i*sb] }
	switch op {
	case opMax:
		for i, x := range a {
			o[i] = max(x, at(i))
		}
	case opMin:
		for i, x := range a {
			o[i] = min(x, at(i))
		}
	case opLT:
		for i, x := range a {
			o[i] = b2f(x < at(i))
		}
	case opLE:
		for i, x := range a {
			o[i] = b2f(x <= at(i))
		}
	case opGT:
		for i, x := range a {
			o[i] = b2f(x > at(i))
		}
	case opGE:
		for i, x := range a {
			o[i] = b2f(x >= at(i))
		}
	case opEQ:
		for i, x := range a {
			o[i] = b2f(x == at(i))
		}
	case opNE:
		for i, x := range a {
			o[i] = b2f(x != at(i))
		}
	default:
		return false
	}
	return true
}

// binaryOne is one element of a binary op or comparison.
func binaryOne(op fop, x, y float32) float32 {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opMax:
		return max(x, y)
	case opMin:
		return min(x, y)
	case opPow:
		return float32(math.Pow(float64(x), float64(y)))
	case opLT:
		return b2f(x < y)
	case opLE:
		return b2f(x <= y)
	case opGT:
		return b2f(x > y)
	case opGE:
		return b2f(x >= y)
	case opEQ:
		return b2f(x == y)
	case opNE:
		return b2f(x != y)
	}
	return 0
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// selectSlots computes o[i] = mask[i] != 0 ? a[i] : b[i] (Where); a scalar
// operand is spread over tmp first.
func selectSlots(o []float32, m, a, b fslot, tmp []float32) {
	spread := func(s fslot) []float32 {
		if !s.scalar {
			return s.v
		}
		for i := range tmp {
			tmp[i] = s.x
		}
		return tmp
	}
	if m.scalar {
		if m.x != 0 {
			copy(o, spread(a))
		} else {
			copy(o, spread(b))
		}
		return
	}
	if k := simdSelect(o, m, a, b); k > 0 {
		o, m.v, tmp = o[k:], m.v[k:], tmp[k:]
		if !a.scalar {
			a.v = a.v[k:]
		}
		if !b.scalar {
			b.v = b.v[k:]
		}
	}
	mv := m.v[:len(o)]
	switch {
	case b.scalar && !a.scalar:
		av, y := a.v[:len(o)], b.x
		for i := range o {
			if mv[i] != 0 {
				o[i] = av[i]
			} else {
				o[i] = y
			}
		}
	case a.scalar && !b.scalar:
		x, bv := a.x, b.v[:len(o)]
		for i := range o {
			if mv[i] != 0 {
				o[i] = x
			} else {
				o[i] = bv[i]
			}
		}
	default:
		av, bv := spread(a), b.v
		if b.scalar {
			// Both scalar: a is in tmp.
			y := b.x
			for i := range o {
				if mv[i] != 0 {
					o[i] = av[i]
				} else {
					o[i] = y
				}
			}
			return
		}
		av, bv = av[:len(o)], bv[:len(o)]
		for i := range o {
			if mv[i] != 0 {
				o[i] = av[i]
			} else {
				o[i] = bv[i]
			}
		}
	}
}
