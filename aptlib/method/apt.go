package method

import (
	"strconv"

	"github.com/aptbench/apt/aptlib/backbone"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// APT (Zhang et al. 2023, eq. 3-5) is PT-2 (pt2.go) with two gates on each
// layer's prefix: the token gate alpha_i = sigmoid(h_{i-1} W_i + b_i), one
// weight per prefix slot computed from the layer's input, and the layer gate
// lambda_i, one learnable scalar per layer. The ablations keep one of them.
var (
	apt = prefixMethod{kind: APT, tokenGate: true, layerGate: true,
		doc: "Adaptive Prefix Tuning: PT-2 prefixes weighed by a token gate and a layer scale"}
	aptNoTokenGate = prefixMethod{kind: APTNoTokenGate, layerGate: true,
		doc: "APT ablation without the token gate (alpha = 1)"}
	aptNoLayerGate = prefixMethod{kind: APTNoLayerGate, tokenGate: true,
		doc: "APT ablation without the layer scale (lambda = 1, fixed)"}
)

const (
	gateWeight = ScopeGate + ".{i}.weight"
	gateBias   = ScopeGate + ".{i}.bias"
	layerScale = ScopeLayerScale + ".{i}"
)

// gateTensors are layer i's gate tensors, after its prefix: with a token gate
// gate.{i}.weight [d, p_i], N(0, InitStd), and gate.{i}.bias [p_i], all
// GateBiasInit; with a layer gate the scalar layer_scale.{i}, LayerScaleInit.
func (m prefixMethod) gateTensors(c *Config, i, p, d int) []Tensor {
	var out []Tensor
	if m.tokenGate {
		out = append(out,
			Tensor{Name: layerName(gateWeight, i), Shape: []int{d, p}, Layer: i, Init: Normal(c.InitStd)},
			Tensor{Name: layerName(gateBias, i), Shape: []int{p}, Layer: i, Init: Fill(c.GateBiasInit)})
	}
	if m.layerGate {
		out = append(out, Tensor{Name: layerName(layerScale, i), Shape: []int{}, Layer: i, Init: Fill(c.LayerScaleInit)})
	}
	return out
}

// gateScale is the factor on layer i's prefix, nil for 1:
//
//	alpha_i = sigmoid(h_{i-1} W_i + b_i)   [B, p_i]   (token gate; 1 when absent)
//	scale_i = lambda_i * alpha_i                      (lambda_i = 1 when absent)
//
// with h_{i-1} the layer input pooled over real tokens (mean) or its first
// token (cls). The gate nodes go into gates when it is non-nil.
func (m prefixMethod) gateScale(ctx *context.Context, c *Config, i int, prev, mask *Node, gates *Gates) *Node {
	g := prev.Graph()
	layer := strconv.Itoa(i)
	var scale *Node
	if m.tokenGate {
		h := poolForGate(c.GatePooling, prev, mask)
		w := variable(ctx, g, "/"+ScopeGate+"/"+layer, "weight")
		b := variable(ctx, g, "/"+ScopeGate+"/"+layer, "bias")
		alpha := Sigmoid(Add(backbone.MatMulLast(h, w), InsertAxes(b, 0)))
		if gates != nil {
			gates.Alpha[i] = alpha
		}
		scale = alpha
	}
	if m.layerGate {
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
	return scale
}

// poolForGate pools the previous layer's output [B, T, d] into h [B, d]: the
// mean over real tokens (mask [B, T] bool), or the first token.
func poolForGate(pooling string, prev, mask *Node) *Node {
	if pooling == PoolCLS {
		return backbone.FirstToken(prev)
	}
	m := ConvertDType(mask, prev.DType())                             // [B, T]
	sum := ReduceSum(Mul(prev, InsertAxes(m, -1)), 1)                 // [B, d]
	count := Max(ReduceSum(m, 1), ScalarOne(prev.Graph(), m.DType())) // [B]
	return Div(sum, InsertAxes(count, -1))
}
