package debertav2

import (
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Forward computes DebertaV2Model's forward pass (modeling_deberta_v2.py),
// reading the variables from ctx (LoadWeights or InitRandom). Dropout follows
// the config and applies only when ctx is in training mode for the graph.
//
// Deep prefixes (hooks.Prefix) are placed as P-Tuning v2's model/debertaV2.py
// places past_key_values: layer i's key and value slots [B, p_i, d] go in
// front of the layer's projected keys and values; every real query attends
// to every slot; a slot gets the content score q.k_slot / sqrt(d_head * sf)
// only: no c2p, no p2c, no relative embedding (slots have no position). The
// relative positions run over the T input positions. Padded queries attend to
// nothing (their rows are zero, as XSoftmax makes them).
//
// Prompt embeddings (hooks.Prompt) are put in front of the embedding output
// and take relative positions 0..p-1 like tokens; they are dropped from
// Sequence.
//
// With position_biased_input true, token t takes absolute position row
// in.PositionOffset + t: an offset > 0 is P-Tuning v2's shift by layer 0's
// prefix length (its DebertaV2Embeddings' past_key_values_length; HF's own
// DebertaV2Model has no such shift). Without absolute positions (deberta-v3)
// the offset changes nothing; relative positions never shift. Like every
// graph builder it panics on a bad input: a negative offset, or T + offset
// beyond max_position_embeddings when the absolute table is used.
func Forward(ctx *context.Context, c *Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
	if hooks == nil {
		hooks = &backbone.Hooks{}
	}
	g := in.IDs.Graph()
	batch, seqLen := in.IDs.Shape().Dimensions[0], in.IDs.Shape().Dimensions[1]
	offset := in.PositionOffset
	switch {
	case offset < 0:
		panic(fmt.Errorf("debertav2: position offset %d is negative", offset))
	case c.PositionBiasedInput && offset > 0 && seqLen+offset > c.MaxPositionEmbeddings:
		panic(fmt.Errorf("debertav2: sequence length %d with position offset %d exceeds max_position_embeddings %d", seqLen, offset, c.MaxPositionEmbeddings))
	case c.PositionBiasedInput && seqLen > c.MaxPositionEmbeddings:
		panic(fmt.Errorf("debertav2: sequence length %d exceeds max_position_embeddings %d", seqLen, c.MaxPositionEmbeddings))
	}
	var mask *Node
	if in.Mask == nil {
		mask = trues(g, batch, seqLen)
	} else {
		mask = NotEqual(in.Mask, ZerosLike(in.Mask))
	}
	x := embeddings(ctx, c, in.IDs, in.TypeIDs, mask, offset)
	numPrompt := 0
	tokMask := mask // the mask of the sequence the layers see (prompt slots included)
	if hooks.Prompt != nil {
		if prompt := hooks.Prompt(x); prompt != nil {
			numPrompt = prompt.Shape().Dimensions[1]
			x = Concatenate([]*Node{prompt, x}, 1)
			tokMask = Concatenate([]*Node{trues(g, batch, numPrompt), mask}, 1)
		}
	}
	total := numPrompt + seqLen
	rel := relativePositions(ctx, c, g, total)
	out := &backbone.Output{Mask: mask, Hidden: []*Node{x}}
	embOut := x
	for i := range c.NumHiddenLayers {
		var pk, pv *Node
		if hooks.Prefix != nil {
			pk, pv = hooks.Prefix(i, x, tokMask)
			checkPrefix(i, pk, pv, batch, c.Hidden)
		}
		h := layer(ctx, c, i, x, tokMask, rel, pk, pv)
		if i == 0 && c.ConvKernelSize > 0 {
			// DebertaV2Encoder: the ConvLayer runs over the embedding output,
			// its residual is layer 0's output, and its result feeds layer 1.
			h = convLayer(ctx, c, embOut, h, tokMask)
		}
		x = h
		out.Hidden = append(out.Hidden, x)
	}
	if numPrompt > 0 {
		// Drop the prompt positions with a one-hot selection product: the
		// pure-Go backends implement neither Pad (Slice's gradient) nor DynamicSlice.
		rows := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 0)
		cols := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 1)
		sel := ConvertDType(Equal(AddScalar(rows, numPrompt), cols), x.DType()) // [T, P+T]
		x = TransposeAllAxes(bert.DotFast(x, []int{1}, nil, sel, []int{1}, nil), 0, 2, 1)
	}
	out.Sequence = x
	out.Pool = func(sequence *Node) *Node { return contextPooler(ctx, c, sequence) }
	return out
}

// checkPrefix panics with a clear message when a Prefix hook returns slots of
// the wrong shape (a programming error of the method): key and value must
// both be nil or both [B, p, d] with the same p.
func checkPrefix(layer int, key, value *Node, batch, d int) {
	if key == nil && value == nil {
		return
	}
	if key == nil || value == nil {
		panic(fmt.Errorf("debertav2: layer %d: the prefix hook returned a key without a value or a value without a key", layer))
	}
	k, v := key.Shape().Dimensions, value.Shape().Dimensions
	if len(k) != 3 || len(v) != 3 || k[0] != batch || k[2] != d || v[0] != batch || v[2] != d || k[1] != v[1] {
		panic(fmt.Errorf("debertav2: layer %d: prefix key %v and value %v, want both [%d, p, %d]", layer, k, v, batch, d))
	}
}

// contextPooler is ContextPooler: dropout (pooler_dropout) on the first
// token, dense, ACT[pooler_hidden_act]. Its variables are loaded with the
// checkpoint or created by InitPooler; after a checkpoint without pooler
// (c.NoPooler) the dense layer is the created one (backbone.CreatedPooler,
// input-major weight: h_0 W + b), with the same dropout and activation.
func contextPooler(ctx *context.Context, c *Config, sequence *Node) *Node {
	if c.NoPooler {
		w, b := backbone.CreatedPooler(ctx, sequence.Graph())
		h := dropout(ctx, firstToken(sequence), c.PoolerDropout)
		return activate(c.PoolerHiddenAct, Add(backbone.MatMulLast(h, w), InsertAxes(b, 0)))
	}
	if !HasPooler(ctx) {
		panic(fmt.Errorf("debertav2: the checkpoint has no pooler (pooler.dense.*) and none was created (InitPooler)"))
	}
	h := dropout(ctx, firstToken(sequence), c.PoolerDropout)
	return activate(c.PoolerHiddenAct, linear(ctx, "pooler.dense", h))
}

// firstToken returns x[:, 0, :] as a masked sum, whose gradient the pure-Go
// backends compute (Slice's gradient, Pad, is missing there).
func firstToken(x *Node) *Node {
	g := x.Graph()
	first := Equal(Iota(g, shapes.Make(dtypes.Int32, 1, x.Shape().Dimensions[1], 1), 1), ScalarZero(g, dtypes.Int32))
	return ReduceSum(Mul(x, ConvertDType(first, x.DType())), 1)
}

func trues(g *Graph, dims ...int) *Node { return BroadcastPrefix(Const(g, true), dims...) }

// embeddings is DebertaV2Embeddings: word + [position_biased_input] absolute
// position (rows offset..offset+T-1) + [type_vocab_size > 0] token type,
// embed_proj when embedding_size != d, LayerNorm, times the mask (padded rows
// are zero), dropout.
func embeddings(ctx *context.Context, c *Config, ids, typeIDs, mask *Node, offset int) *Node {
	g := ids.Graph()
	seqLen := ids.Shape().Dimensions[1]
	x := Gather(param(ctx, g, "embeddings.word_embeddings.weight"), InsertAxes(ids, -1))
	if c.PositionBiasedInput {
		// Gather rather than Slice: Slice's gradient is Pad, missing on the pure-Go backends.
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
	if c.EmbeddingSize != c.Hidden {
		w := param(ctx, g, "embeddings.embed_proj.weight") // [d, e], no bias
		x = bert.DotFast(x, []int{2}, nil, w, []int{1}, nil)
	}
	x = layerNorm(ctx, c, "embeddings.LayerNorm", x)
	x = Mul(x, InsertAxes(ConvertDType(mask, x.DType()), -1))
	return dropout(ctx, x, c.HiddenDropoutProb)
}

// relPos holds what the disentangled attention needs for a sequence of T
// positions: the relative embeddings R (after encoder.LayerNorm when
// norm_rel_ebd has "layer_norm") and, as constants, which rows of R the c2p
// and p2c terms use for each relative distance and where each (i, j) pair
// picks its term.
type relPos struct {
	r *Node // [2*AttSpan, d]
	// c2pRows / p2cRows [2T-1, 1]: entry T-1+(i-j) is the row of R the c2p
	// (p2c) term of query i and key j uses.
	c2pRows, p2cRows *Node
	// c2pPick [T, T, 2] = (i, T-1+i-j): where c2p[i, j] lies in the c2p
	// scores [query i, distance]; p2cPick [T, T, 2] = (j, T-1+i-j): where
	// p2c[i, j] lies in the p2c scores [key j, distance].
	c2pPick, p2cPick *Node
}

// makeLogBucketPosition is HF's make_log_bucket_position for one relative
// position r (with buckets k = position_buckets > 0 and M the resolved
// max_relative_positions): |r| <= k/2 stays r; beyond, sign(r) * (ceil(ln(|r|/mid)
// / ln((M-1)/mid) * (mid-1)) + mid), computed in float32 as HF's torch code
// does (P-Tuning v2's copy uses numpy float64; see docs/families.md).
func makeLogBucketPosition(r, buckets, maxPosition int) int {
	mid := buckets / 2
	if r < mid && r > -mid {
		return r // abs_pos = mid-1 <= mid: the relative position itself
	}
	a := r
	sign := 1
	if r < 0 {
		a, sign = -r, -1
	}
	if a <= mid {
		return r
	}
	num := float32(math.Log(float64(float32(a) / float32(mid))))
	den := float32(math.Log(float64(float32(float64(maxPosition-1) / float64(mid)))))
	v := num / den * float32(mid-1)
	return sign * (int(math.Ceil(float64(v))) + mid)
}

// bucket maps a relative position to its bucket: log buckets when
// position_buckets > 0, else the position itself (build_relative_position).
// A variable so that the golden test can show a wrong bucketing is caught.
var bucket = func(c *Config, r int) int {
	if c.PositionBuckets > 0 {
		return makeLogBucketPosition(r, c.PositionBuckets, c.MaxRelPositions())
	}
	return r
}

// p2cIndex is the row of R the p2c term of query i and key j (r = i - j)
// uses. HF computes p2c from r_pos[j, i] = b(j - i) = b(-r) and gathers at
// clamp(-r_pos + span, 0, 2 span - 1), then transposes. (Since b is odd this
// equals the c2p row clamp(b(r) + span); the paper's delta(j, i) would be
// clamp(b(-r) + span), a silent error.) A variable so that the golden test
// can show a wrong index is caught.
var p2cIndex = func(c *Config, r int) int {
	span := c.AttSpan()
	return min(max(-bucket(c, -r)+span, 0), 2*span-1)
}

// c2pIndex is the row of R the c2p term of query i and key j (r = i - j)
// uses: clamp(b(r) + span, 0, 2 span - 1).
func c2pIndex(c *Config, r int) int {
	span := c.AttSpan()
	return min(max(bucket(c, r)+span, 0), 2*span-1)
}

// scaleFactor is DisentangledSelfAttention's scale_factor (Config.ScaleFactor).
// A variable so that the golden test can show a wrong scale is caught.
var scaleFactor = func(c *Config) int { return c.ScaleFactor() }

func relativePositions(ctx *context.Context, c *Config, g *Graph, seqLen int) *relPos {
	if !c.RelativeAttention || (!c.HasC2P() && !c.HasP2C()) {
		// No disentangled term: R is not read (on the pure-Go backends a graph
		// must not hold a variable that no output uses).
		return nil
	}
	r := param(ctx, g, "encoder.rel_embeddings.weight")
	if c.RelEmbeddingLayerNorm() {
		r = layerNorm(ctx, c, "encoder.LayerNorm", r)
	}
	n := 2*seqLen - 1
	c2pRows, p2cRows := make([]int32, n), make([]int32, n)
	for k := range n {
		dist := k - (seqLen - 1)
		c2pRows[k] = int32(c2pIndex(c, dist))
		p2cRows[k] = int32(p2cIndex(c, dist))
	}
	c2pPick, p2cPick := make([]int32, seqLen*seqLen*2), make([]int32, seqLen*seqLen*2)
	for i := range seqLen {
		for j := range seqLen {
			o := (i*seqLen + j) * 2
			d := int32(seqLen - 1 + i - j)
			c2pPick[o], c2pPick[o+1] = int32(i), d
			p2cPick[o], p2cPick[o+1] = int32(j), d
		}
	}
	return &relPos{
		r:       r,
		c2pRows: Const(g, tensors.FromFlatDataAndDimensions(c2pRows, n, 1)),
		p2cRows: Const(g, tensors.FromFlatDataAndDimensions(p2cRows, n, 1)),
		c2pPick: Const(g, tensors.FromFlatDataAndDimensions(c2pPick, seqLen, seqLen, 2)),
		p2cPick: Const(g, tensors.FromFlatDataAndDimensions(p2cPick, seqLen, seqLen, 2)),
	}
}

// layer is DebertaV2Layer: disentangled self-attention, output dense, residual
// and LayerNorm, then the feed-forward block, residual and LayerNorm.
func layer(ctx *context.Context, c *Config, i int, x, mask *Node, rel *relPos, prefixKey, prefixValue *Node) *Node {
	p := fmt.Sprintf("encoder.layer.%d.", i)
	attn := selfAttention(ctx, c, p+"attention.self", x, mask, rel, prefixKey, prefixValue)
	attn = dropout(ctx, linear(ctx, p+"attention.output.dense", attn), c.HiddenDropoutProb)
	x = layerNorm(ctx, c, p+"attention.output.LayerNorm", Add(attn, x))
	h := activate(c.HiddenAct, linear(ctx, p+"intermediate.dense", x))
	h = dropout(ctx, linear(ctx, p+"output.dense", h), c.HiddenDropoutProb)
	return layerNorm(ctx, c, p+"output.LayerNorm", Add(h, x))
}

// selfAttention is DisentangledSelfAttention with P-Tuning v2's prefix:
//
//	A_ij = (Q_i.K_j + [c2p] Q_i.K_r[c2p row of i-j] + [p2c] K_j.Q_r[p2c row of i-j]) / sqrt(d_head sf)
//	A_is = Q_i.P^k_s / sqrt(d_head sf)                               (prefix slot s)
//
// with K_r, Q_r the relative embeddings through key_proj/query_proj
// (share_att_key) or pos_key_proj/pos_query_proj; masked softmax over the
// slots and the keys (XSoftmax: padded keys excluded, padded query rows zero),
// attention dropout, weighted sum of [P^v; V].
func selfAttention(ctx *context.Context, c *Config, name string, x, mask *Node, rel *relPos, prefixKey, prefixValue *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, seqLen := dims[0], dims[1]
	n, hd := c.NumAttentionHeads, c.HeadSize()
	heads := func(t *Node) *Node { return Reshape(t, t.Shape().Dimensions[0], t.Shape().Dimensions[1], n, hd) }
	q := heads(linear(ctx, name+".query_proj", x))
	k := heads(linear(ctx, name+".key_proj", x))
	v := heads(linear(ctx, name+".value_proj", x))
	scores := bert.DotFast(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}) // [B, n, T, T]
	if rel != nil {
		r := dropout(ctx, rel.r, c.HiddenDropoutProb) // DisentangledSelfAttention.pos_dropout
		posHeads := func(proj string, rows *Node) *Node {
			return heads(InsertAxes(linear(ctx, proj, Gather(r, rows)), 0)) // [1, 2T-1, n, hd]
		}
		if c.HasC2P() {
			proj := name + ".pos_key_proj"
			if c.ShareAttKey {
				proj = name + ".key_proj"
			}
			kr := Squeeze(posHeads(proj, rel.c2pRows), 0)                      // [2T-1, n, hd]
			att := bert.DotFast(q, []int{3}, []int{2}, kr, []int{2}, []int{1}) // [n, B, T(i), 2T-1]
			picked := Gather(TransposeAllAxes(att, 2, 3, 1, 0), rel.c2pPick)   // [T(i), T(j), B, n]
			scores = Add(scores, TransposeAllAxes(picked, 2, 3, 0, 1))
		}
		if c.HasP2C() {
			proj := name + ".pos_query_proj"
			if c.ShareAttKey {
				proj = name + ".query_proj"
			}
			qr := Squeeze(posHeads(proj, rel.p2cRows), 0)
			att := bert.DotFast(k, []int{3}, []int{2}, qr, []int{2}, []int{1}) // [n, B, T(j), 2T-1]
			picked := Gather(TransposeAllAxes(att, 2, 3, 1, 0), rel.p2cPick)   // [T(i), T(j), B, n]
			scores = Add(scores, TransposeAllAxes(picked, 2, 3, 0, 1))
		}
	}
	scale := 1 / math.Sqrt(float64(hd*scaleFactor(c)))
	scores = MulScalar(scores, scale)
	// allowed_ij = m_i * m_j (get_attention_mask's outer product); prefix
	// columns: m_i * 1 (P-Tuning v2 concatenates ones to the mask).
	queryMask := Reshape(mask, batch, 1, seqLen, 1)
	keyMask := mask
	if prefixKey != nil {
		p := prefixKey.Shape().Dimensions[1]
		pk, pv := heads(prefixKey), heads(prefixValue)
		prefixScores := MulScalar(bert.DotFast(q, []int{3}, []int{0, 2}, pk, []int{3}, []int{0, 2}), scale) // [B, n, T, p]
		scores = Concatenate([]*Node{prefixScores, scores}, 3)
		v = Concatenate([]*Node{pv, v}, 1)
		keyMask = Concatenate([]*Node{trues(g, batch, p), mask}, 1)
	}
	numKeys := keyMask.Shape().Dimensions[1]
	allowed := LogicalAnd(BroadcastToDims(queryMask, batch, 1, seqLen, numKeys),
		BroadcastToDims(Reshape(keyMask, batch, 1, 1, numKeys), batch, 1, seqLen, numKeys))
	allowed = BroadcastToDims(allowed, batch, n, seqLen, numKeys)
	probs := maskedSoftmax(scores, allowed)
	probs = dropout(ctx, probs, c.AttentionProbsDropoutProb)
	out := bert.DotFast(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [B, n, T, hd]
	return Reshape(TransposeAllAxes(out, 0, 2, 1, 3), batch, seqLen, n*hd)
}

// maskedSoftmax is XSoftmax: masked scores replaced by the most negative
// float32, softmax over the last axis, masked probabilities set to zero (so a
// fully masked row, a padded query, comes out all zero).
func maskedSoftmax(scores, allowed *Node) *Node {
	g := scores.Graph()
	lowest := BroadcastToDims(Scalar(g, scores.DType(), -math.MaxFloat32), scores.Shape().Dimensions...)
	probs := Softmax(Where(allowed, scores, lowest), -1)
	return Where(allowed, probs, ZerosLike(probs))
}

// convLayer is ConvLayer: C = ACT[conv_act](dropout(conv1d(E) * m)) with
// Conv1d(d, d, k, padding (k-1)/2, groups), then LayerNorm(residual + C) * m.
// The convolution is built from one-hot shift products and a grouped matrix
// product, which the pure-Go backends differentiate.
func convLayer(ctx *context.Context, c *Config, emb, residual, mask *Node) *Node {
	g := emb.Graph()
	dims := emb.Shape().Dimensions
	batch, seqLen, d := dims[0], dims[1], dims[2]
	kernel, groups := c.ConvKernelSize, c.ConvGroups
	pad, dg := (kernel-1)/2, d/groups
	// shift[t, k, u] = [u == t + k - pad]: input position u feeds output t at tap k.
	shift := make([]float32, seqLen*kernel*seqLen)
	for t := range seqLen {
		for k := range kernel {
			if u := t + k - pad; u >= 0 && u < seqLen {
				shift[(t*kernel+k)*seqLen+u] = 1
			}
		}
	}
	sh := Const(g, tensors.FromFlatDataAndDimensions(shift, seqLen, kernel, seqLen))
	xs := bert.DotFast(emb, []int{1}, nil, sh, []int{2}, nil) // [B, d, T, k]
	xs = Reshape(xs, batch, groups, dg, seqLen, kernel)
	w := Reshape(param(ctx, g, "encoder.conv.conv.weight"), groups, dg, dg, kernel) // [g, out, in, k]
	out := bert.DotFast(xs, []int{2, 4}, []int{1}, w, []int{2, 3}, []int{0})        // [g, B, T, out]
	out = Reshape(TransposeAllAxes(out, 1, 2, 0, 3), batch, seqLen, d)
	out = Add(out, ExpandLeftToRank(param(ctx, g, "encoder.conv.conv.bias"), 3))
	m := InsertAxes(ConvertDType(mask, out.DType()), -1)
	out = Mul(out, m)
	out = activate(c.ConvAct, dropout(ctx, out, c.HiddenDropoutProb))
	return Mul(layerNorm(ctx, c, "encoder.conv.LayerNorm", Add(residual, out)), m)
}

// linear is torch.nn.Linear with the PyTorch [out, in] weight layout: x W^T + b.
func linear(ctx *context.Context, name string, x *Node) *Node {
	g := x.Graph()
	rank := x.Rank()
	y := bert.DotFast(x, []int{rank - 1}, nil, param(ctx, g, name+".weight"), []int{1}, nil)
	return Add(y, ExpandLeftToRank(param(ctx, g, name+".bias"), rank))
}

// layerNorm is torch.nn.LayerNorm over the last axis with layer_norm_eps
// (biased variance). Div by Sqrt: GoMLX v0.26.0 has no gradient for Rsqrt.
func layerNorm(ctx *context.Context, c *Config, name string, x *Node) *Node {
	g := x.Graph()
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	normed := Div(centered, Sqrt(AddScalar(variance, c.LayerNormEps)))
	rank := x.Rank()
	return Add(Mul(normed, ExpandLeftToRank(param(ctx, g, name+".weight"), rank)),
		ExpandLeftToRank(param(ctx, g, name+".bias"), rank))
}

// activation maps hidden_act / pooler_hidden_act / conv_act to a function,
// after transformers' ACT2FN: "gelu" is the exact erf form; "gelu_new",
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
	case "linear":
		return func(x *Node) *Node { return x }, nil
	}
	return nil, fmt.Errorf("activation %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh, linear)", name)
}

func activate(name string, x *Node) *Node {
	fn, err := activation(name)
	if err != nil {
		panic(fmt.Errorf("debertav2: %w", err))
	}
	return fn(x)
}

// dropout is StableDropout in training (inverted dropout), the identity
// otherwise; the rate follows bert.BackboneDropout's context parameter.
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
	v := Variable(ctx, name)
	if v == nil {
		panic(fmt.Errorf("debertav2: variable for tensor %q is not loaded (call LoadWeights or InitRandom first)", name))
	}
	return v.ValueGraph(g)
}
