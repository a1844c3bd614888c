package aptlib

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Setting describes one hyperparameter. Values live in the GoMLX context's
// params (ctx.SetParam), so they travel with the context and are written into
// checkpoints and adapters.
type Setting struct {
	Key     string
	Default any // int, float64, string or bool: the value's type
	Doc     string
	// Resets says what a change invalidates: "model" (method variables are
	// re-created), "encoding" (data re-encoded and model re-created) or
	// "trainer" (a new optimizer and schedule; trained values are kept).
	Resets string
}

// Settings lists every key `set` accepts, with defaults that follow P-Tuning v2's
// released BERT runs where the paper does not say.
var Settings = []Setting{
	{"method", "apt", "ft, pt, pt2, apt, apt_no_token_gate, apt_no_layer_gate", "model"},
	{"prefix_len", "16", "prefix length per layer: one number for every layer, or a comma list (one per layer; 0 = no prefix)", "model"},
	{"prompt_len", 16, "prompt tuning's number of input embeddings", "model"},
	{"gate_pooling", "mean", "APT token-gate input: mean over real tokens of the previous layer, or cls (first token)", "model"},
	{"init_std", 0.02, "std of the prefix, prompt and gate-weight initialisation", "model"},
	{"gate_bias_init", 0.0, "initial gate bias b_i (0: alpha starts at 0.5)", "model"},
	{"layer_scale_init", 1.0, "initial lambda_i", "model"},
	{"prefix_dropout", 0.1, "dropout on the prefix (or prompt) in training", "model"},
	{"dropout", 0.1, "head dropout in training", "model"},
	{"seed", 42, "seeds the initialisation, batch order and dropout", "model"},
	{"max_len", 128, "sequences are truncated to this many tokens", "encoding"},
	{"lr", 5e-3, "peak learning rate (P-Tuning v2 uses 5e-3..1e-2 for prefixes; use ~2e-5 for ft)", "trainer"},
	{"batch_size", 16, "examples per step", "trainer"},
	{"epochs", 3, "epochs the learning-rate schedule spans; `train` with no argument runs them", "trainer"},
	{"warmup", 0.1, "warm-up: a fraction of all steps (< 1) or a number of steps", "trainer"},
	{"schedule", "linear", "linear (decay to 0 after warm-up) or constant", "trainer"},
	{"weight_decay", 0.01, "AdamW decoupled decay, on weight matrices only", "trainer"},
	{"max_grad_norm", 1.0, "global gradient-norm clipping (< 0 disables)", "trainer"},
	{"bucket", 32, "batch lengths are rounded up to a multiple of this (fewer compiled graphs)", "trainer"},
	{"patience", 0, "early stopping: epochs without dev improvement (0 = off)", "trainer"},
	{"eval_batch_size", 32, "examples per inference batch", "trainer"},
	{"gate_every", 1, "record a gate snapshot every this many steps", "trainer"},
	{"protocol", "ptuning-v2-best-dev-epoch", "ptuning-v2-best-dev-epoch (select on dev) or honest-heldout (select on a part of train, report dev once)", "trainer"},
	{"heldout", 0.1, "fraction of train held out for the honest protocol", "encoding"},
	{"train_limit", 0, "use only the first N training examples (0 = all)", "encoding"},
	{"eval_limit", 0, "evaluate on only the first N examples of dev/test (0 = all)", "encoding"},
}

// SettingKeys lists the keys in order (for completion and help).
func SettingKeys() []string {
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	return keys
}

func findSetting(key string) (*Setting, bool) {
	for i := range Settings {
		if Settings[i].Key == key {
			return &Settings[i], true
		}
	}
	return nil, false
}

// setDefaults puts every default into ctx's params.
func setDefaults(ctx *context.Context) {
	for _, s := range Settings {
		ctx.SetParam(s.Key, s.Default)
	}
}

// parseSetting converts value to the key's type and checks its range.
func parseSetting(key, value string) (any, error) {
	s, ok := findSetting(key)
	if !ok {
		return nil, fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(SettingKeys(), ", "))
	}
	value = strings.TrimSpace(value)
	var v any
	switch s.Default.(type) {
	case int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", key, value)
		}
		if n < 0 {
			return nil, fmt.Errorf("%s: must not be negative, got %d", key, n)
		}
		v = n
	case float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", key, value)
		}
		v = f
	default:
		v = value
	}
	switch key {
	case "method":
		k, err := method.ParseKind(value)
		if err != nil {
			return nil, err
		}
		v = string(k)
	case "gate_pooling":
		if value != method.PoolMean && value != method.PoolCLS {
			return nil, fmt.Errorf("gate_pooling: want mean or cls, got %q", value)
		}
	case "schedule":
		if value != "linear" && value != "constant" {
			return nil, fmt.Errorf("schedule: want linear or constant, got %q", value)
		}
	case "prefix_len":
		if _, err := parseLens(value, -1); err != nil {
			return nil, err
		}
	case "batch_size", "epochs", "max_len", "bucket", "eval_batch_size", "gate_every", "prompt_len":
		if v.(int) == 0 {
			return nil, fmt.Errorf("%s: must be at least 1", key)
		}
	case "lr":
		if v.(float64) <= 0 {
			return nil, fmt.Errorf("lr: must be positive, got %v", v)
		}
	case "prefix_dropout", "dropout", "heldout":
		if f := v.(float64); f < 0 || f >= 1 {
			return nil, fmt.Errorf("%s: want 0 <= value < 1, got %v", key, f)
		}
	case "protocol":
		if value != "ptuning-v2-best-dev-epoch" && value != "honest-heldout" {
			return nil, fmt.Errorf("protocol: want ptuning-v2-best-dev-epoch or honest-heldout, got %q", value)
		}
	}
	return v, nil
}

// parseLens reads "16" or "16,16,0,8" into per-layer lengths; numLayers < 0
// skips the count check, a single number is repeated numLayers times.
func parseLens(s string, numLayers int) ([]int, error) {
	parts := strings.Split(s, ",")
	lens := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("prefix_len: %q is not a length (want a number >= 0, or a comma list, one per layer)", p)
		}
		lens[i] = n
	}
	if numLayers < 0 {
		return lens, nil
	}
	if len(lens) == 1 {
		return method.Uniform(numLayers, lens[0]), nil
	}
	if len(lens) != numLayers {
		return nil, fmt.Errorf("prefix_len lists %d lengths for a model of %d layers", len(lens), numLayers)
	}
	return lens, nil
}

// formatLens writes per-layer lengths as a prefix_len value: one number when
// every layer has the same length (so no layers, or all zeros, give "0"),
// else the comma list.
func formatLens(lens []int) string {
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

// paramString renders a context param for display and metadata.
func paramString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// SettingsMap returns every setting's current value as strings, sorted by key.
func settingsMap(ctx *context.Context) map[string]string {
	out := map[string]string{}
	for _, s := range Settings {
		v, _ := ctx.GetParam(s.Key)
		out[s.Key] = paramString(v)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
