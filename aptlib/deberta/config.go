// Package deberta is HuggingFace transformers' DebertaModel
// (models/deberta/modeling_deberta.py, DeBERTa v1: microsoft/deberta-base,
// -large, -xlarge) as a backbone family (model_type "deberta"). It is its own
// encoder, not BERT's:
//
//   - embeddings: word + [position_biased_input] absolute position (rows 0..T-1,
//     shifted by backbone.Inputs.PositionOffset)
//   - [type_vocab_size > 0] token type, projected by embed_proj when
//     embedding_size != hidden_size, LayerNorm, then multiplied by the mask
//     (padded rows are zero);
//   - attention (DisentangledSelfAttention): one fused in_proj [3d, d] without
//     bias whose rows are interleaved per head (head h: rows h*3dh + [0,dh) are
//     W_q, [dh,2dh) W_k, [2dh,3dh) W_v), q_bias and v_bias, no key bias.
//     With sf = 1 + len(pos_att_type) (counted even when relative_attention is
//     off) every score term is divided once by sqrt(d_head * sf):
//     A_ij = (Q_i.K_j + [c2p] Q_i.K_r[row_ij] + [p2c] K_j.Q_r[row_ij]) / sqrt(dh sf),
//     K_r = R W_pos^T (pos_proj, no bias), Q_r = R W_pq^T + b_pq (pos_q_proj),
//     R = encoder.rel_embeddings.weight [2M, d] with no LayerNorm and no log
//     buckets, M = max_relative_positions (max_position_embeddings when < 1),
//     row_ij = M + clamp(i-j, -M, M-1). HF gets the p2c term by gathering row j
//     of K Q_r^T at clamp(-(j-i) + s) and transposing, which is row_ij, not the
//     paper's delta(j, i);
//   - XSoftmax: allowed_ij = m_i m_j, masked entries get probability 0, so the
//     rows of padded queries are all zero;
//   - ContextPooler: pooler_hidden_act(h_0 W_p^T + b_p), tensors pooler.dense.*
//     at the checkpoint's top level, absent from masked-LM checkpoints.
//
// Deep prefixes (PT-2, APT) go in as P-Tuning v2's model/deberta.py puts them:
// keys [P^k; X W_k], values [P^v; X W_v + v_bias] (the prefix values get no
// v_bias), queries from the real tokens; the prefix columns get the content
// score Q.P^k / sqrt(dh sf) only (no c2p, no p2c: a slot has no position), the
// relative terms cover the T x T real block; every real query sees every slot,
// padded keys stay masked. docs/families.md ("DeBERTa v1") has the user's view.
package deberta

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/internal/boundedread"
)

// ModelType is config.json's "model_type" of this family.
const ModelType = "deberta"

// Config is a loaded DeBERTa v1 config.json. Field names and defaults follow
// transformers' DebertaConfig (configuration_deberta.py) and the getattr
// defaults of modeling_deberta.py. It implements backbone.Config.
type Config struct {
	Type                      string  `json:"model_type,omitempty"` // config.json's model_type
	VocabSize                 int     `json:"vocab_size"`
	Dim                       int     `json:"hidden_size"` // hidden_size, d
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	HiddenAct                 string  `json:"hidden_act"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"`
	LayerNormEps              float64 `json:"layer_norm_eps"`
	// InitializerRange is the std of DebertaPreTrainedModel's normal
	// initialisation (InitRandom, and a pooler created for a checkpoint without one).
	InitializerRange  float64 `json:"initializer_range"`
	RelativeAttention bool    `json:"relative_attention"`
	// MaxRelativePositions below 1 means max_position_embeddings (MaxRelative).
	MaxRelativePositions int        `json:"max_relative_positions"`
	PadTokenID           int        `json:"pad_token_id"`
	PositionBiasedInput  bool       `json:"position_biased_input"`
	PosAttType           PosAttType `json:"pos_att_type"`
	PoolerDropout        float64    `json:"pooler_dropout"`
	PoolerHiddenAct      string     `json:"pooler_hidden_act"`
	// PoolerHiddenSize and EmbeddingSize are 0 when absent: hidden_size.
	PoolerHiddenSize int  `json:"pooler_hidden_size,omitempty"`
	EmbeddingSize    int  `json:"embedding_size,omitempty"`
	TalkingHead      bool `json:"talking_head,omitempty"`

	// NoPooler is set by LoadWeights when the checkpoint has no pooler
	// tensors (the released masked-LM checkpoints): Tensors and
	// NumParameters then leave the pooler out and Forward's pooler is the
	// created one (backbone.CreatedPooler). It is not a config.json key.
	NoPooler bool `json:"-"`

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

// PosAttType is config.json's pos_att_type: DebertaConfig splits a string on
// "|" and lower-cases and strips the parts ("c2p|p2c"); a JSON list (as a
// re-saved config has it) is kept as is; null or absent is none.
type PosAttType []string

// UnmarshalJSON accepts a string, a list of strings or null.
func (p *PosAttType) UnmarshalJSON(data []byte) error {
	var s *string
	if err := json.Unmarshal(data, &s); err == nil {
		*p = nil
		if s != nil {
			for _, x := range strings.Split(strings.ToLower(*s), "|") {
				*p = append(*p, strings.TrimSpace(x))
			}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("pos_att_type must be a string like \"c2p|p2c\" or a list of strings, got %s", data)
	}
	*p = list
	return nil
}

// Has reports whether kind ("c2p" or "p2c") is listed.
func (p PosAttType) Has(kind string) bool {
	for _, x := range p {
		if x == kind {
			return true
		}
	}
	return false
}

// DefaultConfig returns DebertaConfig's class defaults (deberta-base's shape,
// but relative_attention false, position_biased_input true, no pos_att_type:
// every released v1 config.json sets those keys).
func DefaultConfig() *Config {
	return &Config{
		Type: ModelType, VocabSize: 50265, Dim: 768, NumHiddenLayers: 12,
		NumAttentionHeads: 12, IntermediateSize: 3072, HiddenAct: "gelu",
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 512, TypeVocabSize: 0, LayerNormEps: 1e-7, InitializerRange: 0.02,
		MaxRelativePositions: -1, PadTokenID: 0, PositionBiasedInput: true,
		PoolerHiddenAct: "gelu",
	}
}

// LoadConfig reads a DeBERTa v1 config.json; keys absent from the file take
// DefaultConfig's values. Keys of DeBERTa-v2 that v1 does not have
// (position_buckets, norm_rel_ebd, share_att_key, conv_kernel_size) are
// ignored, as DebertaModel ignores them.
func LoadConfig(path string) (*Config, error) {
	data, err := boundedread.ReadFile(path, bert.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("deberta: reading config: %w", err)
	}
	c := DefaultConfig()
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("deberta: %s: not a valid config.json: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("deberta: %s: %w", path, err)
	}
	return c, nil
}

// LoadConfigDir reads DIR/config.json.
func LoadConfigDir(dir string) (*Config, error) {
	return LoadConfig(filepath.Join(dir, "config.json"))
}

// Validate checks the configuration describes an encoder this package can compute.
func (c *Config) Validate() error {
	switch c.Type {
	case "", ModelType:
	default:
		return fmt.Errorf("model_type %q is not DeBERTa v1 (package deberta reads model_type %q; v2/v3 are \"deberta-v2\")", c.Type, ModelType)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.Dim}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.name, p.v)
		}
	}
	if c.TypeVocabSize < 0 {
		return fmt.Errorf("type_vocab_size must be 0 or more, got %d", c.TypeVocabSize)
	}
	if c.EmbeddingSize < 0 {
		return fmt.Errorf("embedding_size must be positive, got %d", c.EmbeddingSize)
	}
	if c.Dim%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.Dim, c.NumAttentionHeads)
	}
	if c.PoolerHiddenSize != 0 && c.PoolerHiddenSize != c.Dim {
		return fmt.Errorf("pooler_hidden_size %d differs from hidden_size %d (ContextPooler reads the first token's hidden state)", c.PoolerHiddenSize, c.Dim)
	}
	if c.TalkingHead {
		return errors.New("talking_head true is not supported (no released DeBERTa v1 checkpoint uses it)")
	}
	for _, k := range c.PosAttType {
		if k != "c2p" && k != "p2c" {
			return fmt.Errorf("pos_att_type %q: only \"c2p\" and \"p2c\" are supported", k)
		}
	}
	if _, err := activation(c.HiddenAct); err != nil {
		return fmt.Errorf("hidden_act: %w", err)
	}
	if _, err := activation(c.PoolerHiddenAct); err != nil {
		return fmt.Errorf("pooler_hidden_act: %w", err)
	}
	if c.InitializerRange < 0 {
		return fmt.Errorf("initializer_range must be 0 or more, got %g", c.InitializerRange)
	}
	if c.LayerNormEps <= 0 {
		return fmt.Errorf("layer_norm_eps must be positive, got %g", c.LayerNormEps)
	}
	if c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize {
		return fmt.Errorf("pad_token_id %d is outside the vocabulary (vocab_size %d)", c.PadTokenID, c.VocabSize)
	}
	return nil
}

// ModelType is "deberta".
func (c *Config) ModelType() string { return ModelType }

// NumLayers is num_hidden_layers.
func (c *Config) NumLayers() int { return c.NumHiddenLayers }

// HiddenSize is hidden_size.
func (c *Config) HiddenSize() int { return c.Dim }

// NumHeads is num_attention_heads.
func (c *Config) NumHeads() int { return c.NumAttentionHeads }

// HeadSize is d/n.
func (c *Config) HeadSize() int { return c.Dim / c.NumAttentionHeads }

// MaxLen is max_position_embeddings (512): the longest input the checkpoints
// were trained on (and the absolute position table's size when
// position_biased_input is true; the relative positions are clamped anyway).
func (c *Config) MaxLen() int { return c.MaxPositionEmbeddings }

// AbsolutePositions is position_biased_input (backbone.PositionInfo): only
// then do the embeddings add an absolute position per token.
func (c *Config) AbsolutePositions() bool { return c.PositionBiasedInput }

// MaxLenSource is "max_position_embeddings N" (backbone.PositionInfo).
func (c *Config) MaxLenSource() string {
	return fmt.Sprintf("max_position_embeddings %d", c.MaxPositionEmbeddings)
}

// HiddenDropout is hidden_dropout_prob.
func (c *Config) HiddenDropout() float64 { return c.HiddenDropoutProb }

// AttentionDropout is attention_probs_dropout_prob.
func (c *Config) AttentionDropout() float64 { return c.AttentionProbsDropoutProb }

// MaxRelative is M, the resolved max_relative_positions: the config's value,
// or max_position_embeddings when it is below 1. rel_embeddings has 2M rows.
func (c *Config) MaxRelative() int {
	if c.MaxRelativePositions < 1 {
		return c.MaxPositionEmbeddings
	}
	return c.MaxRelativePositions
}

// Embedding is embedding_size, hidden_size when absent.
func (c *Config) Embedding() int {
	if c.EmbeddingSize == 0 {
		return c.Dim
	}
	return c.EmbeddingSize
}

// ScaleFactor is sf = 1 + len(pos_att_type), counted whether or not
// relative_attention is on, as DisentangledSelfAttention does.
func (c *Config) ScaleFactor() int { return 1 + len(c.PosAttType) }

// NumParameters counts the tensors of Tensors (DebertaModel's weights plus
// the ContextPooler, unless the checkpoint had none). deberta-base:
// 138,601,728 + 590,592 (pooler).
func (c *Config) NumParameters() int {
	n := 0
	for _, s := range Tensors(c) {
		n += prod(s.Shape)
	}
	return n
}

// PadID is pad_token_id ([PAD], 0 in every v1 checkpoint).
func (c *Config) PadID() int { return c.PadTokenID }

// HasPooler is false when the checkpoint LoadWeights read had no pooler
// tensors (backbone.PoolerInfo).
func (c *Config) HasPooler() bool { return !c.NoPooler }

// VocabEntries is vocab_size (backbone.Detailed).
func (c *Config) VocabEntries() int { return c.VocabSize }

// FeedForwardSize is intermediate_size.
func (c *Config) FeedForwardSize() int { return c.IntermediateSize }

// Activation is hidden_act.
func (c *Config) Activation() string { return c.HiddenAct }

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

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// JSON returns a HuggingFace config.json for c: its keys as DebertaConfig
// names them (pos_att_type as a list, as a re-saved config has it),
// "architectures": ["DebertaModel"], "model_type": "deberta", plus the extra
// keys (which win), indented. LoadConfig reads it back to the same Config.
func (c *Config) JSON(extra map[string]any) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["architectures"] = []string{"DebertaModel"}
	m["model_type"] = ModelType
	if c.PosAttType == nil {
		m["pos_att_type"] = nil
	}
	for k, v := range extra {
		m[k] = v
	}
	out, err := json.MarshalIndent(m, "", "  ")
	return append(out, '\n'), err
}
