package method_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/backbone"
	_ "github.com/aptbench/apt/aptlib/bert"      // model_type "bert"
	_ "github.com/aptbench/apt/aptlib/deberta"   // model_type "deberta"
	_ "github.com/aptbench/apt/aptlib/debertav2" // model_type "deberta-v2"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	_ "github.com/aptbench/apt/aptlib/roberta" // model_type "roberta"
	"github.com/aptbench/apt/internal/goldentest"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The APT golden tests: the forward pass of APT, its ablations and PT-2 on
// random checkpoints, with random adapters of unequal per-layer lengths (zeros
// included) on a padded batch, against independent PyTorch references written
// from the math of docs/methods.md (in float64): testdata/make_apt_golden.py
// for BERT (apt_golden.json) and testdata/make_apt_golden_families.py for
// RoBERTa, DeBERTa v1 and DeBERTa-v2/v3 (apt_golden_families.json,
// golden_families_test.go).

const goldenTol = 1e-4

// goldenInputs is a padded batch, [B][T].
type goldenInputs struct {
	InputIDs      [][]int32 `json:"input_ids"`
	TokenTypeIDs  [][]int32 `json:"token_type_ids"`
	AttentionMask [][]int32 `json:"attention_mask"`
}

// goldenModel is a checkpoint of the families' file with its own batch (each
// family has its own specials and pad id).
type goldenModel struct {
	Dir string `json:"dir"` // relative to testdata
	goldenInputs
}

type goldenCase struct {
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
}

// aptGolden is one golden file. BERT's has one batch for every case and the
// case's model is its directory; the families' file names each model's
// directory and batch in Models.
type aptGolden struct {
	goldenInputs
	Models    map[string]goldenModel `json:"models"`
	NumLabels int                    `json:"num_labels"`
	Cases     []goldenCase           `json:"cases"`
}

// model returns the directory (under testdata) and the batch of case ci.
func (g *aptGolden) model(t testing.TB, ci int) (string, goldenInputs) {
	t.Helper()
	c := g.Cases[ci]
	if g.Models == nil {
		return c.Model, g.goldenInputs
	}
	m, ok := g.Models[c.Model]
	if !ok {
		t.Fatalf("case %s: model %q is not in the golden file's models", c.Name, c.Model)
	}
	return m.Dir, m.goldenInputs
}

// find returns the index of the case named name.
func (g *aptGolden) find(t testing.TB, name string) int {
	t.Helper()
	for i, c := range g.Cases {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("no golden case %q", name)
	return -1
}

func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	return testbackend.New(t)
}

// readGolden reads testdata/file, written by testdata/script.
func readGolden(t *testing.T, file, script string) *aptGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("%v (regenerate with: cd aptlib/method/testdata && /usr/bin/python3 %s)", err, script)
	}
	var g aptGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("testdata/%s: %v", file, err)
	}
	if len(g.Cases) == 0 {
		t.Fatalf("testdata/%s has no cases", file)
	}
	return &g
}

func readAPTGolden(t *testing.T) *aptGolden {
	return readGolden(t, "apt_golden.json", "make_apt_golden.py")
}

// goldenRun is what the Go code computes for one case.
type goldenRun struct {
	seq, pooled, logits []float32
	alpha               map[int][]float32
}

// goldenBreak changes a case on purpose, to show that the golden test catches
// the change: config and ctx after the adapter is applied, hooks (the
// method's, as the backbone receives them) for the sequence, pooled and alpha
// outputs only.
type goldenBreak struct {
	config func(*method.Config, *context.Context)
	hooks  func(*backbone.Hooks)
}

// runGolden loads the case's backbone with its family (backbone.LoadDir) and
// its adapter file as the workbench does (adapter.Load, Apply), checks that
// the adapter's metadata says what the case says, applies brk (when non-nil),
// and runs the family's Forward with method.Hooks (sequence, pooled, alphas)
// and model.Forward (logits), in inference mode.
func runGolden(t *testing.T, be backends.Backend, gd *aptGolden, ci int, brk *goldenBreak) goldenRun {
	t.Helper()
	c := gd.Cases[ci]
	dir, in := gd.model(t, ci)
	ctx := context.New()
	cfg, family, err := backbone.LoadDir(ctx, filepath.Join("testdata", filepath.FromSlash(dir)), false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := adapter.Load(filepath.Join("testdata", filepath.FromSlash(c.Adapter)))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := a.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := &spec.Method
	if string(mc.Kind) != c.Method || !slices.Equal(mc.PrefixLens, c.PrefixLens) || mc.GatePooling != c.GatePooling ||
		spec.Head != model.SequenceClassification || spec.NumLabels != gd.NumLabels {
		t.Fatalf("%s: the adapter loads as %s %v pooling %s, head %s with %d labels; the golden case is %s %v pooling %s, %d labels",
			c.Adapter, mc.Kind, mc.PrefixLens, mc.GatePooling, spec.Head, spec.NumLabels, c.Method, c.PrefixLens, c.GatePooling, gd.NumLabels)
	}
	if brk != nil && brk.config != nil {
		brk.config(mc, ctx)
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	alphaLayers, _ := mc.GateLayout()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
		gates := &method.Gates{}
		hooks := method.Hooks(ctx, mc, gates)
		if brk != nil && brk.hooks != nil {
			brk.hooks(hooks)
		}
		out := family.Forward(ctx, cfg, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, hooks)
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
	ids, types, mask := tensors.FromValue(in.InputIDs), tensors.FromValue(in.TokenTypeIDs), tensors.FromValue(in.AttentionMask)
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

// diffs is the largest difference of each output from the case's golden
// values ("sequence", "pooled", "logits", "alpha<layer>"); a missing,
// mis-sized or NaN output gives +Inf (goldentest.MaxAbsDiff).
func diffs(t *testing.T, gd *aptGolden, ci int, run goldenRun) map[string]float64 {
	t.Helper()
	c := gd.Cases[ci]
	out := map[string]float64{
		"sequence": goldentest.MaxAbsDiff(run.seq, goldentest.Flatten3(c.Sequence)),
		"pooled":   goldentest.MaxAbsDiff(run.pooled, goldentest.Flatten2(c.Pooled)),
		"logits":   goldentest.MaxAbsDiff(run.logits, goldentest.Flatten2(c.Logits)),
	}
	for layer, want := range c.Alpha {
		i, _ := strconv.Atoi(layer)
		got, ok := run.alpha[i]
		if !ok {
			out["alpha"+layer] = math.Inf(1)
			continue
		}
		out["alpha"+layer] = goldentest.MaxAbsDiff(got, goldentest.Flatten2(want))
	}
	for i := range run.alpha {
		if _, ok := c.Alpha[strconv.Itoa(i)]; !ok {
			out["alpha"+strconv.Itoa(i)] = math.Inf(1) // Go gates a layer the reference does not
		}
	}
	return out
}

// checkGolden runs every case of gd and compares every output within goldenTol.
func checkGolden(t *testing.T, gd *aptGolden) {
	be := goBackend(t)
	for ci, c := range gd.Cases {
		t.Run(c.Name, func(t *testing.T) {
			run := runGolden(t, be, gd, ci, nil)
			worst := 0.0
			for what, d := range diffs(t, gd, ci, run) {
				worst = max(worst, d)
				if !(d <= goldenTol) {
					t.Errorf("%s (%s %v, pooling %s): %s differs from the PyTorch reference by %.3g > %g",
						c.Name, c.Method, c.PrefixLens, c.GatePooling, what, d, goldenTol)
				}
			}
			t.Logf("%s %s %v pooling=%s: max |Go - PyTorch| = %.3g", c.Name, c.Method, c.PrefixLens, c.GatePooling, worst)
		})
	}
}

// goldenMutation is a deliberate bug and the output that must move past the
// tolerance because of it.
type goldenMutation struct {
	name, golden string
	brk          goldenBreak
	watch        string // a key of diffs
}

// checkDetects runs each mutation and fails when its watched output stays
// within 10 x goldenTol of the golden values.
func checkDetects(t *testing.T, gd *aptGolden, mutations []goldenMutation) {
	be := goBackend(t)
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			ci := gd.find(t, m.golden)
			d := diffs(t, gd, ci, runGolden(t, be, gd, ci, &m.brk))
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

// scaleVar multiplies a variable of ctx by f.
func scaleVar(t *testing.T, ctx *context.Context, scope, name string, f float32) {
	t.Helper()
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

func TestAPTGolden(t *testing.T) {
	checkGolden(t, readAPTGolden(t))
}

// TestAPTGoldenDetects shows the golden test has teeth: a 10% change of one
// lambda, the other gate pooling, a gate weight scaled by 1.1, or a gate
// dropped (apt_no_layer_gate or apt_no_token_gate for apt) each move the
// outputs far past the tolerance.
func TestAPTGoldenDetects(t *testing.T) {
	config := func(f func(*method.Config, *context.Context)) goldenBreak { return goldenBreak{config: f} }
	checkDetects(t, readAPTGolden(t), []goldenMutation{
		{"lambda_0 x1.1", "3l_apt_mean", config(func(_ *method.Config, ctx *context.Context) {
			scaleVar(t, ctx, "/"+method.ScopeLayerScale, "0", 1.1)
		}), "sequence"},
		{"lambda_2 x1.1", "3l_no_token_gate", config(func(_ *method.Config, ctx *context.Context) {
			scaleVar(t, ctx, "/"+method.ScopeLayerScale, "2", 1.1)
		}), "sequence"},
		{"cls pooling for mean", "3l_apt_mean", config(func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolCLS }), "alpha2"},
		{"mean pooling for cls", "3l_apt_cls", config(func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolMean }), "alpha0"},
		{"mean pooling for cls (2 layers)", "2l_apt_cls", config(func(mc *method.Config, _ *context.Context) { mc.GatePooling = method.PoolMean }), "alpha1"},
		{"gate weight x1.1", "3l_no_layer_gate_cls", config(func(_ *method.Config, ctx *context.Context) {
			scaleVar(t, ctx, "/"+method.ScopeGate+"/1", "weight", 1.1)
		}), "alpha1"},
		{"no layer gate", "3l_apt_mean", config(func(mc *method.Config, _ *context.Context) { mc.Kind = method.APTNoLayerGate }), "logits"},
		{"no token gate", "2l_apt_mean", config(func(mc *method.Config, _ *context.Context) { mc.Kind = method.APTNoTokenGate }), "sequence"},
	})
}
