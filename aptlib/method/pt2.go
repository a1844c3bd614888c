package method

import (
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
)

// prefixMethod is P-Tuning v2 (Liu et al. 2022): per layer i with p_i > 0 a
// trained key and value prefix [p_i, d] in front of the layer's attention keys
// and values. With tokenGate or layerGate it is APT or one of its ablations
// (apt.go), which weigh the prefix by gates.
type prefixMethod struct {
	kind                 Kind
	aliases              []string
	doc                  string
	tokenGate, layerGate bool
}

// pt2 is P-Tuning v2 itself: prefixes without gates.
var pt2 = prefixMethod{kind: PT2, aliases: []string{"pt-2", "p-tuning-v2", "prefix"},
	doc: "P-Tuning v2: trained key/value prefixes in every layer"}

const (
	prefixKey   = ScopePrefix + ".{i}.key"
	prefixValue = ScopePrefix + ".{i}.value"
)

func (m prefixMethod) Info() Info {
	names := []string{prefixKey, prefixValue}
	if m.tokenGate {
		names = append(names, gateWeight, gateBias)
	}
	if m.layerGate {
		names = append(names, layerScale)
	}
	return Info{Kind: m.kind, Aliases: m.aliases, Doc: m.doc, Prefix: true,
		TokenGate: m.tokenGate, LayerGate: m.layerGate, Names: names}
}

// Tensors: per layer i with p_i > 0, prefix.{i}.key and prefix.{i}.value
// [p_i, d], N(0, InitStd); then the layer's gates (gateTensors).
func (m prefixMethod) Tensors(c *Config, d int) []Tensor {
	var out []Tensor
	for i, p := range c.PrefixLens {
		if p == 0 {
			continue
		}
		out = append(out,
			Tensor{Name: layerName(prefixKey, i), Shape: []int{p, d}, Layer: i, Init: Normal(c.InitStd)},
			Tensor{Name: layerName(prefixValue, i), Shape: []int{p, d}, Layer: i, Init: Normal(c.InitStd)})
		out = append(out, m.gateTensors(c, i, p, d)...)
	}
	return out
}

func (m prefixMethod) Hooks(ctx *context.Context, c *Config, gates *Gates) *backbone.Hooks {
	return &backbone.Hooks{Prefix: func(layer int, prev, mask *Node) (*Node, *Node) {
		return m.prefix(ctx, c, layer, prev, mask, gates)
	}}
}

// prefix computes layer i's key and value slots [B, p_i, d]:
//
//	P'_i = scale_i * P_i    (scale_i: the gates, gateScale; 1 for PT-2)
//
// then prefix dropout in training, as P-Tuning v2 applies to its
// past_key_values.
func (m prefixMethod) prefix(ctx *context.Context, c *Config, i int, prev, mask *Node, gates *Gates) (*Node, *Node) {
	p := c.PrefixLens[i]
	if p == 0 {
		return nil, nil
	}
	g := prev.Graph()
	batch := prev.Shape().Dimensions[0]
	layer := "/" + ScopePrefix + "/" + strconv.Itoa(i)
	key := variable(ctx, g, layer, "key")
	value := variable(ctx, g, layer, "value")
	scale := m.gateScale(ctx, c, i, prev, mask, gates) // [B, p] or scalar, nil = 1
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

// FromShapes, when the metadata gave no prefix_lens, takes the number of
// layers from the highest layer number of any per-layer tensor in the file and
// each layer's length from the first dimension of its key prefix (or of
// whatever else of the layer's tensors carries p_i). With no per-layer tensor
// at all (a head-only PT-2 probe) the list is empty: adapter.Spec gives every
// layer of the backbone length 0.
func (m prefixMethod) FromShapes(c *Config, shapes map[string][]int) (map[int]string, error) {
	if c.PrefixLens != nil {
		return nil, nil
	}
	layers := 0
	for name := range shapes {
		if _, l, ok := ParseTensorName(name); ok && l >= 0 {
			layers = max(layers, l+1)
		}
	}
	type carrier struct {
		pattern string
		dim     int // the dimension that is p_i
	}
	carriers := []carrier{{prefixKey, 0}, {prefixValue, 0}}
	if m.tokenGate {
		carriers = append(carriers, carrier{gateWeight, 1}, carrier{gateBias, 0})
	}
	from := map[int]string{}
	c.PrefixLens = make([]int, layers)
	for i := range layers {
		for _, cand := range carriers {
			name := layerName(cand.pattern, i)
			if s, ok := shapes[name]; ok && len(s) > cand.dim {
				c.PrefixLens[i], from[i] = s[cand.dim], name
				break
			}
		}
	}
	return from, nil
}

// layerName is pattern ("prefix.{i}.key") for layer i.
func layerName(pattern string, i int) string {
	before, after, _ := strings.Cut(pattern, "{i}")
	return before + strconv.Itoa(i) + after
}
