package method

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Context scopes of the method's variables. A variable's scope (without the
// leading "/", dots for slashes) and name spell its tensor name in the adapter
// file: variable "key" in scope "/prefix/3" is "prefix.3.key"; variable "3" in
// "/layer_scale" is "layer_scale.3".
const (
	ScopePrefix     = "prefix"      // /prefix/{i}: key, value  [p_i, d]
	ScopeGate       = "gate"        // /gate/{i}: weight [d, p_i], bias [p_i]
	ScopeLayerScale = "layer_scale" // /layer_scale: {i} scalar
	ScopePrompt     = "prompt"      // /prompt: embedding [p, d]
)

// AdapterName is the adapter-file tensor name of a context variable.
func AdapterName(v *context.Variable) string {
	return strings.ReplaceAll(strings.TrimPrefix(v.Scope(), "/"), "/", ".") + "." + v.Name()
}

// VariablePath is the inverse of AdapterName: "prefix.3.key" -> "/prefix/3", "key".
func VariablePath(adapterName string) (scope, name string) {
	i := strings.LastIndexByte(adapterName, '.')
	if i < 0 {
		return "/", adapterName
	}
	return "/" + strings.ReplaceAll(adapterName[:i], ".", "/"), adapterName[i+1:]
}

// Create makes the method's trainable variables in ctx for hidden size d, as
// its Method.Tensors lists them, initialised from seed: the Normal ones drawn in
// that order from one generator (prefixes, prompt and gate weights N(0,
// InitStd)), the others filled (gate biases GateBiasInit, layer scales
// LayerScaleInit). Every variable of an earlier configuration in the method
// scopes is removed first.
func Create(ctx *context.Context, c *Config, d int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xa97))
	// Drop the variables of an earlier configuration: a layer that loses its
	// prefix, or a gate the new kind lacks, must not linger (the trainer would
	// otherwise decay them and an adapter save would see them).
	scopes := Scopes()
	var stale []*context.Variable
	for v := range ctx.IterVariables() {
		if InScopes(v, scopes) {
			stale = append(stale, v)
		}
	}
	for _, v := range stale {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			panic(fmt.Errorf("method: removing %s/%s: %w", v.Scope(), v.Name(), err))
		}
	}
	m, ok := Lookup(c.Kind)
	if !ok {
		return
	}
	for _, t := range m.Tensors(c, d) {
		data := make([]float32, t.Size())
		for i := range data {
			if t.Init.Normal {
				data[i] = float32(rng.NormFloat64() * t.Init.Std)
			} else {
				data[i] = float32(t.Init.Value)
			}
		}
		scope, name := VariablePath(t.Name)
		if len(t.Shape) == 0 {
			SetVariable(ctx, scope, name, tensors.FromScalar(data[0]))
		} else {
			SetVariable(ctx, scope, name, tensors.FromFlatDataAndDimensions(data, t.Shape...))
		}
	}
}

// SetVariable sets (creating it if needed) the trainable variable scope/name of
// ctx to t. The model's head uses it too.
func SetVariable(ctx *context.Context, scope, name string, t *tensors.Tensor) {
	if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
		v.MustSetValue(t)
		v.SetTrainable(true)
		return
	}
	ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, t).SetTrainable(true)
}

// GateLayout says which layers have a token gate (alpha) and a layer gate
// (lambda): those with a prefix, when the method has that gate.
func (c *Config) GateLayout() (alpha, lambda []bool) {
	alpha, lambda = make([]bool, len(c.PrefixLens)), make([]bool, len(c.PrefixLens))
	for i, p := range c.PrefixLens {
		alpha[i] = p > 0 && c.Kind.HasTokenGate()
		lambda[i] = p > 0 && c.Kind.HasLayerGate()
	}
	return
}

// Gates collects, while a graph is built, the gate values of each layer so that
// the graph can return them: Alpha[i] is alpha_i [B, p_i] (nil without a token
// gate or a prefix), Lambda[i] the scalar lambda_i (nil without a layer gate).
type Gates struct {
	Alpha  []*Node
	Lambda []*Node
}

// Hooks returns the encoder hooks that apply the method (Method.Hooks),
// reading its variables from ctx. If gates is non-nil it gets one entry per
// layer, filled with the gate nodes of the layers that have them. FT (and an
// unknown kind) returns nil.
func Hooks(ctx *context.Context, c *Config, gates *Gates) *backbone.Hooks {
	if gates != nil {
		n := len(c.PrefixLens)
		gates.Alpha, gates.Lambda = make([]*Node, n), make([]*Node, n)
	}
	m, ok := Lookup(c.Kind)
	if !ok {
		return nil
	}
	return m.Hooks(ctx, c, gates)
}

func variable(ctx *context.Context, g *Graph, scope, name string) *Node {
	v := ctx.GetVariableByScopeAndName(scope, name)
	if v == nil {
		panic(fmt.Errorf("method: variable %s/%s does not exist (call method.Create first)", scope, name))
	}
	return v.ValueGraph(g)
}
