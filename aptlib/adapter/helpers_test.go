package adapter

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

const tinyModel = "../bert/testdata/tiny-bert-plain"

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	return testbackend.New(t)
}

// examples is a small varied dataset: random word ids of varied lengths (so
// that batches are padded), two choices per example for multiple choice.
func examples(n int, seed uint64, head model.Head) []model.Example {
	rng := rand.New(rand.NewPCG(seed, 3))
	row := func() ([]int32, []int32) {
		l := 2 + rng.IntN(14)
		ids := []int32{3}
		for range l {
			ids = append(ids, int32(5+rng.IntN(90)))
		}
		ids = append(ids, 4)
		types := make([]int32, len(ids))
		for i := len(ids) / 2; i < len(ids); i++ {
			types[i] = 1
		}
		return ids, types
	}
	var out []model.Example
	for range n {
		ex := model.Example{Label: rng.IntN(2)}
		choices := 1
		if head == model.MultipleChoice {
			choices = 2
		}
		for range choices {
			ids, types := row()
			ex.IDs, ex.TypeIDs = append(ex.IDs, ids), append(ex.TypeIDs, types)
		}
		if head == model.TokenClassification {
			ex.TokenLabels = make([]int32, len(ex.IDs[0]))
			for i := range ex.TokenLabels {
				ex.TokenLabels[i] = int32(rng.IntN(3))
			}
		}
		out = append(out, ex)
	}
	return out
}

// freshBackbone loads the tiny checkpoint into a new context.
func freshBackbone(t testing.TB, trainable bool) (*context.Context, *bert.Config) {
	t.Helper()
	ctx := context.New()
	cfg, err := bert.LoadDir(ctx, tinyModel, trainable)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, cfg
}

// numLabels of the test heads.
func numLabels(head model.Head) int {
	if head == model.TokenClassification {
		return 3
	}
	return 2
}

// newModel creates a method (with unequal prefix lengths lens) and a head in a
// fresh context, with values far from their initialisation (large init std,
// non-zero gate bias, lambda != 1, random head bias) so that every tensor
// matters to the outputs.
func newModel(t testing.TB, kind method.Kind, lens []int, head model.Head) (*context.Context, *model.Spec) {
	t.Helper()
	ctx, cfg := freshBackbone(t, kind == method.FT)
	m := method.Default(kind, cfg.NumHiddenLayers)
	m.InitStd, m.GateBiasInit, m.LayerScaleInit = 0.5, 0.3, 0.7
	if kind.HasPrefix() {
		m.PrefixLens = lens
	}
	if kind == method.PT {
		m.PromptLen = 3
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: head, NumLabels: numLabels(head), Dropout: cfg.HiddenDropoutProb}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 11)
	model.CreateHead(ctx, spec, 12)
	n := spec.HeadOutputs()
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = 0.1 * float32(i+1)
	}
	method.SetVariable(ctx, "/"+model.ScopeHead, "bias", tensors.FromFlatDataAndDimensions(bias, n))
	return ctx, spec
}

func predict(t testing.TB, ctx *context.Context, spec *model.Spec, data []model.Example) *trainer.Predictions {
	t.Helper()
	res, err := tryPredict(t, ctx, spec, data)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tryPredict(t testing.TB, ctx *context.Context, spec *model.Spec, data []model.Example) (*trainer.Predictions, error) {
	t.Helper()
	p, err := trainer.NewPredictor(goBackend(t), ctx, spec, 4, 8, 32)
	if err != nil {
		return nil, err
	}
	return p.Predict(data)
}

// sameVariables fails unless every adapter tensor of layout has bit-identical
// values in the two contexts.
func sameVariables(t testing.TB, layout []TensorSpec, want, got *context.Context) {
	t.Helper()
	for _, l := range layout {
		a, err := variableData(want, l)
		if err != nil {
			t.Fatal(err)
		}
		b, err := variableData(got, l)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s[%d]: %v saved, %v loaded", l.Name, i, a[i], b[i])
			}
		}
	}
}

// sameBits fails unless two prediction sets are bit-identical (logits, alpha, lambda).
func sameBits(t testing.TB, want, got *trainer.Predictions) {
	t.Helper()
	if len(want.Examples) != len(got.Examples) || len(want.Lambda) != len(got.Lambda) {
		t.Fatalf("sizes differ: %d/%d examples, %d/%d lambdas", len(want.Examples), len(got.Examples), len(want.Lambda), len(got.Lambda))
	}
	for i := range want.Lambda {
		if math.Float64bits(want.Lambda[i]) != math.Float64bits(got.Lambda[i]) {
			t.Fatalf("lambda[%d]: %v before, %v after", i, want.Lambda[i], got.Lambda[i])
		}
	}
	rows := func(what string, i int, a, b [][]float32) {
		if len(a) != len(b) {
			t.Fatalf("example %d %s: %d rows before, %d after", i, what, len(a), len(b))
		}
		for r := range a {
			if len(a[r]) != len(b[r]) {
				t.Fatalf("example %d %s row %d: %d values before, %d after", i, what, r, len(a[r]), len(b[r]))
			}
			for k := range a[r] {
				if math.Float32bits(a[r][k]) != math.Float32bits(b[r][k]) {
					t.Fatalf("example %d %s[%d][%d]: %v before, %v after", i, what, r, k, a[r][k], b[r][k])
				}
			}
		}
	}
	for i := range want.Examples {
		rows("logits", i, want.Examples[i].Logits, got.Examples[i].Logits)
		rows("alpha", i, want.Examples[i].Alpha, got.Examples[i].Alpha)
	}
}

// noLeftovers fails when dir holds anything but the names given.
func noLeftovers(t testing.TB, dir string, allowed ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[filepath.Base(a)] = true
	}
	for _, e := range entries {
		if !ok[e.Name()] {
			t.Errorf("unexpected entry %q left in %s", e.Name(), dir)
		}
	}
}
