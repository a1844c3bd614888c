package method_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aptbench/apt/internal/goldentest"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The APT golden test: the forward pass of APT, its ablations and
// PT-2 on random checkpoints, with random adapters of unequal per-layer lengths
// (zeros included) on a padded batch, against testdata/make_apt_golden.py, an
// independent PyTorch reference written from the math of docs/methods.md (in float64).

const goldenTol = 1e-4

type aptGolden struct {
	InputIDs      [][]int32 `json:"input_ids"`
	TokenTypeIDs  [][]int32 `json:"token_type_ids"`
	AttentionMask [][]int32 `json:"attention_mask"`
	NumLabels     int       `json:"num_labels"`
	Cases         []struct {
		Name        string                 `json:"name"`
		Model       string                 `json:"model"`
		Method      string                 `json:"method"`
		PrefixLens  []int                  `json:"prefix_lens"`
		GatePooling string                 `json:"gate_pooling"`
		Adapter     string                 `json:"adapter"`
		Sequence    [][][]float64          `json:"sequence_output"`
		Pooled      [][]float64            `json:"pooled_output"`
		Logits      [][]float64            `json:"logits"`
		Alpha       map[string][][]float64 `json:"alpha"`
	} `json:"cases"`
}

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	return testbackend.New(t)
}

func readAPTGolden(t *testing.T) *aptGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "apt_golden.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with: cd aptlib/method/testdata && /usr/bin/python3 make_apt_golden.py)", err)
	}
	var g aptGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("apt_golden.json has no cases")
	}
	return &g
}

// loadAdapterFile sets every tensor of an adapter file (docs/adapters.md names) as the
// variable of the same name (method.VariablePath: "prefix.3.key" -> /prefix/3 key,
// "head.weight" -> /head weight).
func loadAdapterFile(t *testing.T, ctx *context.Context, path string) map[string]*tensors.Tensor {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*tensors.Tensor{}
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		tt := tensors.FromFlatDataAndDimensions(data, shape...)
		scope, vname := method.VariablePath(name)
		method.SetVariable(ctx, scope, vname, tt)
		out[name] = tt
	}
	return out
}

// goldenRun is what the Go code computes for one case.
type goldenRun struct {
	seq, pooled, logits []float32
	alpha               map[int][]float32
}

// runGolden loads the case's backbone and adapter, optionally mutates the method
// config and the context, and runs bert.Forward with method.Hooks (sequence,
// pooled, alphas) and model.Forward (logits), in inference mode.
func runGolden(t *testing.T, be backends.Backend, gd *aptGolden, ci int, mutate func(*method.Config, *context.Context)) goldenRun {
	t.Helper()
	c := gd.Cases[ci]
	ctx := context.New()
	cfg, err := bert.LoadDir(ctx, filepath.Join("testdata", filepath.FromSlash(c.Model)), false)
	if err != nil {
		t.Fatal(err)
	}
	kind, err := method.ParseKind(c.Method)
	if err != nil {
		t.Fatal(err)
	}
	mc := method.Default(kind, cfg.NumHiddenLayers)
	mc.PrefixLens = c.PrefixLens
	mc.GatePooling = c.GatePooling
	loadAdapterFile(t, ctx, filepath.Join("testdata", c.Adapter))
	if mutate != nil {
		mutate(&mc, ctx)
	}
	if err := mc.Validate(cfg.NumHiddenLayers); err != nil {
		t.Fatal(err)
	}
	alphaLayers, _ := mc.GateLayout()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
		gates := &method.Gates{}
		out := bert.Forward(ctx, cfg, bert.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, method.Hooks(ctx, &mc, gates))
		outs := []*Node{out.Sequence, out.Pooled()}
		for i, a := range gates.Alpha {
			if (a != nil) != alphaLayers[i] {
				panic(fmt.Sprintf("layer %d: alpha node present=%v, GateLayout says %v", i, a != nil, alphaLayers[i]))
			}
			if a != nil {
				outs = append(outs, a)
			}
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, types, mask := tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask)
	res, err := exec.Exec(ids, types, mask)
	if err != nil {
		t.Fatal(err)
	}
	run := goldenRun{
		seq:    tensors.MustCopyFlatData[float32](res[0]),
		pooled: tensors.MustCopyFlatData[float32](res[1]),
		alpha:  map[int][]float32{},
	}
	k := 2
	for i, has := range alphaLayers {
		if has {
			run.alpha[i] = tensors.MustCopyFlatData[float32](res[k])
			k++
		}
	}

	spec := &model.Spec{Backbone: cfg, Method: mc, Head: model.SequenceClassification, NumLabels: gd.NumLabels}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	logitsExec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) *Node {
		logits, _ := model.Forward(ctx, spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		return logits
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err = logitsExec.Exec(ids, types, mask)
	if err != nil {
		t.Fatal(err)
	}
	run.logits = tensors.MustCopyFlatData[float32](res[0])
	return run
}

func maxDiff(t *testing.T, what string, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// diffs is the largest difference of each output from the case's golden values.
func diffs(t *testing.T, gd *aptGolden, ci int, run goldenRun) map[string]float64 {
	c := gd.Cases[ci]
	out := map[string]float64{
		"sequence": maxDiff(t, "sequence", run.seq, goldentest.Flatten3(c.Sequence)),
		"pooled":   maxDiff(t, "pooled", run.pooled, goldentest.Flatten2(c.Pooled)),
		"logits":   maxDiff(t, "logits", run.logits, goldentest.Flatten2(c.Logits)),
	}
	if len(run.alpha) != len(c.Alpha) {
		t.Fatalf("%s: Go has alpha for %d layers, the reference for %d", c.Name, len(run.alpha), len(c.Alpha))
	}
	for layer, want := range c.Alpha {
		i, _ := strconv.Atoi(layer)
		got, ok := run.alpha[i]
		if !ok {
			t.Fatalf("%s: no alpha for layer %d from Go", c.Name, i)
		}
		out["alpha"+layer] = maxDiff(t, "alpha "+layer, got, goldentest.Flatten2(want))
	}
	return out
}

func TestAPTGolden(t *testing.T) {
	gd := readAPTGolden(t)
	be := goBackend(t)
	for ci, c := range gd.Cases {
		t.Run(c.Name, func(t *testing.T) {
			run := runGolden(t, be, gd, ci, nil)
			worst := 0.0
			for what, d := range diffs(t, gd, ci, run) {
				worst = max(worst, d)
				if d > goldenTol {
					t.Errorf("%s (%s %v, pooling %s): %s differs from the PyTorch reference by %.3g > %g",
						c.Name, c.Method, c.PrefixLens, c.GatePooling, what, d, goldenTol)
				}
			}
			t.Logf("%s %s %v pooling=%s: max |Go - PyTorch| = %.3g", c.Name, c.Method, c.PrefixLens, c.GatePooling, worst)
		})
	}
}

// TestAPTGoldenDetects shows the golden test has teeth: a 10% change of one
// lambda, the other gate pooling, a gate bias shifted by 0.1, or the layer scale
// dropped (apt_no_layer_gate for apt) each move the outputs far past the tolerance.
func TestAPTGoldenDetects(t *testing.T) {
	gd := readAPTGolden(t)
	be := goBackend(t)
	find := func(name string) int {
		for i, c := range gd.Cases {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("no golden case %q", name)
		return -1
	}
	scaleVar := func(ctx *context.Context, scope, name string, f float32) {
		v := ctx.GetVariableByScopeAndName(scope, name)
		if v == nil {
			t.Fatalf("no variable %s/%s", scope, name)
		}
		data := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range data {
			data[i] *= f
		}
		v.MustSetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
	}
	mutations := []struct {
		name, golden string
		mutate       func(*method.Config, *context.Context)
		watch        string // the output that must move
	}{
		{"lambda_0 x1.1", "3l_apt_mean", func(_ *method.Config, ctx *context.Context) {
			scaleVar(ctx, "/"+method.ScopeLayerScale, "0", 1.1)
		}, "sequence"},
		{"lambda_2 x1.1", "3l_no_token_gate", func(_ *method.Config, ctx *context.Context) {
			scaleVar(ctx, "/"+method.ScopeLayerScale, "2", 1.1)
		}, "sequence"},
		{"cls pooling for mean", "3l_apt_mean", func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolCLS }, "alpha2"},
		{"mean pooling for cls", "3l_apt_cls", func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolMean }, "alpha0"},
		{"mean pooling for cls (2 layers)", "2l_apt_cls", func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolMean }, "alpha1"},
		{"gate weight x1.1", "3l_no_layer_gate_cls", func(_ *method.Config, ctx *context.Context) {
			scaleVar(ctx, "/"+method.ScopeGate+"/1", "weight", 1.1)
		}, "alpha1"},
		{"no layer gate", "3l_apt_mean", func(mc *method.Config, _ *context.Context) { mc.Kind = method.APTNoLayerGate }, "logits"},
		{"no token gate", "2l_apt_mean", func(mc *method.Config, _ *context.Context) { mc.Kind = method.APTNoTokenGate }, "sequence"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			ci := find(m.golden)
			run := runGolden(t, be, gd, ci, m.mutate)
			d := map[string]float64{
				"sequence": maxDiff(t, "sequence", run.seq, goldentest.Flatten3(gd.Cases[ci].Sequence)),
				"logits":   maxDiff(t, "logits", run.logits, goldentest.Flatten2(gd.Cases[ci].Logits)),
			}
			for layer, want := range gd.Cases[ci].Alpha {
				i, _ := strconv.Atoi(layer)
				if got, ok := run.alpha[i]; ok { // a dropped token gate has no alpha to compare
					d["alpha"+layer] = maxDiff(t, "alpha", got, goldentest.Flatten2(want))
				}
			}
			got, ok := d[m.watch]
			if !ok {
				t.Fatalf("no %s output to compare", m.watch)
			}
			if got <= 10*goldenTol {
				t.Errorf("%s: %s moved only %.3g from the golden values; the test would not catch this bug", m.name, m.watch, got)
			}
			t.Logf("%s on %s: %s differs by %.3g (tolerance %g)", m.name, m.golden, m.watch, got, goldenTol)
		})
	}
}
