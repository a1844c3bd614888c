package adapter

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
)

// TensorSpec is one tensor of an adapter file: its name and shape.
type TensorSpec struct {
	Name  string
	Shape []int
}

// Layout lists, in a fixed order, exactly the tensors an adapter of method
// configuration c has for hidden size d and a head of outputs columns
// (model.Spec.HeadOutputs): the method's own (method.Method.Tensors: per layer
// i with p_i > 0 prefix.{i}.key/value, then gate.{i}.weight/bias with a token
// gate and layer_scale.{i} with a layer gate; prompt.embedding for PT), then
// head.weight and head.bias. A method that trains the backbone (FT) has no
// adapter layout (it panics; FT is saved with SaveModelDir).
func Layout(c *method.Config, d, outputs int) []TensorSpec {
	if c.Kind.TrainsBackbone() {
		panic(fmt.Sprintf("adapter: method %s has no adapter layout (see SaveModelDir)", c.Kind))
	}
	var out []TensorSpec
	if m, ok := method.Lookup(c.Kind); ok {
		for _, t := range m.Tensors(c, d) {
			out = append(out, TensorSpec{t.Name, t.Shape})
		}
	}
	out = append(out, TensorSpec{model.ScopeHead + ".weight", []int{d, outputs}}, TensorSpec{model.ScopeHead + ".bias", []int{outputs}})
	return out
}

// PoolerLayout is the created pooler's tensors (model.Spec.CreatesPooler: the
// backbone's checkpoint has none): pooler.weight [d, d] (input-major) and
// pooler.bias [d]. An adapter holds them after Layout's when the backbone it
// was trained on had no pooler.
func PoolerLayout(d int) []TensorSpec {
	return []TensorSpec{{backbone.ScopePooler + ".weight", []int{d, d}}, {backbone.ScopePooler + ".bias", []int{d}}}
}

// isPoolerName reports whether name is one of PoolerLayout's.
func isPoolerName(name string) bool {
	return name == backbone.ScopePooler+".weight" || name == backbone.ScopePooler+".bias"
}

// Size is the size in bytes of the tensor data of an adapter with this layout
// (the file adds its header, a few kilobytes at most).
func Size(layout []TensorSpec) int64 {
	var n int64
	for _, t := range layout {
		k := int64(4)
		for _, d := range t.Shape {
			k *= int64(d)
		}
		n += k
	}
	return n
}

// tensorName matches an adapter tensor name against the names of every
// method (method.ParseTensorName) and the head's: pattern is "prefix.{i}.key",
// "layer_scale.{i}", "prompt.embedding", "head.weight", ... and layer the
// number in place of {i} (-1 when not per layer). ok is false for a name that
// is no adapter tensor at all.
func tensorName(name string) (pattern string, layer int, ok bool) {
	if name == model.ScopeHead+".weight" || name == model.ScopeHead+".bias" || isPoolerName(name) {
		return name, -1, true
	}
	return method.ParseTensorName(name)
}

// formatNames are the tensor names of the adapter format, "{i}" for a layer
// number: every method's (method.Info.Names), then the head's.
func formatNames() []string {
	var out []string
	for _, m := range method.Methods() {
		out = append(out, m.Info().Names...)
	}
	return append(out, backbone.ScopePooler+".weight", backbone.ScopePooler+".bias", model.ScopeHead+".weight", model.ScopeHead+".bias")
}

// shapeString prints a shape as [a b], [] for a scalar.
func shapeString(s []int) string { return fmt.Sprint(append([]int{}, s...)) }
