package adapter

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
)

// Format is the value of the "format" metadata key of an adapter file.
const Format = "apt-adapter/1"

// Metadata keys of an adapter file (all values are strings). The first group is
// fixed by the adapter format (docs/adapters.md); the second records the rest of the method
// configuration, so that Load rebuilds method.Config exactly.
const (
	KeyFormat          = "format"
	KeyMethod          = "method"
	KeyHead            = "head"
	KeyLabels          = "labels" // JSON array of label names in logit order
	KeyGatePooling     = "gate_pooling"
	KeyMaxLen          = "max_len"
	KeyTask            = "task"
	KeyBaseModel       = "base_model"
	KeyBaseModelSHA256 = "base_model_sha256"
	// KeyModelType is the backbone family the adapter was trained on
	// (config.json's model_type, docs/families.md); Spec refuses a backbone
	// of another family. Files written before it have none.
	KeyModelType = "model_type"
	// KeyPositionOffset is the number of positions by which the backbone
	// shifted the real tokens' absolute positions in training
	// (method.Config.Offset: layer 0's prefix length under
	// position_offset=prefix, else 0). Files written before it have none,
	// which means 0.
	KeyPositionOffset = "position_offset"

	KeyPrefixLens     = "prefix_lens" // JSON array, one entry per backbone layer
	KeyPromptLen      = "prompt_len"
	KeyNumLabels      = "num_labels"
	KeyHiddenSize     = "hidden_size"
	KeyPrefixDropout  = "prefix_dropout"
	KeyInitStd        = "init_std"
	KeyGateBiasInit   = "gate_bias_init"
	KeyLayerScaleInit = "layer_scale_init"
)

// reserved are the keys Save writes itself; Meta.Extra may not use them.
var reserved = map[string]bool{
	KeyFormat: true, KeyMethod: true, KeyHead: true, KeyLabels: true, KeyGatePooling: true,
	KeyMaxLen: true, KeyTask: true, KeyBaseModel: true, KeyBaseModelSHA256: true, KeyModelType: true, KeyPositionOffset: true,
	KeyPrefixLens: true, KeyPromptLen: true, KeyNumLabels: true, KeyHiddenSize: true,
	KeyPrefixDropout: true, KeyInitStd: true, KeyGateBiasInit: true, KeyLayerScaleInit: true,
	keyModelFormat: true,
}

// Meta is the description stored with an adapter (or an FT model directory).
// Method, Head and GatePooling may be left empty on Save: they are taken from
// the model.Spec (and must agree with it when given).
type Meta struct {
	Method          method.Kind
	Head            model.Head
	Labels          []string // label names in logit order; Save fills "0".."n-1" when empty
	GatePooling     string
	MaxLen          int
	Task            string
	BaseModel       string // name or path of the backbone
	BaseModelSHA256 string // SHA-256 of its safetensors (see BaseModelSHA256)
	// Extra holds anything else worth recording (training settings, step, seed,
	// ...). Its keys must not be one of the Key* constants.
	Extra map[string]string
}

// complete fills Method, Head, GatePooling and Labels from spec and checks
// that what was given agrees with it.
func (m Meta) complete(spec *model.Spec) (Meta, error) {
	m.Labels = slices.Clone(m.Labels)
	m.Extra = maps.Clone(m.Extra)
	if m.Method == "" {
		m.Method = spec.Method.Kind
	} else if m.Method != spec.Method.Kind {
		return m, fmt.Errorf("Meta.Method is %q but the model runs method %q", m.Method, spec.Method.Kind)
	}
	if m.Head == "" {
		m.Head = spec.Head
	} else if m.Head != spec.Head {
		return m, fmt.Errorf("Meta.Head is %q but the model has head %q", m.Head, spec.Head)
	}
	if m.GatePooling == "" {
		m.GatePooling = spec.Method.GatePooling
	} else if m.GatePooling != spec.Method.GatePooling {
		return m, fmt.Errorf("Meta.GatePooling is %q but the method config uses %q", m.GatePooling, spec.Method.GatePooling)
	}
	if len(m.Labels) == 0 {
		for i := range spec.NumLabels {
			m.Labels = append(m.Labels, strconv.Itoa(i))
		}
	}
	if d, ok := duplicateLabel(m.Labels); ok {
		return m, fmt.Errorf("label %q is given twice in Meta.Labels %q", d, m.Labels)
	}
	if spec.Head != model.MultipleChoice && len(m.Labels) != spec.NumLabels {
		return m, fmt.Errorf("%d labels %q given for a %s head of %d labels", len(m.Labels), m.Labels, spec.Head, spec.NumLabels)
	}
	for k := range m.Extra {
		if reserved[k] {
			return m, fmt.Errorf("Meta.Extra key %q is reserved (Save writes it from the model spec)", k)
		}
	}
	if m.MaxLen < 0 {
		return m, fmt.Errorf("Meta.MaxLen %d is negative", m.MaxLen)
	}
	return m, nil
}

// metadata is the __metadata__ map of a completed Meta for spec.
func (m Meta) metadata(spec *model.Spec) map[string]string {
	md := maps.Clone(m.Extra)
	if md == nil {
		md = map[string]string{}
	}
	c := &spec.Method
	md[KeyFormat] = Format
	md[KeyMethod] = string(m.Method)
	md[KeyHead] = string(m.Head)
	md[KeyLabels] = mustJSON(m.Labels)
	md[KeyGatePooling] = m.GatePooling
	md[KeyMaxLen] = strconv.Itoa(m.MaxLen)
	md[KeyTask] = m.Task
	md[KeyBaseModel] = m.BaseModel
	md[KeyBaseModelSHA256] = m.BaseModelSHA256
	md[KeyNumLabels] = strconv.Itoa(spec.NumLabels)
	md[KeyHiddenSize] = strconv.Itoa(spec.Backbone.HiddenSize())
	md[KeyModelType] = spec.Backbone.ModelType()
	md[KeyPositionOffset] = strconv.Itoa(c.Offset())
	if c.Kind.HasPrefix() {
		md[KeyPrefixLens] = mustJSON(c.PrefixLens)
	}
	if c.Kind.HasPrompt() {
		md[KeyPromptLen] = strconv.Itoa(c.PromptLen)
	}
	md[KeyPrefixDropout] = formatFloat(c.PrefixDropout)
	md[KeyInitStd] = formatFloat(c.InitStd)
	md[KeyGateBiasInit] = formatFloat(c.GateBiasInit)
	md[KeyLayerScaleInit] = formatFloat(c.LayerScaleInit)
	return md
}

// formatFloat writes x so that strconv.ParseFloat gives x back exactly.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func mustJSON(v any) string {
	if s, ok := v.([]string); ok && s == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only slices of strings and ints are marshalled here
	}
	return string(b)
}

// parseKind accepts exactly the method names of the adapter format (no
// aliases, as method.ParseKind takes).
func parseKind(s string) (method.Kind, bool) {
	for _, k := range method.Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// adapterKinds are the methods saved as adapter files: those that keep the
// backbone frozen.
func adapterKinds() []string {
	var out []string
	for _, k := range method.Kinds {
		if !k.TrainsBackbone() {
			out = append(out, string(k))
		}
	}
	return out
}

// parseHead accepts exactly the head names of the adapter format.
func parseHead(s string) (model.Head, bool) {
	switch h := model.Head(s); h {
	case model.SequenceClassification, model.MultipleChoice, model.TokenClassification:
		return h, true
	}
	return "", false
}

// duplicateLabel returns the first label name that occurs twice in labels.
func duplicateLabel(labels []string) (string, bool) {
	seen := make(map[string]bool, len(labels))
	for _, l := range labels {
		if seen[l] {
			return l, true
		}
		seen[l] = true
	}
	return "", false
}
