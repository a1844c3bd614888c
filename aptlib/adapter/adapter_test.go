package adapter

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

type roundTripCase struct {
	kind    method.Kind
	lens    []int
	head    model.Head
	pooling string
}

func roundTripCases() []roundTripCase {
	var cases []roundTripCase
	for _, k := range []method.Kind{method.PT2, method.APT, method.APTNoTokenGate, method.APTNoLayerGate} {
		for _, lens := range [][]int{{3, 0}, {0, 2}} {
			cases = append(cases, roundTripCase{k, lens, model.SequenceClassification, method.PoolMean})
		}
	}
	return append(cases,
		roundTripCase{method.PT, nil, model.SequenceClassification, method.PoolMean},
		roundTripCase{method.APT, []int{2, 5}, model.SequenceClassification, method.PoolCLS},
		roundTripCase{method.APT, []int{0, 4}, model.TokenClassification, method.PoolMean},
		roundTripCase{method.APT, []int{3, 1}, model.MultipleChoice, method.PoolMean},
		roundTripCase{method.PT2, []int{4, 0}, model.MultipleChoice, method.PoolMean},
	)
}

// TestRoundTrip saves an adapter of every method, loads it into a fresh
// context with the backbone reloaded, and checks the predictions (logits and
// gates) are bit-identical, the method config and metadata come back, and the
// file holds exactly the layout's tensors.
func TestRoundTrip(t *testing.T) {
	sha, err := BaseModelSHA256(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range roundTripCases() {
		name := fmt.Sprintf("%s/%v/%s/%s", c.kind, c.lens, c.head, c.pooling)
		t.Run(name, func(t *testing.T) {
			ctx, spec := newModel(t, c.kind, c.lens, c.head)
			spec.Method.GatePooling = c.pooling
			data := examples(11, 5, c.head)
			before, predictErr := tryPredict(t, ctx, spec, data)
			if predictErr != nil {
				if c.kind != method.PT || !strings.Contains(predictErr.Error(), "not implemented") {
					t.Fatal(predictErr)
				}
				// bert's prompt path uses DynamicSlice, which the pure-Go backend of
				// GoMLX v0.26.0 lacks: compare the applied variables only.
				t.Logf("no predictions for method pt on this backend (%v); comparing the variables only", predictErr)
			}

			path := filepath.Join(t.TempDir(), "a.safetensors")
			meta := Meta{Task: "synthetic", MaxLen: 32, BaseModel: tinyModel, BaseModelSHA256: sha,
				Extra: map[string]string{"step": "120", "seed": "11", "lr": "0.005"}}
			if c.head == model.MultipleChoice {
				meta.Labels = []string{"choice1", "choice2"}
			}
			if err := Save(path, ctx, spec, meta); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			layout := Layout(&spec.Method, spec.Backbone.HiddenSize(), spec.HeadOutputs())
			t.Logf("%s: %d bytes (%d of tensor data, %d tensors)", name, fi.Size(), Size(layout), len(layout))
			noLeftovers(t, filepath.Dir(path), path)

			f, err := safetensors.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, l := range layout {
				want = append(want, l.Name)
			}
			slices.Sort(want)
			if got := f.Names(); !slices.Equal(got, want) {
				t.Errorf("tensors %v, want %v", got, want)
			}
			md := f.Metadata()
			f.Close()
			for _, k := range []string{KeyFormat, KeyMethod, KeyHead, KeyLabels, KeyGatePooling, KeyMaxLen, KeyTask, KeyBaseModel, KeyBaseModelSHA256} {
				if _, ok := md[k]; !ok {
					t.Errorf("metadata has no %q: %v", k, md)
				}
			}
			if md[KeyFormat] != "apt-adapter/1" || md[KeyMethod] != string(c.kind) || md[KeyHead] != string(c.head) {
				t.Errorf("metadata %v", md)
			}

			a, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Method, spec.Method) {
				t.Errorf("method config %+v, saved %+v", a.Method, spec.Method)
			}
			wantMeta := meta
			wantMeta.Method, wantMeta.Head, wantMeta.GatePooling = c.kind, c.head, c.pooling
			if wantMeta.Labels == nil {
				for i := range spec.NumLabels {
					wantMeta.Labels = append(wantMeta.Labels, fmt.Sprint(i))
				}
			}
			if !reflect.DeepEqual(a.Meta, wantMeta) {
				t.Errorf("meta %+v, want %+v", a.Meta, wantMeta)
			}
			if err := a.CheckBase(tinyModel); err != nil {
				t.Error(err)
			}

			ctx2, cfg2 := freshBackbone(t, false)
			spec2, err := a.Apply(ctx2, cfg2)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec2.Backbone, spec.Backbone) || !reflect.DeepEqual(spec2.Method, spec.Method) ||
				spec2.Head != spec.Head || spec2.NumLabels != spec.NumLabels || spec2.Dropout != spec.Dropout {
				t.Errorf("spec %+v, saved %+v", spec2, spec)
			}
			sameVariables(t, layout, ctx, ctx2)
			if predictErr == nil {
				sameBits(t, before, predict(t, ctx2, spec2, data))
			}
		})
	}
}

// TestLengthsFromTensors: without prefix_lens the lengths come from the
// tensors, and Apply gives the layers after the last prefix a length of 0.
func TestLengthsFromTensors(t *testing.T) {
	ctx, spec := newModel(t, method.APT, []int{3, 0}, model.SequenceClassification)
	data := examples(7, 9, spec.Head)
	before := predict(t, ctx, spec, data)
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := Save(path, ctx, spec, Meta{}); err != nil {
		t.Fatal(err)
	}
	ts, md := readAll(t, path)
	delete(md, KeyPrefixLens)
	if err := safetensors.Write(path, ts, md); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Method.PrefixLens, []int{3}) {
		t.Errorf("prefix lengths from tensors %v, want [3]", a.Method.PrefixLens)
	}
	ctx2, cfg2 := freshBackbone(t, false)
	spec2, err := a.Apply(ctx2, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(spec2.Method.PrefixLens, []int{3, 0}) {
		t.Errorf("applied prefix lengths %v, want [3 0]", spec2.Method.PrefixLens)
	}
	sameBits(t, before, predict(t, ctx2, spec2, data))
}

// TestApplyReplaces: applying an adapter over a context that holds another
// one removes the old method's variables, so the outputs are the new adapter's.
func TestApplyReplaces(t *testing.T) {
	dir := t.TempDir()
	ctxA, specA := newModel(t, method.APT, []int{3, 2}, model.SequenceClassification)
	ctxB, specB := newModel(t, method.PT2, []int{0, 4}, model.SequenceClassification)
	data := examples(5, 2, model.SequenceClassification)
	wantB := predict(t, ctxB, specB, data)
	if err := Save(filepath.Join(dir, "a"), ctxA, specA, Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := Save(filepath.Join(dir, "b"), ctxB, specB, Meta{}); err != nil {
		t.Fatal(err)
	}
	ctx, cfg := freshBackbone(t, false)
	for _, name := range []string{"a", "b"} {
		a, err := Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Apply(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for v := range ctx.IterVariables() {
		if s := v.Scope(); strings.HasPrefix(s, "/gate") || strings.HasPrefix(s, "/layer_scale") || s == "/prefix/0" {
			t.Errorf("variable %s left over from the first adapter", v.ScopeAndName())
		}
	}
	b, _ := Load(filepath.Join(dir, "b"))
	spec, _ := b.Apply(ctx, cfg)
	sameBits(t, wantB, predict(t, ctx, spec, data))
}

// TestBertBaseSize saves an APT adapter of bert-base's shape (12 layers,
// d = 768, p = 16, 2 labels) without a backbone (Save reads only the method
// and head variables) and checks the size against the analytic formula.
func TestBertBaseSize(t *testing.T) {
	cfg := bert.DefaultConfig()
	spec := &model.Spec{Backbone: cfg, Method: method.Default(method.APT, cfg.NumHiddenLayers), Head: model.SequenceClassification, NumLabels: 2}
	ctx := context.New()
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 1)
	model.CreateHead(ctx, spec, 2)
	path := filepath.Join(t.TempDir(), "base.safetensors")
	if err := Save(path, ctx, spec, Meta{Task: "rte", BaseModel: "bert-base-uncased", MaxLen: 128}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	d, p, L, n := 768, 16, 12, 2
	analytic := int64(4 * (L*(2*p*d+d*p+p+1) + d*n + n))
	if got := Size(Layout(&spec.Method, d, n)); got != analytic {
		t.Errorf("Size = %d, analytic %d", got, analytic)
	}
	if fi.Size() < analytic || fi.Size() > analytic+8192 {
		t.Errorf("file is %d bytes, tensor data %d", fi.Size(), analytic)
	}
	t.Logf("bert-base APT p=16 adapter: %d bytes (%.2f MB); tensor data %d bytes; trainable %d + head %d parameters",
		fi.Size(), float64(fi.Size())/1e6, analytic, spec.Method.NumTrainable(d), d*n+n)
}

// readAll returns a file's tensors and metadata.
func readAll(t testing.TB, path string) ([]safetensors.Tensor, map[string]string) {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ts []safetensors.Tensor
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shape, Data: data})
	}
	return ts, f.Metadata()
}

// TestApplyAllOrNothing: when writing the variables fails midway, Apply puts
// the earlier adapter's variables back, so a predictor built before Apply
// still runs and gives the same outputs; an adapter that does not fit the
// backbone is refused before anything is touched.
func TestApplyAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	ctxA, specA := newModel(t, method.APT, []int{3, 2}, model.SequenceClassification)
	ctxB, specB := newModel(t, method.PT2, []int{0, 4}, model.SequenceClassification)
	data := examples(5, 2, model.SequenceClassification)
	for name, m := range map[string]struct {
		ctx  *context.Context
		spec *model.Spec
	}{"a": {ctxA, specA}, "b": {ctxB, specB}} {
		if err := Save(filepath.Join(dir, name), m.ctx, m.spec, Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cfg := freshBackbone(t, false)
	a, err := Load(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := a.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := trainer.NewPredictor(goBackend(t), ctx, spec, 4, 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Predict(data)
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		var out []string
		for v := range ctx.IterVariables() {
			out = append(out, v.ScopeAndName())
		}
		slices.Sort(out)
		return out
	}
	before := names()
	b, err := Load(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"prefix.1.key", "head.weight", "head.bias"} {
		applyFault = func(name string) error {
			if name == at {
				return fmt.Errorf("injected failure at %s", name)
			}
			return nil
		}
		_, err := b.Apply(ctx, cfg)
		applyFault = nil
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("fault at %s: Apply returned %v", at, err)
		}
		if got := names(); !slices.Equal(got, before) {
			t.Fatalf("fault at %s: variables after the failed Apply:\n%v\nbefore:\n%v", at, got, before)
		}
		got, err := p.Predict(data)
		if err != nil {
			t.Fatalf("fault at %s: the predictor built before the failed Apply: %v", at, err)
		}
		sameBits(t, want, got)
	}
	// A backbone of another size is refused before ctx changes.
	other := *cfg
	other.HiddenDim *= 2
	if _, err := b.Apply(ctx, &other); err == nil || !strings.Contains(err.Error(), "hidden size") {
		t.Fatalf("Apply on another hidden size: %v", err)
	}
	got, err := p.Predict(data)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, want, got)
}
