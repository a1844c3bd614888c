package gobackend

import (
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// gatherStep is a Gather of whole rows of a matrix, the embedding lookup
// (operand [V, d], indices [..., 1] on axis 0, slices [1, d], output
// [..., d]): each output row is one copy of an operand row. simplego's
// Gather copies one element at a time through an index iterator. The index
// is clamped to [0, V-1] as simplego (and XLA) clamp start indices, so the
// result is simplego's bit for bit.
type gatherStep struct {
	operand, indices, out int // value ids
	shape                 shapes.Shape
	rows, width, elem     int // operand rows V, row length d, bytes per element
}

// planGather returns the step for a row gather, or false.
func (b *Builder) planGather(c *call) (*gatherStep, bool) {
	if c.op != "Gather" || len(c.inputs) != 2 || len(c.outputs) != 1 || len(c.statics) != 6 || b.backend.minFuse < 0 ||
		c.outputs[0].shape.Size() < b.backend.minFuse {
		return nil, false
	}
	x, idx, out := c.inputs[0].shape, c.inputs[1].shape, c.outputs[0].shape
	indexVectorAxis, _ := c.statics[0].(int)
	offsetAxes, _ := c.statics[1].([]int)
	collapsed, _ := c.statics[2].([]int)
	startMap, _ := c.statics[3].([]int)
	sliceSizes, _ := c.statics[4].([]int)
	elem := x.DType.Size()
	if x.Rank() != 2 || idx.Rank() < 1 || indexVectorAxis != idx.Rank()-1 || idx.Dimensions[idx.Rank()-1] != 1 ||
		!slices.Equal(collapsed, []int{0}) || !slices.Equal(startMap, []int{0}) ||
		!slices.Equal(sliceSizes, []int{1, x.Dimensions[1]}) || !slices.Equal(offsetAxes, []int{out.Rank() - 1}) ||
		out.Rank() != idx.Rank() || !slices.Equal(out.Dimensions[:out.Rank()-1], idx.Dimensions[:idx.Rank()-1]) ||
		out.Dimensions[out.Rank()-1] != x.Dimensions[1] || out.DType != x.DType || x.Dimensions[0] == 0 ||
		(elem != 1 && elem != 2 && elem != 4 && elem != 8) || x.DType.Bits() != 8*elem ||
		!simplego.Capabilities.DTypes[x.DType] {
		return nil, false
	}
	switch idx.DType {
	case dtypes.Int32, dtypes.Int64:
	default:
		return nil, false
	}
	return &gatherStep{operand: c.inputs[0].id, indices: c.inputs[1].id, out: c.outputs[0].id, shape: out,
		rows: x.Dimensions[0], width: x.Dimensions[1], elem: elem}, true
}

// gatherRuns counts the row gathers run here (for tests).
var gatherRuns atomic.Int64

func (e *Executable) runGather(s *gatherStep, st *execState) error {
	data := e.backend.Backend
	xf, err := data.BufferData(st.bufs[s.operand])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): gather operand: %w", e.name, err)
	}
	idxf, err := data.BufferData(st.bufs[s.indices])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): gather indices: %w", e.name, err)
	}
	out, of, err := data.NewSharedBuffer(0, s.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): gather output: %w", e.name, err)
	}
	// Rows as bytes: every dtype is one copy per row.
	rowBytes := s.width * s.elem
	src := unsafe.Slice((*byte)(reflect.ValueOf(xf).UnsafePointer()), s.rows*rowBytes)
	dst := unsafe.Slice((*byte)(reflect.ValueOf(of).UnsafePointer()), s.shape.Size()*s.elem)
	switch idx := idxf.(type) {
	case []int32:
		copyRows(dst, src, idx, rowBytes, s.rows)
	case []int64:
		copyRows(dst, src, idx, rowBytes, s.rows)
	default:
		return fmt.Errorf("gobackend Execute(%q): gather indices of type %T", e.name, idxf)
	}
	st.bufs[s.out], st.owned[s.out] = out, true
	gatherRuns.Add(1)
	return nil
}

// copyRows writes row idx[r] of src (clamped to [0, rows-1]) as row r of dst.
func copyRows[T int32 | int64](dst, src []byte, idx []T, rowBytes, rows int) {
	last := T(rows - 1)
	for r, i := range idx {
		i = max(0, min(last, i))
		copy(dst[r*rowBytes:(r+1)*rowBytes], src[int(i)*rowBytes:(int(i)+1)*rowBytes])
	}
}
