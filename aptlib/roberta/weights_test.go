package roberta

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func tinyConfig(t *testing.T) *Config {
	t.Helper()
	c, err := LoadConfigDir(filepath.Join("testdata", "tiny-roberta-plain"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeModelDir writes a model directory with zero tensors of every canonical
// name (with prefix in front), edited by edit, and the tiny config.
func writeModelDir(t *testing.T, c *Config, prefix string, edit func(map[string]safetensors.Tensor)) string {
	t.Helper()
	dir := t.TempDir()
	byName := map[string]safetensors.Tensor{}
	for _, s := range Tensors(c) {
		byName[prefix+s.Name] = safetensors.Tensor{Name: prefix + s.Name, Shape: s.Shape, Data: make([]float32, prod(s.Shape))}
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
	cfgJSON, err := os.ReadFile(filepath.Join("testdata", "tiny-roberta-plain", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTensorsAndNames(t *testing.T) {
	c := tinyConfig(t)
	specs := Tensors(c)
	// 5 embedding tensors, 16 per layer, 2 pooler.
	if want := 5 + 16*c.NumLayers() + 2; len(specs) != want {
		t.Fatalf("%d tensors, want %d", len(specs), want)
	}
	for _, s := range specs {
		switch s.Name {
		case "embeddings.position_embeddings.weight":
			if s.Shape[0] != c.MaxLen()+c.PadID()+1 {
				t.Errorf("position table has %d rows, want MaxLen + pad + 1 = %d", s.Shape[0], c.MaxLen()+c.PadID()+1)
			}
		case "embeddings.token_type_embeddings.weight":
			if s.Shape[0] != 1 {
				t.Errorf("token type table has %d rows, want 1", s.Shape[0])
			}
		}
	}
	names := CheckpointNames("encoder.layer.0.output.dense.weight")
	if len(names) != 2 || names[0] != "encoder.layer.0.output.dense.weight" || names[1] != "roberta.encoder.layer.0.output.dense.weight" {
		t.Errorf("CheckpointNames = %q", names)
	}
}

func TestLoadErrorsNameTheTensor(t *testing.T) {
	c := tinyConfig(t)
	const victim = "encoder.layer.2.attention.self.key.weight"
	t.Run("missing", func(t *testing.T) {
		dir := writeModelDir(t, c, "roberta.", func(m map[string]safetensors.Tensor) { delete(m, "roberta."+victim) })
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), `"`+victim+`"`) || !strings.Contains(err.Error(), "roberta."+victim) ||
			!strings.Contains(err.Error(), "[32 32]") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("want an error naming %q, its prefixed name, its shape and the directory, got %v", victim, err)
		}
	})
	t.Run("misshaped", func(t *testing.T) {
		dir := writeModelDir(t, c, "", func(m map[string]safetensors.Tensor) {
			m[victim] = safetensors.Tensor{Name: victim, Shape: []int{32, 16}, Data: make([]float32, 512)}
		})
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "[32 16]") || !strings.Contains(err.Error(), "[32 32]") {
			t.Fatalf("want an error naming %q with both shapes, got %v", victim, err)
		}
	})
	t.Run("one pooler tensor", func(t *testing.T) {
		dir := writeModelDir(t, c, "", func(m map[string]safetensors.Tensor) { delete(m, "pooler.dense.bias") })
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), "pooler.dense.bias") || !strings.Contains(err.Error(), "only one of the pooler tensors") {
			t.Fatalf("want an error about the lone pooler tensor, got %v", err)
		}
	})
	t.Run("not finite", func(t *testing.T) {
		dir := writeModelDir(t, c, "", func(m map[string]safetensors.Tensor) {
			x := m[victim]
			x.Data[3] = float32(math.Inf(1))
		})
		_, err := LoadDir(context.New(), dir, false)
		if err == nil || !strings.Contains(err.Error(), victim) {
			t.Fatalf("want an error naming %q, got %v", victim, err)
		}
	})
}

// TestLoadWithoutPooler: a RobertaForMaskedLM-style checkpoint (prefixed
// names, lm_head.*, no pooler) loads; the pooler variables are not created and
// the config says so; with the pooler both layouts record it. The trainable
// flag follows the argument.
func TestLoadWithoutPooler(t *testing.T) {
	c := tinyConfig(t)
	dir := writeModelDir(t, c, "roberta.", func(m map[string]safetensors.Tensor) {
		delete(m, "roberta.pooler.dense.weight")
		delete(m, "roberta.pooler.dense.bias")
		m["lm_head.bias"] = safetensors.Tensor{Name: "lm_head.bias", Shape: []int{99}, Data: make([]float32, 99)}
	})
	ctx := context.New()
	got, err := LoadDir(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if has, known := got.CheckpointHasPooler(); has || !known {
		t.Errorf("CheckpointHasPooler() = %v, %v; want false, true", has, known)
	}
	if bert.Variable(ctx, "pooler.dense.weight") != nil {
		t.Error("pooler variable created from a checkpoint without pooler")
	}
	v := bert.Variable(ctx, "encoder.layer.0.attention.self.query.weight")
	if v == nil || !v.Trainable {
		t.Errorf("query weight variable %v: want present and trainable", v)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if PoolerInCheckpoint(set) {
		t.Error("PoolerInCheckpoint is true for a checkpoint without pooler")
	}

	ctx2 := context.New()
	got2, err := LoadDir(ctx2, writeModelDir(t, c, "", nil), false)
	if err != nil {
		t.Fatal(err)
	}
	if has, known := got2.CheckpointHasPooler(); !has || !known {
		t.Errorf("with pooler: CheckpointHasPooler() = %v, %v; want true, true", has, known)
	}
	if v := bert.Variable(ctx2, "pooler.dense.weight"); v == nil || v.Trainable {
		t.Errorf("pooler variable %v: want present and frozen", v)
	}
}

// TestTokenTypesIgnored: with type_vocab_size 1 every token type is 0, so
// token type ids of 1 (out of the table) change nothing. InitRandom builds a
// whole backbone, pooler included, and two seeds give different ones.
func TestTokenTypesIgnored(t *testing.T) {
	c := tinyConfig(t)
	backend := testbackendNew(t)
	ids := [][]int32{{0, 10, 11, 2, 2, 20, 2, 1}}
	types := [][]int32{{0, 0, 0, 0, 1, 1, 1, 0}}
	pooled := func(seed uint64, withTypes bool) []float32 {
		ctx := context.New()
		InitRandom(ctx, c, seed, false)
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types *Node) *Node {
			in := backbone.Inputs{IDs: ids}
			if withTypes {
				in.TypeIDs = types
			}
			out := Forward(ctx, c, in, nil)
			return out.Pooled()
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Exec(tensors.FromValue(ids), tensors.FromValue(types))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](res[0])
	}
	a, b, other := pooled(7, false), pooled(7, true), pooled(8, false)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("token type ids changed the output at %d: %g vs %g", i, a[i], b[i])
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == other[i]
	}
	if same {
		t.Error("InitRandom with two seeds gave the same backbone")
	}
}

// TestPooledWithoutPoolerIsAnError: Output.Pooled on a backbone loaded from a
// checkpoint without pooler fails with a message naming the missing tensor,
// and works once the pooler variables are created.
func TestPooledWithoutPoolerIsAnError(t *testing.T) {
	c := tinyConfig(t)
	dir := writeModelDir(t, c, "roberta.", func(m map[string]safetensors.Tensor) {
		delete(m, "roberta.pooler.dense.weight")
		delete(m, "roberta.pooler.dense.bias")
	})
	ctx := context.New()
	if _, err := LoadDir(ctx, dir, false); err != nil {
		t.Fatal(err)
	}
	backend := testbackendNew(t)
	pooled := func() error {
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids *Node) *Node {
			return Forward(ctx, c, backbone.Inputs{IDs: ids}, nil).Pooled()
		})
		if err == nil {
			_, err = exec.Exec(tensors.FromValue([][]int32{{0, 5, 2}}))
		}
		return err
	}
	if err := pooled(); err == nil || !strings.Contains(err.Error(), `no pooler variable "pooler.dense.weight"`) {
		t.Fatalf("want an error naming the missing pooler tensor, got %v", err)
	}
	for _, s := range Tensors(c) {
		if slices.Contains(PoolerTensors, s.Name) {
			bert.SetTensor(ctx, s, make([]float32, prod(s.Shape)), true)
		}
	}
	if err := pooled(); err != nil {
		t.Fatalf("with the pooler created: %v", err)
	}
}

func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
