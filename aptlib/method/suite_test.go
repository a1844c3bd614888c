package method_test

// The shared method suite: every method of the registry (method.Methods), each
// run through the same checks on a tiny checkpoint. A method added to the
// registry is picked up without editing this file.
//
//	learns               a synthetic task is learned: the loss over the training set
//	                     (inference mode) falls to at most half of its start
//	backbone_bytes       every backbone tensor is bit-identical after that training
//	                     for PEFT methods, and for FT every one has changed
//	adapter_round_trip   save / load / apply into a fresh process-like context gives
//	                     bit-identical outputs (package adapter; FT: a model dir)
//	gradients            d loss / d variable for ALL variables: what the trainer
//	                     updates is exactly the method's variables and the head (and
//	                     the backbone for FT), each of them with a non-zero gradient
//	                     in every prefix slot; weight decay only on their matrices
//	equals_pt2           gates fixed so that lambda * alpha == 1 give exactly PT-2
//	zero_prefix          prefix length 0 in every layer is exactly the plain backbone
//	padding              masked padding (its length and its token ids) does not change
//	                     the real tokens' outputs, pooled output, logits or alphas
//	deterministic        two runs with the same seed give bit-identical losses
//
// The checkpoint is testdata/tiny-bert-3l (3 layers, d = 32, written by
// testdata/make_apt_golden.py): its weights are scaled so that tokens
// exchange information. Under BERT's N(0, 0.02) initialisation (the checkpoints of
// ../bert/testdata) the attention output is ~1e-3 of the residual stream, so the
// [CLS] token knows next to nothing about the sentence and no PEFT method can learn
// a sentence task on it (tried: PT-2 and PT stay at 0.98 of the initial loss).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/internal/fakefamily"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// suiteModel is the suite's model directory: the BERT checkpoint, or, for
// TestMethodSuiteOtherFamily, the same weights as another family.
var suiteModel = "testdata/tiny-bert-3l"

// suiteLens are the per-layer prefix lengths of the suite: unequal, one layer without.
var suiteLens = []int{3, 0, 2}

const suitePromptLen = 3

// suiteMarkerTask is the synthetic task: [CLS] w1 .. wl [SEP] with 2..8 random words
// (ids 13..72) of which one, at a random place, is a marker: id 10 for label 0,
// id 12 for label 1. Lengths vary (4..10 tokens), so rows are padded.
func suiteMarkerTask(n int, seed uint64) []model.Example {
	rng := rand.New(rand.NewPCG(seed, 77))
	out := make([]model.Example, n)
	for k := range out {
		l := 2 + rng.IntN(7)
		label := rng.IntN(2)
		ids := []int32{3}
		for range l {
			ids = append(ids, int32(13+rng.IntN(60)))
		}
		ids[1+rng.IntN(l)] = int32(10 + 2*label)
		ids = append(ids, 4)
		out[k] = model.Example{IDs: [][]int32{ids}, TypeIDs: [][]int32{make([]int32, len(ids))}, Label: label}
	}
	return out
}

// suiteMethodConfig is kind's configuration for the suite.
func suiteMethodConfig(kind method.Kind, numLayers int) method.Config {
	m := method.Default(kind, numLayers)
	if kind.HasPrefix() {
		m.PrefixLens = slices.Clone(suiteLens)
	}
	if kind.HasPrompt() {
		m.PromptLen = suitePromptLen
	}
	return m
}

// suiteNewModel loads the backbone, creates the method's variables and the head.
// The backbone is loaded trainable on purpose, for every method: freezing it is
// trainer.New's job, and the suite checks that it does.
func suiteNewModel(t testing.TB, mc method.Config) (*context.Context, *model.Spec) {
	t.Helper()
	ctx := context.New()
	cfg, _, err := backbone.LoadDir(ctx, suiteModel, true)
	if err != nil {
		t.Fatal(err)
	}
	if mc.Kind.HasPrefix() && len(mc.PrefixLens) != cfg.NumLayers() {
		t.Fatalf("suite lengths %v for a %d-layer backbone", mc.PrefixLens, cfg.NumLayers())
	}
	spec := &model.Spec{Backbone: cfg, Method: mc, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	method.Create(ctx, &spec.Method, cfg.HiddenSize(), 7)
	model.CreateHead(ctx, spec, 8)
	return ctx, spec
}

// suiteFamily is the registered family of the spec's backbone.
func suiteFamily(t testing.TB, spec *model.Spec) *backbone.Family {
	t.Helper()
	f, err := spec.Family()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// suiteFullBatch is every example in one padded batch of length seqLen.
func suiteFullBatch(t testing.TB, data []model.Example, seqLen int) *model.Batch {
	t.Helper()
	idx := make([]int, len(data))
	for i := range idx {
		idx[i] = i
	}
	b, err := model.MakeBatch(model.SequenceClassification, data, idx, len(data), seqLen)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// suiteEvalLoss is model.Loss over the batch in inference mode (no dropout).
func suiteEvalLoss(t testing.TB, be backends.Backend, ctx *context.Context, spec *model.Spec, b *model.Batch) float64 {
	t.Helper()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask, labels, weights *Node) *Node {
		logits, _ := model.Forward(ctx, spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		return model.Loss(spec, logits, labels, weights)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(b.IDs, b.TypeIDs, b.Mask, b.Labels, b.Weights)
	if err != nil {
		t.Fatal(err)
	}
	return float64(tensors.ToScalar[float32](out[0]))
}

// suiteOutputs are the outputs of the model on one batch, in inference mode.
type suiteOutputs struct {
	seq, pooled, logits []float32
	alpha               map[int][]float32 // layer -> [B, p_i]
	seqLen              int
}

// suiteForward runs the family's Forward with the method's hooks (sequence, pooled, alphas) and
// model.Forward (logits) on a batch, in inference mode.
func suiteForward(t testing.TB, be backends.Backend, ctx *context.Context, spec *model.Spec, b *model.Batch) suiteOutputs {
	t.Helper()
	alphaLayers, _ := spec.Method.GateLayout()
	family := suiteFamily(t, spec)
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
		gates := &method.Gates{}
		out := family.Forward(ctx, spec.Backbone, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, method.Hooks(ctx, &spec.Method, gates))
		logits, _ := model.Forward(ctx, spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		outs := []*Node{out.Sequence, out.Pooled(), logits}
		for i, a := range gates.Alpha {
			if a != nil {
				outs = append(outs, a)
			} else if i < len(alphaLayers) && alphaLayers[i] {
				panic(fmt.Sprintf("layer %d should have a token gate", i))
			}
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(b.IDs, b.TypeIDs, b.Mask)
	if err != nil {
		t.Fatal(err)
	}
	o := suiteOutputs{
		seq:    tensors.MustCopyFlatData[float32](res[0]),
		pooled: tensors.MustCopyFlatData[float32](res[1]),
		logits: tensors.MustCopyFlatData[float32](res[2]),
		alpha:  map[int][]float32{},
		seqLen: b.IDs.Shape().Dimensions[1],
	}
	k := 3
	for i, has := range alphaLayers {
		if has {
			o.alpha[i] = tensors.MustCopyFlatData[float32](res[k])
			k++
		}
	}
	return o
}

// suiteSameBits fails unless the two outputs are bit-identical.
func suiteSameBits(t testing.TB, what string, want, got suiteOutputs) {
	t.Helper()
	eq := func(name string, a, b []float32) {
		if len(a) != len(b) {
			t.Errorf("%s: %s has %d values, want %d", what, name, len(b), len(a))
			return
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Errorf("%s: %s[%d] = %v, want exactly %v (diff %.3g)", what, name, i, b[i], a[i], float64(b[i])-float64(a[i]))
				return
			}
		}
	}
	eq("sequence output", want.seq, got.seq)
	eq("pooled output", want.pooled, got.pooled)
	eq("logits", want.logits, got.logits)
}

// suiteBackboneBits snapshots every backbone tensor (the family's Tensors) as float32 bits.
func suiteBackboneBits(t testing.TB, ctx *context.Context, s *model.Spec) map[string][]uint32 {
	t.Helper()
	out := map[string][]uint32{}
	family := suiteFamily(t, s)
	for _, spec := range family.Tensors(s.Backbone) {
		v := family.Variable(ctx, spec.Name)
		if v == nil {
			t.Fatalf("no backbone variable %s", spec.Name)
		}
		data := tensors.MustCopyFlatData[float32](v.MustValue())
		bits := make([]uint32, len(data))
		for i, x := range data {
			bits[i] = math.Float32bits(x)
		}
		out[spec.Name] = bits
	}
	return out
}

// suiteMethodScopes are the scopes of the method's and head's variables.
var suiteMethodScopes = []string{method.ScopePrefix, method.ScopeGate, method.ScopeLayerScale, method.ScopePrompt, model.ScopeHead}

func suiteInScope(v *context.Variable, scope string) bool {
	return v.Scope() == "/"+scope || strings.HasPrefix(v.Scope(), "/"+scope+"/")
}

func suiteIsMethodVar(v *context.Variable) bool {
	for _, s := range suiteMethodScopes {
		if suiteInScope(v, s) {
			return true
		}
	}
	return false
}

func suiteVarName(v *context.Variable) string { return v.Scope() + "/" + v.Name() }

// suiteLearnSettings: learning rate and steps of the "learns" check. 64 examples in
// batches of 16 (one length bucket) are 4 steps an epoch; the schedule spans the
// run (linear warm-up over 2 steps, decay to 0 at the end).
func suiteLearnSettings(kind method.Kind) (lr float64, steps int) {
	if kind.TrainsBackbone() {
		return 3e-3, 24
	}
	return 5e-2, 120
}

func TestMethodSuite(t *testing.T) { runMethodSuite(t) }

// TestMethodSuiteOtherFamily runs the whole suite on a second family
// (internal/fakefamily, model_type "fakebert": attention-only layers on the
// suite checkpoint's weights, mean pooling, its own variable scope): the
// methods, the head, the trainer and the adapters reach the backbone only
// through package backbone.
func TestMethodSuiteOtherFamily(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"model.safetensors", "vocab.txt"} {
		data, err := os.ReadFile(filepath.Join(suiteModel, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(suiteModel, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), `"model_type": "bert"`, `"model_type": "`+fakefamily.ModelType+`"`, 1))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	saved := suiteModel
	suiteModel = dir
	t.Cleanup(func() { suiteModel = saved })
	ctx, spec := suiteNewModel(t, suiteMethodConfig(method.APT, 3))
	if got := spec.Backbone.ModelType(); got != fakefamily.ModelType {
		t.Fatalf("loaded model_type %q, want %q", got, fakefamily.ModelType)
	}
	if v := ctx.GetVariableByScopeAndName("/"+fakefamily.Scope+"/embeddings/word_embeddings", "weight"); v == nil {
		t.Fatalf("no %s variables: the backbone was not loaded by its family", fakefamily.Scope)
	}
	runMethodSuite(t)
}

func runMethodSuite(t *testing.T) {
	be := goBackend(t)
	data := suiteMarkerTask(64, 1)
	evalBatch := suiteFullBatch(t, data, 16)
	start := time.Now()
	for _, m := range method.Methods() {
		kind := m.Info().Kind
		t.Run(string(kind), func(t *testing.T) {
			kindStart := time.Now()
			ctx, spec := suiteNewModel(t, suiteMethodConfig(kind, 3))
			before := suiteBackboneBits(t, ctx, spec)
			trained := false

			t.Run("learns", func(t *testing.T) {
				lr, steps := suiteLearnSettings(kind)
				tr, err := trainer.New(be, ctx, spec, data, trainer.Options{
					BatchSize: 16, MaxLen: 16, Bucket: 16, LR: lr, Epochs: steps / 4, Warmup: 2,
					WeightDecay: 0.05, Seed: 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				initial := suiteEvalLoss(t, be, ctx, spec, evalBatch)
				for range steps {
					if _, err := tr.Step(); err != nil {
						t.Fatal(err)
					}
				}
				trained = true
				final := suiteEvalLoss(t, be, ctx, spec, evalBatch)
				t.Logf("%s: loss over the training set %.4f -> %.4f (x%.3f) in %d steps (lr %g); train batch loss %.3f -> %.3f",
					kind, initial, final, final/initial, steps, lr, tr.Losses[0], tr.Losses[len(tr.Losses)-1])
				if !(final <= initial/2) {
					t.Errorf("%s: loss fell from %.4f to %.4f only, want at most half", kind, initial, final)
				}
			})

			t.Run("backbone_bytes", func(t *testing.T) {
				if !trained {
					t.Skip("no training run")
				}
				after := suiteBackboneBits(t, ctx, spec)
				changed := 0
				for name, b := range before {
					if !slices.Equal(b, after[name]) {
						changed++
						if !kind.TrainsBackbone() {
							t.Errorf("%s: backbone tensor %s changed in training", kind, name)
						}
					} else if kind.TrainsBackbone() {
						t.Errorf("%s: backbone tensor %s did not change in full fine-tuning", kind, name)
					}
				}
				t.Logf("%s: %d of %d backbone tensors changed", kind, changed, len(before))
			})

			t.Run("adapter_round_trip", func(t *testing.T) {
				if !trained {
					t.Skip("no training run")
				}
				suiteAdapterRoundTrip(t, be, ctx, spec, evalBatch)
			})

			t.Run("gradients", func(t *testing.T) { suiteCheckGradients(t, be, kind, evalBatch) })

			if kind.HasPrefix() {
				t.Run("equals_pt2", func(t *testing.T) { suiteCheckEqualsPT2(t, be, kind, evalBatch) })
			}
			if kind.HasPrefix() || kind.TrainsBackbone() {
				t.Run("zero_prefix", func(t *testing.T) { suiteCheckZeroPrefix(t, be, kind, evalBatch) })
			}
			t.Run("padding", func(t *testing.T) { suiteCheckPadding(t, be, kind, data[:6]) })
			t.Run("deterministic", func(t *testing.T) { suiteCheckDeterministic(t, be, kind, data) })
			t.Logf("%s: %v", kind, time.Since(kindStart).Round(time.Millisecond))
		})
	}
	t.Logf("suite: %v", time.Since(start).Round(time.Millisecond))
}

// suiteAdapterRoundTrip saves the trained method (adapter file, or for FT the model
// directory), loads it into a fresh context with a freshly loaded backbone, and
// requires bit-identical outputs.
func suiteAdapterRoundTrip(t *testing.T, be backends.Backend, ctx *context.Context, spec *model.Spec, b *model.Batch) {
	want := suiteForward(t, be, ctx, spec, b)
	ctx2 := context.New()
	var spec2 *model.Spec
	if spec.Method.Kind.TrainsBackbone() {
		dir := filepath.Join(t.TempDir(), "ft-model")
		if err := adapter.SaveModelDir(dir, ctx, spec, adapter.Meta{Task: "marker", BaseModel: suiteModel}); err != nil {
			t.Fatal(err)
		}
		var err error
		if spec2, _, err = adapter.LoadModelDir(ctx2, dir); err != nil {
			t.Fatal(err)
		}
	} else {
		path := filepath.Join(t.TempDir(), "adapter.safetensors")
		if err := adapter.Save(path, ctx, spec, adapter.Meta{Task: "marker", BaseModel: suiteModel}); err != nil {
			t.Fatal(err)
		}
		a, err := adapter.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := backbone.LoadDir(ctx2, suiteModel, false)
		if err != nil {
			t.Fatal(err)
		}
		if spec2, err = a.Apply(ctx2, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if spec2.Method.Kind != spec.Method.Kind || !slices.Equal(spec2.Method.PrefixLens, spec.Method.PrefixLens) ||
		spec2.Method.PromptLen != spec.Method.PromptLen || spec2.Method.GatePooling != spec.Method.GatePooling {
		t.Errorf("loaded method %+v, saved %+v", spec2.Method, spec.Method)
	}
	got := suiteForward(t, be, ctx2, spec2, b)
	suiteSameBits(t, "after save and load", want, got)
	for i, a := range want.alpha {
		if !slices.Equal(a, got.alpha[i]) {
			t.Errorf("alpha of layer %d differs after save and load", i)
		}
	}
}

// suiteCheckGradients computes the gradient of the loss with respect to every float
// variable of the context, backbone included, and checks where it is non-zero.
//
// Freezing is done by leaving the backbone out of the variables the trainer
// updates (trainer.TrainableVariables after trainer.New), not by cutting the graph:
// the raw gradient of the loss reaches the frozen weights too (it must; they shape
// the loss), but it is never applied. So the check is on the gradient as the
// trainer applies it (zero for what it does not update): non-zero on exactly the
// method's variables and the head (and the backbone for FT), and on each of those
// non-zero in every prefix slot / prompt slot / gate column.
func suiteCheckGradients(t *testing.T, be backends.Backend, kind method.Kind, b *model.Batch) {
	mc := suiteMethodConfig(kind, 3)
	mc.InitStd = 0.3 // away from the tiny initial values, so every path carries signal
	mc.GateBiasInit = 0.2
	ctx, spec := suiteNewModel(t, mc)
	if _, err := trainer.New(be, ctx, spec, suiteMarkerTask(16, 3), trainer.Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	updated := map[string]bool{}
	for _, v := range trainer.TrainableVariables(ctx) {
		updated[suiteVarName(v)] = true
		if v.Shape().DType != dtypes.Float32 {
			t.Errorf("%s: the trainer would update the non-float variable %s", kind, suiteVarName(v))
		}
	}
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Shape().DType == dtypes.Float32 {
			vars = append(vars, v)
		}
	}
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask, labels, weights *Node) []*Node {
		logits, _ := model.Forward(ctx, spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		loss := model.Loss(spec, logits, labels, weights)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.ValueGraph(loss.Graph())
		}
		return Gradient(loss, nodes...)
	})
	if err != nil {
		t.Fatal(err)
	}
	grads, err := exec.Exec(b.IDs, b.TypeIDs, b.Mask, b.Labels, b.Weights)
	if err != nil {
		t.Fatal(err)
	}
	// The method's variables are those of its Tensors (TestNumTrainableMatchesCreate
	// pins them to the adapter format's names), then the head's.
	wantVars := map[string]bool{}
	m, _ := method.Lookup(kind)
	for _, ts := range m.Tensors(&spec.Method, spec.Backbone.HiddenSize()) {
		scope, name := method.VariablePath(ts.Name)
		wantVars[scope+"/"+name] = true
	}
	wantVars["/head/weight"], wantVars["/head/bias"] = true, true
	if kind.TrainsBackbone() {
		family := suiteFamily(t, spec)
		for _, ts := range family.Tensors(spec.Backbone) {
			wantVars[suiteVarName(family.Variable(ctx, ts.Name))] = true
		}
	}

	rawFrozen := 0
	seen := map[string]bool{}
	for i, v := range vars {
		name := suiteVarName(v)
		seen[name] = true
		g := tensors.MustCopyFlatData[float32](grads[i])
		applied := updated[name]
		want := wantVars[name]
		if applied != want {
			t.Errorf("%s: the trainer updates %s: %v, want %v", kind, name, applied, want)
		}
		if suiteIsMethodVar(v) && !want {
			t.Errorf("%s: unexpected method variable %s", kind, name)
		}
		if !applied {
			if suiteNonZero(g) {
				rawFrozen++
			}
			continue
		}
		// Every slot of a prefix / prompt row and every gate column must get a gradient.
		dims := v.Shape().Dimensions
		switch {
		case suiteInScope(v, method.ScopePrefix) || suiteInScope(v, method.ScopePrompt): // [p, d]: rows are slots
			for r := range dims[0] {
				if !suiteNonZero(g[r*dims[1] : (r+1)*dims[1]]) {
					t.Errorf("%s: %s slot %d has a zero gradient", kind, name, r)
				}
			}
		case suiteInScope(v, method.ScopeGate) && v.Name() == "weight": // [d, p]: columns are slots
			for c := range dims[1] {
				col := make([]float32, dims[0])
				for r := range dims[0] {
					col[r] = g[r*dims[1]+c]
				}
				if !suiteNonZero(col) {
					t.Errorf("%s: %s slot %d has a zero gradient", kind, name, c)
				}
			}
		default:
			if !suiteNonZero(g) {
				t.Errorf("%s: %s has an all-zero gradient", kind, name)
			}
		}
		// Weight decay: only on matrices; never on biases, LayerNorm, lambda_i.
		wantDecay := len(dims) >= 2
		if trainer.Decays(v) != wantDecay {
			t.Errorf("%s: trainer.Decays(%s %v) = %v, want %v", kind, name, dims, trainer.Decays(v), wantDecay)
		}
		if (suiteInScope(v, method.ScopeLayerScale) || v.Name() == "bias" || strings.Contains(v.Scope(), "LayerNorm")) && trainer.Decays(v) {
			t.Errorf("%s: weight decay would apply to %s", kind, name)
		}
	}
	for name := range wantVars {
		if !seen[name] {
			t.Errorf("%s: expected variable %s does not exist", kind, name)
		}
	}
	t.Logf("%s: %d variables updated, each with a non-zero gradient; %d frozen ones have a raw (never applied) non-zero gradient",
		kind, len(updated), rawFrozen)
}

func suiteNonZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return true
		}
	}
	return false
}

// suiteSetConst sets variable scope/name to a tensor of the given dims filled with x.
func suiteSetConst(ctx *context.Context, scope, name string, x float32, dims ...int) {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = x
	}
	method.SetVariable(ctx, scope, name, tensors.FromFlatDataAndDimensions(data, dims...))
}

// suiteCopyPrefixes copies PT-2's prefixes (and the head) from src into dst, scaled by f.
func suiteCopyPrefixes(t testing.TB, dst, src *context.Context, lens []int, f float32) {
	t.Helper()
	cp := func(scope, name string, f float32) {
		v := src.GetVariableByScopeAndName(scope, name)
		if v == nil {
			t.Fatalf("no %s/%s", scope, name)
		}
		data := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range data {
			data[i] *= f
		}
		method.SetVariable(dst, scope, name, tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
	}
	for i, p := range lens {
		if p > 0 {
			cp("/prefix/"+strconv.Itoa(i), "key", f)
			cp("/prefix/"+strconv.Itoa(i), "value", f)
		}
	}
	cp("/head", "weight", 1)
	cp("/head", "bias", 1)
}

// suiteCheckEqualsPT2: with the gates fixed so that lambda_i * alpha_i is exactly 1 the
// gated methods are PT-2, bit for bit. Exactness, slot by slot:
//
//   - lambda = 1: the prefix is multiplied by 1.0f, which is the identity in IEEE 754.
//   - gate W = 0, b = 0: h W = +-0 exactly (h is finite), sigmoid(0) = 1/(1+e^0) = 0.5
//     exactly; with lambda = 2, 0.5 * 2 = 1 exactly and P * 1 = P.
//   - gate W = 0, b = 30: the pure-Go backend computes sigmoid in float64,
//     1/(1+e^-30) = 1 - 9.4e-14, which rounds to exactly 1.0f (float32 resolves
//     only 6e-8 below 1), so alpha = 1.
//   - apt_no_layer_gate with W = 0, b = 0 (alpha = 0.5) on prefixes 2P: 2P is exact
//     (a power-of-two scale) and 2P * 0.5 = P exactly.
//
// In every case the prefix slots fed to attention are the same float32 numbers as
// PT-2's, so the whole forward pass is the same computation.
func suiteCheckEqualsPT2(t *testing.T, be backends.Backend, kind method.Kind, b *model.Batch) {
	mPT2 := suiteMethodConfig(method.PT2, 3)
	mPT2.InitStd = 0.5 // prefixes that move the outputs: equality must not be vacuous
	ctxPT2, specPT2 := suiteNewModel(t, mPT2)
	want := suiteForward(t, be, ctxPT2, specPT2, b)

	type variant struct {
		name         string
		prefixScale  float32
		bias, lambda float32
	}
	var variants []variant
	switch kind {
	case method.PT2:
		variants = []variant{{"itself", 1, 0, 0}}
	case method.APT:
		variants = []variant{{"W=0 b=0 (alpha=0.5) lambda=2", 1, 0, 2}, {"W=0 b=30 (alpha=1) lambda=1", 1, 30, 1}}
	case method.APTNoTokenGate:
		variants = []variant{{"lambda=1", 1, 0, 1}}
	case method.APTNoLayerGate:
		variants = []variant{{"W=0 b=30 (alpha=1)", 1, 30, 0}, {"W=0 b=0 (alpha=0.5) on 2P", 2, 0, 0}}
	}
	if len(variants) == 0 {
		t.Skipf("the suite knows no gate setting that makes %s exactly PT-2", kind)
	}
	d := specPT2.Backbone.HiddenSize()
	for _, vr := range variants {
		mc := suiteMethodConfig(kind, 3)
		ctx, spec := suiteNewModel(t, mc)
		suiteCopyPrefixes(t, ctx, ctxPT2, mc.PrefixLens, vr.prefixScale)
		alphaLayers, lambdaLayers := mc.GateLayout()
		for i, p := range mc.PrefixLens {
			l := strconv.Itoa(i)
			if alphaLayers[i] {
				suiteSetConst(ctx, "/gate/"+l, "weight", 0, d, p)
				suiteSetConst(ctx, "/gate/"+l, "bias", vr.bias, p)
			}
			if lambdaLayers[i] {
				suiteSetConst(ctx, "/layer_scale", l, vr.lambda)
			}
		}
		got := suiteForward(t, be, ctx, spec, b)
		suiteSameBits(t, fmt.Sprintf("%s with %s vs PT-2", kind, vr.name), want, got)
		for i, a := range got.alpha {
			wantAlpha := float32(0.5)
			if vr.bias == 30 {
				wantAlpha = 1
			}
			for _, x := range a {
				if x != wantAlpha {
					t.Errorf("%s with %s: alpha_%d = %v, want exactly %v", kind, vr.name, i, x, wantAlpha)
					break
				}
			}
		}
	}
	// The comparison is not vacuous: a 1% different prefix is visibly different.
	ctx, spec := suiteNewModel(t, suiteMethodConfig(method.PT2, 3))
	suiteCopyPrefixes(t, ctx, ctxPT2, mPT2.PrefixLens, 1.01)
	other := suiteForward(t, be, ctx, spec, b)
	if d := suiteMaxAbs(want.seq, other.seq); d < 1e-4 {
		t.Errorf("a 1%% change of the prefixes moves the output by %.3g only: the prefixes do not matter", d)
	}
}

func suiteMaxAbs(a, b []float32) float64 {
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// suiteCheckZeroPrefix: a prefix of length 0 in every layer is the plain backbone,
// bit for bit (the hook returns no slots, so attention is the backbone's), and
// FT has no hooks at all.
func suiteCheckZeroPrefix(t *testing.T, be backends.Backend, kind method.Kind, b *model.Batch) {
	mc := suiteMethodConfig(kind, 3)
	if kind.HasPrefix() {
		mc.PrefixLens = []int{0, 0, 0}
	}
	ctx, spec := suiteNewModel(t, mc)
	for v := range ctx.IterVariables() {
		if suiteIsMethodVar(v) && !suiteInScope(v, model.ScopeHead) {
			t.Errorf("%s with zero-length prefixes created variable %s", kind, suiteVarName(v))
		}
	}
	if kind == method.FT {
		if h := method.Hooks(ctx, &spec.Method, &method.Gates{}); h != nil {
			t.Errorf("FT has hooks %+v, want none", h)
		}
	}
	got := suiteForward(t, be, ctx, spec, b)
	// The plain backbone: the family's Forward without hooks, the head on its pooled output.
	family := suiteFamily(t, spec)
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
		out := family.Forward(ctx, spec.Backbone, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, nil)
		w := ctx.GetVariableByScopeAndName("/"+model.ScopeHead, "weight").ValueGraph(ids.Graph())
		bias := ctx.GetVariableByScopeAndName("/"+model.ScopeHead, "bias").ValueGraph(ids.Graph())
		return []*Node{out.Sequence, out.Pooled(), Add(MatMul(out.Pooled(), w), InsertAxes(bias, 0))}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(b.IDs, b.TypeIDs, b.Mask)
	if err != nil {
		t.Fatal(err)
	}
	want := suiteOutputs{seq: tensors.MustCopyFlatData[float32](res[0]), pooled: tensors.MustCopyFlatData[float32](res[1]),
		logits: tensors.MustCopyFlatData[float32](res[2])}
	suiteSameBits(t, fmt.Sprintf("%s with prefix lengths %v vs the plain backbone", kind, mc.PrefixLens), want, got)
}

// suiteCheckPadding: masked padding must not reach the real tokens.
//
//   - The same batch with random token ids and token types written into the
//     padding (same length) gives bit-identical real-token outputs, pooled output,
//     logits and alphas: masked keys get exp(-MaxFloat32 - max) = 0 exactly as
//     attention weights and a 0 weight in the gate's mean, so nothing of them is
//     added.
//   - Padding to 16 instead of the batch's longest length (10) changes only the
//     length of the masked reductions (softmax sums, attention-weighted sums over
//     keys), which the backend groups differently for another length: the real
//     outputs agree within 1e-5. Measured 1.6e-6 .. 1.9e-6 for every method, FT
//     included: it is the backbone's float32 summation order (the first layer's
//     output already differs by 7e-7, the embeddings by 0), not padding leaking in;
//     a leak of the random ids would move the outputs by O(0.1).
func suiteCheckPadding(t *testing.T, be backends.Backend, kind method.Kind, data []model.Example) {
	mc := suiteMethodConfig(kind, 3)
	mc.InitStd = 0.5
	mc.GateBiasInit = 0.3
	ctx, spec := suiteNewModel(t, mc)
	for i := range mc.PrefixLens {
		if lambda := ctx.GetVariableByScopeAndName("/"+method.ScopeLayerScale, strconv.Itoa(i)); lambda != nil {
			lambda.MustSetValue(tensors.FromScalar(float32(1.3 - 0.2*float64(i))))
		}
	}
	longest := 0
	for _, ex := range data {
		longest = max(longest, ex.Len())
	}
	// garbage writes random ids and token type 1 into the padding of a batch.
	rng := rand.New(rand.NewPCG(5, 5))
	garbage := func(b *model.Batch) *model.Batch {
		dims := b.IDs.Shape().Dimensions
		ids := tensors.MustCopyFlatData[int32](b.IDs)
		types := tensors.MustCopyFlatData[int32](b.TypeIDs)
		mask := tensors.MustCopyFlatData[int32](b.Mask)
		for i := range ids {
			if mask[i] == 0 {
				ids[i] = int32(1 + rng.IntN(98))
				types[i] = 1
			}
		}
		out := *b
		out.IDs = tensors.FromFlatDataAndDimensions(ids, dims...)
		out.TypeIDs = tensors.FromFlatDataAndDimensions(types, dims...)
		return &out
	}
	clean := suiteFullBatch(t, data, longest)
	ref := suiteForward(t, be, ctx, spec, clean)
	d := spec.Backbone.HiddenSize()
	// compare returns the largest |a-b| and |a-b| / max(1, |a|) over the real
	// positions of the sequence output, the pooled output, the logits and alphas.
	compare := func(got suiteOutputs) (abs, rel float64) {
		cmp := func(x, y []float32) {
			for i := range x {
				diff := math.Abs(float64(x[i]) - float64(y[i]))
				abs = max(abs, diff)
				rel = max(rel, diff/max(1, math.Abs(float64(x[i]))))
			}
		}
		for r, ex := range data {
			for pos := range ex.Len() {
				cmp(ref.seq[(r*ref.seqLen+pos)*d:(r*ref.seqLen+pos+1)*d], got.seq[(r*got.seqLen+pos)*d:(r*got.seqLen+pos+1)*d])
			}
		}
		cmp(ref.pooled, got.pooled)
		cmp(ref.logits, got.logits)
		for i, al := range ref.alpha {
			cmp(al, got.alpha[i])
		}
		return
	}
	if abs, _ := compare(suiteForward(t, be, ctx, spec, garbage(clean))); abs != 0 {
		t.Errorf("%s: random ids in the padding change the real tokens' outputs by %.3g, want exactly 0", kind, abs)
	}
	abs, rel := compare(suiteForward(t, be, ctx, spec, garbage(suiteFullBatch(t, data, 16))))
	if abs > 1e-5 {
		t.Errorf("%s: padding to 16 (random ids) changes the real tokens' outputs by %.3g > 1e-5", kind, abs)
	}
	t.Logf("%s: padding content: exact; padding %d -> 16: max diff %.3g (relative %.3g)", kind, longest, abs, rel)
}

// suiteCheckDeterministic: two runs from scratch with the same seed (dropout on, which
// draws from the context's RNG) give bit-identical losses; another seed does not.
func suiteCheckDeterministic(t *testing.T, be backends.Backend, kind method.Kind, data []model.Example) {
	run := func(seed uint64) []float64 {
		ctx, spec := suiteNewModel(t, suiteMethodConfig(kind, 3))
		tr, err := trainer.New(be, ctx, spec, data, trainer.Options{BatchSize: 8, MaxLen: 16, Bucket: 16, LR: 1e-2, Epochs: 2, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		return tr.Losses
	}
	first, second := run(3), run(3)
	for i := range first {
		if math.Float64bits(first[i]) != math.Float64bits(second[i]) {
			t.Errorf("%s: step %d loss %v, then %v with the same seed", kind, i+1, first[i], second[i])
		}
	}
	if slices.Equal(first, run(4)) {
		t.Errorf("%s: another seed gives the same losses %v", kind, first)
	}
}
