package backbone

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TensorSpec is one backbone tensor: its canonical checkpoint name (the
// family's base model class, no "bert."/"roberta."-style prefix) and its
// shape. Linear weights keep PyTorch's [out, in] layout.
type TensorSpec struct {
	Name  string
	Shape []int
}

// Detailed is optionally implemented by a Config that can report more of its
// shape: `show model` prints these and LoadModel checks the tokenizer against
// VocabEntries. Configs without it show only the Config methods.
type Detailed interface {
	VocabEntries() int    // config.json's vocab_size
	FeedForwardSize() int // intermediate_size
	Activation() string   // hidden_act
}

// FamilyOf returns the registered family of c (by c.ModelType()).
func FamilyOf(c Config) (*Family, error) {
	if c == nil {
		return nil, fmt.Errorf("backbone: no config")
	}
	return Lookup(c.ModelType())
}

// VarPath splits a canonical tensor name into the context scope (below the
// family's Scope) and the variable name: in scope "bert",
// "encoder.layer.3.attention.self.query.weight" is variable "weight" in scope
// "/bert/encoder/layer/3/attention/self/query".
func VarPath(scope, name string) (varScope, varName string) {
	i := strings.LastIndexByte(name, '.')
	return "/" + scope + "/" + strings.ReplaceAll(name[:i], ".", "/"), name[i+1:]
}

// Variable returns the backbone variable of f holding the canonical tensor
// name, or nil.
func (f *Family) Variable(ctx *context.Context, name string) *context.Variable {
	scope, varName := VarPath(f.Scope, name)
	return ctx.GetVariableByScopeAndName(scope, varName)
}

// SetTrainable marks every backbone variable of c trainable (full
// fine-tuning) or frozen.
func (f *Family) SetTrainable(ctx *context.Context, c Config, trainable bool) {
	for _, spec := range f.Tensors(c) {
		if v := f.Variable(ctx, spec.Name); v != nil {
			v.SetTrainable(trainable)
		}
	}
}

// ParamDropout is the context parameter that sets the backbone's own dropout
// in training (see Dropout). By default the config's rates apply, as P-Tuning
// v2 trains with model.train().
const ParamDropout = "backbone_dropout"

// Dropout is the backbone's dropout rate in training, given the config's rate
// for that place (hidden_dropout_prob or attention_probs_dropout_prob) and the
// context parameter ParamDropout: absent, true or a negative number keeps the
// config's rate; false turns dropout off; a number >= 0 replaces both config
// rates.
func Dropout(ctx *context.Context, configRate float64) float64 {
	v, found := ctx.GetParam(ParamDropout)
	if !found || v == nil {
		return configRate
	}
	switch x := v.(type) {
	case bool:
		if !x {
			return 0
		}
	case float64:
		if x >= 0 {
			return x
		}
	}
	return configRate
}

// FirstToken returns x[:, 0, :] of x [B, T, d] as a masked sum, whose gradient
// the pure-Go backend can compute (Slice's gradient, Pad, is not implemented there).
func FirstToken(x *Node) *Node {
	g := x.Graph()
	seqLen := x.Shape().Dimensions[1]
	first := Equal(Iota(g, shapes.Make(dtypes.Int32, 1, seqLen, 1), 1), ScalarZero(g, dtypes.Int32))
	return ReduceSum(Mul(x, ConvertDType(first, x.DType())), 1)
}

// ScopePooler is the context scope of the pooler the workbench creates when a
// checkpoint has none (real roberta-base and deberta-v3-base checkpoints are
// saved from their masked-LM models without one): variables "weight" [d, d]
// (input-major: pooled = act(first_token x weight + bias)) and "bias" [d]. It
// is trained with the head and saved in the adapter as "pooler.weight" and
// "pooler.bias" (docs/adapters.md).
const ScopePooler = "pooler"

// PoolerInfo is optionally implemented by a Config whose checkpoint may lack
// the pooler: HasPooler is false when LoadWeights found no pooler tensors, and
// then the family's Output.Pool reads the created pooler (CreatedPooler).
// A Config without the method always has its pooler.
type PoolerInfo interface {
	HasPooler() bool
}

// HasPooler reports whether c's checkpoint brought its pooler.
func HasPooler(c Config) bool {
	if p, ok := c.(PoolerInfo); ok {
		return p.HasPooler()
	}
	return true
}

// CreatedPooler returns the graph nodes of the created pooler (ScopePooler):
// weight [d, d] (input-major) and bias [d]. It panics when they do not exist
// (model.CreateHead creates them for a backbone without pooler).
func CreatedPooler(ctx *context.Context, g *Graph) (weight, bias *Node) {
	w := ctx.GetVariableByScopeAndName("/"+ScopePooler, "weight")
	b := ctx.GetVariableByScopeAndName("/"+ScopePooler, "bias")
	if w == nil || b == nil {
		panic(fmt.Errorf("backbone: the checkpoint has no pooler and none was created (model.CreateHead creates it)"))
	}
	return w.ValueGraph(g), b.ValueGraph(g)
}

// PositionInfo is optionally implemented by a Config to say what bounds its
// MaxLen and whether its encoder adds absolute position embeddings. A Config
// without it is taken to have absolute positions, with MaxLen its only limit.
type PositionInfo interface {
	// AbsolutePositions: the embeddings add a learned absolute position per
	// token, so Inputs.PositionOffset shifts them and offset + T must fit
	// MaxLen (DeBERTa: only with position_biased_input).
	AbsolutePositions() bool
	// MaxLenSource says in words where MaxLen comes from, for messages:
	// "max_position_embeddings 512", or RoBERTa's "max_position_embeddings
	// 514 less pad_token_id 1 and the padding position".
	MaxLenSource() string
}

// AbsolutePositions reports whether c's encoder adds absolute position
// embeddings (PositionInfo; true for a Config without it).
func AbsolutePositions(c Config) bool {
	if p, ok := c.(PositionInfo); ok {
		return p.AbsolutePositions()
	}
	return true
}

// DescribeMaxLen names c's length limit for messages: "the model's 512
// positions (max_position_embeddings 514 less pad_token_id 1 and the padding
// position)", or "the model's 512 positions" for a Config without
// PositionInfo.
func DescribeMaxLen(c Config) string {
	s := fmt.Sprintf("the model's %d positions", c.MaxLen())
	if p, ok := c.(PositionInfo); ok && p.MaxLenSource() != "" {
		s += " (" + p.MaxLenSource() + ")"
	}
	return s
}
