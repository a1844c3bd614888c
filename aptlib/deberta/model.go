package deberta

import (
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Forward computes DebertaModel's forward pass (modeling_deberta.py), reading
// the variables of Tensors(c) from ctx. Dropout follows the config (and
// bert.ParamBackboneDropout) and applies only in training.
//
// Hooks.Prefix slots are placed as P-Tuning v2's model/deberta.py places them
// (package doc): content scores only, with the content score's scale. A
// Hooks.Prompt's embeddings are put in front of the (masked) embedding output
// and are tokens like the others: they take relative positions 0..p-1, the
// real tokens p..p+T-1. Output.Pool is ContextPooler on the first real token;
// after a checkpoint without pooler (HasPooler false) it reads the created
// pooler (backbone.CreatedPooler) and panics when none was created.
//
// With position_biased_input true, token t takes absolute position row
// in.PositionOffset + t: an offset > 0 is P-Tuning v2's shift by layer 0's
// prefix length (its DebertaEmbeddings' past_key_values_length). Without
// absolute positions the offset changes nothing. Like every graph builder it
// panics on a bad input: a negative offset, or T + offset beyond
// max_position_embeddings when the absolute table is used.
func Forward(ctx *context.Context, c *Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
	offset := in.PositionOffset
	if hooks == nil {
		hooks = &backbone.Hooks{}
	}
	g := in.IDs.Graph()
	batch, seqLen := in.IDs.Shape().Dimensions[0], in.IDs.Shape().Dimensions[1]
	if offset < 0 {
		panic(fmt.Errorf("deberta: position offset %d is negative", offset))
	}
	if c.PositionBiasedInput && seqLen+offset > c.MaxPositionEmbeddings {
		panic(fmt.Errorf("deberta: sequence length %d with position offset %d exceeds max_position_embeddings %d", seqLen, offset, c.MaxPositionEmbeddings))
	}
	var mask *Node
	if in.Mask == nil {
		mask = trues(g, batch, seqLen)
	} else {
		mask = NotEqual(in.Mask, ZerosLike(in.Mask))
	}
	x := embeddings(ctx, c, in.IDs, in.TypeIDs, mask, offset)
	numPrompt := 0
	attnMask := mask
	if hooks.Prompt != nil {
		if prompt := hooks.Prompt(x); prompt != nil {
			numPrompt = prompt.Shape().Dimensions[1]
			x = Concatenate([]*Node{prompt, x}, 1)
			attnMask = Concatenate([]*Node{trues(g, batch, numPrompt), mask}, 1)
		}
	}
	out := &backbone.Output{Mask: mask, Hidden: []*Node{x}}
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
		sel := ConvertDType(Equal(AddScalar(rows, float64(numPrompt)), cols), x.DType()) // [T, P+T]
		x = TransposeAllAxes(bert.DotFast(x, []int{1}, nil, sel, []int{1}, nil), 0, 2, 1)
	}
	out.Sequence = x
	out.Pool = func(sequence *Node) *Node { return pool(ctx, c, sequence) }
	return out
}

func trues(g *Graph, dims ...int) *Node { return BroadcastPrefix(Const(g, true), dims...) }

// embeddings is DebertaEmbeddings: word + [position_biased_input] position
// (rows offset..offset+T-1) + [type_vocab_size > 0] token type, embed_proj
// when embedding_size != hidden_size, LayerNorm, times the mask, dropout.
func embeddings(ctx *context.Context, c *Config, ids, typeIDs, mask *Node, offset int) *Node {
	g := ids.Graph()
	seqLen := ids.Shape().Dimensions[1]
	x := Gather(param(ctx, g, "embeddings.word_embeddings.weight"), InsertAxes(ids, -1))
	if c.PositionBiasedInput {
		// Gather rather than Slice: Slice's gradient (Pad) is missing in the pure-Go backend.
		rows := AddScalar(Iota(g, shapes.Make(dtypes.Int32, seqLen, 1), 0), float64(offset))
		pos := Gather(param(ctx, g, "embeddings.position_embeddings.weight"), rows)
		x = Add(x, InsertAxes(pos, 0))
	}
	if c.TypeVocabSize > 0 {
		if typeIDs == nil {
			typeIDs = Zeros(g, ids.Shape())
		}
		x = Add(x, Gather(param(ctx, g, "embeddings.token_type_embeddings.weight"), InsertAxes(typeIDs, -1)))
	}
	if c.Embedding() != c.Dim {
		x = linearNoBias(ctx, "embeddings.embed_proj", x)
	}
	x = layerNorm(ctx, c, "embeddings.LayerNorm", x)
	x = Mul(x, InsertAxes(ConvertDType(mask, x.DType()), -1))
	return dropout(ctx, x, c.HiddenDropoutProb)
}

// layer is one DebertaLayer: attention, output dense + residual + LayerNorm,
// then the feed-forward block as BERT's.
func layer(ctx *context.Context, c *Config, i int, x, mask, prefixKey, prefixValue *Node) *Node {
	p := fmt.Sprintf("encoder.layer.%d.", i)
	attn := selfAttention(ctx, c, p+"attention.self.", x, mask, prefixKey, prefixValue)
	attn = dropout(ctx, linear(ctx, p+"attention.output.dense", attn), c.HiddenDropoutProb)
	x = layerNorm(ctx, c, p+"attention.output.LayerNorm", Add(attn, x))
	h := activate(c.HiddenAct, linear(ctx, p+"intermediate.dense", x))
	h = dropout(ctx, linear(ctx, p+"output.dense", h), c.HiddenDropoutProb)
	return layerNorm(ctx, c, p+"output.LayerNorm", Add(h, x))
}

// scoreScale is DisentangledSelfAttention's 1/sqrt(d_head * sf),
// sf = 1 + len(pos_att_type). A variable only so the golden test can show that
// a wrong scale is caught.
var scoreScale = func(headSize, sf int) float64 { return 1 / math.Sqrt(float64(headSize*sf)) }

// selfAttention is DisentangledSelfAttention with P-Tuning v2's prefix slots.
func selfAttention(ctx *context.Context, c *Config, name string, x, mask, prefixKey, prefixValue *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, seqLen := dims[0], dims[1]
	n, hd, d := c.NumAttentionHeads, c.HeadSize(), c.Dim
	// in_proj.weight [3d, d]: HF views X W^T as [B, T, n, 3 dh] and chunks the
	// last axis in 3, so row h*3dh + part*dh + r is part (q, k, v) of head h.
	// Each part is cut out of the weight by a one-hot product (a Slice would need
	// Pad for its gradient, which the pure-Go backend lacks).
	w := Reshape(param(ctx, g, name+"in_proj.weight"), n, 3, hd, d)
	project := func(part int) *Node {
		oh := ConvertDType(Equal(Iota(g, shapes.Make(dtypes.Int32, 1, 3, 1, 1), 1), Scalar(g, dtypes.Int32, part)), w.DType())
		wp := ReduceSum(Mul(w, oh), 1)                           // [n, dh, d]
		return bert.DotFast(x, []int{2}, nil, wp, []int{2}, nil) // [B, T, n, dh]
	}
	headBias := func(b string) *Node { return Reshape(param(ctx, g, name+b), 1, 1, n, hd) }
	heads := func(t *Node) *Node { return Reshape(t, batch, t.Shape().Dimensions[1], n, hd) }

	scale := scoreScale(hd, c.ScaleFactor())
	q := MulScalar(Add(project(0), headBias("q_bias")), scale) // HF divides Q (bias included) before the scores
	k := project(1)                                            // no key bias
	v := Add(project(2), headBias("v_bias"))
	keys, values, keyMask := k, v, mask
	numPrefix := 0
	if prefixKey != nil {
		numPrefix = prefixKey.Shape().Dimensions[1]
		keys = Concatenate([]*Node{heads(prefixKey), k}, 1)
		values = Concatenate([]*Node{heads(prefixValue), v}, 1) // prefix values get no v_bias
		keyMask = Concatenate([]*Node{trues(g, batch, numPrefix), mask}, 1)
	}
	scores := bert.DotFast(q, []int{3}, []int{0, 2}, keys, []int{3}, []int{0, 2}) // [B, n, T, p+T]
	if c.RelativeAttention && len(c.PosAttType) > 0 {
		rel := disentangledBias(ctx, c, name, q, k, scale) // [B, n, T, T], real keys only
		if numPrefix > 0 {
			rel = Concatenate([]*Node{Zeros(g, shapes.Make(rel.DType(), batch, n, seqLen, numPrefix)), rel}, 3)
		}
		scores = Add(scores, rel)
	}
	// XSoftmax: allowed_ij = m_i m_j; masked entries get finfo.min before the
	// softmax and probability 0 after it, so padded queries' rows are all zero.
	numKeys := numPrefix + seqLen
	allowed := LogicalAnd(Reshape(mask, batch, 1, seqLen, 1), Reshape(keyMask, batch, 1, 1, numKeys))
	allowed = BroadcastToDims(allowed, batch, n, seqLen, numKeys)
	scores = Where(allowed, scores, Scalar(g, scores.DType(), -math.MaxFloat32))
	probs := Where(allowed, Softmax(scores, -1), ZerosLike(scores))
	probs = dropout(ctx, probs, c.AttentionProbsDropoutProb)
	out := bert.DotFast(probs, []int{3}, []int{0, 1}, values, []int{1}, []int{0, 2}) // [B, n, T, dh]
	return Reshape(TransposeAllAxes(out, 0, 2, 1, 3), batch, seqLen, d)
}

// relIndex is the column of the c2p term, clamp(i - j + s, 0, 2s - 1), in the
// relative-embedding rows M-s .. M+s-1 (s = att_span = min(T, M)): row
// M + clamp(i - j, -M, M - 1) of rel_embeddings.
func relIndex(i, j, s int) int { return min(max(i-j+s, 0), 2*s-1) }

// p2cIndex is the column of K_j Q_r^T that the p2c score (i, j) reads. HF
// gathers row j at clamp(-(j - i) + s) and transposes: relIndex(i, j, s), the
// same relative row as c2p (not the paper's delta(j, i) = relIndex(j, i, s)).
// A variable only so the golden test can show that the wrong index is caught.
var p2cIndex = relIndex

// disentangledBias is disentangled_att_bias for the real tokens: the c2p and
// p2c terms [B, n, T, T], already divided by sqrt(dh sf) (q comes scaled; Q_r
// is scaled here). Query and key lengths are equal (T) in the encoder, so HF's
// r_pos branch for unequal lengths never applies.
func disentangledBias(ctx *context.Context, c *Config, name string, q, k *Node, scale float64) *Node {
	g := q.Graph()
	seqLen := q.Shape().Dimensions[1]
	n, hd := c.NumAttentionHeads, c.HeadSize()
	m := c.MaxRelative()
	s := min(seqLen, m) // att_span = min(max(query length, key length), M)
	rows := make([][]int32, 2*s)
	for r := range rows {
		rows[r] = []int32{int32(m - s + r)}
	}
	// rel_embeddings[M-s : M+s], gathered (Slice's gradient is missing in the pure-Go backend).
	relEmb := dropout(ctx, Gather(param(ctx, g, "encoder.rel_embeddings.weight"), Const(g, rows)), c.HiddenDropoutProb) // [2s, d]
	posHeads := func(t *Node) *Node { return Reshape(t, 2*s, n, hd) }
	var bias *Node
	add := func(t *Node) {
		if bias == nil {
			bias = t
		} else {
			bias = Add(bias, t)
		}
	}
	if c.PosAttType.Has("c2p") {
		kr := posHeads(linearNoBias(ctx, name+"pos_proj", relEmb))         // [2s, n, dh]
		c2p := bert.DotFast(q, []int{3}, []int{2}, kr, []int{2}, []int{1}) // [n, B, T_i, 2s]
		add(gatherRelative(c2p, s, func(i, j int) int { return i*2*s + relIndex(i, j, s) }))
	}
	if c.PosAttType.Has("p2c") {
		qr := MulScalar(posHeads(linear(ctx, name+"pos_q_proj", relEmb)), scale) // [2s, n, dh]
		p2c := bert.DotFast(k, []int{3}, []int{2}, qr, []int{2}, []int{1})       // [n, B, T_j, 2s]
		add(gatherRelative(p2c, s, func(i, j int) int { return j*2*s + p2cIndex(i, j, s) }))
	}
	return bias
}

// gatherRelative picks, for every query i and key j, one entry of x
// [n, B, T, 2s] flattened over its last two axes, at flat(i, j) (an index into
// T*2s), and returns [B, n, T_i, T_j]. The indices are constants; Gather's
// gradient (a scatter-add) is implemented by the pure-Go backends, and unlike a
// one-hot product it costs no T*T*2s work.
func gatherRelative(x *Node, s int, flat func(i, j int) int) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	n, batch, seqLen := dims[0], dims[1], dims[2]
	idx := make([][][]int32, seqLen)
	for i := range idx {
		idx[i] = make([][]int32, seqLen)
		for j := range idx[i] {
			idx[i][j] = []int32{int32(flat(i, j))}
		}
	}
	t := Reshape(TransposeAllAxes(x, 2, 3, 0, 1), seqLen*2*s, n, batch) // [T*2s, n, B]
	picked := Gather(t, Const(g, idx))                                  // [T_i, T_j, n, B]
	return TransposeAllAxes(picked, 3, 2, 0, 1)
}

// pool is ContextPooler: pooler_hidden_act(dropout(h_0) W_p^T + b_p). After
// a checkpoint without pooler (HasPooler false) the dense layer is the
// created one (backbone.CreatedPooler, input-major: h_0 W + b), with the same
// dropout and activation.
func pool(ctx *context.Context, c *Config, sequence *Node) *Node {
	if !c.HasPooler() {
		if ctx.GetVariableByScopeAndName("/"+backbone.ScopePooler, "weight") == nil {
			panic(fmt.Errorf("deberta: no pooler variable %q: the checkpoint had no pooler and none was created (model.CreateHead creates it in scope %q)",
				PoolerTensors[0], backbone.ScopePooler))
		}
		w, b := backbone.CreatedPooler(ctx, sequence.Graph())
		x := dropout(ctx, bert.FirstToken(sequence), c.PoolerDropout)
		return activate(c.PoolerHiddenAct, Add(bert.MatMulLast(x, w), InsertAxes(b, 0)))
	}
	for _, name := range PoolerTensors {
		if bert.Variable(ctx, name) == nil {
			panic(fmt.Errorf("deberta: no pooler variable %q: the checkpoint had no pooler and none was created", name))
		}
	}
	x := dropout(ctx, bert.FirstToken(sequence), c.PoolerDropout)
	return activate(c.PoolerHiddenAct, linear(ctx, "pooler.dense", x))
}

// linear is torch.nn.Linear with the PyTorch [out, in] weight layout: x W^T + b.
func linear(ctx *context.Context, name string, x *Node) *Node {
	b := param(ctx, x.Graph(), name+".bias")
	return Add(linearNoBias(ctx, name, x), ExpandLeftToRank(b, x.Rank()))
}

// linearNoBias is x W^T (torch.nn.Linear with bias=False).
func linearNoBias(ctx *context.Context, name string, x *Node) *Node {
	w := param(ctx, x.Graph(), name+".weight")
	return bert.DotFast(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil)
}

// layerNorm is DebertaLayerNorm: biased variance over the last axis, the
// config's epsilon inside the square root.
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

// activation maps hidden_act / pooler_hidden_act to a function, after
// transformers' ACT2FN: "gelu" is the exact erf form; "gelu_new",
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
	return nil, fmt.Errorf("activation %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh)", name)
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
	if rate = bert.BackboneDropout(ctx, rate); rate <= 0 {
		return x
	}
	return layers.DropoutStatic(ctx, x, rate)
}

// param returns the graph node of the backbone tensor with the canonical name.
func param(ctx *context.Context, g *Graph, name string) *Node {
	v := bert.Variable(ctx, name)
	if v == nil {
		panic(fmt.Errorf("deberta: variable for tensor %q is not loaded (call LoadWeights or InitRandom first)", name))
	}
	return v.ValueGraph(g)
}
