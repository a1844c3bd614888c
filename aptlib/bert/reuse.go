package bert

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// This file is the entry points for families that are BERT's encoder with other
// embeddings or tensor names (RoBERTa, package roberta): they reuse the layers,
// the prefix and prompt hooks and the variables' layout of this package.

// ForwardWithPositions is Forward with each token's absolute position given as
// positionIDs [B, T] (int32 rows of embeddings.position_embeddings.weight)
// instead of 0..T-1. RoBERTa computes them from the padding (transformers'
// create_position_ids_from_input_ids). The given positions include any shift:
// in.PositionOffset is ignored. The caller checks that every id is below
// max_position_embeddings: Gather does not.
func ForwardWithPositions(ctx *context.Context, c *Config, in Inputs, positionIDs *Node, hooks *Hooks) *Output {
	return forward(ctx, c, in, positionIDs, hooks)
}

// Pooler is BertPooler on sequence [B, T, d]: tanh(x_0 W^T + b) with the
// tensors pooler.dense.{weight,bias}. Output.Pooled is Pooler(ctx, Sequence).
func Pooler(ctx *context.Context, sequence *Node) *Node {
	return Tanh(linear(ctx, "pooler.dense", FirstToken(sequence)))
}

// SetTensor creates (or overwrites) the backbone variable of spec.Name under
// Scope with data (row-major, spec.Shape), trainable or frozen, as LoadWeights
// and InitRandom do: a family with its own checkpoint names loads through it.
func SetTensor(ctx *context.Context, spec TensorSpec, data []float32, trainable bool) {
	setVariable(ctx, spec, data, trainable)
}
