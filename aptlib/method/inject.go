package method

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/bert"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
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

// Create makes the method's trainable variables in ctx for hidden size d,
// initialised from seed: prefixes, prompt and gate weights N(0, InitStd), gate
// biases GateBiasInit, layer scales LayerScaleInit. Existing values are replaced.
func Create(ctx *context.Context, c *Config, d int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xa97))
	normal := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * c.InitStd)
		}
		return out
	}
	filled := func(n int, v float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(v)
		}
		return out
	}
	// Drop the variables of an earlier configuration: a layer that loses its
	// prefix, or a gate the new kind lacks, must not linger (the trainer would
	// otherwise decay them and an adapter save would see them).
	var stale []*context.Variable
	for v := range ctx.IterVariables() {
		for _, s := range []string{ScopePrefix, ScopeGate, ScopeLayerScale, ScopePrompt} {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				stale = append(stale, v)
				break
			}
		}
	}
	for _, v := range stale {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			panic(fmt.Errorf("method: removing %s/%s: %w", v.Scope(), v.Name(), err))
		}
	}
	set := func(scope, name string, data []float32, dims ...int) {
		SetVariable(ctx, scope, name, tensors.FromFlatDataAndDimensions(data, dims...))
	}
	if c.Kind == PT {
		set("/"+ScopePrompt, "embedding", normal(c.PromptLen*d), c.PromptLen, d)
	}
	if !c.Kind.HasPrefix() {
		return
	}
	for i, p := range c.PrefixLens {
		if p == 0 {
			continue
		}
		layer := "/" + ScopePrefix + "/" + strconv.Itoa(i)
		set(layer, "key", normal(p*d), p, d)
		set(layer, "value", normal(p*d), p, d)
		if c.Kind.HasTokenGate() {
			gate := "/" + ScopeGate + "/" + strconv.Itoa(i)
			set(gate, "weight", normal(d*p), d, p)
			set(gate, "bias", filled(p, c.GateBiasInit), p)
		}
		if c.Kind.HasLayerGate() {
			SetVariable(ctx, "/"+ScopeLayerScale, strconv.Itoa(i), tensors.FromScalar(float32(c.LayerScaleInit)))
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

// Hooks returns the encoder hooks that apply the method, reading its variables
// from ctx. If gates is non-nil it is filled with the gate nodes. FT returns nil.
func Hooks(ctx *context.Context, c *Config, gates *Gates) *bert.Hooks {
	if gates != nil {
		n := len(c.PrefixLens)
		gates.Alpha, gates.Lambda = make([]*Node, n), make([]*Node, n)
	}
	switch {
	case c.Kind == PT:
		return &bert.Hooks{Prompt: func(emb *Node) *Node { return prompt(ctx, c, emb) }}
	case c.Kind.HasPrefix():
		return &bert.Hooks{Prefix: func(layer int, prev, mask *Node) (*Node, *Node) {
			return prefix(ctx, c, layer, prev, mask, gates)
		}}
	}
	return nil
}

// prefix computes layer i's key and value slots [B, p_i, d]:
//
//	alpha_i = sigmoid(h_{i-1} W_i + b_i)          (token gate; 1 when absent)
//	P'_i    = lambda_i * alpha_i ⊙ P_i            (lambda_i = 1 when absent)
//
// with h_{i-1} the layer input pooled over real tokens (mean) or its first token
// (cls), then prefix dropout in training, as P-Tuning v2 applies to its
// past_key_values.
func prefix(ctx *context.Context, c *Config, i int, prev, mask *Node, gates *Gates) (*Node, *Node) {
	p := c.PrefixLens[i]
	if p == 0 {
		return nil, nil
	}
	g := prev.Graph()
	batch := prev.Shape().Dimensions[0]
	layer := strconv.Itoa(i)
	key := variable(ctx, g, "/"+ScopePrefix+"/"+layer, "key")
	value := variable(ctx, g, "/"+ScopePrefix+"/"+layer, "value")

	var scale *Node // [B, p] or scalar, nil = 1
	if c.Kind.HasTokenGate() {
		h := poolForGate(c.GatePooling, prev, mask)
		w := variable(ctx, g, "/"+ScopeGate+"/"+layer, "weight")
		b := variable(ctx, g, "/"+ScopeGate+"/"+layer, "bias")
		alpha := Sigmoid(Add(bert.MatMulLast(h, w), InsertAxes(b, 0)))
		if gates != nil {
			gates.Alpha[i] = alpha
		}
		scale = alpha
	}
	if c.Kind.HasLayerGate() {
		lambda := variable(ctx, g, "/"+ScopeLayerScale, layer)
		if gates != nil {
			gates.Lambda[i] = lambda
		}
		if scale == nil {
			scale = lambda
		} else {
			scale = Mul(scale, lambda)
		}
	}
	apply := func(slots *Node) *Node {
		out := BroadcastPrefix(slots, batch) // [B, p, d]
		if scale != nil {
			if scale.Rank() == 0 {
				out = Mul(out, scale)
			} else {
				out = Mul(out, InsertAxes(scale, -1))
			}
		}
		return layers.DropoutStatic(ctx, out, c.PrefixDropout)
	}
	return apply(key), apply(value)
}

// poolForGate pools the previous layer's output [B, T, d] into h [B, d]: the
// mean over real tokens (mask [B, T] bool), or the first token.
func poolForGate(pooling string, prev, mask *Node) *Node {
	if pooling == PoolCLS {
		return bert.FirstToken(prev)
	}
	m := ConvertDType(mask, prev.DType())                             // [B, T]
	sum := ReduceSum(Mul(prev, InsertAxes(m, -1)), 1)                 // [B, d]
	count := Max(ReduceSum(m, 1), ScalarOne(prev.Graph(), m.DType())) // [B]
	return Div(sum, InsertAxes(count, -1))
}

// prompt returns prompt tuning's embeddings [B, p, d].
func prompt(ctx *context.Context, c *Config, emb *Node) *Node {
	g := emb.Graph()
	batch := emb.Shape().Dimensions[0]
	e := variable(ctx, g, "/"+ScopePrompt, "embedding")
	return layers.DropoutStatic(ctx, BroadcastPrefix(e, batch), c.PrefixDropout)
}

func variable(ctx *context.Context, g *Graph, scope, name string) *Node {
	v := ctx.GetVariableByScopeAndName(scope, name)
	if v == nil {
		panic(fmt.Errorf("method: variable %s/%s does not exist (call method.Create first)", scope, name))
	}
	return v.ValueGraph(g)
}
