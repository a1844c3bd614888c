package roberta

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// CheckpointPrefix is the prefix RobertaFor* checkpoints (masked LM, sequence
// classification, ...) put before RobertaModel's tensor names.
const CheckpointPrefix = "roberta."

// PoolerTensors are RobertaPooler's tensors, which real roberta-base and
// roberta-large checkpoints (saved from RobertaForMaskedLM) do not have.
var PoolerTensors = []string{"pooler.dense.weight", "pooler.dense.bias"}

// Tensors lists every tensor of RobertaModel with its canonical name (no
// "roberta." prefix) and shape: BERT's tensors (bert.Tensors, without the
// pooler when the loaded checkpoint had none), the position
// table with max_position_embeddings rows (pad_token_id + 1 + MaxLen) and the
// token type table with type_vocab_size rows (1). Variables live where package
// bert puts them (under bert.Scope, named after the canonical name), so the
// BERT layer code reads them.
//
// The name mapping is the whole of it: checkpoint tensor N loads into
// canonical name N or, when N starts with "roberta.", N without it
// (CheckpointNames); other tensors (lm_head.*, classifier.*) are ignored.
func Tensors(c *Config) []bert.TensorSpec { return bert.Tensors(&c.BERT) }

// CheckpointNames lists the names under which a checkpoint may store the
// canonical tensor name: as is (RobertaModel) or with "roberta." in front
// (RobertaFor*). RoBERTa checkpoints never used BERT's old gamma/beta names.
func CheckpointNames(canonical string) []string {
	return []string{canonical, CheckpointPrefix + canonical}
}

func isPooler(name string) bool { return slices.Contains(PoolerTensors, name) }

// PoolerInCheckpoint reports whether src has the pooler tensors (under either
// name), without loading anything. Only both or neither is a valid checkpoint.
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

// LoadWeights reads every RobertaModel tensor from src into ctx as float32
// variables, trainable only when trainable is true (full fine-tuning). The
// pooler is loaded when the checkpoint has it and skipped when it has neither
// of its tensors; c records which (CheckpointHasPooler). Any other missing
// tensor, a lone pooler tensor, or a shape different from what config.json
// implies is an error naming the tensor (and both shapes).
func LoadWeights(ctx *context.Context, c *Config, src backbone.WeightSource, trainable bool) error {
	hasPooler := PoolerInCheckpoint(src)
	if _, ok := find(src, PoolerTensors[1]); ok != hasPooler {
		return fmt.Errorf("roberta: checkpoint has only one of the pooler tensors %s: both or neither", strings.Join(PoolerTensors, ", "))
	}
	// Tensors leaves the pooler out when the checkpoint has none; Forward's
	// pooler is then the created one (backbone.CreatedPooler).
	c.BERT.NoPooler = !hasPooler
	for _, spec := range Tensors(c) {
		if !hasPooler && isPooler(spec.Name) {
			continue
		}
		found, ok := find(src, spec.Name)
		if !ok {
			return fmt.Errorf("roberta: checkpoint has no tensor %q (nor %q); expected shape %v",
				spec.Name, CheckpointPrefix+spec.Name, spec.Shape)
		}
		info, _ := src.Info(found)
		if !slices.Equal(info.Shape, spec.Shape) {
			return fmt.Errorf("roberta: tensor %q has shape %v, config.json implies %v", found, info.Shape, spec.Shape)
		}
		data, _, err := src.Float32(found)
		if err != nil {
			return fmt.Errorf("roberta: reading tensor %q: %w", found, err)
		}
		if err := safetensors.CheckFinite(weightFile(src, found), found, data); err != nil {
			return fmt.Errorf("roberta: %w", err)
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

// InitRandom creates every RobertaModel tensor, the pooler included (unless
// c says the checkpoint had none), with BERT's initialisation (bert.InitRandom: N(0, 0.02), zero biases, unit
// LayerNorm gains), seeded. For tests and the demo; real work loads a
// checkpoint.
func InitRandom(ctx *context.Context, c *Config, seed uint64, trainable bool) {
	bert.InitRandom(ctx, &c.BERT, seed, trainable)
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
