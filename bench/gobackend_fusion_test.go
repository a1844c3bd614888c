package bench

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/gobackend"
)

// TestGoBackendFusionBitIdentical trains a small model (dropout on, FT and
// APT) for three steps on the go backend with and without its element-wise
// fusion, reductions and RNG steps (min_fuse=-1): every variable, optimizer
// state and RNG state included, must come out bit for bit the same.
func TestGoBackendFusionBitIdentical(t *testing.T) {
	for _, kind := range []method.Kind{method.FT, method.APT} {
		var runs []map[string][]float32
		for _, config := range []string{"", "min_fuse=-1"} {
			b, err := gobackend.New(config)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, trainSmall(t, b, kind))
		}
		if len(runs[0]) == 0 || len(runs[0]) != len(runs[1]) {
			t.Fatalf("%s: %d and %d variables", kind, len(runs[0]), len(runs[1]))
		}
		for name, a := range runs[0] {
			b := runs[1][name]
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s: %s[%d] = %v fused, %v unfused", kind, name, i, a[i], b[i])
				}
			}
		}
	}
}

// trainSmall trains a 2-layer d32 model for three steps and returns its
// variables (uint64 ones, the RNG state, as float32 pairs of their halves).
func trainSmall(t *testing.T, b backends.Backend, kind method.Kind) map[string][]float32 {
	t.Helper()
	cfg := bert.DefaultConfig()
	cfg.NumHiddenLayers, cfg.HiddenDim, cfg.NumAttentionHeads, cfg.IntermediateSize = 2, 32, 2, 64
	cfg.VocabSize = 120
	ctx := context.New()
	bert.InitRandom(ctx, cfg, 1, kind == method.FT)
	m := method.Default(kind, cfg.NumHiddenLayers)
	if kind.HasPrefix() {
		m.PrefixLens = method.Uniform(cfg.NumHiddenLayers, 4)
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 2)
	model.CreateHead(ctx, spec, 3)
	rng := rand.New(rand.NewPCG(4, 5))
	data := make([]model.Example, 64)
	for i := range data {
		ids := make([]int32, 16)
		for j := range ids {
			ids[j] = int32(rng.IntN(cfg.VocabSize))
		}
		data[i] = model.Example{IDs: [][]int32{ids}, TypeIDs: [][]int32{make([]int32, 16)}, Label: rng.IntN(2)}
	}
	tr, err := trainer.New(b, ctx, spec, data, trainer.Options{BatchSize: 16, MaxLen: 16, Bucket: 16, LR: 1e-2,
		Epochs: 10, Warmup: 1, WeightDecay: 0.05, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]float32{}
	ctx.EnumerateVariables(func(v *context.Variable) {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		switch val.DType() {
		case dtypes.Float32:
			out[v.ScopeAndName()] = tensors.MustCopyFlatData[float32](val)
		case dtypes.Uint64:
			var f []float32
			for _, u := range tensors.MustCopyFlatData[uint64](val) {
				f = append(f, math.Float32frombits(uint32(u)), math.Float32frombits(uint32(u>>32)))
			}
			out[v.ScopeAndName()] = f
		}
	})
	return out
}
