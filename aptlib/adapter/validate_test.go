package adapter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// edit is a change made to a valid adapter file's tensors and metadata.
type edit func(ts map[string]safetensors.Tensor, md map[string]string)

func setMeta(k, v string) edit {
	return func(_ map[string]safetensors.Tensor, md map[string]string) { md[k] = v }
}

func dropMeta(k string) edit {
	return func(_ map[string]safetensors.Tensor, md map[string]string) { delete(md, k) }
}

func dropTensor(name string) edit {
	return func(ts map[string]safetensors.Tensor, _ map[string]string) { delete(ts, name) }
}

// putTensor adds (or replaces) a tensor of zeros.
func putTensor(name string, shape ...int) edit {
	return func(ts map[string]safetensors.Tensor, _ map[string]string) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		ts[name] = safetensors.Tensor{Name: name, Shape: shape, Data: make([]float32, n)}
	}
}

// writeEdited saves a valid adapter (APT, prefix lengths [3, 0], d = 32, 2
// labels), applies the edits and rewrites it.
func writeEdited(t *testing.T, kind method.Kind, head model.Head, edits ...edit) string {
	t.Helper()
	ctx, spec := newModel(t, kind, []int{3, 0}, head)
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := Save(path, ctx, spec, Meta{Task: "x"}); err != nil {
		t.Fatal(err)
	}
	list, md := readAll(t, path)
	ts := map[string]safetensors.Tensor{}
	for _, x := range list {
		ts[x.Name] = x
	}
	for _, e := range edits {
		e(ts, md)
	}
	list = list[:0]
	for _, x := range ts {
		list = append(list, x)
	}
	if err := safetensors.Write(path, list, md); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadErrors: every way an adapter file can be wrong gives an error that
// names the file and, where it is about one, the tensor and what was expected.
func TestLoadErrors(t *testing.T) {
	apt, seq := method.APT, model.SequenceClassification
	cases := []struct {
		name  string
		kind  method.Kind
		head  model.Head
		edits []edit
		want  []string // substrings of the error, besides the file name
	}{
		{"no format", apt, seq, []edit{dropMeta(KeyFormat)}, []string{"not an APT adapter", "format=apt-adapter/1"}},
		{"future format", apt, seq, []edit{setMeta(KeyFormat, "apt-adapter/2")}, []string{`format "apt-adapter/2" is not supported`, `"apt-adapter/1"`}},
		{"unknown method", apt, seq, []edit{setMeta(KeyMethod, "lora")}, []string{`unknown method "lora"`}},
		{"no method", apt, seq, []edit{dropMeta(KeyMethod)}, []string{`no "method" metadata`}},
		{"ft method", apt, seq, []edit{setMeta(KeyMethod, "ft")}, []string{"model directory", "LoadModelDir"}},
		{"unknown head", apt, seq, []edit{setMeta(KeyHead, "regression")}, []string{`unknown head "regression"`}},
		{"labels not json", apt, seq, []edit{setMeta(KeyLabels, "yes,no")}, []string{"labels", "JSON array"}},
		{"no labels", apt, seq, []edit{dropMeta(KeyLabels)}, []string{`no "labels" metadata`}},
		{"labels vs head", apt, seq, []edit{setMeta(KeyLabels, `["a","b","c"]`)}, []string{`tensor "head.weight"`, "2 label columns", "3 labels"}},
		{"bad pooling", apt, seq, []edit{setMeta(KeyGatePooling, "max")}, []string{`gate_pooling "max"`}},
		{"bad max_len", apt, seq, []edit{setMeta(KeyMaxLen, "long")}, []string{`max_len metadata "long"`}},
		{"bad prefix_lens", apt, seq, []edit{setMeta(KeyPrefixLens, `[3,-1]`)}, []string{"prefix_lens", "non-negative"}},
		{"bad dropout", apt, seq, []edit{setMeta(KeyPrefixDropout, "1.5")}, []string{"prefix_dropout 1.5"}},
		{"hidden size meta", apt, seq, []edit{setMeta(KeyHiddenSize, "64")}, []string{`tensor "head.weight"`, "d = 64"}},
		{"num_labels meta", apt, seq, []edit{setMeta(KeyNumLabels, "5")}, []string{`tensor "head.weight"`, "num_labels metadata says 5"}},
		{"unknown tensor", apt, seq, []edit{putTensor("classifier.weight", 2, 32)}, []string{`tensor "classifier.weight"`, "not a tensor of the adapter format"}},
		{"bad layer number", apt, seq, []edit{putTensor("prefix.01.key", 3, 32)}, []string{`tensor "prefix.01.key"`, "not a tensor of the adapter format"}},
		{"missing gate bias", apt, seq, []edit{dropTensor("gate.0.bias")}, []string{`tensor "gate.0.bias"`, "missing", "[3]", "p_0 = 3"}},
		{"missing value", apt, seq, []edit{dropTensor("prefix.0.value")}, []string{`tensor "prefix.0.value"`, "missing", "[3 32]"}},
		{"missing head", apt, seq, []edit{dropTensor("head.weight")}, []string{`tensor "head.weight"`, "missing"}},
		{"missing head bias", apt, seq, []edit{dropTensor("head.bias")}, []string{`tensor "head.bias"`, "missing", "[2]"}},
		{"gate vs prefix", apt, seq, []edit{putTensor("gate.0.weight", 32, 4)},
			[]string{`tensor "gate.0.weight"`, "shape [32 4], expected [32 3]", "p_0 = 3", "d = 32 from head.weight"}},
		{"gate vs prefix without prefix_lens", apt, seq, []edit{dropMeta(KeyPrefixLens), putTensor("gate.0.weight", 32, 4)},
			[]string{`tensor "gate.0.weight"`, "shape [32 4], expected [32 3]", "from prefix.0.key"}},
		{"value vs key", apt, seq, []edit{dropMeta(KeyPrefixLens), putTensor("prefix.0.value", 5, 32)},
			[]string{`tensor "prefix.0.value"`, "shape [5 32], expected [3 32]", "p_0 = 3 from prefix.0.key"}},
		{"prefix_lens vs tensors", apt, seq, []edit{setMeta(KeyPrefixLens, "[4,0]")},
			[]string{`tensor "prefix.0.key"`, "shape [3 32], expected [4 32]", "p_0 = 4 from the prefix_lens metadata"}},
		{"prefix_lens says more", apt, seq, []edit{setMeta(KeyPrefixLens, "[3,2]")}, []string{`tensor "prefix.1.key"`, "missing"}},
		{"prefix at empty layer", apt, seq, []edit{putTensor("prefix.1.key", 2, 32)}, []string{`tensor "prefix.1.key"`, "unexpected", "layer 1 has no prefix"}},
		{"layer beyond", apt, seq, []edit{putTensor("layer_scale.2")}, []string{`tensor "layer_scale.2"`, "beyond the 2 layers"}},
		{"hidden size mismatch", apt, seq, []edit{putTensor("prefix.0.key", 3, 16)}, []string{`tensor "prefix.0.key"`, "shape [3 16], expected [3 32]"}},
		{"scale not scalar", apt, seq, []edit{putTensor("layer_scale.0", 1)}, []string{`tensor "layer_scale.0"`, "shape [1], expected []"}},
		{"gate for pt2", method.PT2, seq, []edit{putTensor("gate.0.bias", 3)}, []string{`tensor "gate.0.bias"`, "method pt2 has no token gate"}},
		{"scale for no layer gate", apt, seq, []edit{setMeta(KeyMethod, "apt_no_layer_gate")}, []string{`tensor "layer_scale.0"`, "no layer gate"}},
		{"gate for no token gate", apt, seq, []edit{setMeta(KeyMethod, "apt_no_token_gate")}, []string{`tensor "gate.0.bias"`, "no token gate"}},
		{"prompt in apt", apt, seq, []edit{putTensor("prompt.embedding", 3, 32)}, []string{`tensor "prompt.embedding"`, "only method pt"}},
		{"prefix in pt", method.PT, seq, []edit{putTensor("prefix.0.key", 3, 32)}, []string{`tensor "prefix.0.key"`, "method pt has no per-layer prefixes"}},
		{"prompt_len vs tensor", method.PT, seq, []edit{setMeta(KeyPromptLen, "5")}, []string{`tensor "prompt.embedding"`, "p = 5"}},
		{"missing prompt", method.PT, seq, []edit{dropTensor("prompt.embedding")}, []string{`tensor "prompt.embedding"`, "missing"}},
		{"prefix_lens for pt", method.PT, seq, []edit{setMeta(KeyPrefixLens, "[1,0]")}, []string{"prefix_lens [1,0] given for method pt"}},
		{"multiple choice columns", apt, model.MultipleChoice, []edit{putTensor("head.weight", 32, 2)}, []string{`tensor "head.weight"`, "one column", "[32 1]"}},
		{"head bias shape", apt, seq, []edit{putTensor("head.bias", 3)}, []string{`tensor "head.bias"`, "shape [3], expected [2]"}},
		{"head weight rank", apt, seq, []edit{putTensor("head.weight", 64)}, []string{`tensor "head.weight"`, "expected [d, num_labels]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeEdited(t, c.kind, c.head, c.edits...)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append([]string{path}, c.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
	t.Run("not safetensors", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.safetensors")
		os.WriteFile(path, []byte("hello, world"), 0o644)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("got %v", err)
		}
	})
}

// TestApplyErrors: an adapter for another backbone is refused, naming both sizes.
func TestApplyErrors(t *testing.T) {
	path := writeEdited(t, method.APT, model.SequenceClassification)
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cfg := freshBackbone(t, false)
	wide := *cfg
	wide.HiddenDim, wide.NumAttentionHeads = 64, 4
	if _, err := a.Apply(ctx, &wide); err == nil || !strings.Contains(err.Error(), "hidden size d = 32") || !strings.Contains(err.Error(), "hidden_size 64") {
		t.Errorf("hidden size: got %v", err)
	}
	deep := *cfg
	deep.NumHiddenLayers = 3
	if _, err := a.Apply(ctx, &deep); err == nil || !strings.Contains(err.Error(), "prefix_lens [3 0] has 2 layers") || !strings.Contains(err.Error(), "num_hidden_layers 3") {
		t.Errorf("layers: got %v", err)
	}
	// Nothing was put into ctx by the failed calls.
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/bert") {
			t.Errorf("failed Apply left variable %s", v.ScopeAndName())
		}
	}
	if err := a.CheckBase(tinyModel); err != nil {
		t.Errorf("adapter without base_model_sha256 must pass CheckBase: %v", err)
	}
	a.Meta.BaseModelSHA256 = strings.Repeat("0", 64)
	if err := a.CheckBase(tinyModel); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("CheckBase: got %v", err)
	}
}

// TestSaveErrors: a failed save leaves no file and no temporary file, and a
// previous adapter at the path stays as it was.
func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.safetensors")
	ctx, spec := newModel(t, method.APT, []int{3, 0}, model.SequenceClassification)

	fails := func(what, want string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got error %v, want one mentioning %q", what, err, want)
		}
		noLeftovers(t, dir)
	}
	other := *spec
	other.Method.PrefixLens = []int{4, 0} // the context holds p_0 = 3
	fails("shape", `tensor "prefix.0.key": variable /prefix/0/key has shape [3 32], the method config implies [4 32]`, Save(path, ctx, &other, Meta{}))
	other.Method.PrefixLens = []int{3, 2}
	fails("missing variable", "no variable /prefix/1/key", Save(path, ctx, &other, Meta{}))
	ft := *spec
	ft.Method = method.Config{Kind: method.FT, GatePooling: method.PoolMean}
	fails("ft", "SaveModelDir", Save(path, ctx, &ft, Meta{}))
	fails("reserved extra", `Meta.Extra key "prefix_lens" is reserved`, Save(path, ctx, spec, Meta{Extra: map[string]string{"prefix_lens": "[1]"}}))
	fails("labels", "3 labels", Save(path, ctx, spec, Meta{Labels: []string{"a", "b", "c"}}))
	fails("meta method", `Meta.Method is "pt2"`, Save(path, ctx, spec, Meta{Method: method.PT2}))
	fails("no dir", "no such file", Save(filepath.Join(dir, "missing", "a.safetensors"), ctx, spec, Meta{}))

	// The rename fails when the path is a (non-empty) directory: the
	// temporary file is removed.
	blocker := filepath.Join(dir, "blocker")
	os.MkdirAll(filepath.Join(blocker, "x"), 0o755)
	if err := Save(blocker, ctx, spec, Meta{}); err == nil {
		t.Error("saving over a directory succeeded")
	}
	noLeftovers(t, dir, "blocker")
	os.RemoveAll(blocker)

	// A good save, then failing saves over it: the file is untouched.
	if err := Save(path, ctx, spec, Meta{Task: "first"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	other.Method.PrefixLens = []int{4, 0}
	if err := Save(path, ctx, &other, Meta{}); err == nil {
		t.Error("bad save succeeded")
	}
	after, _ := os.ReadFile(path)
	if !slices.Equal(before, after) {
		t.Error("a failed save changed the existing adapter")
	}
	noLeftovers(t, dir, path)
}
