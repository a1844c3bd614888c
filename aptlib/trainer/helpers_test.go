package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Helpers of the package's tests: tinyModel, goBackend, synthetic, setup. The
// shared method suite, which trains every method, is ../method/suite_test.go.

const tinyModel = "../bert/testdata/tiny-bert-plain"

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	return testbackend.New(t)
}

// synthetic is a tiny task on tinyModel: the label says whether word 10 occurs in
// the sentence. Lengths vary, so batches are bucketed.
func synthetic(n int, seed uint64, head model.Head) []model.Example {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []model.Example
	for range n {
		l := 3 + rng.IntN(12)
		ids := []int32{3}
		label := rng.IntN(2)
		for range l {
			w := int32(11 + rng.IntN(60))
			ids = append(ids, w)
		}
		if label == 1 {
			ids[1+rng.IntN(l)] = 10
		}
		ids = append(ids, 4)
		ex := model.Example{IDs: [][]int32{ids}, TypeIDs: [][]int32{make([]int32, len(ids))}, Label: label}
		if head == model.TokenClassification {
			ex.TokenLabels = make([]int32, len(ids))
			for i, id := range ids {
				switch {
				case i == 0 || i == len(ids)-1:
					ex.TokenLabels[i] = model.IgnoreLabel
				case id == 10:
					ex.TokenLabels[i] = 1
				}
			}
		}
		out = append(out, ex)
	}
	return out
}

// setup loads tinyModel and creates kind's variables (lengths [4, 2], prompt 4) and a head.
func setup(t testing.TB, kind method.Kind, head model.Head) (*context.Context, *model.Spec) {
	ctx := context.New()
	cfg, err := bert.LoadDir(ctx, tinyModel, false)
	if err != nil {
		t.Fatal(err)
	}
	m := method.Default(kind, cfg.NumHiddenLayers)
	if kind.HasPrefix() {
		m.PrefixLens = []int{4, 2}
	}
	if kind == method.PT {
		m.PromptLen = 4
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: head, NumLabels: 2, Dropout: 0.1}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 7)
	model.CreateHead(ctx, spec, 8)
	return ctx, spec
}

// TestTrainAfterPrefixLengthChange: a run, then new prefix lengths on the same
// context (what the workbench does after `set prefix_len=...`: method.Create again,
// then trainer.New), then training again must work. The AdamW moments of the first
// run (/optimizer/m|v/prefix/0/key, [4, d]) must not be reused for the new
// prefix ([2, d]).
func TestTrainAfterPrefixLengthChange(t *testing.T) {
	be := goBackend(t)
	ctx, spec := setup(t, method.APT, model.SequenceClassification) // prefix lengths [4 2]
	data := synthetic(16, 1, model.SequenceClassification)
	opts := Options{BatchSize: 8, MaxLen: 16, Bucket: 16, Seed: 1}
	tr, err := New(be, ctx, spec, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	spec.Method.PrefixLens = []int{2, 2} // layer 0: 4 -> 2 slots
	method.Create(ctx, &spec.Method, spec.Backbone.HiddenSize(), 2)
	tr, err = New(be, ctx, spec, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatalf("training after changing the prefix lengths: %v", err)
	}
}
