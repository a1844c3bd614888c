package deberta

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func tinyConfig(t *testing.T, name string) *Config {
	t.Helper()
	c, err := LoadConfigDir(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeModelDir writes a model directory with zero tensors of every canonical
// name (with prefix in front, the pooler always at the top level), edited by
// edit, and the config of testdata/<from>.
func writeModelDir(t *testing.T, from, prefix string, edit func(map[string]safetensors.Tensor)) string {
	t.Helper()
	c := tinyConfig(t, from)
	dir := t.TempDir()
	byName := map[string]safetensors.Tensor{}
	for _, s := range Tensors(c) {
		name := prefix + s.Name
		if isPooler(s.Name) {
			name = s.Name
		}
		byName[name] = safetensors.Tensor{Name: name, Shape: s.Shape, Data: make([]float32, prod(s.Shape))}
	}
	if edit != nil {
		edit(byName)
	}
	var list []safetensors.Tensor
	for _, v := range byName {
		list = append(list, v)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), list, nil); err != nil {
		t.Fatal(err)
	}
	cfgJSON, err := os.ReadFile(filepath.Join("testdata", from, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTensorsFollowTheConfig: the optional tensors exist exactly when the
// config asks for them.
func TestTensorsFollowTheConfig(t *testing.T) {
	has := func(c *Config, name string) bool {
		return slices.ContainsFunc(Tensors(c), func(s bert.TensorSpec) bool { return s.Name == name })
	}
	for _, tc := range []struct {
		variant                               string
		positions, types, proj, rel, c2p, p2c bool
	}{
		{"tiny-deberta-prefixed", false, false, false, true, true, true},
		{"tiny-deberta-plain", true, true, true, true, true, true},
		{"tiny-deberta-nopooler", false, false, false, true, true, false},
		{"tiny-deberta-norel", true, false, false, false, false, false},
	} {
		c := tinyConfig(t, tc.variant)
		for name, want := range map[string]bool{
			"embeddings.position_embeddings.weight":          tc.positions,
			"embeddings.token_type_embeddings.weight":        tc.types,
			"embeddings.embed_proj.weight":                   tc.proj,
			"encoder.rel_embeddings.weight":                  tc.rel,
			"encoder.layer.2.attention.self.pos_proj.weight": tc.c2p,
			"encoder.layer.2.attention.self.pos_q_proj.bias": tc.p2c,
			"encoder.layer.2.attention.self.in_proj.weight":  true,
			"pooler.dense.weight":                            true,
		} {
			if has(c, name) != want {
				t.Errorf("%s: tensor %q listed: %v, want %v", tc.variant, name, !want, want)
			}
		}
	}
	c := tinyConfig(t, "tiny-deberta-prefixed")
	for _, s := range Tensors(c) {
		if s.Name == "encoder.rel_embeddings.weight" && s.Shape[0] != 2*5 {
			t.Errorf("rel_embeddings has %d rows, want 2 * max_relative_positions = 10", s.Shape[0])
		}
	}
	if names := CheckpointNames("encoder.layer.0.attention.self.q_bias"); !slices.Equal(names,
		[]string{"encoder.layer.0.attention.self.q_bias", "deberta.encoder.layer.0.attention.self.q_bias"}) {
		t.Errorf("CheckpointNames = %q", names)
	}
}

// TestLoadErrors: a missing tensor, a wrong shape, a lone pooler tensor and a
// non-finite value are errors naming the tensor; extra tensors (the MLM head,
// a classifier, an unused position table) are ignored.
func TestLoadErrors(t *testing.T) {
	const v = "tiny-deberta-prefixed"
	q := "deberta.encoder.layer.1.attention.self.q_bias"
	for name, tc := range map[string]struct {
		edit func(map[string]safetensors.Tensor)
		want string // "" = loads
	}{
		"extra tensors ignored": {func(m map[string]safetensors.Tensor) {
			for _, n := range []string{"lm_predictions.lm_head.bias", "classifier.weight", "deberta.embeddings.position_embeddings.weight"} {
				m[n] = safetensors.Tensor{Name: n, Shape: []int{3}, Data: make([]float32, 3)}
			}
		}, ""},
		"missing": {func(m map[string]safetensors.Tensor) { delete(m, q) }, `no tensor "encoder.layer.1.attention.self.q_bias"`},
		"shape": {func(m map[string]safetensors.Tensor) {
			m[q] = safetensors.Tensor{Name: q, Shape: []int{31}, Data: make([]float32, 31)}
		}, `tensor "` + q + `" has shape [31]`},
		"lone pooler": {func(m map[string]safetensors.Tensor) { delete(m, "pooler.dense.bias") }, "only one of the pooler tensors"},
		"not finite": {func(m map[string]safetensors.Tensor) {
			x := m[q]
			x.Data[3] = float32(1) / float32(zero())
			m[q] = x
		}, q},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeModelDir(t, v, CheckpointPrefix, tc.edit)
			_, err := LoadDir(context.New(), dir, false)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("want success, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func zero() float64 { return 0 }

// TestLoadPlainAndPooler: names without prefix load too; without the pooler
// tensors the pooler variables are not created and CheckpointHasPooler says so.
func TestLoadPlainAndPooler(t *testing.T) {
	dir := writeModelDir(t, "tiny-deberta-plain", "", func(m map[string]safetensors.Tensor) {
		delete(m, "pooler.dense.weight")
		delete(m, "pooler.dense.bias")
	})
	ctx := context.New()
	c, err := LoadDir(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if has, known := c.CheckpointHasPooler(); has || !known {
		t.Errorf("CheckpointHasPooler() = %v, %v; want false, true", has, known)
	}
	if bert.Variable(ctx, "pooler.dense.weight") != nil {
		t.Error("pooler variable created without pooler tensors")
	}
	v := bert.Variable(ctx, "encoder.layer.0.attention.self.in_proj.weight")
	if v == nil || !v.Trainable {
		t.Errorf("in_proj variable %v: want loaded and trainable", v)
	}
}
