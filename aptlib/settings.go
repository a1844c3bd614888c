package aptlib

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// What a setting's change invalidates (Setting.Resets). Only ResetParams
// throws trained or loaded parameters away; every other kind keeps them.
const (
	// ResetParams: the method's parameters change shape or kind and are
	// re-created at random (method, prefix_len, prompt_len).
	ResetParams = "params"
	// ResetInit: the value shapes only the next initialisation. Parameters that
	// were never trained nor loaded are re-created with it; trained or loaded
	// ones are kept (reset re-creates them on purpose).
	ResetInit = "init"
	// ResetData: the data are re-encoded (max_len, the data limits, the
	// protocol's hold-out) and the trainer rebuilt; parameters are kept.
	ResetData = "data"
	// ResetGraph: the graphs are rebuilt (dropouts, gate pooling); parameters kept.
	ResetGraph = "graph"
	// ResetTrainer: a new optimizer step and schedule from the current values
	// and position; parameters kept.
	ResetTrainer = "trainer"
)

// Rule is a setting's validation: the type comes from Setting.Default, the
// rule gives the range or the choices. Every float must be finite.
type Rule struct {
	Choices []string // the value must be one of these (after Parse, if set)
	// Numbers: Lo <= value (Lo < value with LoOpen) when HasLo, value <= Hi
	// (value < Hi with HiOpen) when HasHi.
	Lo, Hi         float64
	HasLo, HasHi   bool
	LoOpen, HiOpen bool
	// Word is a word accepted besides a number, stored as WordValue
	// (backbone_dropout: "config", stored as -1).
	Word      string
	WordValue float64
	// NotZero refuses 0 (max_grad_norm: clipping at 0 means nothing; < 0 disables).
	NotZero bool
	// Parse, when set, checks and normalises a string setting (method, prefix_len).
	Parse func(value string) (string, error)
	// Text says what the rule accepts, for help ("a number > 0").
	Text string
}

// Setting describes one hyperparameter. Values live in the GoMLX context's
// params (ctx.SetParam), so they travel with the context and are written into
// checkpoints and adapters.
type Setting struct {
	Key     string
	Default any // int, float64, string or bool: the value's type
	Doc     string
	// Resets says what a change invalidates: one of the Reset* kinds.
	Resets string
	// Valid is the value's validation (see Rule); Workbench.Set also checks
	// settings that depend on the loaded model (max_len against its positions).
	Valid Rule
}

func choices(c ...string) Rule {
	return Rule{Choices: c, Text: "one of " + strings.Join(c, ", ")}
}
func atLeast(x float64) Rule {
	return Rule{Lo: x, HasLo: true, Text: "at least " + paramString(x)}
}
func positive() Rule { return Rule{Lo: 0, HasLo: true, LoOpen: true, Text: "a number > 0"} }
func finite() Rule   { return Rule{Text: "any finite number"} }
func rate() Rule {
	return Rule{Lo: 0, HasLo: true, Hi: 1, HasHi: true, HiOpen: true, Text: "a rate, 0 <= value < 1"}
}

// Settings lists every key `set` accepts, with defaults that follow P-Tuning v2's
// released BERT runs where the paper does not say, and each key's validation.
var Settings = []Setting{
	{"method", "apt", "ft, pt, pt2, apt, apt_no_token_gate, apt_no_layer_gate", ResetParams,
		Rule{Choices: kindNames(), Parse: parseMethod, Text: "one of " + strings.Join(kindNames(), ", ")}},
	{"prefix_len", "16", "prefix length per layer: one number for every layer, or a comma list (one per layer; 0 = no prefix)", ResetParams,
		Rule{Parse: parsePrefixLen, Text: "a length >= 0, or a comma list of lengths, one per layer"}},
	{"prompt_len", 16, "prompt tuning's number of input embeddings", ResetParams, atLeast(1)},
	// The pooling changes what the gate reads, not any parameter's shape: the
	// trained gates are kept (they were trained on the other pooling).
	{"gate_pooling", "mean", "APT token-gate input: mean over real tokens of the previous layer, or cls (first token)", ResetGraph,
		choices(method.PoolMean, method.PoolCLS)},
	{"init_std", 0.02, "std of the prefix, prompt and gate-weight initialisation", ResetInit, atLeast(0)},
	{"gate_bias_init", 0.0, "initial gate bias b_i (0: alpha starts at 0.5)", ResetInit, finite()},
	{"layer_scale_init", 1.0, "initial lambda_i", ResetInit, finite()},
	{"prefix_dropout", 0.1, "dropout on the prefix (or prompt) in training", ResetGraph, rate()},
	{"dropout", 0.1, "head dropout in training", ResetGraph, rate()},
	{"backbone_dropout", -1.0, "the backbone's own hidden and attention dropout in training: a rate (0 = off), or config (the model's hidden_dropout_prob and attention_probs_dropout_prob)", ResetGraph,
		Rule{Lo: 0, HasLo: true, Hi: 1, HasHi: true, HiOpen: true, Word: "config", WordValue: -1, Text: "config, or a rate, 0 <= value < 1"}},
	{"seed", 42, "seeds the initialisation, batch order, dropout and the honest protocol's hold-out", ResetInit, atLeast(0)},
	{"max_len", 128, "sequences are truncated to this many tokens (at most the model's max_position_embeddings)", ResetData, atLeast(1)},
	{"lr", 5e-3, "peak learning rate (P-Tuning v2 uses 5e-3..1e-2 for prefixes; use ~2e-5 for ft)", ResetTrainer, positive()},
	{"batch_size", 16, "examples per step", ResetTrainer, atLeast(1)},
	{"epochs", 3, "epochs the learning-rate schedule spans; `train` with no argument runs to its end. `train N steps` (or N epochs) on a fresh run makes the schedule span those N; setting epochs makes it span epochs again", ResetTrainer, atLeast(1)},
	{"warmup", 0.1, "warm-up: a fraction of all steps (< 1) or a number of steps (0 = none)", ResetTrainer, atLeast(0)},
	{"schedule", "linear", "linear (decay to 0 after warm-up) or constant", ResetTrainer, choices("linear", "constant")},
	{"weight_decay", 0.01, "AdamW decoupled decay, on weight matrices only", ResetTrainer, atLeast(0)},
	{"max_grad_norm", 1.0, "global gradient-norm clipping (< 0 disables)", ResetTrainer,
		Rule{NotZero: true, Text: "a norm > 0, or a negative number to disable clipping"}},
	{"bucket", 32, "batch lengths are rounded up to a multiple of this, never past max_len (fewer compiled graphs)", ResetTrainer, atLeast(1)},
	{"patience", 0, "early stopping: epochs without dev improvement (0 = off)", ResetTrainer, atLeast(0)},
	{"eval_batch_size", 32, "examples per inference batch", ResetTrainer, atLeast(1)},
	{"gate_every", 1, "record a gate snapshot every this many steps", ResetTrainer, atLeast(1)},
	{"protocol", "ptuning-v2-best-dev-epoch", "ptuning-v2-best-dev-epoch (select on dev) or honest-heldout (select on a part of train, report dev once)", ResetData,
		choices("ptuning-v2-best-dev-epoch", "honest-heldout")},
	{"heldout", 0.1, "fraction of train held out for the honest protocol", ResetData,
		Rule{Lo: 0, HasLo: true, LoOpen: true, Hi: 1, HasHi: true, HiOpen: true, Text: "a fraction, 0 < value < 1"}},
	{"train_limit", 0, "use only the first N training examples (0 = all)", ResetData, atLeast(0)},
	{"eval_limit", 0, "evaluate on only the first N examples of dev/test (0 = all)", ResetData, atLeast(0)},
}

func kindNames() []string {
	out := make([]string, len(method.Kinds))
	for i, k := range method.Kinds {
		out[i] = string(k)
	}
	return out
}

func parseMethod(value string) (string, error) {
	k, err := method.ParseKind(value)
	if err != nil {
		return "", fmt.Errorf("method: %w", err)
	}
	return string(k), nil
}

func parsePrefixLen(value string) (string, error) {
	if _, err := parseLens(value, -1); err != nil {
		return "", err
	}
	return value, nil
}

// SettingKeys lists the keys in order (for completion and help).
func SettingKeys() []string {
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	return keys
}

// FindSetting returns a setting's row of the table.
func FindSetting(key string) (Setting, bool) {
	s, ok := findSetting(key)
	if !ok {
		return Setting{}, false
	}
	return *s, true
}

func findSetting(key string) (*Setting, bool) {
	for i := range Settings {
		if Settings[i].Key == key {
			return &Settings[i], true
		}
	}
	return nil, false
}

// DefaultString is the default as `show config` and metadata write it.
func (s Setting) DefaultString() string { return s.format(s.Default) }

// format renders a value of this setting.
func (s Setting) format(v any) string {
	if f, ok := v.(float64); ok && s.Valid.Word != "" && f == s.Valid.WordValue {
		return s.Valid.Word
	}
	return paramString(v)
}

// setDefaults puts every default into ctx's params.
func setDefaults(ctx *context.Context) {
	for _, s := range Settings {
		ctx.SetParam(s.Key, s.Default)
	}
}

// Parse converts value to the setting's type and checks it against its rule.
// Every error names the setting.
func (s Setting) Parse(value string) (any, error) {
	key, r := s.Key, s.Valid
	value = strings.TrimSpace(value)
	if r.Word != "" && strings.EqualFold(value, r.Word) {
		return r.WordValue, nil
	}
	var v any
	var num float64
	switch s.Default.(type) {
	case int:
		n, err := strconv.Atoi(value)
		if err != nil {
			if isRangeErr(err) {
				return nil, fmt.Errorf("%s: %s is too large (want %s)", key, value, r.Text)
			}
			if f, ferr := strconv.ParseFloat(value, 64); ferr == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: %q is not an integer (want %s)", key, value, r.Text)
			}
			return nil, fmt.Errorf("%s: %q is not an integer", key, value)
		}
		v, num = n, float64(n)
	case float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil && !isRangeErr(err) {
			return nil, fmt.Errorf("%s: %q is not a number", key, value)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: %q is not a finite number (want %s)", key, value, r.Text)
		}
		v, num = f, f
	default:
		if r.Parse != nil {
			p, err := r.Parse(value)
			if err != nil {
				return nil, err
			}
			value = p
		}
		if len(r.Choices) > 0 && !slices.Contains(r.Choices, value) {
			return nil, fmt.Errorf("%s: want %s, got %q", key, strings.Join(r.Choices, " or "), value)
		}
		return value, nil
	}
	if r.NotZero && num == 0 {
		return nil, fmt.Errorf("%s: 0 is not allowed (want %s)", key, r.Text)
	}
	if r.HasLo && (num < r.Lo || (r.LoOpen && num == r.Lo)) || r.HasHi && (num > r.Hi || (r.HiOpen && num == r.Hi)) {
		return nil, rangeError(key, r, v)
	}
	return v, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// rangeError keeps the wording the shell has always used for the common rules.
func rangeError(key string, r Rule, v any) error {
	switch {
	case r.HasLo && !r.LoOpen && r.Lo == 1 && !r.HasHi:
		return fmt.Errorf("%s: must be at least 1", key)
	case r.HasLo && !r.LoOpen && r.Lo == 0 && !r.HasHi:
		return fmt.Errorf("%s: must not be negative, got %v", key, v)
	case r.HasLo && r.LoOpen && r.Lo == 0 && !r.HasHi:
		return fmt.Errorf("%s: must be positive, got %v", key, v)
	}
	return fmt.Errorf("%s: want %s, got %v", key, r.Text, v)
}

// parseSetting converts value to the key's type and checks its range.
func parseSetting(key, value string) (any, error) {
	s, ok := findSetting(key)
	if !ok {
		return nil, fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(SettingKeys(), ", "))
	}
	return s.Parse(value)
}

// checkForModel checks a parsed value against the loaded backbone (nil: no check).
func checkForModel(key string, v any, c *bert.Config) error {
	if c == nil {
		return nil
	}
	switch key {
	case "max_len":
		if n := v.(int); n > c.MaxPositionEmbeddings {
			return fmt.Errorf("max_len: %d exceeds the model's max_position_embeddings %d (want 1..%d)", n, c.MaxPositionEmbeddings, c.MaxPositionEmbeddings)
		}
	case "prefix_len":
		if _, err := parseLens(v.(string), c.NumHiddenLayers); err != nil {
			return err
		}
	}
	return nil
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
		out[s.Key] = s.format(v)
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
