package gobackend

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
)

// trStep is a Transpose (of any dtype of 1, 2, 4 or 8 bytes that simplego
// takes as a parameter) run as a
// blocked copy. simplego moves one element at a time through a per-element
// index iterator (transposeIterator), about 10 ns an element; the attention
// layout changes of a training step ([B,T,n,dh] <-> [B,n,T,dh], and the
// gradients of the prefix concatenation) that do not feed a product directly
// spend most of a step's time outside products and fused groups there.
//
// At Compile the output axes are merged where the input is contiguous across
// them (axes of size 1 dropped), which leaves dims with, for each, the
// input's stride. When the last axis has stride 1 every output row is a
// contiguous run of the input (copy). Otherwise the axis j whose input stride
// is 1 and the last axis form a 2-D transpose, done in trBlock x trBlock
// tiles so that the strided reads of a tile share cache lines; the other axes
// are loops around it. A copy moves the same bits: bit-identical to simplego.
type trStep struct {
	in, out int // value ids
	shape   shapes.Shape
	elem    int   // bytes per element
	dims    []int // merged output axes
	strides []int // the input's stride (in elements) along each
	ostr    []int // the output's row-major strides over dims
	j       int   // the axis of input stride 1 when the last one is not; -1 for row copies
	base    int   // the input offset of the first output element (a Slice's start)
}

// trBlock is the tile edge of the 2-D transposes: 16 float32 are one 64-byte
// cache line.
const trBlock = 16

// planTranspose returns the step for a Transpose of at least minFuse
// elements that moves data (not only axes of size 1), or false.
func (b *Builder) planTranspose(c *call) (*trStep, bool) {
	if c.op != "Transpose" || len(c.inputs) != 1 || len(c.outputs) != 1 || len(c.statics) != 1 || b.backend.minFuse < 0 {
		return nil, false
	}
	x, out := c.inputs[0].shape, c.outputs[0].shape
	perm, _ := c.statics[0].([]int)
	elem := x.DType.Size()
	if len(perm) != x.Rank() || x.Size() < b.backend.minFuse || x.DType != out.DType ||
		(elem != 1 && elem != 2 && elem != 4 && elem != 8) || x.DType.Bits() != 8*elem || !simplego.Capabilities.DTypes[x.DType] {
		return nil, false
	}
	xs := rowMajorStrides(x.Dimensions)
	s := &trStep{in: c.inputs[0].id, out: c.outputs[0].id, shape: out, elem: elem, j: -1}
	for _, p := range perm {
		if p < 0 || p >= x.Rank() {
			return nil, false
		}
		s.addAxis(x.Dimensions[p], xs[p])
	}
	if len(s.dims) <= 1 {
		return nil, false // only axes of size 1 move: the data is unchanged
	}
	s.ostr = rowMajorStrides(s.dims)
	last := len(s.dims) - 1
	if s.strides[last] != 1 {
		for i, st := range s.strides {
			if st == 1 {
				s.j = i
			}
		}
		if s.j < 0 {
			return nil, false // cannot happen for a row-major input; leave it to simplego
		}
	}
	return s, true
}

// addAxis appends the next output axis (d elements, input stride st),
// merged into the previous one when the input walks both with one stride;
// axes of size 1 are dropped.
func (s *trStep) addAxis(d, st int) {
	if d == 1 {
		return
	}
	if n := len(s.dims); n > 0 && s.strides[n-1] == st*d {
		s.dims[n-1] *= d
		s.strides[n-1] = st
		return
	}
	s.dims = append(s.dims, d)
	s.strides = append(s.strides, st)
}

// planSlice returns a Slice of at least minFuse output elements with unit
// strides along its last axis as a trStep (the box read through the input's
// strides from its start: row copies), or false.
func (b *Builder) planSlice(c *call) (*trStep, bool) {
	if c.op != "Slice" || len(c.inputs) != 1 || len(c.outputs) != 1 || len(c.statics) != 3 || b.backend.minFuse < 0 {
		return nil, false
	}
	x, out := c.inputs[0].shape, c.outputs[0].shape
	starts, _ := c.statics[0].([]int)
	steps, _ := c.statics[2].([]int)
	elem := x.DType.Size()
	if len(starts) != x.Rank() || (len(steps) != 0 && len(steps) != x.Rank()) || out.Size() < b.backend.minFuse ||
		x.DType != out.DType || out.Rank() != x.Rank() || (elem != 1 && elem != 2 && elem != 4 && elem != 8) ||
		x.DType.Bits() != 8*elem || !simplego.Capabilities.DTypes[x.DType] {
		return nil, false
	}
	xs := rowMajorStrides(x.Dimensions)
	s := &trStep{in: c.inputs[0].id, out: c.outputs[0].id, shape: out, elem: elem, j: -1}
	for k, d := range out.Dimensions {
		step := 1
		if len(steps) != 0 {
			step = steps[k]
		}
		if starts[k] < 0 || step < 1 || starts[k]+(d-1)*step >= x.Dimensions[k] && d > 0 {
			return nil, false
		}
		s.base += starts[k] * xs[k]
		s.addAxis(d, xs[k]*step)
	}
	if len(s.dims) == 0 {
		s.dims, s.strides = []int{1}, []int{1}
	}
	if s.strides[len(s.dims)-1] != 1 {
		return nil, false // a strided last axis: left to simplego
	}
	s.ostr = rowMajorStrides(s.dims)
	return s, true
}

// trRuns counts the transposes run here (for tests).
var trRuns atomic.Int64

func (e *Executable) runTranspose(s *trStep, st *execState) error {
	data := e.backend.Backend
	xf, err := data.BufferData(st.bufs[s.in])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): transpose operand: %w", e.name, err)
	}
	out, of, err := data.NewSharedBuffer(0, s.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): transpose output: %w", e.name, err)
	}
	n, nx := s.shape.Size(), reflect.ValueOf(xf).Len()
	if n == 0 {
		st.bufs[s.out], st.owned[s.out] = out, true
		return nil
	}
	src, dst := reflect.ValueOf(xf).UnsafePointer(), reflect.ValueOf(of).UnsafePointer()
	switch s.elem {
	case 1:
		runTransposeT(s, unsafe.Slice((*uint8)(dst), n), unsafe.Slice((*uint8)(src), nx)[s.base:])
	case 2:
		runTransposeT(s, unsafe.Slice((*uint16)(dst), n), unsafe.Slice((*uint16)(src), nx)[s.base:])
	case 4:
		runTransposeT(s, unsafe.Slice((*uint32)(dst), n), unsafe.Slice((*uint32)(src), nx)[s.base:])
	default:
		runTransposeT(s, unsafe.Slice((*uint64)(dst), n), unsafe.Slice((*uint64)(src), nx)[s.base:])
	}
	st.bufs[s.out], st.owned[s.out] = out, true
	trRuns.Add(1)
	return nil
}

// runTransposeT splits the work (outer rows, or tiles of axis j and the
// outer axes) over gemm.Threads() goroutines; each output element is written
// by exactly one of them.
func runTransposeT[T uint8 | uint16 | uint32 | uint64](s *trStep, o, x []T) {
	last := len(s.dims) - 1
	// Tasks: for row copies, the output rows; for 2-D transposes, the
	// combinations of the axes other than j and last, times the tiles of j.
	tasks := len(o) / s.dims[last]
	if s.j >= 0 {
		tasks = tasks / s.dims[s.j] * ((s.dims[s.j] + trBlock - 1) / trBlock)
	}
	workers := min(gemm.Threads(), max(1, len(o)/fuseParallelMin), tasks)
	if workers <= 1 {
		transposeTasks(s, o, x, 0, tasks)
		return
	}
	gemm.Parallel(workers, func(w int) { transposeTasks(s, o, x, w*tasks/workers, (w+1)*tasks/workers) })
}

// transposeTasks runs tasks [t0, t1). A task index is decoded as an odometer
// over the task axes (row copies: every axis but the last; 2-D: every axis
// but the last, with axis j counted in tiles), most significant first.
func transposeTasks[T uint8 | uint16 | uint32 | uint64](s *trStep, o, x []T, t0, t1 int) {
	last := len(s.dims) - 1
	var idxBuf [16]int
	idx := idxBuf[:0]
	if last > len(idxBuf) {
		idx = make([]int, 0, last)
	}
	idx = idx[:last]
	// extent of task axis k: dims[k], or the number of tiles for axis j.
	extent := func(k int) int {
		if k == s.j {
			return (s.dims[k] + trBlock - 1) / trBlock
		}
		return s.dims[k]
	}
	r := t0
	for k := last - 1; k >= 0; k-- {
		e := extent(k)
		idx[k] = r % e
		r /= e
	}
	n := s.dims[last]
	sl := s.strides[last]
	for t := t0; t < t1; t++ {
		xo, oo := 0, 0
		for k := 0; k < last; k++ {
			i := idx[k]
			if k == s.j {
				i *= trBlock
			}
			xo += i * s.strides[k]
			oo += i * s.ostr[k]
		}
		if s.j < 0 {
			copy(o[oo:oo+n], x[xo:xo+n]) // a row (of a Transpose or a Slice)
		} else {
			// Rows jj of the tile of axis j (input stride 1, output stride
			// ostr[j]) by columns of the last axis (input stride sl, output
			// contiguous), trBlock columns at a time.
			rows := min(trBlock, s.dims[s.j]-idx[s.j]*trBlock)
			os := s.ostr[s.j]
			for c0 := 0; c0 < n; c0 += trBlock {
				cols := min(trBlock, n-c0)
				for jj := 0; jj < rows; jj++ {
					dst := o[oo+jj*os+c0 : oo+jj*os+c0+cols]
					src := x[xo+jj+c0*sl:]
					for kk := range dst {
						dst[kk] = src[kk*sl]
					}
				}
			}
		}
		// Next task.
		for k := last - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < extent(k) {
				break
			}
			idx[k] = 0
		}
	}
}
