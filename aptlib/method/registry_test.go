package method_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
)

// paperKinds are the methods of the paper, in the order of its tables. The
// tests that spell out their tensors and counts (count_test.go) walk these;
// the shared suite and the tests below walk the whole registry.
var paperKinds = []method.Kind{method.FT, method.PT, method.PT2, method.APT, method.APTNoTokenGate, method.APTNoLayerGate}

// TestRegistryOrder: the registry lists the paper's methods first, in the
// order of its tables (a method added later comes after them), and Kinds,
// Methods and Lookup agree with it.
func TestRegistryOrder(t *testing.T) {
	if len(method.Kinds) < len(paperKinds) || !slices.Equal(method.Kinds[:len(paperKinds)], paperKinds) {
		t.Errorf("Kinds = %v, want %v first", method.Kinds, paperKinds)
	}
	for i, m := range method.Methods() {
		k := m.Info().Kind
		if i >= len(method.Kinds) || k != method.Kinds[i] || slices.Index(method.Kinds, k) != i {
			t.Errorf("Methods()[%d] is %s, Kinds %v", i, k, method.Kinds)
		}
		if got, ok := method.Lookup(k); !ok || got.Info().Kind != k {
			t.Errorf("Lookup(%s) = %v, %v", k, got, ok)
		}
		if m.Info().Doc == "" {
			t.Errorf("method %s has no description", k)
		}
	}
	if _, ok := method.Lookup("lora"); ok {
		t.Errorf("Lookup(lora) found a method")
	}
}

// TestTensorsParseBack: every tensor a method lists is one of its own
// Info.Names (so the adapter parser accepts it), at the layer it says, and in
// one of the scopes Create clears.
func TestTensorsParseBack(t *testing.T) {
	for _, m := range method.Methods() {
		info := m.Info()
		c := method.Default(info.Kind, 4)
		if info.Prefix {
			c.PrefixLens = []int{2, 0, 12, 1}
		}
		for _, ts := range m.Tensors(&c, 8) {
			pattern, layer, ok := method.ParseTensorName(ts.Name)
			if !ok || !slices.Contains(info.Names, pattern) || layer != ts.Layer {
				t.Errorf("%s: tensor %s parses as %q layer %d (ok %v), want one of %v at layer %d", info.Kind, ts.Name, pattern, layer, ok, info.Names, ts.Layer)
			}
			scope, _ := method.VariablePath(ts.Name)
			top, _, _ := strings.Cut(strings.TrimPrefix(scope, "/"), "/")
			if !slices.Contains(method.Scopes(), top) {
				t.Errorf("%s: tensor %s is in scope %s, not one of %v", info.Kind, ts.Name, scope, method.Scopes())
			}
		}
	}
	for _, bad := range []string{"prefix.01.key", "prefix.-1.key", "prefix.1.query", "gate.1.key", "layer_scale", "layer_scale.x", "prompt.embedding.0", "classifier.weight"} {
		if p, l, ok := method.ParseTensorName(bad); ok {
			t.Errorf("ParseTensorName(%q) = %q, %d, want no match", bad, p, l)
		}
	}
}

// TestParseKind: names and aliases of the registry, case-insensitively; the
// paper's PT-2* and PT-2+ rows are refused with a pointer to what runs them,
// not read as pt2 (`set method=pt2+` used to show method pt2).
func TestParseKind(t *testing.T) {
	for in, want := range map[string]method.Kind{
		"apt": method.APT, " APT ": method.APT, "pt2": method.PT2, "PT-2": method.PT2, "p-tuning-v2": method.PT2,
		"prefix": method.PT2, "ft": method.FT, "fine-tuning": method.FT, "finetune": method.FT, "pt": method.PT,
		"apt_no_token_gate": method.APTNoTokenGate, "APT_NO_LAYER_GATE": method.APTNoLayerGate,
	} {
		if got, err := method.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"pt2+", "pt2*", "PT-2+", "pt-2*"} {
		got, err := method.ParseKind(in)
		if err == nil {
			t.Errorf("ParseKind(%q) = %q, want an error", in, got)
			continue
		}
		for _, part := range []string{"method=pt2", "prefix_len", "apt-repro -methods pt2"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("ParseKind(%q): error %q does not say %q", in, err, part)
			}
		}
	}
	if _, err := method.ParseKind("lora"); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("ParseKind(lora): %v", err)
	}
}

// TestDescribe: what a configuration trains, in the words of checkpoint and
// adapter messages.
func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		c    method.Config
		want string
	}{
		{method.Config{Kind: method.APT, PrefixLens: []int{3, 0}, GatePooling: method.PoolMean, PrefixDropout: 0.1}, "apt with prefix lengths [3 0], gate pooling mean, prefix dropout 0.1"},
		{method.Config{Kind: method.PT2, PrefixLens: []int{2, 2}, GatePooling: method.PoolCLS}, "pt2 with prefix lengths [2 2], prefix dropout 0"},
		{method.Config{Kind: method.APTNoTokenGate, PrefixLens: []int{1}, GatePooling: method.PoolCLS}, "apt_no_token_gate with prefix lengths [1], prefix dropout 0"},
		{method.Config{Kind: method.PT, PromptLen: 5, PrefixDropout: 0.2}, "pt with 5 prompt embeddings, prefix dropout 0.2"},
		{method.Config{Kind: method.FT, PrefixDropout: 0.1}, "ft"},
	} {
		if got := c.c.Describe(); got != c.want {
			t.Errorf("Describe(%+v) = %q, want %q", c.c, got, c.want)
		}
	}
}
