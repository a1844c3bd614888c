package gobackend

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
)

// redStep is a float32 ReduceSum, ReduceMax or ReduceMin whose reduced axes
// are consecutive: the operand is walked as [outer, red, inner] and
// out[o, j] = reduce over r of x[o, r, j]. That covers the last axis (softmax,
// LayerNorm: inner = 1, each output a contiguous row) and the leading axes
// (bias gradients: outer = 1, rows added in order, the inner loop over
// contiguous memory). simplego walks every element with an index iterator.
//
// Numerics: each output element is accumulated from 0 (-Inf, +Inf for max and
// min) in the operand's order, one float32 operation at a time, exactly as
// simplego's execReduceSumGeneric does: bit-identical. Outputs are split over
// gemm.Threads() goroutines, each output computed by one of them, so the
// result does not depend on the thread count.
type redStep struct {
	op                fop // opAdd, opMax, opMin
	in, out           int // value ids
	shape             shapes.Shape
	outer, red, inner int
}

var reduceOps = map[string]fop{"ReduceSum": opAdd, "ReduceMax": opMax, "ReduceMin": opMin}

// planReduce returns the step for a float32 reduction over consecutive axes
// of at least minFuse operand elements, or false.
func (b *Builder) planReduce(c *call) (*redStep, bool) {
	op, ok := reduceOps[c.op]
	if !ok || len(c.inputs) != 1 || len(c.outputs) != 1 || len(c.statics) != 1 || b.backend.minFuse < 0 {
		return nil, false
	}
	x, out := c.inputs[0].shape, c.outputs[0].shape
	axes, _ := c.statics[0].([]int)
	if x.DType != dtypes.Float32 || out.DType != dtypes.Float32 || len(axes) == 0 || x.Size() == 0 ||
		x.Size() < b.backend.minFuse {
		return nil, false
	}
	axes = slices.Clone(axes)
	slices.Sort(axes)
	for i := 1; i < len(axes); i++ {
		if axes[i] != axes[i-1]+1 {
			return nil, false
		}
	}
	first, last := axes[0], axes[len(axes)-1]
	if first < 0 || last >= x.Rank() {
		return nil, false
	}
	s := &redStep{op: op, in: c.inputs[0].id, out: c.outputs[0].id, shape: out, outer: 1, red: 1, inner: 1}
	for i, d := range x.Dimensions {
		switch {
		case i < first:
			s.outer *= d
		case i <= last:
			s.red *= d
		default:
			s.inner *= d
		}
	}
	if s.outer*s.inner != out.Size() {
		return nil, false
	}
	return s, true
}

// redRuns counts the reductions run here (for tests).
var redRuns atomic.Int64

func (e *Executable) runReduce(s *redStep, st *execState) error {
	data := e.backend.Backend
	xf, err := data.BufferData(st.bufs[s.in])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): reduction operand: %w", e.name, err)
	}
	out, of, err := data.NewSharedBuffer(0, s.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): reduction output: %w", e.name, err)
	}
	x, o := xf.([]float32), of.([]float32)
	// Split the outputs: by outer rows, or (one outer row) by inner columns.
	n, work := s.outer, s.outer*s.red*s.inner
	if s.outer == 1 {
		n = s.inner
	}
	workers := min(gemm.Threads(), max(1, work/fuseParallelMin), n)
	if workers <= 1 {
		s.run(x, o, 0, n)
	} else {
		gemm.Parallel(workers, func(w int) { s.run(x, o, w*n/workers, (w+1)*n/workers) })
	}
	st.bufs[s.out], st.owned[s.out] = out, true
	redRuns.Add(1)
	return nil
}

// run computes the outputs of outer rows [a, b) (or, when outer is 1, of
// inner columns [a, b)).
func (s *redStep) run(x, o []float32, a, b int) {
	var init float32
	switch s.op {
	case opMax:
		init = float32(math.Inf(-1))
	case opMin:
		init = float32(math.Inf(1))
	}
	red, inner := s.red, s.inner
	if inner == 1 {
		// Contiguous rows: sums eight at a time with AVX2 (rowSums8), else
		// four at a time (independent sums: no change of order within a row).
		r := a
		if s.op == opAdd {
			for ; r+8 <= b && rowSums8(o[r:r+8], x[r*red:], red, red); r += 8 {
			}
		}
		for ; r+4 <= b; r += 4 {
			x0, x1 := x[r*red:(r+1)*red], x[(r+1)*red:(r+2)*red]
			x2, x3 := x[(r+2)*red:(r+3)*red], x[(r+3)*red:(r+4)*red]
			a0, a1, a2, a3 := init, init, init, init
			switch s.op {
			case opAdd:
				for k := range x0 {
					a0 += x0[k]
					a1 += x1[k]
					a2 += x2[k]
					a3 += x3[k]
				}
			case opMax:
				for k := range x0 {
					a0, a1, a2, a3 = max(a0, x0[k]), max(a1, x1[k]), max(a2, x2[k]), max(a3, x3[k])
				}
			default:
				for k := range x0 {
					a0, a1, a2, a3 = min(a0, x0[k]), min(a1, x1[k]), min(a2, x2[k]), min(a3, x3[k])
				}
			}
			o[r], o[r+1], o[r+2], o[r+3] = a0, a1, a2, a3
		}
		for ; r < b; r++ {
			acc := init
			row := x[r*red : (r+1)*red]
			switch s.op {
			case opAdd:
				for _, v := range row {
					acc += v
				}
			case opMax:
				for _, v := range row {
					acc = max(acc, v)
				}
			default:
				for _, v := range row {
					acc = min(acc, v)
				}
			}
			o[r] = acc
		}
		return
	}
	// Rows of inner elements added in order into the output row.
	oa, ob := a, b // outer rows
	ja, jb := 0, inner
	if s.outer == 1 {
		oa, ob, ja, jb = 0, 1, a, b
	}
	for oi := oa; oi < ob; oi++ {
		dst := o[oi*inner+ja : oi*inner+jb]
		for j := range dst {
			dst[j] = init
		}
		for r := 0; r < red; r++ {
			src := x[(oi*red+r)*inner+ja : (oi*red+r)*inner+jb]
			src = src[:len(dst)]
			switch s.op {
			case opAdd:
				// The same float32 additions, eight lanes at a time where the
				// processor has them (simdBinary: AVX2), the rest in Go.
				k := simdBinary(opAdd, dst, dst, src, 1, 1)
				for j, v := range src[k:] {
					dst[k+j] += v
				}
			case opMax:
				for j, v := range src {
					dst[j] = max(dst[j], v)
				}
			default:
				for j, v := range src {
					dst[j] = min(dst[j], v)
				}
			}
		}
	}
}
