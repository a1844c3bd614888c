package adapter

import (
	"fmt"
	"strconv"

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
// (model.Spec.HeadOutputs): per layer i with p_i > 0 prefix.{i}.key/value, then
// gate.{i}.weight/bias with a token gate and layer_scale.{i} with a layer gate;
// prompt.embedding for PT; head.weight and head.bias always. FT has no adapter
// layout (it panics; FT is saved with SaveModelDir).
func Layout(c *method.Config, d, outputs int) []TensorSpec {
	if c.Kind == method.FT {
		panic("adapter: method ft has no adapter layout (see SaveModelDir)")
	}
	var out []TensorSpec
	add := func(name string, shape ...int) { out = append(out, TensorSpec{name, shape}) }
	if c.Kind.HasPrefix() {
		for i, p := range c.PrefixLens {
			if p == 0 {
				continue
			}
			l := strconv.Itoa(i)
			add(method.ScopePrefix+"."+l+".key", p, d)
			add(method.ScopePrefix+"."+l+".value", p, d)
			if c.Kind.HasTokenGate() {
				add(method.ScopeGate+"."+l+".weight", d, p)
				add(method.ScopeGate+"."+l+".bias", p)
			}
			if c.Kind.HasLayerGate() {
				add(method.ScopeLayerScale + "." + l)
			}
		}
	}
	if c.Kind == method.PT {
		add(method.ScopePrompt+".embedding", c.PromptLen, d)
	}
	add(model.ScopeHead+".weight", d, outputs)
	add(model.ScopeHead+".bias", outputs)
	return out
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

// tensorName splits an adapter tensor name into its kind ("prefix.key",
// "prefix.value", "gate.weight", "gate.bias", "layer_scale", "prompt",
// "head.weight", "head.bias") and layer (-1 when not per layer). ok is false
// for a name that is no adapter tensor at all.
func tensorName(name string) (kind string, layer int, ok bool) {
	switch name {
	case method.ScopePrompt + ".embedding":
		return "prompt", -1, true
	case model.ScopeHead + ".weight", model.ScopeHead + ".bias":
		return name, -1, true
	}
	var scope, rest string
	for _, s := range []string{method.ScopePrefix, method.ScopeGate, method.ScopeLayerScale} {
		if len(name) > len(s)+1 && name[:len(s)+1] == s+"." {
			scope, rest = s, name[len(s)+1:]
		}
	}
	if scope == "" {
		return "", 0, false
	}
	num, suffix := rest, ""
	for j := range len(rest) {
		if rest[j] == '.' {
			num, suffix = rest[:j], rest[j+1:]
			break
		}
	}
	layer, err := strconv.Atoi(num)
	if err != nil || layer < 0 || strconv.Itoa(layer) != num {
		return "", 0, false
	}
	switch {
	case scope == method.ScopePrefix && (suffix == "key" || suffix == "value"),
		scope == method.ScopeGate && (suffix == "weight" || suffix == "bias"):
		return scope + "." + suffix, layer, true
	case scope == method.ScopeLayerScale && suffix == "":
		return scope, layer, true
	}
	return "", 0, false
}

// shapeString prints a shape as [a b], [] for a scalar.
func shapeString(s []int) string { return fmt.Sprint(append([]int{}, s...)) }
