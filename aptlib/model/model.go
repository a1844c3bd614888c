// Package model puts the pieces of a trainable model together: the frozen (or,
// for FT, trainable) backbone of any registered family (package backbone), a method's hooks (package method) and a task
// head, and defines the loss. Everything here is graph code; the trainer and the
// workbench drive it.
package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
)

// Head names a task head. It is the task's tasks.Kind itself (the one
// definition of the head names, with the strings of the adapter file's "head"
// metadata, docs/adapters.md), so a task's kind is a model's head without a
// conversion; package tasks is below package model, which may import it.
type Head = tasks.Kind

const (
	// SequenceClassification: dropout + linear on the pooled [CLS] output.
	SequenceClassification = tasks.SequenceClassification
	// MultipleChoice: one score per (premise, choice) pair from the pooled output,
	// softmax across choices (COPA).
	MultipleChoice = tasks.MultipleChoice
	// TokenClassification: dropout + linear on every token (NER); the label sits on
	// each word's first sub-word, other positions are ignored.
	TokenClassification = tasks.TokenClassification
)

// ScopeHead is the context scope of the head's variables ("head.weight" [d, n], "head.bias" [n]).
const ScopeHead = "head"

// IgnoreLabel marks token positions without a label (other sub-words, specials, padding).
const IgnoreLabel = -100

// Spec is everything that shapes the graph.
type Spec struct {
	// Backbone is the loaded config.json; its ModelType names the registered
	// family that computes it (see Family).
	Backbone  backbone.Config
	Method    method.Config
	Head      Head
	NumLabels int     // number of classes (MultipleChoice: ignored, one score per choice)
	Dropout   float64 // head dropout in training (the backbone's hidden_dropout_prob by default)
}

// Validate checks the spec.
func (s *Spec) Validate() error {
	if s.Backbone == nil {
		return fmt.Errorf("model: no backbone config")
	}
	if _, err := s.Family(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := s.Method.Validate(s.Backbone.NumLayers()); err != nil {
		return err
	}
	switch s.Head {
	case SequenceClassification, TokenClassification:
		if s.NumLabels < 2 {
			return fmt.Errorf("model: head %s needs at least 2 labels, got %d", s.Head, s.NumLabels)
		}
	case MultipleChoice:
	default:
		return fmt.Errorf("model: unknown head %q", s.Head)
	}
	return nil
}

// Family is the registered family of the backbone (by its model_type).
func (s *Spec) Family() (*backbone.Family, error) { return backbone.FamilyOf(s.Backbone) }

// HeadOutputs is the head's output width: NumLabels, or 1 for multiple choice.
func (s *Spec) HeadOutputs() int {
	if s.Head == MultipleChoice {
		return 1
	}
	return s.NumLabels
}

// CreateHead makes the head's variables: weight [d, n] ~ N(0, 0.02) (BERT's
// initializer_range), bias 0; from seed. For a backbone without pooler it
// also creates the pooler (CreatesPooler).
func CreateHead(ctx *context.Context, s *Spec, seed uint64) {
	d, n := s.Backbone.HiddenSize(), s.HeadOutputs()
	rng := rand.New(rand.NewPCG(seed, 0x4ead))
	w := make([]float32, d*n)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.02)
	}
	method.SetVariable(ctx, "/"+ScopeHead, "weight", tensors.FromFlatDataAndDimensions(w, d, n))
	method.SetVariable(ctx, "/"+ScopeHead, "bias", tensors.FromFlatDataAndDimensions(make([]float32, n), n))
	if s.CreatesPooler() {
		createPooler(ctx, d, seed)
	} else {
		// A created pooler of an earlier head (before a switch to token
		// classification) must not linger: the trainer would train it unused.
		for _, name := range []string{"weight", "bias"} {
			if ctx.GetVariableByScopeAndName("/"+backbone.ScopePooler, name) != nil {
				if err := ctx.DeleteVariable("/"+backbone.ScopePooler, name); err != nil {
					panic(fmt.Errorf("model: removing the created pooler: %w", err))
				}
			}
		}
	}
}

// CreatesPooler reports whether the model has a created pooler: the
// checkpoint has none (backbone.HasPooler), so the pooled-output heads read
// one that CreateHead makes and that is trained with the head (scope
// backbone.ScopePooler, saved in the adapter as pooler.weight / pooler.bias).
// Token classification does not pool and creates none.
func (s *Spec) CreatesPooler() bool {
	return s.Backbone != nil && !backbone.HasPooler(s.Backbone) && s.Head != TokenClassification
}

// createPooler makes the created pooler's variables: weight [d, d]
// (input-major) ~ N(0, 0.02) (initializer_range of BERT, RoBERTa and
// DeBERTa), bias 0; from its own stream of seed, so the head's values do not
// depend on whether a pooler is created.
func createPooler(ctx *context.Context, d int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x9001e4))
	w := make([]float32, d*d)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.02)
	}
	method.SetVariable(ctx, "/"+backbone.ScopePooler, "weight", tensors.FromFlatDataAndDimensions(w, d, d))
	method.SetVariable(ctx, "/"+backbone.ScopePooler, "bias", tensors.FromFlatDataAndDimensions(make([]float32, d), d))
}

// Inputs of the model graph: int32 [N, T] ids, type ids and mask, where N = B for
// classification and token tasks and N = B * NumChoices for multiple choice
// (the choices of one example are consecutive rows).
type Inputs struct {
	IDs, TypeIDs, Mask *Node
	NumChoices         int
}

// Forward returns the logits ([B, NumLabels]; multiple choice [B, NumChoices];
// tokens [B, T, NumLabels]) and the gate nodes of the method. The backbone's
// absolute positions are shifted by s.Method.Offset().
func Forward(ctx *context.Context, s *Spec, in Inputs) (logits *Node, gates *method.Gates) {
	gates = &method.Gates{}
	hooks := method.Hooks(ctx, &s.Method, gates)
	family, err := s.Family()
	if err != nil {
		panic(fmt.Errorf("model: %w", err)) // Validate, which every caller runs first, reports it
	}
	// position_offset=prefix: the positions shift by layer 0's prefix length (method.Config.Offset).
	out := family.Forward(ctx, s.Backbone, backbone.Inputs{IDs: in.IDs, TypeIDs: in.TypeIDs, Mask: in.Mask,
		PositionOffset: s.Method.Offset()}, hooks)
	g := in.IDs.Graph()
	w := headVar(ctx, g, "weight")
	b := headVar(ctx, g, "bias")
	switch s.Head {
	case TokenClassification:
		x := layers.DropoutStatic(ctx, out.Sequence, s.Dropout)
		logits = Add(backbone.MatMulLast(x, w), ExpandLeftToRank(b, 3))
	default:
		x := layers.DropoutStatic(ctx, out.Pooled(), s.Dropout)
		logits = Add(backbone.MatMulLast(x, w), InsertAxes(b, 0))
		if s.Head == MultipleChoice {
			rows := logits.Shape().Dimensions[0]
			if in.NumChoices <= 0 || rows%in.NumChoices != 0 {
				panic(fmt.Errorf("model: %d rows are not a whole number of examples of %d choices", rows, in.NumChoices))
			}
			logits = Reshape(logits, rows/in.NumChoices, in.NumChoices)
		}
	}
	return logits, gates
}

func headVar(ctx *context.Context, g *Graph, name string) *Node {
	v := ctx.GetVariableByScopeAndName("/"+ScopeHead, name)
	if v == nil {
		panic(fmt.Errorf("model: head variable %q does not exist (call CreateHead first)", name))
	}
	return v.ValueGraph(g)
}

// Loss is the mean cross-entropy of the logits against int32 labels: [B] for
// classification and multiple choice, weighted by weights [B] (0 for the padding
// examples that fill a last, short batch); [B, T] for tokens, averaged over the
// positions whose label is not IgnoreLabel.
func Loss(s *Spec, logits, labels, weights *Node) *Node {
	numClasses := logits.Shape().Dimensions[logits.Rank()-1]
	valid := GreaterOrEqual(labels, ZerosLike(labels))
	safe := Where(valid, labels, ZerosLike(labels))
	logProbs := LogSoftmax(logits, -1)
	nll := Neg(ReduceSum(Mul(logProbs, OneHot(safe, numClasses, logits.DType())), -1)) // [B] or [B, T]
	w := ConvertDType(valid, logits.DType())
	if s.Head != TokenClassification {
		w = Mul(w, weights)
	} else {
		w = Mul(w, InsertAxes(weights, -1))
	}
	total := ReduceAllSum(Mul(nll, w))
	count := Max(ReduceAllSum(w), ScalarOne(logits.Graph(), logits.DType()))
	return Div(total, count)
}

// Int32 is the dtype of every integer input.
const Int32 = dtypes.Int32
