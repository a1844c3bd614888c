package aptlib

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/aptbench/apt/internal/testfiles"
)

// rewriteAdapter copies an adapter file to dst with edit applied to its
// tensors and metadata.
func rewriteAdapter(t *testing.T, src, dst string, edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor) {
	t.Helper()
	f, err := safetensors.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shape, Data: data})
	}
	md := f.Metadata()
	f.Close()
	ts = edit(ts, md)
	if err := safetensors.Write(dst, ts, md); err != nil {
		t.Fatal(err)
	}
}

const predictInput = `{"text": "the plot was really brilliant and fun."}` + "\n" + `{"text": "this show felt dull."}` + "\n"

func predictFile(t *testing.T, w *Workbench, dir, name string) string {
	t.Helper()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(predictInput), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if _, err := w.Predict(in, out); err != nil {
		t.Fatalf("predict: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func freshDemoModel(t *testing.T) *Workbench {
	t.Helper()
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestHeadOnlyAdapter: a PT-2 run with prefix_len=0 (only the head trains)
// saves, and the file loads in a fresh workbench with the same predictions,
// also when it has no prefix_lens metadata (its lengths then come from the
// tensors: none) or an empty one.
func TestHeadOnlyAdapter(t *testing.T) {
	for _, kind := range []string{"pt2", "apt"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			w := demoBench(t)
			for k, v := range map[string]string{"method": kind, "prefix_len": "0", "train_limit": "32", "lr": "5e-2"} {
				if err := w.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
				t.Fatal(err)
			}
			want := predictFile(t, w, dir, "want.jsonl")
			saved := filepath.Join(dir, "probe.safetensors")
			if err := w.SaveAdapter(saved); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.Open(saved)
			if err != nil {
				t.Fatal(err)
			}
			names := f.Names()
			f.Close()
			for _, n := range names {
				if !strings.HasPrefix(n, "head.") {
					t.Errorf("head-only adapter holds %s", n)
				}
			}
			noLens := filepath.Join(dir, "nolens.safetensors")
			rewriteAdapter(t, saved, noLens, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
				delete(md, adapter.KeyPrefixLens)
				return ts
			})
			emptyLens := filepath.Join(dir, "emptylens.safetensors")
			rewriteAdapter(t, saved, emptyLens, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
				md[adapter.KeyPrefixLens] = "[]"
				return ts
			})
			for _, p := range []string{saved, noLens, emptyLens} {
				w2 := freshDemoModel(t)
				if err := w2.LoadAdapter(p); err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if v, _ := w2.Get("prefix_len"); v != "0" {
					t.Errorf("%s: prefix_len after load %q, want 0", filepath.Base(p), v)
				}
				if v, _ := w2.Get("method"); v != kind {
					t.Errorf("%s: method after load %q, want %s", filepath.Base(p), v, kind)
				}
				if got := predictFile(t, w2, dir, "got.jsonl"); got != want {
					t.Errorf("%s: predictions after reload differ:\n%s\nwant\n%s", filepath.Base(p), got, want)
				}
				// It saves again as it was loaded.
				if err := w2.SaveAdapter(filepath.Join(dir, "again.safetensors")); err != nil {
					t.Errorf("%s: saving the loaded head-only adapter: %v", filepath.Base(p), err)
				}
			}
		})
	}
}

func TestFormatLens(t *testing.T) {
	for _, c := range []struct {
		lens []int
		want string
	}{{nil, "0"}, {[]int{}, "0"}, {[]int{0, 0, 0}, "0"}, {[]int{4, 4}, "4"}, {[]int{0, 8}, "0,8"}} {
		got := formatLens(c.lens)
		if got != c.want {
			t.Errorf("formatLens(%v) = %q, want %q", c.lens, got, c.want)
		}
		if _, err := parseLens(got, -1); err != nil {
			t.Errorf("formatLens(%v) = %q does not parse back: %v", c.lens, got, err)
		}
	}
}

// TestFailedLoadAdapterKeepsSession: after adapter A is loaded, a load of a
// broken adapter B (of every kind of breakage) fails and leaves the session
// as it was: same settings, task and adapter, same predictions and scores.
func TestFailedLoadAdapterKeepsSession(t *testing.T) {
	dir := t.TempDir()
	w := demoBench(t)
	for k, v := range map[string]string{"prefix_len": "2", "train_limit": "32", "eval_limit": "16", "lr": "5e-2"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "a.safetensors")
	if err := w.SaveAdapter(good); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadAdapter(good); err != nil {
		t.Fatal(err)
	}
	wantPred := predictFile(t, w, dir, "want.jsonl")
	wantEval, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	wantConfig := w.Config()
	task := w.Task

	broken := func(name string, edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor) string {
		p := filepath.Join(dir, name+".safetensors")
		rewriteAdapter(t, good, p, edit)
		return p
	}
	// shrink halves the hidden size of every tensor (an adapter of another model).
	shrink := func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
		delete(md, adapter.KeyBaseModelSHA256)
		md[adapter.KeyHiddenSize] = "32"
		for i, x := range ts {
			switch {
			case strings.HasPrefix(x.Name, "prefix."), x.Name == "prompt.embedding":
				ts[i].Shape = []int{x.Shape[0], 32}
				ts[i].Data = x.Data[:x.Shape[0]*32]
			case x.Name == "head.weight", strings.HasPrefix(x.Name, "gate.") && strings.HasSuffix(x.Name, ".weight"):
				ts[i].Shape = []int{32, x.Shape[1]}
				ts[i].Data = x.Data[:32*x.Shape[1]]
			}
		}
		return ts
	}
	cases := []struct {
		name, path, want string
	}{
		{"labels", broken("labels", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[adapter.KeyLabels] = `["bad","good"]`
			return ts
		}), "differ from task"},
		{"base", broken("base", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[adapter.KeyBaseModelSHA256] = strings.Repeat("0", 64)
			return ts
		}), "load that model first"},
		{"hidden", broken("hidden", shrink), "hidden size"},
		{"layers", broken("layers", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[adapter.KeyPrefixLens] = "[2,2,2,2,0,0]"
			return ts
		}), "num_hidden_layers 4"},
		{"shape", broken("shape", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			for i, x := range ts {
				if x.Name == "prefix.1.key" {
					ts[i].Shape, ts[i].Data = []int{3, x.Shape[1]}, make([]float32, 3*x.Shape[1])
				}
			}
			return ts
		}), "prefix.1.key"},
		{"head kind", broken("head", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[adapter.KeyHead] = "token_classification"
			return ts
		}), "needs sequence_classification"},
		{"not safetensors", func() string {
			p := filepath.Join(dir, "junk.safetensors")
			os.WriteFile(p, []byte("not a safetensors file at all"), 0o644)
			return p
		}(), "junk.safetensors"},
		{"missing", filepath.Join(dir, "none.safetensors"), "none.safetensors"},
	}
	for _, c := range cases {
		err := w.LoadAdapter(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: LoadAdapter error %v, want one mentioning %q", c.name, err, c.want)
			continue
		}
		if w.Adapter != good || w.Task != task {
			t.Errorf("%s: after the failed load: adapter %q, task %v", c.name, w.Adapter, w.Task.Name)
		}
		if got := w.Config(); !equalMaps(got, wantConfig) {
			t.Errorf("%s: settings after the failed load %v, before %v", c.name, got, wantConfig)
		}
		if got := predictFile(t, w, dir, "got.jsonl"); got != wantPred {
			t.Errorf("%s: predictions after the failed load:\n%s\nbefore:\n%s", c.name, got, wantPred)
		}
		if got, err := w.Eval("dev"); err != nil || !equalScores(got, wantEval) {
			t.Errorf("%s: eval after the failed load %v (%v), before %v", c.name, got, err, wantEval)
		}
	}

	// With no task: a failed load sets none up, a good one does, and a later
	// adapter with other labels replaces that generic classifier.
	w2 := freshDemoModel(t)
	if err := w2.LoadAdapter(cases[2].path); err == nil {
		t.Fatal("adapter of another hidden size loaded")
	}
	if w2.Task != nil || w2.Adapter != "" {
		t.Fatalf("after a failed load with no task: task %v, adapter %q", w2.Task, w2.Adapter)
	}
	if err := w2.LoadAdapter(good); err != nil {
		t.Fatal(err)
	}
	if !w2.TaskFromAdapter() {
		t.Error("TaskFromAdapter is false after loading an adapter with no task")
	}
	relabelled := broken("relabelled", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
		md[adapter.KeyLabels] = `["bad","good"]`
		delete(md, adapter.KeyBaseModelSHA256)
		return ts
	})
	if err := w2.LoadAdapter(relabelled); err != nil {
		t.Fatalf("a second adapter onto the generic classifier: %v", err)
	}
	if got := strings.Join(w2.Task.Labels, " "); got != "bad good" {
		t.Errorf("labels after the second adapter: %s", got)
	}
	if !strings.Contains(predictFile(t, w2, dir, "relabelled.jsonl"), `"label":"`) {
		t.Error("no labels predicted")
	}
	// A real task is not replaced by an adapter's labels.
	if err := w.LoadAdapter(relabelled); err == nil {
		t.Error("an adapter with other labels replaced the loaded demo task")
	}
	if w.TaskFromAdapter() {
		t.Error("TaskFromAdapter is true with a loaded task")
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalScores(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// copyDirEdited copies the files of src into a new temp dir, with edits (file name
// -> new content) applied.
func copyDirEdited(t *testing.T, src string, edits map[string]string) string {
	t.Helper()
	return testfiles.CopyDir(t, src, t.TempDir(), edits)
}

// TestFailedLoadModelOrTaskKeepsSession: a load model or load task that
// fails leaves the model, task, adapter and settings usable as they were.
func TestFailedLoadModelOrTaskKeepsSession(t *testing.T) {
	dir := t.TempDir()
	w := demoBench(t)
	w.Set("prefix_len", "2")
	w.Set("train_limit", "32")
	w.Set("eval_limit", "16")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "a.safetensors")
	if err := w.SaveAdapter(good); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadAdapter(good); err != nil {
		t.Fatal(err)
	}
	wantPred := predictFile(t, w, dir, "want.jsonl")
	wantEval, _ := w.Eval("dev")
	wantConfig := w.Config()
	model, task := w.Model, w.Task
	demoModel, _ := DemoModelDir()
	demoTask, _ := DemoTaskDir()
	type step struct {
		name string
		do   func() error
	}
	for _, c := range []step{
		{"model: no directory", func() error { return w.LoadModel(filepath.Join(dir, "nothing")) }},
		{"model: bad config.json", func() error { return w.LoadModel(copyDirEdited(t, demoModel, map[string]string{"config.json": "{"})) }},
		{"model: empty vocab.txt", func() error { return w.LoadModel(copyDirEdited(t, demoModel, map[string]string{"vocab.txt": ""})) }},
		{"model: truncated weights", func() error {
			return w.LoadModel(copyDirEdited(t, demoModel, map[string]string{"model.safetensors": "\x08\x00\x00\x00\x00\x00\x00\x00{}"}))
		}},
		{"task: no directory", func() error { return w.LoadTask("rte", filepath.Join(dir, "nothing")) }},
		{"task: bad line", func() error {
			return w.LoadTask("jsonl", copyDirEdited(t, demoTask, map[string]string{"val.jsonl": "{\"text\": \"x\", \"label\": \"positive\"}\nnot json\n"}))
		}},
		{"task: unknown", func() error { return w.LoadTask("nosuchtask", dir) }},
	} {
		if err := c.do(); err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if w.Model != model || w.Task != task || w.Adapter != good {
			t.Errorf("%s: model, task or adapter changed by the failed load", c.name)
		}
		if got := w.Config(); !equalMaps(got, wantConfig) {
			t.Errorf("%s: settings changed: %v", c.name, got)
		}
		if got := predictFile(t, w, dir, "got.jsonl"); got != wantPred {
			t.Errorf("%s: predictions changed:\n%s\nbefore:\n%s", c.name, got, wantPred)
		}
		if got, err := w.Eval("dev"); err != nil || !equalScores(got, wantEval) {
			t.Errorf("%s: eval %v (%v), before %v", c.name, got, err, wantEval)
		}
	}
}
