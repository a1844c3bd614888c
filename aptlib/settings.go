package aptlib

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ResetKind is what a setting's change invalidates (Setting.Resets); each
// kind maps onto a level of the session's state (see invalidate). Only
// ResetParams throws trained or loaded parameters away; every other kind keeps
// them.
type ResetKind string

const (
	// ResetParams: the method's parameters change shape or kind and are
	// re-created at random (method, prefix_len, prompt_len).
	ResetParams ResetKind = "params"
	// ResetInit: the value shapes only the next initialisation. Parameters that
	// were never trained nor loaded are re-created with it; trained or loaded
	// ones are kept (reset re-creates them on purpose).
	ResetInit ResetKind = "init"
	// ResetData: the data are re-encoded (max_len, the data limits, the
	// protocol's hold-out) and the trainer rebuilt; parameters are kept.
	ResetData ResetKind = "data"
	// ResetGraph: the graphs are rebuilt (dropouts, gate pooling); parameters kept.
	ResetGraph ResetKind = "graph"
	// ResetTrainer: a new optimizer step and schedule from the current values
	// and position; parameters kept.
	ResetTrainer ResetKind = "trainer"
)

// Effect says in a sentence what changing a setting of this kind does (the
// shell's `set <key>` prints it).
func (k ResetKind) Effect() string {
	switch k {
	case ResetParams:
		return "changing it re-creates the method's parameters (trained or loaded ones are discarded, with a note)"
	case ResetInit:
		return "it applies when the parameters are created; trained or loaded parameters are kept (reset re-creates them)"
	case ResetData:
		return "changing it re-encodes the data; trained values are kept"
	case ResetGraph:
		return "changing it rebuilds the training and inference graphs; trained values are kept"
	case ResetTrainer:
		return "changing it starts a new optimizer; trained values are kept"
	}
	return ""
}

// Keys of the settings that aptlib itself reads; the method's and the
// trainer's keys are method.Param* and trainer.Param*, the backbone's dropout
// backbone.ParamDropout.
const (
	keyDropout       = "dropout" // model.Spec.Dropout, the head's
	keyPatience      = "patience"
	keyEvalBatchSize = "eval_batch_size"
	keyProtocol      = "protocol"
	keyHeldout       = "heldout"
	keyTrainLimit    = "train_limit"
	keyEvalLimit     = "eval_limit"
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
	// ForModel, when set, checks a parsed value against the loaded backbone
	// (max_len against its positions, prefix_len against its layers).
	ForModel func(value any, c backbone.Config) error
	// Text says what the rule accepts, for help ("a number > 0").
	Text string
}

// Setting describes one hyperparameter: a row of the Settings table. Values
// live in the GoMLX context's params (ctx.SetParam), so they travel with the
// context and are written into checkpoints and adapters. The packages that use
// a setting read it from the context (method.ConfigFromContext,
// trainer.OptionsFromContext, backbone.Dropout); the row is the only place
// that says its type and default (for the method's and the trainer's keys,
// the owning package's Default* constant), its validation and its help.
type Setting struct {
	Key     string
	Default any // int, float64, string or bool: the value's type
	Doc     string
	// Resets says what a change invalidates: one of the Reset* kinds.
	Resets ResetKind
	// Valid is the value's validation (see Rule), with the loaded model's
	// part in Valid.ForModel.
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
// Adding a setting is a row here and a line where it is read.
var Settings = []Setting{
	{method.ParamMethod, string(method.DefaultKind), "ft, pt, pt2, apt, apt_no_token_gate, apt_no_layer_gate", ResetParams,
		Rule{Choices: kindNames(), Parse: parseMethod, Text: "one of " + strings.Join(kindNames(), ", ")}},
	{method.ParamPrefixLen, strconv.Itoa(method.DefaultPrefixLen), "prefix length per layer: one number for every layer, or a comma list (one per layer; 0 = no prefix)", ResetParams,
		Rule{Parse: parsePrefixLen, ForModel: prefixLenForModel, Text: "a length >= 0, or a comma list of lengths, one per layer"}},
	{method.ParamPromptLen, method.DefaultPromptLen, "prompt tuning's number of input embeddings", ResetParams, atLeast(1)},
	// The pooling changes what the gate reads, not any parameter's shape: the
	// trained gates are kept (they were trained on the other pooling).
	{method.ParamGatePooling, method.DefaultGatePooling, "APT token-gate input: mean over real tokens of the previous layer, or cls (first token)", ResetGraph,
		choices(method.PoolMean, method.PoolCLS)},
	{method.ParamInitStd, method.DefaultInitStd, "std of the prefix, prompt and gate-weight initialisation", ResetInit, atLeast(0)},
	{method.ParamGateBiasInit, method.DefaultGateBiasInit, "initial gate bias b_i (0: alpha starts at 0.5)", ResetInit, finite()},
	{method.ParamLayerScaleInit, method.DefaultLayerScaleInit, "initial lambda_i", ResetInit, finite()},
	{method.ParamPrefixDropout, method.DefaultPrefixDropout, "dropout on the prefix (or prompt) in training", ResetGraph, rate()},
	// The shift changes what the backbone computes, not any parameter's shape:
	// trained values are kept.
	{method.ParamPositionOffset, method.DefaultPositionOffset, "absolute positions of the real tokens: 0 (they start at the model's first position whatever the prefixes) or prefix " +
		"(shifted by layer 0's prefix length, as HF BertModel and RobertaModel shift them when P-Tuning v2 passes its prefixes as past_key_values). " +
		"Only methods with per-layer prefixes shift (pt2, apt and its ablations; pt and ft never do); no effect on a model without absolute positions " +
		"(DeBERTa with position_biased_input false). Recorded in saved adapters", ResetGraph,
		withParse(choices(method.OffsetNone, method.OffsetPrefix), parsePositionOffset)},
	{keyDropout, 0.1, "head dropout in training", ResetGraph, rate()},
	{backbone.ParamDropout, -1.0, "the backbone's own hidden and attention dropout in training: a rate (0 = off), or config (the model's hidden_dropout_prob and attention_probs_dropout_prob)", ResetGraph,
		Rule{Lo: 0, HasLo: true, Hi: 1, HasHi: true, HiOpen: true, Word: "config", WordValue: -1, Text: "config, or a rate, 0 <= value < 1"}},
	{trainer.ParamSeed, trainer.DefaultSeed, "seeds the initialisation, batch order, dropout and the honest protocol's hold-out", ResetInit, atLeast(0)},
	{trainer.ParamMaxLen, trainer.DefaultMaxLen, "sequences are truncated to this many tokens (at most the model's positions: max_position_embeddings, RoBERTa's less pad_token_id+1; with position_offset=prefix, less layer 0's prefix length)", ResetData,
		withModel(atLeast(1), maxLenForModel)},
	{trainer.ParamLR, trainer.DefaultLR, "peak learning rate (P-Tuning v2 uses 5e-3..1e-2 for prefixes; use ~2e-5 for ft)", ResetTrainer, positive()},
	{trainer.ParamBatchSize, trainer.DefaultBatchSize, "examples per step", ResetTrainer, atLeast(1)},
	{trainer.ParamEpochs, trainer.DefaultEpochs, "epochs the learning-rate schedule spans; `train` with no argument runs to its end. `train N steps` (or N epochs) on a fresh run makes the schedule span those N; setting epochs makes it span epochs again", ResetTrainer, atLeast(1)},
	{trainer.ParamWarmup, trainer.DefaultWarmup, "warm-up: a fraction of all steps (< 1) or a number of steps (0 = none)", ResetTrainer, atLeast(0)},
	{trainer.ParamSchedule, trainer.DefaultSchedule, "linear (decay to 0 after warm-up) or constant", ResetTrainer, choices("linear", "constant")},
	{trainer.ParamWeightDecay, trainer.DefaultWeightDecay, "AdamW decoupled decay, on weight matrices only", ResetTrainer, atLeast(0)},
	{trainer.ParamMaxGradNorm, trainer.DefaultMaxGradNorm, "global gradient-norm clipping (< 0 disables)", ResetTrainer,
		Rule{NotZero: true, Text: "a norm > 0, or a negative number to disable clipping"}},
	{trainer.ParamBucket, trainer.DefaultBucket, "batch lengths are rounded up to a multiple of this, never past max_len (fewer compiled graphs)", ResetTrainer, atLeast(1)},
	{keyPatience, 0, "early stopping: epochs without dev improvement (0 = off)", ResetTrainer, atLeast(0)},
	{keyEvalBatchSize, 32, "examples per inference batch", ResetTrainer, atLeast(1)},
	{trainer.ParamGateEvery, trainer.DefaultGateEvery, "record a gate snapshot every this many steps", ResetTrainer, atLeast(1)},
	{keyProtocol, string(tasks.ProtocolBestDevEpoch), "ptuning-v2-best-dev-epoch (select on dev) or honest-heldout (select on a part of train, report dev once)", ResetData,
		choices(string(tasks.ProtocolBestDevEpoch), string(tasks.ProtocolHonestHeldOut))},
	{keyHeldout, 0.1, "fraction of train held out for the honest protocol", ResetData,
		Rule{Lo: 0, HasLo: true, LoOpen: true, Hi: 1, HasHi: true, HiOpen: true, Text: "a fraction, 0 < value < 1"}},
	{keyTrainLimit, 0, "use only the first N training examples (0 = all)", ResetData, atLeast(0)},
	{keyEvalLimit, 0, "evaluate on only the first N examples of dev/test (0 = all)", ResetData, atLeast(0)},
}

func withModel(r Rule, check func(any, backbone.Config) error) Rule {
	r.ForModel = check
	return r
}

func withParse(r Rule, parse func(string) (string, error)) Rule {
	r.Parse = parse
	return r
}

// maxLenForModel checks max_len against the backbone's limit
// (backbone.Config.MaxLen: BERT's max_position_embeddings, RoBERTa's less
// pad_token_id+1). Spec checks it again with the position offset.
func maxLenForModel(v any, c backbone.Config) error {
	if n := v.(int); n > c.MaxLen() {
		return fmt.Errorf("max_len: %d exceeds %s; want 1..%d", n, backbone.DescribeMaxLen(c), c.MaxLen())
	}
	return nil
}

// parsePositionOffset accepts the spellings method.NormalizeOffset knows
// ("none", "off", "PREFIX", ...); anything else is left to the choices to
// refuse.
func parsePositionOffset(value string) (string, error) { return method.NormalizeOffset(value), nil }

func prefixLenForModel(v any, c backbone.Config) error {
	_, err := parseLens(v.(string), c.NumLayers())
	return err
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

// checkForModel checks a parsed value of the setting key against the loaded
// backbone (nil: no check), by the row's Valid.ForModel.
func checkForModel(key string, v any, c backbone.Config) error {
	s, ok := findSetting(key)
	if c == nil || !ok || s.Valid.ForModel == nil {
		return nil
	}
	return s.Valid.ForModel(v, c)
}

// parseLens and formatLens are the prefix_len value's reader and writer.
var (
	parseLens  = method.ParseLens
	formatLens = method.FormatLens
)

// paramString renders a context param for display and metadata.
func paramString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// settingsMap returns every setting's current value as strings, sorted by key.
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
