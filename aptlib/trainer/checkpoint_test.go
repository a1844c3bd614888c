package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The checkpoint tests keep their own helpers (names prefixed ckpt) so that
// they do not depend on the other test files of the package.

const ckptModel = "../bert/testdata/tiny-bert-plain"

// ckptData: label 1 when word 10 occurs; lengths 3..14 so that batches come
// in several bucket lengths.
func ckptData(n int, seed uint64) []model.Example {
	rng := rand.New(rand.NewPCG(seed, 9))
	var out []model.Example
	for range n {
		l := 2 + rng.IntN(11)
		ids := []int32{3}
		label := rng.IntN(2)
		for range l {
			ids = append(ids, int32(11+rng.IntN(60)))
		}
		if label == 1 {
			ids[1+rng.IntN(l)] = 10
		}
		ids = append(ids, 4)
		out = append(out, model.Example{IDs: [][]int32{ids}, TypeIDs: [][]int32{make([]int32, len(ids))}, Label: label})
	}
	return out
}

// ckptTrainer builds a trainer from scratch: a fresh context with the tiny
// backbone (or, with cfg != nil, a random backbone of that config and seed),
// the method and the head.
func ckptTrainer(t *testing.T, kind method.Kind, lens []int, cfg *bert.Config, backboneSeed uint64, data []model.Example, opts Options) *Trainer {
	t.Helper()
	ctx := context.New()
	if cfg == nil {
		var err error
		if cfg, err = bert.LoadDir(ctx, ckptModel, kind.TrainsBackbone()); err != nil {
			t.Fatal(err)
		}
	} else {
		bert.InitRandom(ctx, cfg, backboneSeed, kind.TrainsBackbone())
	}
	m := method.Default(kind, cfg.NumHiddenLayers)
	if kind.HasPrefix() {
		m.PrefixLens = lens
	}
	if kind == method.PT {
		m.PromptLen = 3
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 7)
	model.CreateHead(ctx, spec, 8)
	tr, err := New(testbackend.New(t), ctx, spec, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func ckptOptions() Options {
	return Options{BatchSize: 8, LR: 2e-2, Epochs: 4, Bucket: 8, MaxLen: 32, Seed: 5, Warmup: 3, WeightDecay: 0.01}
}

func ckptSteps(t *testing.T, tr *Trainer, n int) []float64 {
	t.Helper()
	var losses []float64
	for range n {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, r.Loss)
	}
	return losses
}

// ckptState copies the trainable variables and their AdamW moments.
func ckptState(tr *Trainer) map[string][]float32 {
	out := map[string][]float32{}
	for _, v := range tr.vars {
		out[v.ScopeAndName()] = tensors.MustCopyFlatData[float32](v.MustValue())
		for _, which := range []string{"m", "v"} {
			if m := tr.Ctx.GetVariableByScopeAndName("/"+ScopeOptimizer+"/"+which+v.Scope(), v.Name()); m != nil {
				out[momentName(which, v)] = tensors.MustCopyFlatData[float32](m.MustValue())
			}
		}
	}
	return out
}

func sameFloat64Bits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// TestCheckpointResume: train N steps, checkpoint, train M more; a fresh
// trainer that loads the checkpoint and trains M steps gives bit-identical
// losses, variables, moments and gate history.
func TestCheckpointResume(t *testing.T) {
	const N, M = 7, 6 // N crosses an epoch boundary (5 batches per epoch here)
	cases := []struct {
		kind method.Kind
		lens []int
	}{
		{method.APT, []int{3, 0}},
		{method.APTNoLayerGate, []int{2, 4}},
		{method.APTNoTokenGate, []int{0, 3}},
		{method.PT2, []int{4, 1}},
		{method.FT, nil},
	}
	data := ckptData(40, 1)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%v", c.kind, c.lens), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.ckpt.safetensors")
			a := ckptTrainer(t, c.kind, c.lens, nil, 0, data, ckptOptions())
			ckptSteps(t, a, N)
			if err := a.SaveCheckpointMeta(path, map[string]string{"base_model": ckptModel}); err != nil {
				t.Fatal(err)
			}
			wantLosses := ckptSteps(t, a, M)
			want := ckptState(a)

			b := ckptTrainer(t, c.kind, c.lens, nil, 0, data, ckptOptions())
			if err := b.LoadCheckpoint(path); err != nil {
				t.Fatal(err)
			}
			if b.StepCount != N || len(b.Losses) != N || !sameFloat64Bits(b.Losses, a.Losses[:N]) {
				t.Fatalf("restored step %d, losses %v; want %d, %v", b.StepCount, b.Losses, N, a.Losses[:N])
			}
			gotLosses := ckptSteps(t, b, M)
			if !sameFloat64Bits(gotLosses, wantLosses) {
				t.Fatalf("losses after resuming %v, uninterrupted run %v", gotLosses, wantLosses)
			}
			got := ckptState(b)
			if len(got) != len(want) {
				t.Fatalf("%d variables after resuming, %d in the uninterrupted run", len(got), len(want))
			}
			for name, w := range want {
				g := got[name]
				for i := range w {
					if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
						t.Fatalf("%s[%d] = %v after resuming, %v uninterrupted", name, i, g[i], w[i])
					}
				}
			}
			if b.Epoch != a.Epoch || b.BatchInEpoch != a.BatchInEpoch || !sameFloat64Bits(b.Losses, a.Losses) {
				t.Errorf("position %d/%d vs %d/%d", b.Epoch, b.BatchInEpoch, a.Epoch, a.BatchInEpoch)
			}
			if len(b.History) != len(a.History) {
				t.Fatalf("history of %d snapshots, want %d", len(b.History), len(a.History))
			}
			for k := range a.History {
				x, y := a.History[k], b.History[k]
				if x.Step != y.Step || !sameFloat64Bits(x.Lambda, y.Lambda) || len(x.Alpha) != len(y.Alpha) {
					t.Fatalf("history[%d] = %+v, want %+v", k, y, x)
				}
				for i := range x.Alpha {
					if !sameFloat64Bits(x.Alpha[i], y.Alpha[i]) {
						t.Fatalf("history[%d].Alpha[%d] = %v, want %v", k, i, y.Alpha[i], x.Alpha[i])
					}
				}
			}
			md, err := CheckpointMetadata(path)
			if err != nil {
				t.Fatal(err)
			}
			if md["base_model"] != ckptModel || (md["backbone"] == "frozen") == c.kind.TrainsBackbone() {
				t.Errorf("metadata base_model %q backbone %q", md["base_model"], md["backbone"])
			}
			f, _ := safetensors.Open(path)
			hasBert := slices.ContainsFunc(f.Names(), func(n string) bool { return strings.HasPrefix(n, "/bert/") })
			f.Close()
			if hasBert != c.kind.TrainsBackbone() {
				t.Errorf("backbone tensors in the checkpoint: %v, method %s", hasBert, c.kind)
			}
		})
	}
}

// TestCheckpointRNGMatters makes sure the test above can fail: with the random
// state (dropout) not restored, the resumed losses differ.
func TestCheckpointRNGMatters(t *testing.T) {
	data := ckptData(40, 1)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	a := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
	ckptSteps(t, a, 3)
	if err := a.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	want := ckptSteps(t, a, 3)
	b := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
	if err := b.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if err := b.Ctx.SetRNGStateFromSeed(12345); err != nil {
		t.Fatal(err)
	}
	if got := ckptSteps(t, b, 3); sameFloat64Bits(got, want) {
		t.Error("losses identical with another dropout state: the resume test would not notice a lost RNG state")
	}
}

// TestCheckpointMismatch: a checkpoint made for another method, prefix
// layout, backbone size, backbone, data or options is refused with a clear
// error, and the trainer is left as it was.
func TestCheckpointMismatch(t *testing.T) {
	data := ckptData(40, 1)
	path := filepath.Join(t.TempDir(), "apt.safetensors")
	src := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
	ckptSteps(t, src, 2)
	if err := src.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	tiny, err := bert.LoadConfigDir(ckptModel)
	if err != nil {
		t.Fatal(err)
	}
	wide := *tiny
	wide.HiddenDim = 64
	cases := []struct {
		name string
		tr   func() *Trainer
		want []string
	}{
		{"other method", func() *Trainer { return ckptTrainer(t, method.PT2, []int{3, 0}, nil, 0, data, ckptOptions()) },
			[]string{"made for method apt with prefix lengths [3 0]", "this trainer runs pt2"}},
		{"other lengths", func() *Trainer { return ckptTrainer(t, method.APT, []int{2, 2}, nil, 0, data, ckptOptions()) },
			[]string{"prefix lengths [3 0]", "prefix lengths [2 2]"}},
		{"ft", func() *Trainer { return ckptTrainer(t, method.FT, nil, nil, 0, data, ckptOptions()) },
			[]string{"made for method apt", "this trainer runs ft"}},
		{"backbone size", func() *Trainer { return ckptTrainer(t, method.APT, []int{3, 0}, &wide, 1, data, ckptOptions()) },
			[]string{"made for another backbone", "hidden_size 32 (this trainer's backbone: 64)"}},
		{"other backbone weights", func() *Trainer { return ckptTrainer(t, method.APT, []int{3, 0}, tiny, 1, data, ckptOptions()) },
			[]string{"frozen backbone", "differs"}},
		{"other data", func() *Trainer {
			return ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, ckptData(40, 2), ckptOptions())
		},
			[]string{"other training data"}},
		{"compiled with other options", func() *Trainer {
			o := ckptOptions()
			o.WeightDecay = 0.1
			tr := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, o)
			ckptSteps(t, tr, 1)
			return tr
		}, []string{"fresh trainer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.tr()
			before := ckptState(tr)
			step := tr.StepCount
			err := tr.LoadCheckpoint(path)
			if err == nil {
				t.Fatal("LoadCheckpoint succeeded")
			}
			t.Log(err)
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			after := ckptState(tr)
			if tr.StepCount != step || len(after) != len(before) {
				t.Error("a failed LoadCheckpoint changed the trainer")
			}
			for name, w := range before {
				if !slices.Equal(w, after[name]) {
					t.Errorf("a failed LoadCheckpoint changed %s", name)
				}
			}
		})
	}
	t.Run("not a checkpoint", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "x.safetensors")
		if err := safetensors.Write(other, []safetensors.Tensor{{Name: "head.bias", Shape: []int{2}, Data: []float32{0, 0}}},
			map[string]string{"format": "apt-adapter/1"}); err != nil {
			t.Fatal(err)
		}
		tr := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
		if err := tr.LoadCheckpoint(other); err == nil || !strings.Contains(err.Error(), "not a training checkpoint") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("reserved extra", func(t *testing.T) {
		if err := src.SaveCheckpointMeta(filepath.Join(t.TempDir(), "y"), map[string]string{"step": "1"}); err == nil {
			t.Error("a reserved extra key was accepted")
		}
	})
}

// TestCheckpointNonFinite: a checkpoint whose variables or AdamW moments hold a
// NaN or an infinity (a run that had diverged) is refused at load with an error
// naming the file, the tensor and the value, and the trainer is left as it was.
// The gate history may hold NaN (layers without a layer gate): that stays loadable.
func TestCheckpointNonFinite(t *testing.T) {
	data := ckptData(40, 1)
	dir := t.TempDir()
	good := filepath.Join(dir, "apt.safetensors")
	src := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
	ckptSteps(t, src, 2)
	if err := src.SaveCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	// poisoned rewrites the checkpoint with value x at index 1 of the tensor
	// named like target (a variable, or with the prefix its moment).
	poisoned := func(name string, target func(string) bool, x float32) (string, string) {
		f, err := safetensors.Open(good)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var ts []safetensors.Tensor
		hit := ""
		for _, n := range f.Names() {
			d, shape, err := f.Float32(n)
			if err != nil {
				t.Fatal(err)
			}
			if hit == "" && len(d) > 1 && target(n) {
				d[1], hit = x, n
			}
			ts = append(ts, safetensors.Tensor{Name: n, Shape: shape, Data: d})
		}
		if hit == "" {
			t.Fatalf("%s: no tensor to poison", name)
		}
		path := filepath.Join(dir, name+".safetensors")
		if err := safetensors.Write(path, ts, f.Metadata()); err != nil {
			t.Fatal(err)
		}
		return path, hit
	}
	isVar := func(n string) bool {
		return !strings.HasPrefix(n, "/"+ScopeOptimizer) && !strings.HasPrefix(n, "history/")
	}
	isMoment := func(n string) bool { return strings.HasPrefix(n, "/"+ScopeOptimizer+"/v/") }
	for _, c := range []struct {
		name   string
		target func(string) bool
		x      float32
		want   string
	}{
		{"nan-variable", isVar, float32(math.NaN()), "NaN at index 1"},
		{"inf-moment", isMoment, float32(math.Inf(1)), "+Inf at index 1"},
		{"neg-inf-variable", isVar, float32(math.Inf(-1)), "-Inf at index 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, tensor := poisoned(c.name, c.target, c.x)
			tr := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
			before := ckptState(tr)
			err := tr.LoadCheckpoint(path)
			if err == nil {
				t.Fatal("LoadCheckpoint accepted a non-finite tensor")
			}
			t.Log(err)
			for _, w := range []string{path, fmt.Sprintf("%q", tensor), "non-finite", c.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			after := ckptState(tr)
			if tr.StepCount != 0 || len(after) != len(before) {
				t.Error("a failed LoadCheckpoint changed the trainer")
			}
			for name, w := range before {
				if !slices.Equal(w, after[name]) {
					t.Errorf("a failed LoadCheckpoint changed %s", name)
				}
			}
		})
	}
	// The unpoisoned file loads (its history has a NaN lambda for the layer
	// without a prefix, which is no reason to refuse it).
	tr := ckptTrainer(t, method.APT, []int{3, 0}, nil, 0, data, ckptOptions())
	if err := tr.LoadCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	if len(tr.History) == 0 || !slices.ContainsFunc(tr.History[0].Lambda, math.IsNaN) {
		t.Errorf("the loaded history has no NaN lambda, so the test does not show NaN history is accepted: %+v", tr.History)
	}
}
