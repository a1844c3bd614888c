// Package debertav2 is the DeBERTa-v2/v3 encoder family (config.json
// "model_type": "deberta-v2"): HuggingFace transformers' DebertaV2Model
// (models/deberta_v2/modeling_deberta_v2.py) written as plain GoMLX graph code,
// the loading of its checkpoints, and its registration as a backbone.Family.
//
// What it computes, and how a deep prefix is placed (P-Tuning v2's
// model/debertaV2.py: prefix slots get content scores only), is written up in
// docs/families.md, section "DeBERTa-v2/v3".
package debertav2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/boundedread"
)

// ModelType is config.json's "model_type" of this family (v2 and v3 checkpoints).
const ModelType = "deberta-v2"

// Config is the part of a HuggingFace DebertaV2Config (config.json) the encoder
// uses. Keys absent from the file take the defaults of transformers'
// configuration_deberta_v2.py and of the getattr defaults in
// modeling_deberta_v2.py (see DefaultConfig). Two fields are renamed from the
// JSON keys because backbone.Config has methods of those names: Type is
// model_type (the ModelType method always says "deberta-v2") and Hidden is
// hidden_size (also returned by the HiddenSize method).
type Config struct {
	Type                      string  `json:"model_type,omitempty"`
	VocabSize                 int     `json:"vocab_size"`
	Hidden                    int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	HiddenAct                 string  `json:"hidden_act"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"`
	InitializerRange          float64 `json:"initializer_range"`
	LayerNormEps              float64 `json:"layer_norm_eps"`
	PadTokenID                int     `json:"pad_token_id"`

	// Embeddings.
	PositionBiasedInput bool `json:"position_biased_input"`
	EmbeddingSize       int  `json:"embedding_size"` // 0 in the file means hidden_size

	// Disentangled attention.
	RelativeAttention    bool       `json:"relative_attention"`
	MaxRelativePositions int        `json:"max_relative_positions"` // < 1 means max_position_embeddings
	PositionBuckets      int        `json:"position_buckets"`       // <= 0: no log buckets
	PosAttType           StringList `json:"pos_att_type"`           // "c2p", "p2c"
	ShareAttKey          bool       `json:"share_att_key"`
	NormRelEbd           string     `json:"norm_rel_ebd"` // "|"-separated: "none", "layer_norm"
	AttentionHeadSize    int        `json:"attention_head_size"`

	// ConvLayer after layer 0 (deberta-v2-xlarge).
	ConvKernelSize int    `json:"conv_kernel_size"`
	ConvAct        string `json:"conv_act"`
	ConvGroups     int    `json:"conv_groups"`

	// ContextPooler.
	PoolerHiddenSize int     `json:"pooler_hidden_size"`
	PoolerHiddenAct  string  `json:"pooler_hidden_act"`
	PoolerDropout    float64 `json:"pooler_dropout"`

	// NoPooler is set by LoadWeights when the checkpoint has no pooler
	// tensors (masked-LM saves such as deberta-v3-base): NumParameters and
	// the family's tensor list then leave the pooler out, and Forward's
	// pooler is the created one (backbone.CreatedPooler). It is not a
	// config.json key.
	NoPooler bool `json:"-"`
}

// StringList is pos_att_type: DebertaV2Config accepts a JSON list of strings
// (kept as is) or one string, split on "|", lower-cased and stripped; null is
// the empty list.
type StringList []string

// UnmarshalJSON implements the two spellings of pos_att_type.
func (s *StringList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*s = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		var out []string
		for _, p := range strings.Split(strings.ToLower(one), "|") {
			out = append(out, strings.TrimSpace(p))
		}
		*s = out
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("pos_att_type must be a string like \"p2c|c2p\" or a list of strings, got %s", data)
	}
	*s = list
	return nil
}

// DefaultConfig returns DebertaV2Config's defaults (deberta-v2-xlarge's
// shape, relative attention off, as the class defines them).
func DefaultConfig() *Config {
	return &Config{
		Type: ModelType, VocabSize: 128100, Hidden: 1536, NumHiddenLayers: 24,
		NumAttentionHeads: 24, IntermediateSize: 6144, HiddenAct: "gelu",
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 512, TypeVocabSize: 0, InitializerRange: 0.02,
		LayerNormEps: 1e-7, PadTokenID: 0,
		PositionBiasedInput:  true,
		MaxRelativePositions: -1, PositionBuckets: -1, NormRelEbd: "none",
		ConvAct: "tanh", ConvGroups: 1,
		PoolerHiddenAct: "gelu",
	}
}

// MaxConfigBytes caps the size of config.json (real ones are about a kilobyte).
const MaxConfigBytes = 1 << 20

// LoadConfig reads a HuggingFace config.json of a DeBERTa-v2/v3 checkpoint.
func LoadConfig(path string) (*Config, error) {
	data, err := boundedread.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("debertav2: reading config: %w", err)
	}
	cfg := DefaultConfig()
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("debertav2: %s: not a valid config.json: %w", path, err)
	}
	cfg.resolve()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("debertav2: %s: %w", path, err)
	}
	return cfg, nil
}

// LoadConfigDir reads DIR/config.json.
func LoadConfigDir(dir string) (*Config, error) {
	return LoadConfig(filepath.Join(dir, "config.json"))
}

// resolve fills the sizes whose default depends on hidden_size (embedding_size,
// attention_head_size, pooler_hidden_size) when the file leaves them out.
func (c *Config) resolve() {
	if c.EmbeddingSize <= 0 {
		c.EmbeddingSize = c.Hidden
	}
	if c.AttentionHeadSize <= 0 && c.NumAttentionHeads > 0 {
		c.AttentionHeadSize = c.Hidden / c.NumAttentionHeads
	}
	if c.PoolerHiddenSize <= 0 {
		c.PoolerHiddenSize = c.Hidden
	}
}

// Validate fills the sizes left 0 that default to hidden_size-derived values
// (embedding_size, attention_head_size, pooler_hidden_size), then checks the
// configuration describes an encoder this package computes exactly as
// DebertaV2Model does.
func (c *Config) Validate() error {
	c.resolve()
	if c.Type != "" && c.Type != ModelType {
		return fmt.Errorf("model_type %q is not a DeBERTa-v2/v3 config (want %q)", c.Type, ModelType)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.Hidden}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.name, p.v)
		}
	}
	if c.TypeVocabSize < 0 {
		return fmt.Errorf("type_vocab_size must be >= 0, got %d", c.TypeVocabSize)
	}
	if c.Hidden%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.Hidden, c.NumAttentionHeads)
	}
	// HF's attention output dense maps hidden_size -> hidden_size, so the heads
	// must tile hidden_size exactly (and the prefix slots are split that way).
	if c.AttentionHeadSize*c.NumAttentionHeads != c.Hidden {
		return fmt.Errorf("attention_head_size %d x num_attention_heads %d != hidden_size %d (not supported)",
			c.AttentionHeadSize, c.NumAttentionHeads, c.Hidden)
	}
	if c.PoolerHiddenSize != c.Hidden {
		return fmt.Errorf("pooler_hidden_size %d differs from hidden_size %d (ContextPooler reads the first token's hidden state)",
			c.PoolerHiddenSize, c.Hidden)
	}
	for _, a := range []struct{ key, name string }{{"hidden_act", c.HiddenAct}, {"pooler_hidden_act", c.PoolerHiddenAct}, {"conv_act", c.ConvAct}} {
		if _, err := activation(a.name); err != nil {
			return fmt.Errorf("%s: %w", a.key, err)
		}
	}
	if c.LayerNormEps <= 0 {
		return fmt.Errorf("layer_norm_eps must be positive, got %g", c.LayerNormEps)
	}
	for _, t := range c.PosAttType {
		if t != "c2p" && t != "p2c" {
			return fmt.Errorf("pos_att_type %q is not supported (DebertaV2Model computes only \"c2p\" and \"p2c\")", t)
		}
	}
	for _, n := range c.normRelEbd() {
		if n != "none" && n != "layer_norm" && n != "" {
			return fmt.Errorf("norm_rel_ebd %q is not supported (\"none\" or \"layer_norm\")", n)
		}
	}
	if c.RelativeAttention && c.PositionBuckets > 0 {
		mid := c.PositionBuckets / 2
		if mid < 1 || c.MaxRelPositions()-1 <= mid {
			return fmt.Errorf("position_buckets %d needs max_relative_positions (resolved: %d) above position_buckets/2 + 1",
				c.PositionBuckets, c.MaxRelPositions())
		}
	}
	if c.ConvKernelSize < 0 {
		return fmt.Errorf("conv_kernel_size must be >= 0, got %d", c.ConvKernelSize)
	}
	if c.ConvKernelSize > 0 {
		if c.ConvKernelSize%2 == 0 {
			return fmt.Errorf("conv_kernel_size %d must be odd (HF pads (k-1)/2 on each side; an even k changes the length)", c.ConvKernelSize)
		}
		if c.ConvGroups <= 0 || c.Hidden%c.ConvGroups != 0 {
			return fmt.Errorf("conv_groups %d must be positive and divide hidden_size %d", c.ConvGroups, c.Hidden)
		}
	}
	return nil
}

// normRelEbd is norm_rel_ebd as DebertaV2Encoder reads it: lower-cased, split
// on "|", each part stripped.
func (c *Config) normRelEbd() []string {
	var out []string
	for _, p := range strings.Split(strings.ToLower(c.NormRelEbd), "|") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// RelEmbeddingLayerNorm reports whether the relative embeddings pass through
// encoder.LayerNorm ("layer_norm" in norm_rel_ebd). The tensor exists whenever
// it is named, relative attention or not, as in DebertaV2Encoder.
func (c *Config) RelEmbeddingLayerNorm() bool { return slices.Contains(c.normRelEbd(), "layer_norm") }

// HasC2P and HasP2C report the disentangled terms of pos_att_type.
func (c *Config) HasC2P() bool { return slices.Contains(c.PosAttType, "c2p") }

// HasP2C reports whether "p2c" is in pos_att_type.
func (c *Config) HasP2C() bool { return slices.Contains(c.PosAttType, "p2c") }

// MaxRelPositions is max_relative_positions resolved as HF does: values < 1
// mean max_position_embeddings.
func (c *Config) MaxRelPositions() int {
	if c.MaxRelativePositions < 1 {
		return c.MaxPositionEmbeddings
	}
	return c.MaxRelativePositions
}

// AttSpan is DisentangledSelfAttention's pos_ebd_size (att_span): the number
// of position buckets when position_buckets > 0, else the resolved
// max_relative_positions. encoder.rel_embeddings has 2*AttSpan rows.
func (c *Config) AttSpan() int {
	if c.PositionBuckets > 0 {
		return c.PositionBuckets
	}
	return c.MaxRelPositions()
}

// ScaleFactor is DisentangledSelfAttention's scale_factor: 1 + [c2p] + [p2c],
// counted from pos_att_type even when relative_attention is off. Scores are
// divided by sqrt(head size * ScaleFactor).
func (c *Config) ScaleFactor() int {
	sf := 1
	if c.HasC2P() {
		sf++
	}
	if c.HasP2C() {
		sf++
	}
	return sf
}

// HeadSize is the size of one attention head.
func (c *Config) HeadSize() int { return c.AttentionHeadSize }

// The backbone.Config interface.

// ModelType is the family's model_type, "deberta-v2".
func (c *Config) ModelType() string { return ModelType }

// HiddenSize is d (hidden_size).
func (c *Config) HiddenSize() int { return c.Hidden }

// NumLayers is num_hidden_layers.
func (c *Config) NumLayers() int { return c.NumHiddenLayers }

// NumHeads is num_attention_heads.
func (c *Config) NumHeads() int { return c.NumAttentionHeads }

// MaxLen is max_position_embeddings: the absolute position table's length
// when position_biased_input is true, and the length the Hub tokenizers
// truncate to otherwise (relative positions are clamped, not bounded).
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

var (
	_ backbone.Config       = (*Config)(nil)
	_ backbone.Detailed     = (*Config)(nil)
	_ backbone.PoolerInfo   = (*Config)(nil)
	_ backbone.PositionInfo = (*Config)(nil)
)

// HasPooler is false when the checkpoint LoadWeights read had no pooler
// tensors (backbone.PoolerInfo).
func (c *Config) HasPooler() bool { return !c.NoPooler }

// VocabEntries is vocab_size (backbone.Detailed).
func (c *Config) VocabEntries() int { return c.VocabSize }

// FeedForwardSize is intermediate_size.
func (c *Config) FeedForwardSize() int { return c.IntermediateSize }

// Activation is hidden_act.
func (c *Config) Activation() string { return c.HiddenAct }

// NumParameters counts the backbone's weights as AllTensors lists them: the
// encoder and the ContextPooler (d*d + d) unless the checkpoint had none.
func (c *Config) NumParameters() int {
	n := 0
	for _, s := range AllTensors(c) {
		k := 1
		for _, d := range s.Shape {
			k *= d
		}
		n += k
	}
	return n
}

// JSON returns a HuggingFace config.json for c: its keys as DebertaV2Config
// names them (pos_att_type as a list, the sizes resolved),
// "architectures": ["DebertaV2Model"], "model_type": "deberta-v2", plus the
// extra keys (which win), indented. LoadConfig reads it back to the same Config.
func (c *Config) JSON(extra map[string]any) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["architectures"] = []string{"DebertaV2Model"}
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
