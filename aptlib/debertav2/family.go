package debertav2

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/unigram"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func init() {
	backbone.Register(Family())
}

// Family is the backbone.Family of DeBERTa-v2/v3 checkpoints (model_type
// "deberta-v2"). Its LoadWeights loads the pooler when the checkpoint has
// one; the config's HasPooler then says so (masked-LM checkpoints such as
// deberta-v3-base have none, and the workbench then creates the pooler of
// backbone.ScopePooler, which Forward reads).
func Family() backbone.Family {
	return backbone.Family{
		ModelType: ModelType,
		Doc:       "DeBERTa-v2/v3 (HF DebertaV2Model): disentangled attention, log buckets, ContextPooler",
		LoadConfig: func(path string) (backbone.Config, error) {
			c, err := LoadConfig(path)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Forward: func(ctx *context.Context, c backbone.Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
			return Forward(ctx, mustConfig(c), in, hooks)
		},
		LoadWeights: func(ctx *context.Context, c backbone.Config, src backbone.WeightSource, trainable bool) error {
			cfg, err := asConfig(c)
			if err != nil {
				return err
			}
			_, err = LoadWeights(ctx, cfg, src, trainable)
			return err
		},
		InitRandom: func(ctx *context.Context, c backbone.Config, seed uint64, trainable bool) {
			InitRandom(ctx, mustConfig(c), seed, trainable)
		},
		LoadTokenizer: func(dir string, c backbone.Config) (backbone.Tokenizer, error) {
			// The SentencePiece Unigram tokenizer: tokenizer.json, else
			// spm.model (+ tokenizer_config.json); [CLS] A [SEP] B [SEP].
			return unigram.Load(dir)
		},
		Scope: Scope,
		Tensors: func(c backbone.Config) []backbone.TensorSpec {
			var out []backbone.TensorSpec
			for _, s := range AllTensors(mustConfig(c)) {
				out = append(out, backbone.TensorSpec{Name: s.Name, Shape: s.Shape})
			}
			return out
		},
		ConfigJSON: func(c backbone.Config, extra map[string]any) ([]byte, error) {
			cfg, err := asConfig(c)
			if err != nil {
				return nil, err
			}
			return cfg.JSON(extra)
		},
		// ContextPooler at the top level, as DebertaV2ForSequenceClassification
		// saves it (PoolerTensors) and AllTensors lists it.
		PoolerTensors: []string{"pooler.dense.weight", "pooler.dense.bias"},
		// spm.model or tokenizer.json (the SentencePiece Unigram model), and
		// the two configuration files when present.
		TokenizerFiles: []string{"spm.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"},
	}
}

func asConfig(c backbone.Config) (*Config, error) {
	cfg, ok := c.(*Config)
	if !ok {
		return nil, fmt.Errorf("debertav2: config of model_type %q is not a DeBERTa-v2 config", c.ModelType())
	}
	return cfg, nil
}

// mustConfig is asConfig for the functions of backbone.Family that cannot
// return an error (a wrong config there is a programming error of the caller).
func mustConfig(c backbone.Config) *Config {
	cfg, err := asConfig(c)
	if err != nil {
		panic(err)
	}
	return cfg
}
