package bert

import (
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/backbone"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Inputs, Hooks and Output are the backbone contract's types (package
// backbone), under the names this package has always used.
type (
	Inputs = backbone.Inputs
	Hooks  = backbone.Hooks
	Output = backbone.Output
)

// Forward computes BertModel's forward pass, as in transformers' modeling_bert.py,
// reading the backbone's variables from ctx (see LoadWeights). Dropout follows
// the config and applies only when ctx is in training mode for the graph.
//
// Token t takes position row in.PositionOffset + t, as BertEmbeddings takes
// position_ids[past_key_values_length : past_key_values_length + T] when
// P-Tuning v2 passes its prefixes as past_key_values (offset = layer 0's
// prefix length). Like every graph builder it panics on a bad input: a
// negative offset, or T + offset beyond max_position_embeddings.
func Forward(ctx *context.Context, c *Config, in Inputs, hooks *Hooks) *Output {
	return forward(ctx, c, in, nil, hooks)
}

// forward is Forward with optional absolute position ids [B, T] (nil:
// in.PositionOffset + 0..T-1); see ForwardWithPositions.
func forward(ctx *context.Context, c *Config, in Inputs, positionIDs *Node, hooks *Hooks) *Output {
	if hooks == nil {
		hooks = &Hooks{}
	}
	g := in.IDs.Graph()
	batch, seqLen := in.IDs.Shape().Dimensions[0], in.IDs.Shape().Dimensions[1]
	offset := 0
	if positionIDs == nil {
		offset = in.PositionOffset
	}
	switch {
	case offset < 0:
		panic(fmt.Errorf("bert: position offset %d is negative", offset))
	case offset > 0 && seqLen+offset > c.MaxPositionEmbeddings:
		panic(fmt.Errorf("bert: sequence length %d with position offset %d exceeds max_position_embeddings %d", seqLen, offset, c.MaxPositionEmbeddings))
	case seqLen > c.MaxPositionEmbeddings:
		panic(fmt.Errorf("bert: sequence length %d exceeds max_position_embeddings %d", seqLen, c.MaxPositionEmbeddings))
	}
	typeIDs := in.TypeIDs
	if typeIDs == nil {
		typeIDs = Zeros(g, in.IDs.Shape())
	}
	var mask *Node
	if in.Mask == nil {
		mask = trues(g, batch, seqLen)
	} else {
		mask = NotEqual(in.Mask, ZerosLike(in.Mask))
	}

	x := embeddings(ctx, c, in.IDs, typeIDs, positionIDs, offset)
	numPrompt := 0
	attnMask := mask
	if hooks.Prompt != nil {
		if prompt := hooks.Prompt(x); prompt != nil {
			numPrompt = prompt.Shape().Dimensions[1]
			x = Concatenate([]*Node{prompt, x}, 1)
			attnMask = Concatenate([]*Node{trues(g, batch, numPrompt), mask}, 1)
		}
	}
	out := &Output{Mask: mask, Hidden: []*Node{x}, Pool: func(seq *Node) *Node { return pooler(ctx, c, seq) }}
	for i := range c.NumHiddenLayers {
		var pk, pv *Node
		if hooks.Prefix != nil {
			pk, pv = hooks.Prefix(i, x, attnMask)
		}
		x = layer(ctx, c, i, x, attnMask, pk, pv)
		out.Hidden = append(out.Hidden, x)
	}
	if numPrompt > 0 {
		// Drop the prompt positions with a one-hot selection product: the pure-Go
		// backend implements neither Pad (Slice's gradient) nor DynamicSlice.
		total := numPrompt + seqLen
		rows := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 0)
		cols := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 1)
		sel := ConvertDType(Equal(AddScalar(rows, numPrompt), cols), x.DType()) // [T, P+T]
		x = TransposeAllAxes(DotFast(x, []int{1}, nil, sel, []int{1}, nil), 0, 2, 1)
	}
	out.Sequence = x
	return out
}

// pooler is BertPooler: dense + tanh on the [CLS] token, [B, d]. Without a
// pooler in the checkpoint (c.NoPooler) the dense layer is the created one
// (backbone.ScopePooler, input-major weight).
func pooler(ctx *context.Context, c *Config, seq *Node) *Node {
	first := FirstToken(seq)
	if c.NoPooler {
		w, b := backbone.CreatedPooler(ctx, seq.Graph())
		return Tanh(Add(MatMulLast(first, w), InsertAxes(b, 0)))
	}
	return Tanh(linear(ctx, "pooler.dense", first))
}

// trues is a bool tensor of the given dimensions, all true.
func trues(g *Graph, dims ...int) *Node { return BroadcastPrefix(Const(g, true), dims...) }

// embeddings is BertEmbeddings: word + absolute position + token type, LayerNorm,
// dropout. positionIDs [B, T] gives each token's row of the position table; nil
// means offset..offset+T-1 (BERT).
func embeddings(ctx *context.Context, c *Config, ids, typeIDs, positionIDs *Node, offset int) *Node {
	g := ids.Graph()
	seqLen := ids.Shape().Dimensions[1]
	words := Gather(param(ctx, g, "embeddings.word_embeddings.weight"), InsertAxes(ids, -1))
	types := Gather(param(ctx, g, "embeddings.token_type_embeddings.weight"), InsertAxes(typeIDs, -1))
	// Gather rather than Slice: Slice's gradient (needed for FT) is Pad, which the
	// pure-Go backend of GoMLX v0.26.0 does not implement.
	var positions *Node
	if positionIDs == nil {
		rows := AddScalar(Iota(g, shapes.Make(dtypes.Int32, seqLen, 1), 0), float64(offset))
		positions = InsertAxes(Gather(param(ctx, g, "embeddings.position_embeddings.weight"), rows), 0) // [1, T, d]
	} else {
		positions = Gather(param(ctx, g, "embeddings.position_embeddings.weight"), InsertAxes(positionIDs, -1)) // [B, T, d]
	}
	x := Add(Add(words, types), positions)
	x = layerNorm(ctx, c, "embeddings.LayerNorm", x)
	return dropout(ctx, x, c.HiddenDropoutProb)
}

// layer is one BertLayer: self-attention (with optional prefix slots), residual and
// LayerNorm, then the feed-forward block, residual and LayerNorm.
func layer(ctx *context.Context, c *Config, i int, x, mask, prefixKey, prefixValue *Node) *Node {
	p := fmt.Sprintf("encoder.layer.%d.", i)
	attn := selfAttention(ctx, c, p+"attention.self", x, mask, prefixKey, prefixValue)
	attn = dropout(ctx, linear(ctx, p+"attention.output.dense", attn), c.HiddenDropoutProb)
	x = layerNorm(ctx, c, p+"attention.output.LayerNorm", Add(attn, x))
	h := activate(c.HiddenAct, linear(ctx, p+"intermediate.dense", x))
	h = dropout(ctx, linear(ctx, p+"output.dense", h), c.HiddenDropoutProb)
	return layerNorm(ctx, c, p+"output.LayerNorm", Add(h, x))
}

// selfAttention is BertSelfAttention with P-Tuning v2's prefix: keys and values are
// [prefix ; X W + b] per head; the scores are scaled by 1/sqrt(d/n) once, padded
// keys get the most negative float32 added (as HF's extended attention mask does),
// softmax, attention-probability dropout, weighted sum of values.
func selfAttention(ctx *context.Context, c *Config, name string, x, mask, prefixKey, prefixValue *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, seqLen := dims[0], dims[1]
	n, hd := c.NumAttentionHeads, c.HeadSize()
	heads := func(t *Node) *Node { return Reshape(t, batch, t.Shape().Dimensions[1], n, hd) }
	q := heads(linear(ctx, name+".query", x))
	k := heads(linear(ctx, name+".key", x))
	v := heads(linear(ctx, name+".value", x))
	keyMask := mask
	if prefixKey != nil {
		p := prefixKey.Shape().Dimensions[1]
		k = Concatenate([]*Node{heads(prefixKey), k}, 1)
		v = Concatenate([]*Node{heads(prefixValue), v}, 1)
		keyMask = Concatenate([]*Node{trues(g, batch, p), mask}, 1)
	}
	scores := DotFast(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}) // [B, n, T, K]
	scores = MulScalar(scores, scoreScale(hd))
	// HF: extended_attention_mask = (1 - mask) * torch.finfo(float32).min, added to the scores.
	numKeys := keyMask.Shape().Dimensions[1]
	bias := Where(keyMask, Zeros(g, shapes.Make(scores.DType(), batch, numKeys)),
		BroadcastPrefix(Scalar(g, scores.DType(), -math.MaxFloat32), batch, numKeys))
	scores = Add(scores, Reshape(bias, batch, 1, 1, numKeys))
	probs := Softmax(scores, -1)
	probs = dropout(ctx, probs, c.AttentionProbsDropoutProb)
	out := DotFast(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [B, n, T, h]
	return Reshape(TransposeAllAxes(out, 0, 2, 1, 3), batch, seqLen, n*hd)
}

// scoreScale is BertSelfAttention's 1/sqrt(attention_head_size). A variable only so
// the golden test can show that a wrong scale is caught.
var scoreScale = func(headSize int) float64 { return 1 / math.Sqrt(float64(headSize)) }

// linear is torch.nn.Linear with the PyTorch [out, in] weight layout: x W^T + b.
func linear(ctx *context.Context, name string, x *Node) *Node {
	g := x.Graph()
	w := param(ctx, g, name+".weight")
	b := param(ctx, g, name+".bias")
	rank := x.Rank()
	y := DotFast(x, []int{rank - 1}, nil, w, []int{1}, nil)
	return Add(y, ExpandLeftToRank(b, rank))
}

// layerNorm is torch.nn.LayerNorm over the last axis with the config's epsilon
// (biased variance, as PyTorch computes it).
func layerNorm(ctx *context.Context, c *Config, name string, x *Node) *Node {
	g := x.Graph()
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	// Div by Sqrt rather than Mul by Rsqrt: GoMLX v0.26.0 defines no gradient for Rsqrt.
	normed := Div(centered, Sqrt(AddScalar(variance, c.LayerNormEps)))
	rank := x.Rank()
	return Add(Mul(normed, ExpandLeftToRank(param(ctx, g, name+".weight"), rank)),
		ExpandLeftToRank(param(ctx, g, name+".bias"), rank))
}

// activation maps config.json's hidden_act to a function, after transformers'
// activations.py ACT2FN: "gelu" is the exact erf form; "gelu_new",
// "gelu_pytorch_tanh" and "gelu_fast" the tanh approximation.
func activation(name string) (func(*Node) *Node, error) {
	switch name {
	case "gelu":
		return activations.Gelu, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return activations.GeluApproximate, nil
	case "relu":
		return activations.Relu, nil
	case "silu", "swish":
		return activations.Swish, nil
	case "tanh":
		return Tanh, nil
	}
	return nil, fmt.Errorf("hidden_act %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh)", name)
}

func activate(name string, x *Node) *Node {
	fn, err := activation(name)
	if err != nil {
		panic(err)
	}
	return fn(x)
}

func dropout(ctx *context.Context, x *Node, rate float64) *Node {
	if !ctx.IsTraining(x.Graph()) {
		return x
	}
	if rate = BackboneDropout(ctx, rate); rate <= 0 {
		return x
	}
	return layers.DropoutStatic(ctx, x, rate)
}

// BackboneDropout is backbone.Dropout: the backbone's dropout rate in
// training, given the config's rate for that place and the context parameter
// ParamBackboneDropout.
func BackboneDropout(ctx *context.Context, configRate float64) float64 {
	return backbone.Dropout(ctx, configRate)
}

// ParamBackboneDropout is backbone.ParamDropout, the context parameter that
// sets the backbone's own dropout in training.
const ParamBackboneDropout = backbone.ParamDropout

// param returns the graph node of the backbone tensor with the canonical name.
func param(ctx *context.Context, g *Graph, name string) *Node {
	v := Variable(ctx, name)
	if v == nil {
		panic(fmt.Errorf("bert: variable for tensor %q is not loaded (call LoadWeights or InitRandom first)", name))
	}
	return v.ValueGraph(g)
}
