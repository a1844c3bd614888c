package roberta

import (
	"errors"
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/bpe"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func init() { backbone.Register(Family) }

// Family is RoBERTa's entry in the backbone registry (model_type "roberta").
var Family = backbone.Family{
	ModelType: ModelType,
	Doc:       "RoBERTa (HF RobertaModel): BERT's encoder, positions from pad_token_id+1, one token type",
	LoadConfig: func(path string) (backbone.Config, error) {
		c, err := LoadConfig(path)
		if err != nil {
			return nil, err
		}
		return c, nil
	},
	Forward: familyForward,
	LoadWeights: func(ctx *context.Context, c backbone.Config, src backbone.WeightSource, trainable bool) error {
		rc, err := asConfig(c)
		if err != nil {
			return err
		}
		return LoadWeights(ctx, rc, src, trainable)
	},
	InitRandom: func(ctx *context.Context, c backbone.Config, seed uint64, trainable bool) {
		rc, err := asConfig(c)
		if err != nil {
			panic(err)
		}
		InitRandom(ctx, rc, seed, trainable)
	},
	// The tokenizer is GPT-2's byte-level BPE (tokenizer.json, or vocab.json
	// + merges.txt) with RoBERTa's specials: <s> A </s></s> B </s>.
	LoadTokenizer: func(dir string, c backbone.Config) (backbone.Tokenizer, error) {
		return bpe.Load(dir, bpe.RoBERTa)
	},
	// The variables live where package bert puts them (its layers read them).
	Scope: bert.Scope,
	Tensors: func(c backbone.Config) []backbone.TensorSpec {
		rc, err := asConfig(c)
		if err != nil {
			panic(err)
		}
		return Tensors(rc)
	},
	ConfigJSON: func(c backbone.Config, extra map[string]any) ([]byte, error) {
		rc, err := asConfig(c)
		if err != nil {
			return nil, err
		}
		return rc.JSON(extra)
	},
	// RobertaModel's pooler, as Tensors lists it (no "roberta." prefix).
	PoolerTensors: PoolerTensors,
	// bpe.Load reads tokenizer.json or vocab.json + merges.txt, and the two
	// configuration files when present.
	TokenizerFiles: []string{"vocab.json", "tokenizer.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"},
}

func asConfig(c backbone.Config) (*Config, error) {
	rc, ok := c.(*Config)
	switch {
	case c == nil || ok && rc == nil:
		return nil, errors.New("roberta: no config given")
	case !ok:
		return nil, fmt.Errorf("roberta: got a %T config (model_type %q), not a RoBERTa one", c, c.ModelType())
	}
	return rc, nil
}
