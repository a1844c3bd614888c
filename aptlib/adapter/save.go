package adapter

import (
	"fmt"
	"slices"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Save writes the adapter of spec (the method's variables and the head, read
// from ctx) with meta to path, atomically (temp file in the same directory,
// fsync, rename): on any error nothing is left under path or beside it, and a
// previous file at path is untouched. The tensors are exactly Layout's; the
// metadata holds format, method, head, labels, gate_pooling, max_len, task,
// base_model, base_model_sha256, model_type, position_offset (the integer
// shift applied, spec.Method.Offset()), prefix_lens, the rest of the method
// configuration (prompt_len, prefix_dropout, init_std, gate_bias_init,
// layer_scale_init), num_labels, hidden_size, and meta.Extra.
//
// Method ft is refused: it changes the backbone, save it with SaveModelDir.
func Save(path string, ctx *context.Context, spec *model.Spec, meta Meta) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("adapter: saving %s: %s", path, fmt.Sprintf(format, args...))
	}
	if spec == nil || spec.Backbone == nil {
		return fail("no model spec (or no backbone config in it)")
	}
	if spec.Method.Kind.TrainsBackbone() {
		return fail("method %s fine-tunes the whole backbone and has no adapter file; save a model directory with adapter.SaveModelDir", spec.Method.Kind)
	}
	if err := spec.Validate(); err != nil {
		return fail("%v", err)
	}
	meta, err := meta.complete(spec)
	if err != nil {
		return fail("%v", err)
	}
	layout := Layout(&spec.Method, spec.Backbone.HiddenSize(), spec.HeadOutputs())
	if spec.CreatesPooler() { // the backbone has no pooler: the trained one travels with the head
		layout = append(layout, PoolerLayout(spec.Backbone.HiddenSize())...)
	}
	out := make([]safetensors.Tensor, 0, len(layout))
	for _, want := range layout {
		data, err := variableData(ctx, want)
		if err != nil {
			return fail("method %s: %v", spec.Method.Kind, err)
		}
		out = append(out, safetensors.Tensor{Name: want.Name, Shape: want.Shape, Data: data})
	}
	if err := safetensors.Write(path, out, meta.metadata(spec)); err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	return nil
}

// variableData copies the float32 value of the context variable behind an
// adapter tensor name, checking its shape.
func variableData(ctx *context.Context, want TensorSpec) ([]float32, error) {
	scope, name := method.VariablePath(want.Name)
	v := ctx.GetVariableByScopeAndName(scope, name)
	if v == nil {
		return nil, fmt.Errorf("tensor %q: the context has no variable %s/%s", want.Name, scope, name)
	}
	if v.DType() != dtypes.Float32 {
		return nil, fmt.Errorf("tensor %q: variable %s/%s is %s, want float32", want.Name, scope, name, v.DType())
	}
	if dims := v.Shape().Dimensions; !slices.Equal(dims, want.Shape) && !(len(dims) == 0 && len(want.Shape) == 0) {
		return nil, fmt.Errorf("tensor %q: variable %s/%s has shape %s, the method config implies %s",
			want.Name, scope, name, shapeString(dims), shapeString(want.Shape))
	}
	val, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", want.Name, err)
	}
	return tensors.CopyFlatData[float32](val)
}
