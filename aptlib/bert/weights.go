package bert

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Scope is the context scope under which the backbone's variables live. A
// variable's scope below it and its name spell the HuggingFace tensor name:
// "encoder.layer.3.attention.self.query.weight" is variable "weight" in scope
// "/bert/encoder/layer/3/attention/self/query".
const Scope = "bert"

// TensorSpec is one backbone tensor: its canonical HuggingFace name (BertModel,
// no "bert." prefix, LayerNorm as weight/bias) and its shape. Linear weights keep
// PyTorch's [out, in] layout.
type TensorSpec = backbone.TensorSpec

// Tensors lists every tensor of the backbone, in the order of modeling_bert.py.
// This is the whole name mapping between checkpoints and the graph code.
func Tensors(c *Config) []TensorSpec {
	d, f := c.HiddenDim, c.IntermediateSize
	var specs []TensorSpec
	add := func(name string, shape ...int) { specs = append(specs, TensorSpec{Name: name, Shape: shape}) }
	linear := func(name string, out, in int) {
		add(name+".weight", out, in)
		add(name+".bias", out)
	}
	layerNorm := func(name string) {
		add(name+".weight", d)
		add(name+".bias", d)
	}
	add("embeddings.word_embeddings.weight", c.VocabSize, d)
	add("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, d)
	add("embeddings.token_type_embeddings.weight", c.TypeVocabSize, d)
	layerNorm("embeddings.LayerNorm")
	for i := range c.NumHiddenLayers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		linear(p+"attention.self.query", d, d)
		linear(p+"attention.self.key", d, d)
		linear(p+"attention.self.value", d, d)
		linear(p+"attention.output.dense", d, d)
		layerNorm(p + "attention.output.LayerNorm")
		linear(p+"intermediate.dense", f, d)
		linear(p+"output.dense", d, f)
		layerNorm(p + "output.LayerNorm")
	}
	if !c.NoPooler {
		linear("pooler.dense", d, d)
	}
	return specs
}

// CheckpointNames lists the names under which a checkpoint may store the
// canonical tensor name: BertFor* checkpoints prefix "bert.", and older ones
// (the original Google conversions) call LayerNorm's gain and offset gamma/beta.
func CheckpointNames(canonical string) []string {
	names := []string{canonical}
	if strings.Contains(canonical, "LayerNorm.") {
		old := strings.Replace(strings.Replace(canonical, "LayerNorm.weight", "LayerNorm.gamma", 1), "LayerNorm.bias", "LayerNorm.beta", 1)
		names = append(names, old)
	}
	for _, n := range slices.Clone(names) {
		names = append(names, "bert."+n)
	}
	return names
}

// varPath splits a canonical tensor name into the context scope and variable name.
func varPath(name string) (scope, varName string) { return backbone.VarPath(Scope, name) }

// WeightSource is what weights are read from: a safetensors.Set (a model
// directory) satisfies it.
type WeightSource = backbone.WeightSource

// PoolerTensors are BertPooler's tensors (BertModel's names), which
// checkpoints saved from BertForMaskedLM do not have.
var PoolerTensors = []string{"pooler.dense.weight", "pooler.dense.bias"}

// LoadWeights reads every backbone tensor from src into ctx (under Scope) as
// float32 variables, trainable only when trainable is true (full fine-tuning).
// Extra tensors in src (e.g. "cls.*" heads) are ignored. A missing tensor, or one
// whose shape differs from what config.json implies, is an error naming the
// tensor and both shapes. A checkpoint with neither pooler tensor (saved from
// BertForMaskedLM) loads with c.NoPooler set; one with only one of them is an
// error.
func LoadWeights(ctx *context.Context, c *Config, src WeightSource, trainable bool) error {
	c.NoPooler = !hasAny(src, PoolerTensors[0]) && !hasAny(src, PoolerTensors[1])
	for _, spec := range Tensors(c) {
		var found string
		for _, n := range CheckpointNames(spec.Name) {
			if _, ok := src.Info(n); ok {
				found = n
				break
			}
		}
		if found == "" {
			return fmt.Errorf("bert: checkpoint has no tensor %q (also looked for %s); expected shape %v",
				spec.Name, strings.Join(quoteAll(CheckpointNames(spec.Name)[1:]), ", "), spec.Shape)
		}
		info, _ := src.Info(found)
		if !slices.Equal(info.Shape, spec.Shape) {
			return fmt.Errorf("bert: tensor %q has shape %v, config.json implies %v", found, info.Shape, spec.Shape)
		}
		data, _, err := src.Float32(found)
		if err != nil {
			return fmt.Errorf("bert: reading tensor %q: %w", found, err)
		}
		if err := safetensors.CheckFinite(weightFile(src, found), found, data); err != nil {
			return fmt.Errorf("bert: %w", err)
		}
		setVariable(ctx, spec, data, trainable)
	}
	return nil
}

// hasAny reports whether src holds the canonical tensor under any of its names.
func hasAny(src WeightSource, canonical string) bool {
	for _, n := range CheckpointNames(canonical) {
		if _, ok := src.Info(n); ok {
			return true
		}
	}
	return false
}

// weightFile names the file of src holding tensor name, for messages.
func weightFile(src WeightSource, name string) string {
	if s, ok := src.(interface{ FileOf(string) string }); ok {
		return s.FileOf(name)
	}
	return "model weights"
}

// InitRandom creates every backbone tensor with BERT's initialisation
// (N(0, 0.02) for matrices and embeddings, zero biases, unit LayerNorm gains),
// drawn from a seeded generator so that two calls give the same backbone. It is
// for tests, benchmarks and the demo model; real work loads a checkpoint.
func InitRandom(ctx *context.Context, c *Config, seed uint64, trainable bool) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, spec := range Tensors(c) {
		n := 1
		for _, d := range spec.Shape {
			n *= d
		}
		data := make([]float32, n)
		switch {
		case strings.Contains(spec.Name, "LayerNorm.weight"):
			for i := range data {
				data[i] = 1
			}
		case strings.HasSuffix(spec.Name, ".bias"):
		default:
			for i := range data {
				data[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		setVariable(ctx, spec, data, trainable)
	}
}

func setVariable(ctx *context.Context, spec TensorSpec, data []float32, trainable bool) {
	scope, name := varPath(spec.Name)
	t := tensors.FromFlatDataAndDimensions(data, spec.Shape...)
	if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
		v.MustSetValue(t)
		v.SetTrainable(trainable)
		return
	}
	ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, t).SetTrainable(trainable)
}

// Variable returns the backbone variable holding the canonical tensor name, or nil.
func Variable(ctx *context.Context, name string) *context.Variable {
	scope, varName := varPath(name)
	return ctx.GetVariableByScopeAndName(scope, varName)
}

// SetTrainable marks every backbone variable trainable (full fine-tuning) or frozen.
func SetTrainable(ctx *context.Context, c *Config, trainable bool) {
	for _, spec := range Tensors(c) {
		if v := Variable(ctx, spec.Name); v != nil {
			v.SetTrainable(trainable)
		}
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// LoadDir reads a HuggingFace model directory's config.json and weights
// (model.safetensors or the sharded index form) into ctx. It returns the config.
func LoadDir(ctx *context.Context, dir string, trainable bool) (*Config, error) {
	c, err := LoadConfigDir(dir)
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	if err := LoadWeights(ctx, c, set, trainable); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, nil
}
