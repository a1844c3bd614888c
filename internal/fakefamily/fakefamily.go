// Package fakefamily registers a second, deliberately different backbone
// family, model_type "fakebert", for tests only: it proves that the methods,
// heads, trainer, adapters and workbench reach a backbone only through package
// backbone, never by switching on BERT. Import it blank from a test.
//
// The encoder reads a BERT checkpoint (the same tensor names, with or without
// the "bert." prefix) but computes something simpler: BERT's embeddings, then
// per layer only self-attention (with the method's prefix slots), its output
// dense and residual LayerNorm; no feed-forward block and no pooler tensor.
// The pooled output is the masked mean of the last layer over the real tokens.
// Its variables live in scope "fakebert", apart from BERT's.
package fakefamily

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/aptlib/wordpiece"
	"github.com/aptbench/apt/internal/boundedread"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ModelType is the family's config.json model_type.
const ModelType = "fakebert"

// Scope is the context scope of the family's variables.
const Scope = "fakebert"

// Config is a BERT config.json read as this family: BERT's keys, model_type
// "fakebert". The embedded bert.Config's methods answer the backbone.Config
// questions except those redefined here.
type Config struct {
	bert.Config
}

// ModelType is "fakebert".
func (c *Config) ModelType() string { return ModelType }

// NumParameters counts exactly the tensors of Tensors (no feed-forward, no pooler).
func (c *Config) NumParameters() int {
	n := 0
	for _, t := range tensorList(c) {
		size := 1
		for _, d := range t.Shape {
			size *= d
		}
		n += size
	}
	return n
}

// Validate checks the BERT keys.
func (c *Config) Validate() error {
	b := c.Config
	b.Type = "bert"
	return b.Validate()
}

// Family is the registered family.
var Family = backbone.Family{
	ModelType:  ModelType,
	Doc:        "test-only encoder on BERT weights: attention-only layers, mean pooling",
	LoadConfig: loadConfig,
	Forward: func(ctx *context.Context, c backbone.Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
		return forward(ctx, c.(*Config), in, hooks)
	},
	LoadWeights: func(ctx *context.Context, c backbone.Config, src backbone.WeightSource, trainable bool) error {
		return loadWeights(ctx, c.(*Config), src, trainable)
	},
	InitRandom: func(ctx *context.Context, c backbone.Config, seed uint64, trainable bool) {
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, t := range tensorList(c.(*Config)) {
			data := make([]float32, size(t.Shape))
			for i := range data {
				switch {
				case strings.HasSuffix(t.Name, "LayerNorm.weight"):
					data[i] = 1
				case strings.HasSuffix(t.Name, ".bias"):
				default:
					data[i] = float32(rng.NormFloat64() * 0.02)
				}
			}
			set(ctx, t, data, trainable)
		}
	},
	LoadTokenizer: func(dir string, _ backbone.Config) (backbone.Tokenizer, error) { return wordpiece.Load(dir) },
	Scope:         Scope,
	Tensors:       func(c backbone.Config) []backbone.TensorSpec { return tensorList(c.(*Config)) },
	ConfigJSON: func(c backbone.Config, extra map[string]any) ([]byte, error) {
		return c.(*Config).Config.JSON(extra) // Type is "fakebert": its model_type key
	},
	TokenizerFiles: []string{"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"},
}

func init() { backbone.Register(Family) }

func loadConfig(path string) (backbone.Config, error) {
	data, err := boundedread.ReadFile(path, backbone.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	c := &Config{Config: *bert.DefaultConfig()}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("fakebert: %s: %w", path, err)
	}
	if c.Type != ModelType {
		return nil, fmt.Errorf("fakebert: %s: model_type %q", path, c.Type)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("fakebert: %s: %w", path, err)
	}
	return c, nil
}

// tensorList is BERT's tensor list without the feed-forward blocks and the pooler.
func tensorList(c *Config) []backbone.TensorSpec {
	var out []backbone.TensorSpec
	for _, t := range bert.Tensors(&c.Config) {
		if strings.Contains(t.Name, "intermediate.") || strings.Contains(t.Name, ".output.dense") && !strings.Contains(t.Name, "attention.") ||
			strings.Contains(t.Name, ".output.LayerNorm") && !strings.Contains(t.Name, "attention.") || strings.HasPrefix(t.Name, "pooler.") {
			continue
		}
		out = append(out, t)
	}
	return out
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func set(ctx *context.Context, t backbone.TensorSpec, data []float32, trainable bool) {
	scope, name := backbone.VarPath(Scope, t.Name)
	v := tensors.FromFlatDataAndDimensions(data, t.Shape...)
	if old := ctx.GetVariableByScopeAndName(scope, name); old != nil {
		old.MustSetValue(v)
		old.SetTrainable(trainable)
		return
	}
	ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, v).SetTrainable(trainable)
}

func loadWeights(ctx *context.Context, c *Config, src backbone.WeightSource, trainable bool) error {
	for _, t := range tensorList(c) {
		var found string
		for _, n := range bert.CheckpointNames(t.Name) {
			if _, ok := src.Info(n); ok {
				found = n
				break
			}
		}
		if found == "" {
			return fmt.Errorf("fakebert: checkpoint has no tensor %q", t.Name)
		}
		info, _ := src.Info(found)
		if !slices.Equal(info.Shape, t.Shape) {
			return fmt.Errorf("fakebert: tensor %q has shape %v, want %v", found, info.Shape, t.Shape)
		}
		data, _, err := src.Float32(found)
		if err != nil {
			return err
		}
		if err := safetensors.CheckFinite("model weights", found, data); err != nil {
			return err
		}
		set(ctx, t, data, trainable)
	}
	return nil
}

func param(ctx *context.Context, g *Graph, name string) *Node {
	scope, vname := backbone.VarPath(Scope, name)
	v := ctx.GetVariableByScopeAndName(scope, vname)
	if v == nil {
		panic(fmt.Errorf("fakebert: tensor %q not loaded", name))
	}
	return v.ValueGraph(g)
}

func linear(ctx *context.Context, name string, x *Node) *Node {
	w, b := param(ctx, x.Graph(), name+".weight"), param(ctx, x.Graph(), name+".bias")
	return Add(backbone.DotFast(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil), ExpandLeftToRank(b, x.Rank()))
}

func layerNorm(ctx *context.Context, c *Config, name string, x *Node) *Node {
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	normed := Div(centered, Sqrt(AddScalar(variance, c.LayerNormEps)))
	return Add(Mul(normed, ExpandLeftToRank(param(ctx, x.Graph(), name+".weight"), x.Rank())),
		ExpandLeftToRank(param(ctx, x.Graph(), name+".bias"), x.Rank()))
}

func trues(g *Graph, dims ...int) *Node { return BroadcastPrefix(Const(g, true), dims...) }

func forward(ctx *context.Context, c *Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
	if hooks == nil {
		hooks = &backbone.Hooks{}
	}
	g := in.IDs.Graph()
	batch, seqLen := in.IDs.Shape().Dimensions[0], in.IDs.Shape().Dimensions[1]
	typeIDs := in.TypeIDs
	if typeIDs == nil {
		typeIDs = Zeros(g, in.IDs.Shape())
	}
	mask := trues(g, batch, seqLen)
	if in.Mask != nil {
		mask = NotEqual(in.Mask, ZerosLike(in.Mask))
	}
	words := Gather(param(ctx, g, "embeddings.word_embeddings.weight"), InsertAxes(in.IDs, -1))
	types := Gather(param(ctx, g, "embeddings.token_type_embeddings.weight"), InsertAxes(typeIDs, -1))
	pos := Gather(param(ctx, g, "embeddings.position_embeddings.weight"), Iota(g, shapes.Make(dtypes.Int32, seqLen, 1), 0))
	x := layerNorm(ctx, c, "embeddings.LayerNorm", Add(Add(words, types), InsertAxes(pos, 0)))

	numPrompt, attnMask := 0, mask
	if hooks.Prompt != nil {
		if p := hooks.Prompt(x); p != nil {
			numPrompt = p.Shape().Dimensions[1]
			x = Concatenate([]*Node{p, x}, 1)
			attnMask = Concatenate([]*Node{trues(g, batch, numPrompt), mask}, 1)
		}
	}
	out := &backbone.Output{Mask: mask, Hidden: []*Node{x}}
	n, hd := c.NumAttentionHeads, c.HiddenDim/c.NumAttentionHeads
	for i := range c.NumHiddenLayers {
		var pk, pv *Node
		if hooks.Prefix != nil {
			pk, pv = hooks.Prefix(i, x, attnMask)
		}
		p := fmt.Sprintf("encoder.layer.%d.attention.", i)
		t := x.Shape().Dimensions[1]
		heads := func(v *Node) *Node { return Reshape(v, batch, v.Shape().Dimensions[1], n, hd) }
		q, k, v := heads(linear(ctx, p+"self.query", x)), heads(linear(ctx, p+"self.key", x)), heads(linear(ctx, p+"self.value", x))
		keyMask := attnMask
		if pk != nil {
			k = Concatenate([]*Node{heads(pk), k}, 1)
			v = Concatenate([]*Node{heads(pv), v}, 1)
			keyMask = Concatenate([]*Node{trues(g, batch, pk.Shape().Dimensions[1]), attnMask}, 1)
		}
		scores := MulScalar(backbone.DotFast(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}), 1/math.Sqrt(float64(hd)))
		numKeys := keyMask.Shape().Dimensions[1]
		bias := Where(keyMask, Zeros(g, shapes.Make(scores.DType(), batch, numKeys)),
			BroadcastPrefix(Scalar(g, scores.DType(), -1e9), batch, numKeys))
		probs := Softmax(Add(scores, Reshape(bias, batch, 1, 1, numKeys)), -1)
		a := backbone.DotFast(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [B, n, T, hd]
		a = Reshape(TransposeAllAxes(a, 0, 2, 1, 3), batch, t, n*hd)
		x = layerNorm(ctx, c, p+"output.LayerNorm", Add(linear(ctx, p+"output.dense", a), x))
		out.Hidden = append(out.Hidden, x)
	}
	if numPrompt > 0 { // drop the prompt positions (one-hot selection: the go backend has no Pad)
		total := numPrompt + seqLen
		rows := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 0)
		cols := Iota(g, shapes.Make(dtypes.Int32, seqLen, total), 1)
		sel := ConvertDType(Equal(AddScalar(rows, numPrompt), cols), x.DType())
		x = TransposeAllAxes(backbone.DotFast(x, []int{1}, nil, sel, []int{1}, nil), 0, 2, 1)
	}
	out.Sequence = x
	out.Pool = func(seq *Node) *Node {
		m := InsertAxes(ConvertDType(mask, seq.DType()), -1) // [B, T, 1]
		return Div(ReduceSum(Mul(seq, m), 1), ReduceSum(m, 1))
	}
	return out
}
