package deberta

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// CheckpointPrefix is the prefix DebertaFor* checkpoints (masked LM, sequence
// classification, ...) put before DebertaModel's tensor names.
const CheckpointPrefix = "deberta."

// PoolerTensors are ContextPooler's tensors. DebertaForSequenceClassification
// saves them at the top level (not under "deberta."); masked-LM checkpoints
// (the released microsoft/deberta-*) do not have them.
var PoolerTensors = []string{"pooler.dense.weight", "pooler.dense.bias"}

// Tensors lists every tensor this package reads, with its canonical name
// (DebertaModel's, no "deberta." prefix) and shape, in the order of
// modeling_deberta.py, the pooler last. This is the whole name mapping: a
// checkpoint stores canonical name N as N or "deberta."+N (CheckpointNames);
// everything else in a checkpoint is ignored: lm_predictions.* (the MLM head),
// classifier.*, *.position_ids buffers, and embeddings.position_embeddings.weight
// when position_biased_input is false (v1 checkpoints carry it; DebertaModel
// never reads it).
//
// Linear weights keep PyTorch's [out, in] layout; in_proj.weight [3d, d] is
// stored as saved, its rows interleaved per head (see the package doc).
// Variables live under package bert's scope (bert.Scope), named after the
// canonical name, like every family's backbone variables.
func Tensors(c *Config) []bert.TensorSpec {
	d, f, e := c.Dim, c.IntermediateSize, c.Embedding()
	var specs []bert.TensorSpec
	add := func(name string, shape ...int) { specs = append(specs, bert.TensorSpec{Name: name, Shape: shape}) }
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
	if c.RelativeAttention {
		add("encoder.rel_embeddings.weight", 2*c.MaxRelative(), d)
	}
	for i := range c.NumHiddenLayers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		add(p+"attention.self.in_proj.weight", 3*d, d)
		add(p+"attention.self.q_bias", d)
		add(p+"attention.self.v_bias", d)
		if c.RelativeAttention && c.PosAttType.Has("c2p") {
			add(p+"attention.self.pos_proj.weight", d, d)
		}
		if c.RelativeAttention && c.PosAttType.Has("p2c") {
			add(p+"attention.self.pos_q_proj.weight", d, d)
			add(p+"attention.self.pos_q_proj.bias", d)
		}
		add(p+"attention.output.dense.weight", d, d)
		add(p+"attention.output.dense.bias", d)
		layerNorm(p + "attention.output.LayerNorm")
		add(p+"intermediate.dense.weight", f, d)
		add(p+"intermediate.dense.bias", f)
		add(p+"output.dense.weight", d, f)
		add(p+"output.dense.bias", d)
		layerNorm(p + "output.LayerNorm")
	}
	if !c.NoPooler {
		add(PoolerTensors[0], d, d)
		add(PoolerTensors[1], d)
	}
	return specs
}

// CheckpointNames lists the names under which a checkpoint may store the
// canonical tensor name: as is (DebertaModel, and the pooler of
// DebertaForSequenceClassification) or with "deberta." in front (DebertaFor*).
func CheckpointNames(canonical string) []string {
	return []string{canonical, CheckpointPrefix + canonical}
}

func isPooler(name string) bool { return slices.Contains(PoolerTensors, name) }

// PoolerInCheckpoint reports whether src has the pooler's weight (under either
// name), without loading anything.
func PoolerInCheckpoint(src backbone.WeightSource) bool {
	_, ok := find(src, PoolerTensors[0])
	return ok
}

func find(src backbone.WeightSource, canonical string) (string, bool) {
	for _, n := range CheckpointNames(canonical) {
		if _, ok := src.Info(n); ok {
			return n, true
		}
	}
	return "", false
}

// LoadWeights reads every tensor of Tensors(c) from src into ctx as float32
// variables, trainable only when trainable is true (full fine-tuning). The
// pooler is loaded when the checkpoint has it and skipped when it has neither
// of its tensors; c records which (CheckpointHasPooler). Any other missing
// tensor, a lone pooler tensor, a non-finite value, or a shape different from
// what config.json implies is an error naming the tensor.
func LoadWeights(ctx *context.Context, c *Config, src backbone.WeightSource, trainable bool) error {
	hasPooler := PoolerInCheckpoint(src)
	if _, ok := find(src, PoolerTensors[1]); ok != hasPooler {
		return fmt.Errorf("deberta: checkpoint has only one of the pooler tensors %s: both or neither", strings.Join(PoolerTensors, ", "))
	}
	c.NoPooler = !hasPooler // Tensors(c) then lists no pooler
	for _, spec := range Tensors(c) {
		if !hasPooler && isPooler(spec.Name) {
			continue
		}
		found, ok := find(src, spec.Name)
		if !ok {
			return fmt.Errorf("deberta: checkpoint has no tensor %q (nor %q); expected shape %v",
				spec.Name, CheckpointPrefix+spec.Name, spec.Shape)
		}
		info, _ := src.Info(found)
		if !slices.Equal(info.Shape, spec.Shape) {
			return fmt.Errorf("deberta: tensor %q has shape %v, config.json implies %v", found, info.Shape, spec.Shape)
		}
		data, _, err := src.Float32(found)
		if err != nil {
			return fmt.Errorf("deberta: reading tensor %q: %w", found, err)
		}
		if err := safetensors.CheckFinite(weightFile(src, found), found, data); err != nil {
			return fmt.Errorf("deberta: %w", err)
		}
		bert.SetTensor(ctx, spec, data, trainable)
	}
	c.checkpointPooler = &hasPooler
	return nil
}

// weightFile names the file of src holding tensor name, for messages.
func weightFile(src backbone.WeightSource, name string) string {
	if s, ok := src.(interface{ FileOf(string) string }); ok {
		return s.FileOf(name)
	}
	return "model weights"
}

// InitRandom creates every tensor of Tensors(c), the pooler included, seeded:
// N(0, initializer_range) for matrices and embeddings (DebertaPreTrainedModel's
// _init_weights), zero biases (q_bias, v_bias included), unit LayerNorm
// gains. For tests and the demo; real work loads a checkpoint.
func InitRandom(ctx *context.Context, c *Config, seed uint64, trainable bool) {
	rng := rand.New(rand.NewPCG(seed, 0xdeb))
	for _, spec := range Tensors(c) {
		data := make([]float32, prod(spec.Shape))
		switch {
		case strings.Contains(spec.Name, "LayerNorm.weight"):
			for i := range data {
				data[i] = 1
			}
		case strings.HasSuffix(spec.Name, ".bias") || strings.HasSuffix(spec.Name, "_bias"):
		default:
			for i := range data {
				data[i] = float32(rng.NormFloat64() * c.InitializerRange)
			}
		}
		bert.SetTensor(ctx, spec, data, trainable)
	}
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
