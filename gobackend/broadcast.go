package gobackend

import (
	"fmt"
	"sync/atomic"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// binStep is a float32 Add, Sub, Mul or Div whose operands are broadcast
// (dimensions of 1 against the output's): simplego walks those with a
// per-element index iterator; here the axes are merged and every output row
// is one loop over contiguous (or repeated) data. IEEE arithmetic on the same
// float32 pairs: bit-identical to simplego.
type binStep struct {
	op            byte // '+', '-', '*', '/'
	lhs, rhs, out int  // value ids
	shape         shapes.Shape
	// dims are the merged output axes, sa and sb the operands' strides
	// along them (0 where broadcast); the last axis has stride 0 or 1.
	dims, sa, sb []int
}

var binOps = map[string]byte{"Add": '+', "Sub": '-', "Mul": '*', "Div": '/'}

// planBroadcastInDim returns a float32 BroadcastInDim as a copy step (op '=',
// the operand as lhs, its strides in sa), or false.
func (b *Builder) planBroadcastInDim(c *call) (*binStep, bool) {
	if c.op != "BroadcastInDim" || len(c.inputs) != 1 || len(c.outputs) != 1 || len(c.statics) != 2 {
		return nil, false
	}
	x, out := c.inputs[0].shape, c.outputs[0].shape
	axes, _ := c.statics[1].([]int)
	if x.DType != dtypes.Float32 || out.DType != dtypes.Float32 || out.Rank() == 0 || len(axes) != x.Rank() ||
		out.Size() < b.backend.minBroadcast {
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
	st := &binStep{op: '=', lhs: c.inputs[0].id, rhs: c.inputs[0].id, out: c.outputs[0].id, shape: out}
	for i, d := range out.Dimensions {
		if d == 1 {
			continue
		}
		sa := strides[i]
		if n := len(st.dims); n > 0 && st.sa[n-1] == sa*d {
			st.dims[n-1] *= d
			st.sa[n-1], st.sb[n-1] = sa, 0
			continue
		}
		st.dims = append(st.dims, d)
		st.sa = append(st.sa, sa)
		st.sb = append(st.sb, 0)
	}
	if len(st.dims) == 0 {
		return nil, false
	}
	if last := len(st.dims) - 1; st.sa[last] > 1 {
		// The innermost axis of the operand is not contiguous (a transposing
		// broadcast): add a unit axis so rows stay contiguous or repeated.
		st.dims = append(st.dims, 1)
		st.sa = append(st.sa, 1)
		st.sb = append(st.sb, 0)
	}
	return st, true
}

// planBinary returns the step for a broadcasting float32 binary op, or false.
func (b *Builder) planBinary(c *call) (*binStep, bool) {
	op, ok := binOps[c.op]
	if !ok || len(c.inputs) != 2 || len(c.outputs) != 1 {
		return nil, false
	}
	l, r, out := c.inputs[0].shape, c.inputs[1].shape, c.outputs[0].shape
	if l.DType != dtypes.Float32 || r.DType != dtypes.Float32 || out.DType != dtypes.Float32 ||
		out.Rank() == 0 || l.Rank() != out.Rank() || r.Rank() != out.Rank() || out.Size() < b.backend.minBroadcast {
		return nil, false
	}
	ls, rs := rowMajorStrides(l.Dimensions), rowMajorStrides(r.Dimensions)
	st := &binStep{op: op, lhs: c.inputs[0].id, rhs: c.inputs[1].id, out: c.outputs[0].id, shape: out}
	broadcast := false
	for i, d := range out.Dimensions {
		ld, rd := l.Dimensions[i], r.Dimensions[i]
		if (ld != d && ld != 1) || (rd != d && rd != 1) {
			return nil, false
		}
		if d == 1 {
			continue
		}
		sa, sb := ls[i], rs[i]
		if ld == 1 {
			sa, broadcast = 0, true
		}
		if rd == 1 {
			sb, broadcast = 0, true
		}
		if n := len(st.dims); n > 0 && st.sa[n-1] == sa*d && st.sb[n-1] == sb*d {
			st.dims[n-1] *= d
			st.sa[n-1], st.sb[n-1] = sa, sb
			continue
		}
		st.dims = append(st.dims, d)
		st.sa = append(st.sa, sa)
		st.sb = append(st.sb, sb)
	}
	if !broadcast || len(st.dims) == 0 {
		return nil, false // same shapes: simplego's plain loop is as good
	}
	return st, true
}

func (e *Executable) runBin(s *binStep, st *execState) error {
	data := e.backend.Backend
	af, err := data.BufferData(st.bufs[s.lhs])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): operand: %w", e.name, err)
	}
	bf, err := data.BufferData(st.bufs[s.rhs])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): operand: %w", e.name, err)
	}
	out, of, err := data.NewSharedBuffer(0, s.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): output: %w", e.name, err)
	}
	a, b, o := af.([]float32), bf.([]float32), of.([]float32)
	last := len(s.dims) - 1
	n, sa, sb := s.dims[last], s.sa[last], s.sb[last]
	rows := len(o) / n
	var idx [16]int
	var counter []int
	if last <= len(idx) {
		counter = idx[:last]
	} else {
		counter = make([]int, last)
	}
	ao, bo := 0, 0
	for row := 0; row < rows; row++ {
		binRow(s.op, o[row*n:(row+1)*n], a[ao:], b[bo:], sa, sb)
		// Advance the outer odometer.
		for k := last - 1; k >= 0; k-- {
			counter[k]++
			ao += s.sa[k]
			bo += s.sb[k]
			if counter[k] < s.dims[k] {
				break
			}
			ao -= s.sa[k] * s.dims[k]
			bo -= s.sb[k] * s.dims[k]
			counter[k] = 0
		}
	}
	st.bufs[s.out] = out
	st.owned[s.out] = true
	binRuns.Add(1)
	return nil
}

// binRuns counts the broadcasting binary ops run here (for tests).
var binRuns atomic.Int64

// binRow computes o[i] = a[i*sa] op b[i*sb] with sa, sb in {0, 1}; op '='
// copies a.
func binRow(op byte, o, a, b []float32, sa, sb int) {
	n := len(o)
	if op == '=' {
		if sa == 1 {
			copy(o, a[:n])
		} else {
			x := a[0]
			for i := range o {
				o[i] = x
			}
		}
		return
	}
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case '+':
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case '-':
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case '*':
			for i := range o {
				o[i] = a[i] * b[i]
			}
		default:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		}
	case sa == 1:
		a, y := a[:n], b[0]
		switch op {
		case '+':
			for i := range o {
				o[i] = a[i] + y
			}
		case '-':
			for i := range o {
				o[i] = a[i] - y
			}
		case '*':
			for i := range o {
				o[i] = a[i] * y
			}
		default:
			for i := range o {
				o[i] = a[i] / y
			}
		}
	case sb == 1:
		x, b := a[0], b[:n]
		switch op {
		case '+':
			for i := range o {
				o[i] = x + b[i]
			}
		case '-':
			for i := range o {
				o[i] = x - b[i]
			}
		case '*':
			for i := range o {
				o[i] = x * b[i]
			}
		default:
			for i := range o {
				o[i] = x / b[i]
			}
		}
	default:
		x, y := a[0], b[0]
		var v float32
		switch op {
		case '+':
			v = x + y
		case '-':
			v = x - y
		case '*':
			v = x * y
		default:
			v = x / y
		}
		for i := range o {
			o[i] = v
		}
	}
}
