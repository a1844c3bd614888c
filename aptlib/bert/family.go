package bert

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/wordpiece"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Family is BERT's entry in the backbone registry (model_type "bert"): the
// workbench loads, computes, saves and tokenizes a BERT model directory only
// through it.
var Family = backbone.Family{
	ModelType: "bert",
	Doc:       "BERT (BertModel: absolute positions, token types, pooler dense+tanh; WordPiece tokenizer)",
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
		return LoadWeights(ctx, mustConfig(c), src, trainable)
	},
	InitRandom: func(ctx *context.Context, c backbone.Config, seed uint64, trainable bool) {
		InitRandom(ctx, mustConfig(c), seed, trainable)
	},
	LoadTokenizer: func(dir string, _ backbone.Config) (backbone.Tokenizer, error) {
		tok, err := wordpiece.Load(dir)
		if err != nil {
			return nil, err
		}
		return tok, nil
	},
	Scope:   Scope,
	Tensors: func(c backbone.Config) []backbone.TensorSpec { return Tensors(mustConfig(c)) },
	ConfigJSON: func(c backbone.Config, extra map[string]any) ([]byte, error) {
		return mustConfig(c).JSON(extra)
	},
	PoolerTensors:  PoolerTensors,
	TokenizerFiles: []string{"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"},
}

func init() { backbone.Register(Family) }

// mustConfig is c as a *Config. The registry hands a family only the configs
// its own LoadConfig made, so another type is a programming error.
func mustConfig(c backbone.Config) *Config {
	bc, ok := c.(*Config)
	if !ok {
		panic(fmt.Errorf("bert: config of type %T is not a BERT config", c))
	}
	return bc
}

// compile-time checks of the contract.
var (
	_ backbone.Config       = (*Config)(nil)
	_ backbone.Detailed     = (*Config)(nil)
	_ backbone.PositionInfo = (*Config)(nil)
)
