package debertav2

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

// Scope is the context scope of the backbone's variables. Below it, a
// variable's scope and name spell the canonical HuggingFace tensor name:
// "encoder.layer.3.attention.self.query_proj.weight" is variable "weight" in
// scope "/debertav2/encoder/layer/3/attention/self/query_proj".
const Scope = "debertav2"

// TensorSpec is one backbone tensor: its canonical name (DebertaV2Model's,
// without the "deberta." prefix of the DebertaV2For* models) and its shape.
// Linear weights keep PyTorch's [out, in] layout, the ConvLayer's weight
// Conv1d's [out, in/groups, kernel].
type TensorSpec struct {
	Name  string
	Shape []int
}

// Tensors lists every tensor of the encoder that c implies, in the order of
// modeling_deberta_v2.py (the pooler is PoolerTensors). This is the whole name
// mapping between checkpoints and the graph code:
//
//	embeddings.word_embeddings.weight          [vocab, embedding_size]
//	embeddings.position_embeddings.weight      [max_position_embeddings, embedding_size]  only with position_biased_input
//	embeddings.token_type_embeddings.weight    [type_vocab_size, embedding_size]          only with type_vocab_size > 0
//	embeddings.embed_proj.weight               [d, embedding_size] (no bias)              only when embedding_size != d
//	embeddings.LayerNorm.{weight,bias}
//	encoder.layer.{i}.attention.self.{query,key,value}_proj.{weight,bias}
//	encoder.layer.{i}.attention.self.pos_key_proj.{weight,bias}    relative_attention, not share_att_key, c2p
//	encoder.layer.{i}.attention.self.pos_query_proj.{weight,bias}  relative_attention, not share_att_key, p2c
//	encoder.layer.{i}.attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}
//	encoder.rel_embeddings.weight              [2*AttSpan, d]                              only with relative_attention
//	encoder.LayerNorm.{weight,bias}                                                        "layer_norm" in norm_rel_ebd
//	encoder.conv.conv.{weight [d, d/conv_groups, conv_kernel_size], bias}, encoder.conv.LayerNorm   conv_kernel_size > 0
//
// A checkpoint's embeddings.position_embeddings.weight is ignored when
// position_biased_input is false (HF: _keys_to_ignore_on_load_unexpected), as
// are lm_predictions.*, mask_predictions.*, classifier.* and position_ids.
func Tensors(c *Config) []TensorSpec {
	d, f, e := c.Hidden, c.IntermediateSize, c.EmbeddingSize
	all := c.NumAttentionHeads * c.AttentionHeadSize
	var specs []TensorSpec
	add := func(name string, shape ...int) { specs = append(specs, TensorSpec{name, shape}) }
	linear := func(name string, out, in int) {
		add(name+".weight", out, in)
		add(name+".bias", out)
	}
	layerNorm := func(name string) {
		add(name+".weight", d)
		add(name+".bias", d)
	}
	add("embeddings.word_embeddings.weight", c.VocabSize, e)
	if c.PositionBiasedInput {
		add("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, e)
	}
	if c.TypeVocabSize > 0 {
		add("embeddings.token_type_embeddings.weight", c.TypeVocabSize, e)
	}
	if e != d {
		add("embeddings.embed_proj.weight", d, e)
	}
	layerNorm("embeddings.LayerNorm")
	for i := range c.NumHiddenLayers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		linear(p+"attention.self.query_proj", all, d)
		linear(p+"attention.self.key_proj", all, d)
		linear(p+"attention.self.value_proj", all, d)
		if c.RelativeAttention && !c.ShareAttKey {
			if c.HasC2P() {
				linear(p+"attention.self.pos_key_proj", all, d)
			}
			if c.HasP2C() {
				linear(p+"attention.self.pos_query_proj", all, d)
			}
		}
		linear(p+"attention.output.dense", d, d)
		layerNorm(p + "attention.output.LayerNorm")
		linear(p+"intermediate.dense", f, d)
		linear(p+"output.dense", d, f)
		layerNorm(p + "output.LayerNorm")
	}
	if c.RelativeAttention {
		add("encoder.rel_embeddings.weight", 2*c.AttSpan(), d)
	}
	if c.RelEmbeddingLayerNorm() {
		layerNorm("encoder.LayerNorm")
	}
	if c.ConvKernelSize > 0 {
		add("encoder.conv.conv.weight", d, d/c.ConvGroups, c.ConvKernelSize)
		add("encoder.conv.conv.bias", d)
		layerNorm("encoder.conv.LayerNorm")
	}
	return specs
}

// PoolerTensors is ContextPooler's dense layer, saved at the top level
// ("pooler.dense.*", not under "deberta.") by DebertaV2ForSequenceClassification.
// Masked-LM checkpoints (deberta-v3-base) have none.
func PoolerTensors(c *Config) []TensorSpec {
	return []TensorSpec{
		{"pooler.dense.weight", []int{c.PoolerHiddenSize, c.PoolerHiddenSize}},
		{"pooler.dense.bias", []int{c.PoolerHiddenSize}},
	}
}

// CheckpointNames lists the names under which a checkpoint may store a
// canonical tensor: as is (DebertaV2Model) or with "deberta." in front
// (DebertaV2ForMaskedLM, ...ForSequenceClassification and the other heads).
func CheckpointNames(canonical string) []string {
	return []string{canonical, "deberta." + canonical}
}

func findName(src backbone.WeightSource, canonical string) string {
	for _, n := range CheckpointNames(canonical) {
		if _, ok := src.Info(n); ok {
			return n
		}
	}
	return ""
}

// LoadWeights reads every tensor of Tensors(c) from src into ctx (under Scope)
// as float32 variables, trainable only when trainable is true, and the pooler
// when the checkpoint has it; hasPooler says whether it had. A missing
// tensor, one with a shape config.json does not imply, or a checkpoint with
// only one of the two pooler tensors is an error naming the tensor.
func LoadWeights(ctx *context.Context, c *Config, src backbone.WeightSource, trainable bool) (hasPooler bool, err error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("debertav2: %w", err)
	}
	load := func(spec TensorSpec, found string) error {
		info, _ := src.Info(found)
		if !slices.Equal(info.Shape, spec.Shape) {
			return fmt.Errorf("debertav2: tensor %q has shape %v, config.json implies %v", found, info.Shape, spec.Shape)
		}
		data, _, err := src.Float32(found)
		if err != nil {
			return fmt.Errorf("debertav2: reading tensor %q: %w", found, err)
		}
		if err := safetensors.CheckFinite(weightFile(src, found), found, data); err != nil {
			return fmt.Errorf("debertav2: %w", err)
		}
		setVariable(ctx, spec, data, trainable)
		return nil
	}
	for _, spec := range Tensors(c) {
		found := findName(src, spec.Name)
		if found == "" {
			return false, fmt.Errorf("debertav2: checkpoint has no tensor %q (nor %q); expected shape %v",
				spec.Name, "deberta."+spec.Name, spec.Shape)
		}
		if err := load(spec, found); err != nil {
			return false, err
		}
	}
	pooler := PoolerTensors(c)
	w, b := findName(src, pooler[0].Name), findName(src, pooler[1].Name)
	switch {
	case w == "" && b == "":
		c.NoPooler = true
		return false, nil
	case w == "" || b == "":
		return false, fmt.Errorf("debertav2: checkpoint has only one of %q and %q", pooler[0].Name, pooler[1].Name)
	}
	if err := load(pooler[0], w); err != nil {
		return false, err
	}
	if err := load(pooler[1], b); err != nil {
		return false, err
	}
	c.NoPooler = false
	return true, nil
}

// AllTensors is the family's whole tensor list (backbone.Family.Tensors):
// Tensors(c), then PoolerTensors(c) unless the checkpoint had no pooler
// (c.NoPooler). Full fine-tuning trains, saves and fingerprints these.
func AllTensors(c *Config) []TensorSpec {
	specs := Tensors(c)
	if !c.NoPooler {
		specs = append(specs, PoolerTensors(c)...)
	}
	return specs
}

// HasPooler reports whether ctx holds the ContextPooler's variables (loaded
// from the checkpoint, or created by InitPooler).
func HasPooler(ctx *context.Context) bool {
	return Variable(ctx, "pooler.dense.weight") != nil && Variable(ctx, "pooler.dense.bias") != nil
}

// weightFile names the file of src holding tensor name, for messages.
func weightFile(src backbone.WeightSource, name string) string {
	if s, ok := src.(interface{ FileOf(string) string }); ok {
		return s.FileOf(name)
	}
	return "model weights"
}

// InitRandom creates every tensor of AllTensors(c) (the pooler unless
// c.NoPooler) with
// DebertaV2PreTrainedModel's initialisation (normal with std
// initializer_range for matrices, embeddings and the conv kernel, zero
// biases, unit LayerNorm gains), drawn from a seeded generator. For tests and
// the demo; real work loads a checkpoint.
func InitRandom(ctx *context.Context, c *Config, seed uint64, trainable bool) {
	rng := rand.New(rand.NewPCG(seed, 0xdeb2))
	for _, spec := range AllTensors(c) {
		setVariable(ctx, spec, randomData(rng, spec, c.InitializerRange), trainable)
	}
}

// InitPooler creates the ContextPooler's pooler.dense.* for a checkpoint that
// has none (normal with std initializer_range, zero bias, seeded), for callers
// of this package alone; trainable says whether it trains. c then has a
// pooler (NoPooler false). The workbench instead creates the family-neutral
// pooler of backbone.ScopePooler, which Forward reads while NoPooler is set.
func InitPooler(ctx *context.Context, c *Config, seed uint64, trainable bool) {
	c.NoPooler = false
	rng := rand.New(rand.NewPCG(seed, 0x9001))
	for _, spec := range PoolerTensors(c) {
		setVariable(ctx, spec, randomData(rng, spec, c.InitializerRange), trainable)
	}
}

func randomData(rng *rand.Rand, spec TensorSpec, std float64) []float32 {
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
			data[i] = float32(rng.NormFloat64() * std)
		}
	}
	return data
}

// varPath splits a canonical tensor name into the context scope and variable name.
func varPath(name string) (scope, varName string) {
	i := strings.LastIndexByte(name, '.')
	return "/" + Scope + "/" + strings.ReplaceAll(name[:i], ".", "/"), name[i+1:]
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

// SetTrainable marks every encoder variable (not the pooler) trainable or frozen.
func SetTrainable(ctx *context.Context, c *Config, trainable bool) {
	for _, spec := range Tensors(c) {
		if v := Variable(ctx, spec.Name); v != nil {
			v.SetTrainable(trainable)
		}
	}
}

// LoadDir reads a HuggingFace model directory's config.json and weights
// (model.safetensors or the sharded index form) into ctx.
func LoadDir(ctx *context.Context, dir string, trainable bool) (c *Config, hasPooler bool, err error) {
	c, err = LoadConfigDir(dir)
	if err != nil {
		return nil, false, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, false, err
	}
	defer set.Close()
	hasPooler, err = LoadWeights(ctx, c, set, trainable)
	if err != nil {
		return nil, false, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, hasPooler, nil
}
