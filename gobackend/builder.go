package gobackend

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// replayFn builds one recorded op on a simplego Builder, given that builder's
// ops for the recorded inputs (in the order of call.inputs).
type replayFn func(sb backends.Builder, in []backends.Op) ([]backends.Op, error)

// value is one op output of the recorded graph: what Builder hands out as a
// backends.Op.
type value struct {
	b      *Builder
	id     int    // index in Builder.values
	call   *call  // producer; nil for a parameter
	param  int    // parameter index, -1 for op outputs
	name   string // parameter name
	shadow backends.Op
	shape  shapes.Shape
}

// call is one recorded op call.
type call struct {
	id      int
	op      string // the backends.Builder method name
	inputs  []*value
	statics []any // the non-op arguments, in order (op slices as their length)
	outputs []*value
	replay  replayFn
}

// Builder records the graph: every op call becomes a call with a replay
// closure, and is also built on a shadow simplego Builder, which checks its
// arguments and gives the shapes.
type Builder struct {
	backend  *Backend
	name     string
	shadow   backends.Builder
	values   []*value
	calls    []*call
	params   []*value
	compiled bool
}

var _ backends.Builder = (*Builder)(nil)

// Name implements backends.Builder.
func (b *Builder) Name() string { return b.name }

func (b *Builder) toValue(op backends.Op, what string) (*value, error) {
	v, ok := op.(*value)
	if !ok || v == nil || v.b != b {
		return nil, fmt.Errorf("gobackend %s: op %v (%T) was not created by this builder (%q)", what, op, op, b.name)
	}
	return v, nil
}

// record builds the op on the shadow builder and records it.
func (b *Builder) record(op string, inputs []backends.Op, statics []any, multi bool, replay replayFn) ([]backends.Op, error) {
	if b.compiled {
		return nil, fmt.Errorf("gobackend %s: builder %q already compiled", op, b.name)
	}
	c := &call{id: len(b.calls), op: op, statics: statics, replay: replay, inputs: make([]*value, len(inputs))}
	shadowIn := make([]backends.Op, len(inputs))
	for i, in := range inputs {
		v, err := b.toValue(in, op)
		if err != nil {
			return nil, err
		}
		c.inputs[i] = v
		shadowIn[i] = v.shadow
	}
	souts, err := replay(b.shadow, shadowIn)
	if err != nil {
		return nil, err
	}
	outs := make([]backends.Op, len(souts))
	for i, so := range souts {
		shape, err := b.shadow.OpShape(so)
		if err != nil {
			return nil, fmt.Errorf("gobackend %s: shape of output #%d: %w", op, i, err)
		}
		v := &value{b: b, id: len(b.values), call: c, param: -1, shadow: so, shape: shape}
		b.values = append(b.values, v)
		c.outputs = append(c.outputs, v)
		outs[i] = v
	}
	b.calls = append(b.calls, c)
	return outs, nil
}

// OpShape implements backends.Builder.
func (b *Builder) OpShape(op backends.Op) (shapes.Shape, error) {
	v, err := b.toValue(op, "OpShape")
	if err != nil {
		return shapes.Invalid(), err
	}
	return v.shape, nil
}

// Parameter implements backends.Builder.
func (b *Builder) Parameter(name string, shape shapes.Shape, sharding *backends.ShardingSpec) (backends.Op, error) {
	if b.compiled {
		return nil, fmt.Errorf("gobackend Parameter: builder %q already compiled", b.name)
	}
	so, err := b.shadow.Parameter(name, shape, sharding)
	if err != nil {
		return nil, err
	}
	shape, err = b.shadow.OpShape(so)
	if err != nil {
		return nil, err
	}
	v := &value{b: b, id: len(b.values), param: len(b.params), name: name, shadow: so, shape: shape}
	b.values = append(b.values, v)
	b.params = append(b.params, v)
	return v, nil
}

// Constant implements backends.Builder.
func (b *Builder) Constant(flat any, dims ...int) (backends.Op, error) {
	outs, err := b.record("Constant", nil, []any{flat, dims}, false, func(sb backends.Builder, _ []backends.Op) ([]backends.Op, error) {
		r, err := sb.Constant(flat, dims...)
		return []backends.Op{r}, err
	})
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// DistributedSPMD implements backends.Builder (not supported, like simplego).
func (b *Builder) DistributedSPMD(numDevices int) error { return b.shadow.DistributedSPMD(numDevices) }

// DistributedAutoSharding implements backends.Builder (not supported, like simplego).
func (b *Builder) DistributedAutoSharding(meshes ...backends.Mesh) error {
	return b.shadow.DistributedAutoSharding(meshes...)
}

// DeviceAssignment implements backends.Builder (as simplego).
func (b *Builder) DeviceAssignment(devices ...backends.DeviceNum) error {
	return b.shadow.DeviceAssignment(devices...)
}
