package roberta

import (
	"errors"
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
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
	LoadTokenizer: func(dir string, c backbone.Config) (backbone.Tokenizer, error) {
		return nil, ErrNoTokenizer
	},
}

// ErrNoTokenizer is what the family's LoadTokenizer returns: RoBERTa's
// byte-level BPE tokenizer (vocab.json + merges.txt or tokenizer.json) is
// package bpe's, which the workbench wires in.
var ErrNoTokenizer = errors.New("roberta: the RoBERTa tokenizer (byte-level BPE) is in package bpe")

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
