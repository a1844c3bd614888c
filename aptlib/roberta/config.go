// Package roberta is HuggingFace transformers' RobertaModel
// (models/roberta/modeling_roberta.py) as a backbone family (model_type
// "roberta"). RoBERTa is BERT's encoder with three differences, and this
// package is only those differences on top of package bert's layers:
//
//   - positions come from the padding (create_position_ids_from_input_ids): with
//     pad = pad_token_id and n_t = [id_t != pad], token t takes row
//     pad + n_t * (offset + sum_{u<=t} n_u) of the position table: real tokens
//     pad+1, pad+2, ..., padding pad. So 514 rows hold 512 tokens (MaxLen);
//   - one token type (type_vocab_size 1): token types are always 0;
//   - checkpoint tensor names carry "roberta." (RobertaFor* checkpoints) or no
//     prefix (RobertaModel); "lm_head.*" and other extra tensors are ignored,
//     and the pooler may be absent (real roberta-base and -large are saved from
//     RobertaForMaskedLM without one).
//
// Deep prefixes (PT-2, APT) go in exactly as in BERT: key and value slots in
// front of each layer's projected keys and values, every query sees every slot,
// padded keys stay masked, scores scaled by 1/sqrt(d_head) once. P-Tuning v2,
// which hands its prefixes to HF as past_key_values, also shifts the positions
// by layer 0's prefix length (past_key_values_length); this package does that
// only when asked (backbone.Inputs.PositionOffset, which the workbench sets
// under position_offset=prefix). docs/families.md has the user's view.
package roberta

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/internal/boundedread"
)

// ModelType is config.json's "model_type" of this family.
const ModelType = "roberta"

// Config is a loaded RoBERTa config.json: the encoder's shape in BERT's terms
// (RobertaConfig is a BertConfig with other defaults), plus what loading the
// weights found. It implements backbone.Config.
type Config struct {
	// BERT holds config.json's keys (their names as transformers' RobertaConfig
	// spells them). Its ModelType is "roberta"; PadTokenID is RoBERTa's
	// padding_idx, from which the positions count.
	BERT bert.Config

	// checkpointPooler records whether the checkpoint LoadWeights read had the
	// pooler tensors; nil until a checkpoint is loaded.
	checkpointPooler *bool
}

var (
	_ backbone.Config       = (*Config)(nil)
	_ backbone.Detailed     = (*Config)(nil)
	_ backbone.PoolerInfo   = (*Config)(nil)
	_ backbone.PositionInfo = (*Config)(nil)
)

// DefaultConfig returns roberta-base's configuration. Keys absent from a
// config.json take these values: roberta-base's config.json (pad_token_id 1,
// layer_norm_eps 1e-5, type_vocab_size 1, max_position_embeddings 514) rather
// than RobertaConfig's class defaults, which keep BERT's 512 / 2 / 1e-12 and
// which no released RoBERTa checkpoint uses. Real config.json files set all of
// these keys, so the choice matters only for hand-written ones.
func DefaultConfig() *Config {
	return &Config{BERT: bert.Config{
		Type: ModelType, VocabSize: 50265, HiddenDim: 768, NumHiddenLayers: 12,
		NumAttentionHeads: 12, IntermediateSize: 3072, HiddenAct: "gelu",
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 514, TypeVocabSize: 1, LayerNormEps: 1e-5,
		PadTokenID: 1, PositionEmbeddingType: "absolute",
	}}
}

// LoadConfig reads a RoBERTa config.json; keys absent from the file take
// DefaultConfig's values.
func LoadConfig(path string) (*Config, error) {
	data, err := boundedread.ReadFile(path, bert.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("roberta: reading config: %w", err)
	}
	c := DefaultConfig()
	if err := json.Unmarshal(data, &c.BERT); err != nil {
		return nil, fmt.Errorf("roberta: %s: not a valid config.json: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("roberta: %s: %w", path, err)
	}
	return c, nil
}

// LoadConfigDir reads DIR/config.json.
func LoadConfigDir(dir string) (*Config, error) {
	return LoadConfig(filepath.Join(dir, "config.json"))
}

// Validate checks the configuration describes an encoder this package can
// compute: BERT's checks, plus a padding id that leaves room in the position
// table (positions start at pad_token_id + 1).
func (c *Config) Validate() error {
	switch c.BERT.Type {
	case "", ModelType:
	default:
		return fmt.Errorf("model_type %q is not RoBERTa (package roberta reads model_type %q)", c.BERT.Type, ModelType)
	}
	b := c.BERT
	b.Type = "bert" // the rest of the checks are BERT's
	if err := b.Validate(); err != nil {
		return err
	}
	if c.BERT.PadTokenID < 0 || c.BERT.PadTokenID >= c.BERT.VocabSize {
		return fmt.Errorf("pad_token_id %d is outside the vocabulary (vocab_size %d)", c.BERT.PadTokenID, c.BERT.VocabSize)
	}
	if c.MaxLen() < 1 {
		return fmt.Errorf("max_position_embeddings %d leaves no position for a token after pad_token_id %d (positions start at pad_token_id+1)",
			c.BERT.MaxPositionEmbeddings, c.BERT.PadTokenID)
	}
	return nil
}

// ModelType is "roberta".
func (c *Config) ModelType() string { return ModelType }

// NumLayers is num_hidden_layers.
func (c *Config) NumLayers() int { return c.BERT.NumHiddenLayers }

// HiddenSize is hidden_size.
func (c *Config) HiddenSize() int { return c.BERT.HiddenDim }

// NumHeads is num_attention_heads.
func (c *Config) NumHeads() int { return c.BERT.NumAttentionHeads }

// MaxLen is the longest input the position table allows:
// max_position_embeddings - pad_token_id - 1 (512 for roberta-base), since
// positions run from pad_token_id + 1.
func (c *Config) MaxLen() int { return c.BERT.MaxPositionEmbeddings - c.BERT.PadTokenID - 1 }

// AbsolutePositions: RobertaEmbeddings adds a learned position per token
// (backbone.PositionInfo).
func (c *Config) AbsolutePositions() bool { return true }

// MaxLenSource says how MaxLen follows from the config (backbone.PositionInfo):
// the real tokens' positions start at pad_token_id + 1.
func (c *Config) MaxLenSource() string {
	return fmt.Sprintf("max_position_embeddings %d less pad_token_id+1 = %d: positions start after the padding's",
		c.BERT.MaxPositionEmbeddings, c.BERT.PadTokenID+1)
}

// HiddenDropout is hidden_dropout_prob.
func (c *Config) HiddenDropout() float64 { return c.BERT.HiddenDropoutProb }

// AttentionDropout is attention_probs_dropout_prob.
func (c *Config) AttentionDropout() float64 { return c.BERT.AttentionProbsDropoutProb }

// NumParameters counts RobertaModel's weights, the pooler included (as
// RobertaModel(add_pooling_layer=True).num_parameters() does) unless the
// checkpoint had none: the same tensors as BERT's.
func (c *Config) NumParameters() int { return c.BERT.NumParameters() }

// PadID is pad_token_id, the id padding positions hold (and RoBERTa's
// padding_idx for the positions).
func (c *Config) PadID() int { return c.BERT.PadTokenID }

// HasPooler is false when the checkpoint LoadWeights read had no pooler
// tensors (backbone.PoolerInfo): Tensors and NumParameters then leave the
// pooler out and Forward's pooler is the created one (backbone.CreatedPooler).
func (c *Config) HasPooler() bool { return !c.BERT.NoPooler }

// VocabEntries is vocab_size (backbone.Detailed).
func (c *Config) VocabEntries() int { return c.BERT.VocabSize }

// FeedForwardSize is intermediate_size.
func (c *Config) FeedForwardSize() int { return c.BERT.IntermediateSize }

// Activation is hidden_act.
func (c *Config) Activation() string { return c.BERT.HiddenAct }

// CheckpointHasPooler reports whether the checkpoint that LoadWeights read had
// the pooler tensors (pooler.dense.{weight,bias}); known is false until a
// checkpoint has been loaded. When it had none, the pooler variables do not
// exist and must be created before Output.Pooled is used.
func (c *Config) CheckpointHasPooler() (has, known bool) {
	if c.checkpointPooler == nil {
		return false, false
	}
	return *c.checkpointPooler, true
}

// JSON returns a HuggingFace config.json for c, as RobertaConfig writes it:
// "architectures": ["RobertaModel"], "model_type": "roberta", bos/eos ids 0/2,
// plus the extra keys (which win), indented.
func (c *Config) JSON(extra map[string]any) ([]byte, error) {
	m := map[string]any{
		"architectures": []string{"RobertaModel"}, "model_type": ModelType,
		"bos_token_id": 0, "eos_token_id": 2,
	}
	for k, v := range extra {
		m[k] = v
	}
	return c.BERT.JSON(m)
}
