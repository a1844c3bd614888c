package deberta

import (
	"errors"
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/bpe"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func init() { backbone.Register(Family) }

// Family is DeBERTa v1's entry in the backbone registry (model_type "deberta").
var Family = backbone.Family{
	ModelType: ModelType,
	Doc:       "DeBERTa v1 (HF DebertaModel): disentangled attention with fused in_proj, clamped relative positions, ContextPooler",
	LoadConfig: func(path string) (backbone.Config, error) {
		c, err := LoadConfig(path)
		if err != nil {
			return nil, err
		}
		return c, nil
	},
	Forward: func(ctx *context.Context, c backbone.Config, in backbone.Inputs, hooks *backbone.Hooks) *backbone.Output {
		dc, err := asConfig(c)
		if err != nil {
			panic(err)
		}
		return Forward(ctx, dc, in, hooks)
	},
	LoadWeights: func(ctx *context.Context, c backbone.Config, src backbone.WeightSource, trainable bool) error {
		dc, err := asConfig(c)
		if err != nil {
			return err
		}
		return LoadWeights(ctx, dc, src, trainable)
	},
	InitRandom: func(ctx *context.Context, c backbone.Config, seed uint64, trainable bool) {
		dc, err := asConfig(c)
		if err != nil {
			panic(err)
		}
		InitRandom(ctx, dc, seed, trainable)
	},
	// The tokenizer is GPT-2's byte-level BPE (tokenizer.json, or vocab.json
	// + merges.txt) with the specials [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3 and
	// the layout [CLS] A [SEP] B [SEP] (package bpe, shared with RoBERTa).
	LoadTokenizer: func(dir string, c backbone.Config) (backbone.Tokenizer, error) {
		return bpe.Load(dir, bpe.DeBERTa)
	},
	// The variables live where package bert puts them (bert.SetTensor).
	Scope: bert.Scope,
	Tensors: func(c backbone.Config) []backbone.TensorSpec {
		dc, err := asConfig(c)
		if err != nil {
			panic(err)
		}
		return Tensors(dc)
	},
	ConfigJSON: func(c backbone.Config, extra map[string]any) ([]byte, error) {
		dc, err := asConfig(c)
		if err != nil {
			return nil, err
		}
		return dc.JSON(extra)
	},
	// ContextPooler at the top level, as DebertaForSequenceClassification
	// saves it and Tensors lists it.
	PoolerTensors: PoolerTensors,
	// bpe.Load reads tokenizer.json or vocab.json + merges.txt (what the v1
	// checkpoints ship), and the two configuration files when present.
	TokenizerFiles: []string{"vocab.json", "tokenizer.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"},
}

func asConfig(c backbone.Config) (*Config, error) {
	dc, ok := c.(*Config)
	switch {
	case c == nil || ok && dc == nil:
		return nil, errors.New("deberta: no config given")
	case !ok:
		return nil, fmt.Errorf("deberta: got a %T config (model_type %q), not a DeBERTa v1 one", c, c.ModelType())
	}
	return dc, nil
}
