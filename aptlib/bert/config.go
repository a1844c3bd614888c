// Package bert is a BERT-family encoder written as plain GoMLX graph code, with the
// numerics of HuggingFace transformers' BertModel (modeling_bert.py), and the loading
// of HuggingFace model directories (config.json + safetensors) into a GoMLX context.
//
// The encoder accepts per-layer hooks: extra key/value slots in front of a layer's
// attention (prefix tuning, APT) and prompt embeddings in front of the input (prompt
// tuning). Methods live in other packages; this one only computes the backbone.
package bert

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/aptbench/apt/internal/boundedread"
)

// Config is the subset of a HuggingFace BertConfig (config.json) the encoder uses.
// Field names and defaults follow transformers' configuration_bert.py, except
// Type (model_type) and HiddenDim (hidden_size), named so because the
// backbone.Config methods ModelType and HiddenSize report them. *Config
// implements backbone.Config and backbone.Detailed.
type Config struct {
	Type                      string  `json:"model_type,omitempty"`
	VocabSize                 int     `json:"vocab_size"`
	HiddenDim                 int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	HiddenAct                 string  `json:"hidden_act"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"`
	LayerNormEps              float64 `json:"layer_norm_eps"`
	PadTokenID                int     `json:"pad_token_id"`
	PositionEmbeddingType     string  `json:"position_embedding_type,omitempty"`

	// NoPooler is set by LoadWeights when the checkpoint has no pooler
	// tensors (a BertForMaskedLM save): Tensors and NumParameters then leave
	// the pooler out and Forward's pooler is the created one
	// (backbone.ScopePooler). It is not a config.json key.
	NoPooler bool `json:"-"`
}

// DefaultConfig returns BertConfig's defaults (bert-base-uncased's shape).
func DefaultConfig() *Config {
	return &Config{
		Type: "bert", VocabSize: 30522, HiddenDim: 768, NumHiddenLayers: 12,
		NumAttentionHeads: 12, IntermediateSize: 3072, HiddenAct: "gelu",
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 512, TypeVocabSize: 2, LayerNormEps: 1e-12,
		PositionEmbeddingType: "absolute",
	}
}

// MaxConfigBytes caps the size of config.json (real ones are about a kilobyte).
const MaxConfigBytes = 1 << 20

// LoadConfig reads a HuggingFace config.json. Keys absent from the file take
// BertConfig's defaults, as transformers does.
func LoadConfig(path string) (*Config, error) {
	data, err := boundedread.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("bert: reading config: %w", err)
	}
	cfg := DefaultConfig()
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("bert: %s: not a valid config.json: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	return cfg, nil
}

// LoadConfigDir reads DIR/config.json.
func LoadConfigDir(dir string) (*Config, error) {
	return LoadConfig(filepath.Join(dir, "config.json"))
}

// Validate checks the configuration describes an encoder this package can compute.
func (c *Config) Validate() error {
	switch c.Type {
	case "", "bert":
	default:
		return fmt.Errorf("model_type %q is not supported (only BERT-architecture encoders: model_type \"bert\")", c.Type)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type %q is not supported (only \"absolute\")", c.PositionEmbeddingType)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenDim}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings}, {"type_vocab_size", c.TypeVocabSize},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.name, p.v)
		}
	}
	if c.HiddenDim%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenDim, c.NumAttentionHeads)
	}
	if _, err := activation(c.HiddenAct); err != nil {
		return err
	}
	if c.LayerNormEps <= 0 {
		return fmt.Errorf("layer_norm_eps must be positive, got %g", c.LayerNormEps)
	}
	return nil
}

// ModelType is "bert" (config.json's model_type, which BertModel does not
// require: a config without it is BERT).
func (c *Config) ModelType() string { return "bert" }

// NumLayers is num_hidden_layers.
func (c *Config) NumLayers() int { return c.NumHiddenLayers }

// HiddenSize is hidden_size, d.
func (c *Config) HiddenSize() int { return c.HiddenDim }

// NumHeads is num_attention_heads.
func (c *Config) NumHeads() int { return c.NumAttentionHeads }

// MaxLen is max_position_embeddings: BERT's absolute position table bounds
// the input length.
func (c *Config) MaxLen() int { return c.MaxPositionEmbeddings }

// AbsolutePositions: BertEmbeddings adds a learned position per token
// (backbone.PositionInfo).
func (c *Config) AbsolutePositions() bool { return true }

// MaxLenSource is "max_position_embeddings N" (backbone.PositionInfo).
func (c *Config) MaxLenSource() string {
	return fmt.Sprintf("max_position_embeddings %d", c.MaxPositionEmbeddings)
}

// HiddenDropout is hidden_dropout_prob.
func (c *Config) HiddenDropout() float64 { return c.HiddenDropoutProb }

// AttentionDropout is attention_probs_dropout_prob.
func (c *Config) AttentionDropout() float64 { return c.AttentionProbsDropoutProb }

// VocabEntries is vocab_size.
func (c *Config) VocabEntries() int { return c.VocabSize }

// FeedForwardSize is intermediate_size.
func (c *Config) FeedForwardSize() int { return c.IntermediateSize }

// Activation is hidden_act.
func (c *Config) Activation() string { return c.HiddenAct }

// HasPooler is false when the checkpoint had no pooler (backbone.PoolerInfo).
func (c *Config) HasPooler() bool { return !c.NoPooler }

// HeadSize is d/n, the size of one attention head.
func (c *Config) HeadSize() int { return c.HiddenDim / c.NumAttentionHeads }

// NumParameters is the analytic parameter count of the backbone (embeddings, layers,
// pooler), as BertModel's num_parameters() reports it.
func (c *Config) NumParameters() int {
	d, f, L := c.HiddenDim, c.IntermediateSize, c.NumHiddenLayers
	emb := (c.VocabSize+c.MaxPositionEmbeddings+c.TypeVocabSize)*d + 2*d
	layer := 4*(d*d+d) + 2*d + (d*f + f) + (f*d + d) + 2*d
	if c.NoPooler {
		return emb + L*layer
	}
	return emb + L*layer + d*d + d
}

// JSON returns a HuggingFace config.json for c: its keys as transformers'
// BertConfig names them, "architectures": ["BertModel"], "model_type": "bert",
// "initializer_range": 0.02, plus the extra keys (which win), indented.
func (c *Config) JSON(extra map[string]any) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["architectures"] = []string{"BertModel"}
	m["initializer_range"] = 0.02
	if m["model_type"] == nil || m["model_type"] == "" {
		m["model_type"] = "bert"
	}
	for k, v := range extra {
		m[k] = v
	}
	out, err := json.MarshalIndent(m, "", "  ")
	return append(out, '\n'), err
}
