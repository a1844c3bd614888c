package bert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/goldentest"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// writeModelDir writes a model directory with the given tensors (canonical
// names from Tensors, transformed by rename) and the tiny golden config.
func writeModelDir(t *testing.T, c *Config, edit func(map[string]safetensors.Tensor)) string {
	t.Helper()
	dir := t.TempDir()
	byName := map[string]safetensors.Tensor{}
	for _, s := range Tensors(c) {
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		byName[s.Name] = safetensors.Tensor{Name: s.Name, Shape: s.Shape, Data: make([]float32, n)}
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
	cfgJSON, _ := os.ReadFile(filepath.Join("testdata", "tiny-bert-plain", "config.json"))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tinyConfig(t *testing.T) *Config {
	c, err := LoadConfigDir(filepath.Join("testdata", "tiny-bert-plain"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadErrorsNameTheTensor(t *testing.T) {
	c := tinyConfig(t)
	const victim = "encoder.layer.1.attention.self.key.weight"
	t.Run("missing", func(t *testing.T) {
		dir := writeModelDir(t, c, func(m map[string]safetensors.Tensor) { delete(m, victim) })
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "[32 32]") {
			t.Fatalf("want error naming %q and its expected shape, got %v", victim, err)
		}
	})
	t.Run("misshaped", func(t *testing.T) {
		dir := writeModelDir(t, c, func(m map[string]safetensors.Tensor) {
			m[victim] = safetensors.Tensor{Name: victim, Shape: []int{32, 16}, Data: make([]float32, 512)}
		})
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "[32 16]") || !strings.Contains(err.Error(), "[32 32]") {
			t.Fatalf("want error naming %q with both shapes, got %v", victim, err)
		}
	})
	t.Run("no weights file", func(t *testing.T) {
		dir := t.TempDir()
		cfgJSON, _ := os.ReadFile(filepath.Join("testdata", "tiny-bert-plain", "config.json"))
		os.WriteFile(filepath.Join(dir, "config.json"), cfgJSON, 0o644)
		if _, err := LoadDir(context.New(), dir, false); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
			t.Fatalf("want error naming model.safetensors, got %v", err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"hidden_size": 30, "num_attention_heads": 4}`, "not a multiple"},
		{`{"hidden_act": "mish"}`, "hidden_act"},
		{`{"model_type": "gpt2"}`, "model_type"},
		{`{"layer_norm_eps": 0}`, "layer_norm_eps"},
		{`{"num_hidden_layers": -1}`, "num_hidden_layers"},
		{`{"position_embedding_type": "relative_key"}`, "position_embedding_type"},
		{`{"hidden_size": "big"}`, "config.json"},
	} {
		path := filepath.Join(t.TempDir(), "config.json")
		os.WriteFile(path, []byte(tc.json), 0o644)
		if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want error containing %q, got %v", tc.json, tc.want, err)
		}
	}
}

func TestNumParametersMatchesTensors(t *testing.T) {
	for _, c := range []*Config{DefaultConfig(), tinyConfig(t)} {
		n := 0
		for _, s := range Tensors(c) {
			k := 1
			for _, d := range s.Shape {
				k *= d
			}
			n += k
		}
		if n != c.NumParameters() {
			t.Errorf("Tensors sum %d, NumParameters %d", n, c.NumParameters())
		}
	}
	if got := DefaultConfig().NumParameters(); got != 109482240 {
		t.Errorf("bert-base-uncased has 109482240 parameters (HF num_parameters), formula gives %d", got)
	}
}

// TestEmptyPrefixIsPlainBackbone: a Prefix hook that returns nil for every layer,
// or zero-length slots, leaves the outputs unchanged; padding does not change the
// outputs at real positions.
func TestHooksAndPadding(t *testing.T) {
	backend := testBackend(t)
	ctx := context.New()
	c, err := LoadDir(ctx, filepath.Join("testdata", "tiny-bert-plain"), false)
	if err != nil {
		t.Fatal(err)
	}
	run := func(ids, mask [][]int32, hooks *Hooks) []float32 {
		exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, ids, mask *Node) *Node {
			return Forward(ctx, c, Inputs{IDs: ids, Mask: mask}, hooks).Sequence
		})
		res, err := exec.Exec(tensors.FromValue(ids), tensors.FromValue(mask))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](res[0])
	}
	ids := [][]int32{{3, 10, 11, 12, 4}}
	mask := [][]int32{{1, 1, 1, 1, 1}}
	plain := run(ids, mask, nil)
	nilHooks := run(ids, mask, &Hooks{Prefix: func(int, *Node, *Node) (*Node, *Node) { return nil, nil }})
	if d := goldentest.MaxAbsDiff(nilHooks, toF64(plain)); d != 0 {
		t.Errorf("nil prefix changed the output by %g", d)
	}
	padded := run([][]int32{{3, 10, 11, 12, 4, 0, 0, 0}}, [][]int32{{1, 1, 1, 1, 1, 0, 0, 0}}, nil)
	if d := goldentest.MaxAbsDiff(padded[:len(plain)], toF64(plain)); d > 1e-6 {
		t.Errorf("padding changed real-token outputs by %g", d)
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
