package adapter

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// setValue sets one element of an existing tensor.
func setValue(name string, i int, v float32) edit {
	return func(ts map[string]safetensors.Tensor, _ map[string]string) {
		x := ts[name]
		x.Data[i] = v
		ts[name] = x
	}
}

// An adapter holding a NaN or an infinity is refused at load, naming the file,
// the tensor, the value and its index.
func TestLoadNonFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		kind   method.Kind
		tensor string
		i      int
		v      float32
		want   string
	}{
		{method.APT, "prefix.0.key", 17, nan, "NaN at index 17"},
		{method.APT, "gate.0.weight", 0, inf, "+Inf at index 0"},
		{method.APT, "layer_scale.0", 0, -inf, "-Inf at index 0"},
		{method.APT, "head.weight", 63, nan, "NaN at index 63"},
		{method.APT, "head.bias", 1, inf, "+Inf at index 1"},
		{method.PT2, "prefix.0.value", 95, -inf, "-Inf at index 95"},
		{method.PT, "prompt.embedding", 5, nan, "NaN at index 5"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.kind, c.tensor), func(t *testing.T) {
			path := writeEdited(t, c.kind, model.SequenceClassification, setValue(c.tensor, c.i, c.v))
			a, err := Load(path)
			if err == nil {
				t.Fatalf("Load accepted %s in %s (tensors %d)", c.want, c.tensor, len(a.Tensors))
			}
			for _, w := range []string{path, fmt.Sprintf("tensor %q", c.tensor), "non-finite", c.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Duplicate label names are refused, at load and at save.
func TestDuplicateLabels(t *testing.T) {
	for _, labels := range []string{`["yes","yes"]`, `["", ""]`} {
		path := writeEdited(t, method.APT, model.SequenceClassification, setMeta(KeyLabels, labels))
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("labels %s: got %v", labels, err)
		}
	}
	ctx, spec := newModel(t, method.APT, []int{3, 0}, model.SequenceClassification)
	path := filepath.Join(t.TempDir(), "a.safetensors")
	err := Save(path, ctx, spec, Meta{Labels: []string{"entailment", "entailment"}})
	if err == nil || !strings.Contains(err.Error(), `label "entailment" is given twice`) {
		t.Errorf("Save with duplicate labels: %v", err)
	}
}
