package aptlib

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/fakefamily"
	"github.com/aptbench/apt/internal/testbackend"
)

// demoModelAs copies the demo model directory with config.json's model_type
// set to modelType.
func demoModelAs(t *testing.T, modelType string) string {
	t.Helper()
	src, err := DemoModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "config.json" {
			s := string(data)
			if !strings.Contains(s, `"model_type": "bert"`) {
				t.Fatalf("demo config.json has no model_type bert: %s", s)
			}
			data = []byte(strings.Replace(s, `"model_type": "bert"`, `"model_type": "`+modelType+`"`, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A model directory of a family this build does not register is refused at
// LoadModel with one line naming config.json and the supported model types,
// and the loaded model stays.
func TestLoadModelUnsupportedFamily(t *testing.T) {
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	before := w.Model
	types := []string{"gpt2"}
	if _, err := backbone.Lookup("roberta"); err != nil {
		types = append(types, "roberta") // until the roberta family is registered
	}
	for _, mt := range types {
		dir := demoModelAs(t, mt)
		err := w.LoadModel(dir)
		want := filepath.Join(dir, "config.json") + `: model_type "` + mt + `" is not supported (supported: ` + strings.Join(backbone.ModelTypes(), ", ") + ")"
		if err == nil || err.Error() != want {
			t.Errorf("LoadModel(%s model): %v, want %q", mt, err, want)
		}
		if w.Model != before {
			t.Errorf("LoadModel(%s model) replaced the loaded model", mt)
		}
	}
	info, err := w.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.ModelType != "bert" || !strings.HasPrefix(info.FamilyDoc, "BERT") {
		t.Errorf("model info family %q %q, want bert", info.ModelType, info.FamilyDoc)
	}
}

// The workbench trains, evaluates, saves and reapplies an adapter on a second
// family (internal/fakefamily) without knowing it.
func TestWorkbenchOtherFamily(t *testing.T) {
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(demoModelAs(t, fakefamily.ModelType)); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadTask("demo", ""); err != nil {
		t.Fatal(err)
	}
	if w.Model.Family.ModelType != fakefamily.ModelType || w.Model.Config.ModelType() != fakefamily.ModelType {
		t.Fatalf("loaded family %s", w.Model.Family.ModelType)
	}
	info, err := w.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.ModelType != fakefamily.ModelType || info.BackboneParams != w.Model.Config.NumParameters() {
		t.Errorf("model info: %+v", info)
	}
	for k, v := range map[string]string{"method": "apt", "epochs": "1", "lr": "1e-2", "prefix_len": "4"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Train(context.Background(), TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	scores, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fake.safetensors")
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadAdapter(path); err != nil {
		t.Fatal(err)
	}
	again, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	if scores["accuracy"] != again["accuracy"] {
		t.Errorf("dev accuracy %v after training, %v after reloading the adapter", scores["accuracy"], again["accuracy"])
	}
}

// A checkpoint without pooler tensors: show model says the pooler is created,
// counts it in every method's trainable parameters, and training and an
// adapter round trip work through the workbench.
func TestWorkbenchCreatedPooler(t *testing.T) {
	src, err := DemoModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	set, err := safetensors.OpenDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, name := range set.Names() {
		if strings.HasPrefix(name, "pooler.") || strings.HasPrefix(name, "bert.pooler.") {
			continue
		}
		data, shape, err := set.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shape, Data: data})
	}
	set.Close()
	if err := safetensors.Write(filepath.Join(dir, safetensors.SingleFileName), ts, nil); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".safetensors") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(dir); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadTask("demo", ""); err != nil {
		t.Fatal(err)
	}
	info, err := w.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	d := w.Model.Config.HiddenSize()
	if !strings.HasPrefix(info.Pooler, "none in the checkpoint: created") || info.PoolerParams != d*d+d {
		t.Errorf("pooler %q, %d parameters", info.Pooler, info.PoolerParams)
	}
	for k, v := range map[string]string{"method": "pt2", "epochs": "1", "prefix_len": "2"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Train(context.Background(), TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	scores, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.safetensors")
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	w2, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.LoadModel(dir); err != nil {
		t.Fatal(err)
	}
	if err := w2.LoadTask("demo", ""); err != nil {
		t.Fatal(err)
	}
	if err := w2.LoadAdapter(path); err != nil {
		t.Fatal(err)
	}
	again, err := w2.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	if scores["accuracy"] != again["accuracy"] {
		t.Errorf("dev accuracy %v, %v after reloading the adapter", scores["accuracy"], again["accuracy"])
	}

	// The checkpoint's own pooler is reported as such.
	if err := w2.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	if info, err := w2.ModelInfo(); err != nil || !strings.HasPrefix(info.Pooler, "from the checkpoint") || info.PoolerParams != 0 {
		t.Errorf("demo pooler %+v %v", info, err)
	}
}
