package roberta

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Forward computes RobertaModel's forward pass, reading the backbone's
// variables (package bert's layout, see LoadWeights) from ctx.
//
// Positions are PositionIDs(in.IDs, pad_token_id, in.PositionOffset):
// computed from the ids, as HF does, not from in.Mask, so padding must hold
// pad_token_id (the tokenizer's PadID). An offset > 0 is HF's
// past_key_values_length: P-Tuning v2's prefixes shift every real token's
// position by layer 0's prefix length (position_offset=prefix).
// When type_vocab_size is 1, in.TypeIDs is ignored and every token type is 0
// (RobertaEmbeddings' zero buffer; RoBERTa's tokenizer makes no other).
// Everything else, the hooks included, is bert.Forward's. Output.Pool is
// RobertaPooler (dense + tanh on token 0, <s>), reading pooler.dense.*, or,
// when the checkpoint had no pooler (HasPooler false), the created pooler of
// scope backbone.ScopePooler with the same tanh.
//
// Like bert.Forward it panics (graph-building convention) on a negative
// offset or when the input is longer than the position table allows:
// T + offset > MaxLen.
func Forward(ctx *context.Context, c *Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
	seqLen, offset := in.IDs.Shape().Dimensions[1], in.PositionOffset
	if offset < 0 {
		panic(fmt.Errorf("roberta: position offset %d is negative", offset))
	}
	if seqLen+offset > c.MaxLen() {
		panic(fmt.Errorf("roberta: sequence length %d with position offset %d exceeds the model's %d positions (%s)",
			seqLen, offset, c.MaxLen(), c.MaxLenSource()))
	}
	bin := bert.Inputs{IDs: in.IDs, TypeIDs: in.TypeIDs, Mask: in.Mask} // the offset is in the positions
	if c.BERT.TypeVocabSize == 1 {
		bin.TypeIDs = nil // bert.Forward: nil means all 0
	}
	var bh *bert.Hooks
	if hooks != nil {
		bh = &bert.Hooks{Prefix: hooks.Prefix, Prompt: hooks.Prompt}
	}
	out := bert.ForwardWithPositions(ctx, &c.BERT, bin, positionIDs(in.IDs, c.BERT.PadTokenID, offset), bh)
	return &backbone.Output{
		Sequence: out.Sequence, Hidden: out.Hidden, Mask: out.Mask,
		Pool: func(sequence *Node) *Node { return pool(ctx, c, sequence) },
	}
}

// pool is RobertaPooler: tanh(x_0 W^T + b). After a checkpoint without pooler
// it is the created pooler (backbone.CreatedPooler, input-major weight:
// tanh(x_0 W + b)), which model.CreateHead makes for the heads that pool.
func pool(ctx *context.Context, c *Config, sequence *Node) *Node {
	if !c.HasPooler() {
		w, b := backbone.CreatedPooler(ctx, sequence.Graph())
		return Tanh(Add(bert.MatMulLast(bert.FirstToken(sequence), w), InsertAxes(b, 0)))
	}
	for _, name := range PoolerTensors {
		if bert.Variable(ctx, name) == nil {
			panic(fmt.Errorf("roberta: no pooler variable %q: the checkpoint had no pooler and none was created", name))
		}
	}
	return bert.Pooler(ctx, sequence)
}

// familyForward is the registered Family's Forward.
func familyForward(ctx *context.Context, c backbone.Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
	rc, ok := c.(*Config)
	if !ok {
		panic(fmt.Errorf("roberta: Forward got a %T config, not a RoBERTa one", c))
	}
	return Forward(ctx, rc, in, hooks)
}

// PositionIDs is transformers' create_position_ids_from_input_ids for ids
// [B, T]: with n_t = [id_t != pad], position_t = pad + n_t * (offset +
// sum_{u<=t} n_u). Real tokens count up from pad+1+offset, padding takes pad.
// The result is int32 [B, T].
func PositionIDs(ids *Node, pad, offset int) *Node {
	g := ids.Graph()
	seqLen := ids.Shape().Dimensions[1]
	real := ConvertDType(NotEqual(ids, Scalar(g, ids.DType(), pad)), dtypes.Int32) // [B, T]
	// The cumulative count as a sum under a lower-triangular [t, u] mask (u <= t):
	// the pure-Go backend has no cumulative-sum op.
	tri := ConvertDType(LessOrEqual(Iota(g, shapes.Make(dtypes.Int32, seqLen, seqLen), 1),
		Iota(g, shapes.Make(dtypes.Int32, seqLen, seqLen), 0)), dtypes.Int32)
	count := ReduceSum(Mul(InsertAxes(real, 1), InsertAxes(tri, 0)), -1) // [B, T]
	return AddScalar(Mul(AddScalar(count, float64(offset)), real), float64(pad))
}

// positionIDs is PositionIDs; a variable only so the golden test can show that
// a wrong position rule is caught.
var positionIDs = PositionIDs
