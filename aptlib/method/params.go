package method

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Context parameters of a method's configuration, as GoMLX layers name theirs:
// ConfigFromContext reads them, Config.Params writes the ones an adapter fixes.
// aptlib's settings table lists each of them once, with its default (the
// Default* constants below), its validation, what a change resets and its help.
const (
	ParamMethod         = "method"           // the Kind
	ParamPrefixLen      = "prefix_len"       // "16", or a comma list with one length per layer
	ParamPromptLen      = "prompt_len"       // prompt tuning's number of input embeddings
	ParamGatePooling    = "gate_pooling"     // PoolMean or PoolCLS
	ParamInitStd        = "init_std"         // Config.InitStd
	ParamGateBiasInit   = "gate_bias_init"   // Config.GateBiasInit
	ParamLayerScaleInit = "layer_scale_init" // Config.LayerScaleInit
	ParamPrefixDropout  = "prefix_dropout"   // Config.PrefixDropout
	ParamPositionOffset = "position_offset"  // OffsetNone or OffsetPrefix (Config.Offset)
)

// Values of ParamPositionOffset (Config.PositionOffset).
const (
	// OffsetNone: the real tokens keep positions 0..T-1 (the family's own
	// first position) whatever the prefixes.
	OffsetNone = "0"
	// OffsetPrefix: absolute positions start at layer 0's prefix length, as
	// HF's BertModel and RobertaModel shift them (past_key_values_length) when
	// P-Tuning v2 passes its prefixes in as past_key_values.
	OffsetPrefix = "prefix"
)

// Defaults of the Param* keys. P-Tuning v2's released BERT runs use prefix
// length 16, prefix dropout 0.1 and N(0, 0.02) initialisation; APT's gates start
// at alpha = 0.5 (bias 0) and lambda = 1.
const (
	DefaultKind           = APT
	DefaultPrefixLen      = 16
	DefaultPromptLen      = 16
	DefaultGatePooling    = PoolMean
	DefaultInitStd        = 0.02
	DefaultGateBiasInit   = 0.0
	DefaultLayerScaleInit = 1.0
	DefaultPrefixDropout  = 0.1
	// DefaultPositionOffset shifts nothing: with per-layer prefix lengths that
	// differ (or are 0 in layer 0) no single shift is the natural one.
	DefaultPositionOffset = OffsetNone
)

// ConfigFromContext reads the method configuration from ctx's params (the
// Param* keys; an absent key takes its Default*) for a backbone of numLayers
// layers, and validates it. Every error names the setting.
func ConfigFromContext(ctx *context.Context, numLayers int) (Config, error) {
	kind, err := ParseKind(context.GetParamOr(ctx, ParamMethod, string(DefaultKind)))
	if err != nil {
		return Config{}, err
	}
	return KindConfigFromContext(ctx, kind, numLayers)
}

// KindConfigFromContext is ConfigFromContext for method kind k, whatever ctx's
// ParamMethod says (show model counts every method on the current lengths).
func KindConfigFromContext(ctx *context.Context, k Kind, numLayers int) (Config, error) {
	c := Config{Kind: k,
		GatePooling:    context.GetParamOr(ctx, ParamGatePooling, DefaultGatePooling),
		PrefixDropout:  context.GetParamOr(ctx, ParamPrefixDropout, DefaultPrefixDropout),
		InitStd:        context.GetParamOr(ctx, ParamInitStd, DefaultInitStd),
		GateBiasInit:   context.GetParamOr(ctx, ParamGateBiasInit, DefaultGateBiasInit),
		LayerScaleInit: context.GetParamOr(ctx, ParamLayerScaleInit, DefaultLayerScaleInit),
		PositionOffset: NormalizeOffset(context.GetParamOr(ctx, ParamPositionOffset, DefaultPositionOffset)),
	}
	switch {
	case k.HasPrefix():
		lens, err := ParseLens(context.GetParamOr(ctx, ParamPrefixLen, strconv.Itoa(DefaultPrefixLen)), numLayers)
		if err != nil {
			return c, err
		}
		c.PrefixLens = lens
	case k.HasPrompt():
		c.PromptLen = context.GetParamOr(ctx, ParamPromptLen, DefaultPromptLen)
	}
	return c, c.Validate(numLayers)
}

// Params are the settings an adapter of this configuration fixes, as the
// strings `set` takes: the method, its gate pooling, the position offset, and
// the lengths its kind has (prefix_len one entry per layer, 0 where none;
// prompt_len for pt). The initialisation and dropout settings are the
// session's, not the adapter's.
func (c *Config) Params() map[string]string {
	p := map[string]string{ParamMethod: string(c.Kind), ParamGatePooling: c.GatePooling,
		ParamPositionOffset: OffsetNone}
	if c.PositionOffset == OffsetPrefix {
		p[ParamPositionOffset] = OffsetPrefix
	}
	switch {
	case c.Kind.HasPrefix():
		p[ParamPrefixLen] = FormatLens(c.PrefixLens)
	case c.Kind.HasPrompt():
		p[ParamPromptLen] = strconv.Itoa(c.PromptLen)
	}
	return p
}

// ParseLens reads a prefix_len value, "16" or "16,16,0,8", into per-layer
// lengths: a single number is repeated numLayers times, a list must have one
// length per layer; numLayers < 0 skips the count (checking a value before a
// model is loaded).
func ParseLens(s string, numLayers int) ([]int, error) {
	parts := strings.Split(s, ",")
	lens := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a length (want a number >= 0, or a comma list, one per layer)", ParamPrefixLen, p)
		}
		lens[i] = n
	}
	if numLayers < 0 {
		return lens, nil
	}
	if len(lens) == 1 {
		return Uniform(numLayers, lens[0]), nil
	}
	if len(lens) != numLayers {
		return nil, fmt.Errorf("%s lists %d lengths for a model of %d layers", ParamPrefixLen, len(lens), numLayers)
	}
	return lens, nil
}

// FormatLens writes per-layer lengths as a prefix_len value: one number when
// every layer has the same length (so no layers, or all zeros, give "0"),
// else the comma list.
func FormatLens(lens []int) string {
	if len(lens) == 0 {
		return "0"
	}
	if slices.Min(lens) == slices.Max(lens) {
		return strconv.Itoa(lens[0])
	}
	parts := make([]string, len(lens))
	for i, n := range lens {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// NormalizeOffset maps the spellings of a position_offset value onto
// OffsetNone ("0", "none", "off") and OffsetPrefix ("prefix"),
// case-insensitively and ignoring surrounding spaces. Any other value comes
// back as given, for the caller's check to refuse (Config.Validate, the
// settings table's choices) with its usual message.
func NormalizeOffset(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "none", "off":
		return OffsetNone
	case "prefix":
		return OffsetPrefix
	}
	return s
}

// Offset is the number of positions by which the backbone shifts the real
// tokens' absolute positions (backbone.Inputs.PositionOffset): layer 0's
// prefix length when PositionOffset is OffsetPrefix and the method has
// per-layer prefixes (pt2, apt and its ablations), else 0. Prompt tuning and
// full fine-tuning have no prefixes and never shift: P-Tuning v2's shift
// comes from handing prefixes in as past_key_values, which they do not.
func (c *Config) Offset() int {
	if c.PositionOffset != OffsetPrefix || !c.Kind.HasPrefix() || len(c.PrefixLens) == 0 {
		return 0
	}
	return c.PrefixLens[0]
}
