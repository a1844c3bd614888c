package method

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Kind names a method, with the strings of the adapter file's "method" metadata.
type Kind string

const (
	FT             Kind = "ft"                // full fine-tuning: every backbone weight trainable
	PT             Kind = "pt"                // prompt tuning: p embeddings in front of the input
	PT2            Kind = "pt2"               // P-Tuning v2: per-layer key/value prefixes
	APT            Kind = "apt"               // PT-2 + token gate alpha_i + layer scale lambda_i
	APTNoTokenGate Kind = "apt_no_token_gate" // ablation: alpha = 1
	APTNoLayerGate Kind = "apt_no_layer_gate" // ablation: lambda = 1, fixed
)

// Kinds lists every method, in the order the paper's tables use (the registry's).
var Kinds = kindsOf(registry)

// ParseKind accepts a method name or one of its Info.Aliases ("pt-2",
// "p-tuning-v2" and "prefix" for pt2; "fine-tuning", "finetune" for ft),
// case-insensitively. PT-2* and PT-2+ ("pt2*", "pt2+") are no methods of their
// own: they are PT-2 runs whose per-layer prefix lengths come from a trained APT
// (ProbeLengths, MatchParameters); ParseKind refuses them with an error that
// says how to run them.
func ParseKind(s string) (Kind, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	for _, m := range registry {
		info := m.Info()
		if Kind(k) == info.Kind || slices.Contains(info.Aliases, k) {
			return info.Kind, nil
		}
	}
	switch strings.ReplaceAll(k, "-", "") {
	case "pt2*", "pt2+":
		return "", fmt.Errorf("%q is no method of its own but pt2 with per-layer prefix lengths from a trained APT run "+
			"(pt2*: in proportion to its gates, pt2+: matching its parameter count): set method=pt2 and prefix_len "+
			"to a comma list of one length per layer, or run apt-repro -methods %s", s, strings.ReplaceAll(k, "-", ""))
	}
	return "", fmt.Errorf("unknown method %q (one of %s)", s, strings.Join(kindStrings(), ", "))
}

func kindStrings() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// HasPrefix: the method puts key/value slots in front of each layer's attention
// (Info.Prefix; its Config.PrefixLens apply).
func (k Kind) HasPrefix() bool { return infoOf(k).Prefix }

// HasPrompt: the method puts embeddings in front of the input (Info.Prompt; its
// Config.PromptLen applies).
func (k Kind) HasPrompt() bool { return infoOf(k).Prompt }

// HasTokenGate: alpha_i = sigmoid(h_{i-1} W_i + b_i) weighs each prefix slot.
func (k Kind) HasTokenGate() bool { return infoOf(k).TokenGate }

// HasLayerGate: a learnable scalar lambda_i (initialised to 1) scales layer i's prefix.
func (k Kind) HasLayerGate() bool { return infoOf(k).LayerGate }

// TrainsBackbone: the backbone's weights are trainable (only FT), and a run is
// saved as a model directory rather than an adapter file.
func (k Kind) TrainsBackbone() bool { return infoOf(k).TrainsBackbone }

// Gate pooling: how h_{i-1}, the gate's input, is pooled from the previous layer.
const (
	PoolMean = "mean" // mean over the real (non-padding) tokens; the default
	PoolCLS  = "cls"  // the first token
)

// Config configures a method. It is built from the context's hyperparameters
// (see aptlib's settings) and recorded in every saved adapter.
type Config struct {
	Kind Kind
	// PrefixLens[i] is layer i's prefix length p_i (0-based layers; 0 = no prefix).
	PrefixLens []int
	// PromptLen is prompt tuning's number of input embeddings.
	PromptLen int
	// GatePooling is PoolMean or PoolCLS.
	GatePooling string
	// PrefixDropout is the dropout rate on the (gated) prefix in training (P-Tuning v2: 0.1).
	PrefixDropout float64
	// InitStd is the standard deviation of the prefix / prompt / gate-weight initialisation.
	InitStd float64
	// GateBiasInit is the initial value of the gate biases b_i (0 gives alpha = 0.5 at start).
	GateBiasInit float64
	// LayerScaleInit is lambda_i's initial value (1.0 in the paper).
	LayerScaleInit float64
	// PositionOffset is OffsetNone (or "", the same) or OffsetPrefix: whether
	// the backbone shifts the absolute positions by layer 0's prefix length
	// (Offset).
	PositionOffset string
}

// Uniform returns PrefixLens of p for each of numLayers layers.
func Uniform(numLayers, p int) []int {
	lens := make([]int, numLayers)
	for i := range lens {
		lens[i] = p
	}
	return lens
}

// Default is the default configuration of kind k for a backbone of numLayers
// layers: KindConfigFromContext on a context that sets no parameter, so every
// field has its Default* value (params.go).
func Default(k Kind, numLayers int) Config {
	c, _ := KindConfigFromContext(context.New(), k, numLayers) // the defaults are valid; an unknown k is the caller's to check
	return c
}

// Validate checks the configuration against a backbone of numLayers layers.
func (c *Config) Validate(numLayers int) error {
	if _, err := ParseKind(string(c.Kind)); err != nil {
		return err
	}
	if c.Kind.HasPrefix() {
		if len(c.PrefixLens) != numLayers {
			return fmt.Errorf("method %s: %d prefix lengths given for a backbone of %d layers", c.Kind, len(c.PrefixLens), numLayers)
		}
		for i, p := range c.PrefixLens {
			if p < 0 {
				return fmt.Errorf("method %s: layer %d has negative prefix length %d", c.Kind, i, p)
			}
		}
	} else if len(c.PrefixLens) > 0 && slices.Max(c.PrefixLens) > 0 {
		return fmt.Errorf("method %s has no prefixes, but prefix lengths %v were given", c.Kind, c.PrefixLens)
	}
	if c.Kind.HasPrompt() && c.PromptLen <= 0 {
		return fmt.Errorf("method %s needs a prompt length > 0, got %d", c.Kind, c.PromptLen)
	}
	if c.GatePooling != PoolMean && c.GatePooling != PoolCLS {
		return fmt.Errorf("gate_pooling %q: want %q or %q", c.GatePooling, PoolMean, PoolCLS)
	}
	if c.PrefixDropout < 0 || c.PrefixDropout >= 1 {
		return fmt.Errorf("prefix_dropout %g: want 0 <= rate < 1", c.PrefixDropout)
	}
	if c.PositionOffset != "" && c.PositionOffset != OffsetNone && c.PositionOffset != OffsetPrefix {
		return fmt.Errorf("%s: want %s or %s, got %q", ParamPositionOffset, OffsetNone, OffsetPrefix, c.PositionOffset)
	}
	return nil
}

// TotalPrefix is the sum of the per-layer prefix lengths.
func (c *Config) TotalPrefix() int {
	n := 0
	for _, p := range c.PrefixLens {
		n += p
	}
	return n
}

// NumTrainable is the number of trainable parameters the method adds for
// hidden size d: the sizes of its Method.Tensors, so exactly what Create makes
// (the task head and, for FT, the backbone are counted apart). PT-2:
// sum_i 2 p_i d; APT adds the token gates sum_i (d p_i + p_i) and one lambda per
// layer with a prefix; PT: p d.
func (c *Config) NumTrainable(d int) int {
	m, ok := Lookup(c.Kind)
	if !ok {
		return 0
	}
	n := 0
	for _, t := range m.Tensors(c, d) {
		n += t.Size()
	}
	return n
}

// Describe says in words what configuration c trains, for messages: its kind,
// then what of the configuration applies to it (the prefix lengths, the prompt
// length, the gate pooling, the prefix dropout, a position shift other than
// 0), as the method's Info says. E.g. "apt with prefix lengths [3 0], gate
// pooling mean, prefix dropout 0.1, positions shifted by 3".
func (c *Config) Describe() string {
	info := infoOf(c.Kind)
	s := string(c.Kind)
	if info.Prefix {
		s += fmt.Sprintf(" with prefix lengths %v", c.PrefixLens)
	}
	if info.Prompt {
		s += fmt.Sprintf(" with %d prompt embeddings", c.PromptLen)
	}
	if info.TokenGate {
		s += fmt.Sprintf(", gate pooling %s", c.GatePooling)
	}
	if !info.TrainsBackbone {
		s += fmt.Sprintf(", prefix dropout %g", c.PrefixDropout)
	}
	if n := c.Offset(); n > 0 {
		s += fmt.Sprintf(", positions shifted by %d (%s=%s)", n, ParamPositionOffset, c.PositionOffset)
	}
	return s
}
