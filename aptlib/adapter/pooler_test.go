package adapter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// noPoolerModel writes the tiny checkpoint without its pooler tensors, as a
// masked-LM save (real roberta-base, deberta-v3-base) has none.
func noPoolerModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	set, err := safetensors.OpenDir(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var ts []safetensors.Tensor
	for _, name := range set.Names() {
		if strings.Contains(name, "pooler.") {
			continue
		}
		data, shape, err := set.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shape, Data: data})
	}
	if len(ts) == len(set.Names()) {
		t.Fatal("the tiny checkpoint has no pooler to drop")
	}
	if err := safetensors.Write(filepath.Join(dir, safetensors.SingleFileName), ts, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.json", "vocab.txt"} {
		data, err := os.ReadFile(filepath.Join(tinyModel, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A backbone without pooler: the pooler is created with the head, trained
// with it (the backbone stays frozen), saved in the adapter as pooler.* and
// reloaded bit-identically; an adapter and a backbone that disagree about it
// are refused.
func TestCreatedPoolerRoundTrip(t *testing.T) {
	dir := noPoolerModel(t)
	ctx := context.New()
	cfg, _, err := backbone.LoadDir(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if backbone.HasPooler(cfg) {
		t.Fatal("a checkpoint without pooler tensors loaded with a pooler")
	}
	_, full := freshBackbone(t, false)
	if d := full.HiddenDim; cfg.NumParameters() != full.NumParameters()-d*d-d {
		t.Errorf("NumParameters %d without pooler, %d with", cfg.NumParameters(), full.NumParameters())
	}
	m := method.Default(method.APT, cfg.NumLayers())
	m.PrefixLens = []int{2, 0}[:cfg.NumLayers()]
	spec := &model.Spec{Backbone: cfg, Method: m, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if !spec.CreatesPooler() {
		t.Fatal("spec does not create the pooler")
	}
	method.Create(ctx, &spec.Method, cfg.HiddenSize(), 1)
	model.CreateHead(ctx, spec, 2)
	poolerW := func(c *context.Context) []float32 {
		v := c.GetVariableByScopeAndName("/"+backbone.ScopePooler, "weight")
		if v == nil {
			t.Fatal("no created pooler")
		}
		return tensors.MustCopyFlatData[float32](v.MustValue())
	}
	before := poolerW(ctx)
	data := examples(16, 5, model.SequenceClassification)
	be := goBackend(t)
	tr, err := trainer.New(be, ctx, spec, data, trainer.Options{BatchSize: 8, MaxLen: 32, Bucket: 32, LR: 1e-2, Epochs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if slices.Equal(before, poolerW(ctx)) {
		t.Error("the created pooler did not change in training")
	}
	predictWith := func(c *context.Context, s *model.Spec) *trainer.Predictions {
		p, err := trainer.NewPredictor(be, c, s, 4, 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Predict(data)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := predictWith(ctx, spec)

	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := Save(path, ctx, spec, Meta{Task: "t", BaseModel: dir, Labels: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Pooler {
		t.Fatal("the adapter does not hold the pooler")
	}
	for _, ts := range PoolerLayout(cfg.HiddenSize()) {
		if got, ok := a.Tensors[ts.Name]; !ok || !slices.Equal(got.Shape, ts.Shape) {
			t.Errorf("adapter tensor %s: %v", ts.Name, got.Shape)
		}
	}
	ctx2 := context.New()
	cfg2, _, err := backbone.LoadDir(ctx2, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	spec2, err := a.Apply(ctx2, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	got := predictWith(ctx2, spec2)
	for i := range want.Examples {
		for r := range want.Examples[i].Logits {
			if !slices.Equal(want.Examples[i].Logits[r], got.Examples[i].Logits[r]) {
				t.Fatalf("example %d: logits %v before the round trip, %v after", i, want.Examples[i].Logits[r], got.Examples[i].Logits[r])
			}
		}
	}

	// Disagreements: this adapter on a backbone with its own pooler, and a
	// pooler-less backbone given an adapter without pooler.
	if _, err := a.Spec(full); err == nil || !strings.Contains(err.Error(), "the backbone has its own") {
		t.Errorf("pooler adapter on a pooled backbone: %v", err)
	}
	other, otherSpec := newModel(t, method.APT, []int{2, 1}[:full.NumHiddenLayers], model.SequenceClassification)
	plain := filepath.Join(t.TempDir(), "plain.safetensors")
	if err := Save(plain, other, otherSpec, Meta{Task: "t", BaseModel: tinyModel, Labels: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	b, err := Load(plain)
	if err != nil {
		t.Fatal(err)
	}
	if b.Pooler {
		t.Error("an adapter of a pooled backbone holds a pooler")
	}
	if _, err := b.Spec(cfg2); err == nil || !strings.Contains(err.Error(), "has no pooler and the adapter holds none") {
		t.Errorf("plain adapter on a pooler-less backbone: %v", err)
	}
}
