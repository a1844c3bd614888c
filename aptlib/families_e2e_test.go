package aptlib

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/hub"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/familydir"
	"github.com/aptbench/apt/internal/testbackend"
)

// A model directory of each family, in the Hub's layout and without pooler
// tensors like the real roberta-base and deberta-base (internal/familydir:
// config.json, model.safetensors, the aptlib/bpe test vocabularies or a
// Unigram tokenizer.json; deberta-v2 is skipped while its tokenizer package
// is not wired into the family), goes the
// whole way through the Workbench: it loads with its family and says the
// pooler is created, APT trains a few steps on the demo task, the adapter
// holds the created pooler, a fresh workbench that loads the model and the
// adapter evaluates to the same scores and predicts the same lines.
func TestWorkbenchFamiliesEndToEnd(t *testing.T) {
	adapters, models := map[string]string{}, map[string]string{}
	root := t.TempDir() // outlives the subtests: the last check reuses their files
	for _, mt := range familydir.ModelTypes {
		t.Run(mt, func(t *testing.T) {
			dir := filepath.Join(root, mt)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			models[mt] = dir
			if err := familydir.Write(dir, mt, familydir.Options{Seed: 2, NoPooler: true}); err != nil {
				t.Fatal(err)
			}
			open := func() *Workbench {
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
				return w
			}
			w := open()
			info, err := w.ModelInfo()
			if err != nil {
				t.Fatal(err)
			}
			d := w.Model.Config.HiddenSize()
			if info.ModelType != mt || !strings.HasPrefix(info.Pooler, "none in the checkpoint: created") || info.PoolerParams != d*d+d {
				t.Errorf("model info: family %q, pooler %q with %d parameters", info.ModelType, info.Pooler, info.PoolerParams)
			}
			for k, v := range map[string]string{"method": "apt", "prefix_len": "2", "max_len": "32", "lr": "1e-2"} {
				if err := w.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
				t.Fatal(err)
			}
			scores, err := w.Eval("dev")
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			path := filepath.Join(root, mt+".safetensors")
			if err := w.SaveAdapter(path); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"pooler.weight", "pooler.bias"} {
				if _, ok := f.Info(name); !ok {
					t.Errorf("adapter has no %s", name)
				}
			}
			if md := f.Metadata(); md["model_type"] != mt {
				t.Errorf("adapter metadata model_type %q, want %q", md["model_type"], mt)
			}
			f.Close()
			in := filepath.Join(tmp, "in.jsonl")
			if err := os.WriteFile(in, []byte(`{"text": "the plot was brilliant."}`+"\n"+`{"text": "dull and weak."}`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out1, out2 := filepath.Join(tmp, "out1.jsonl"), filepath.Join(tmp, "out2.jsonl")
			if n, err := w.Predict(in, out1); err != nil || n != 2 {
				t.Fatalf("predict: %d, %v", n, err)
			}

			w2 := open()
			if err := w2.LoadAdapter(path); err != nil {
				t.Fatal(err)
			}
			again, err := w2.Eval("dev")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(scores, again) {
				t.Errorf("dev scores %v after training, %v in a fresh workbench with the adapter", scores, again)
			}
			if n, err := w2.Predict(in, out2); err != nil || n != 2 {
				t.Fatalf("predict after reload: %d, %v", n, err)
			}
			o1, _ := os.ReadFile(out1)
			o2, _ := os.ReadFile(out2)
			if len(o1) == 0 || string(o1) != string(o2) {
				t.Errorf("predictions differ after reloading the adapter:\n%s\n%s", o1, o2)
			}
			adapters[mt] = path
		})
	}
	// An adapter is refused on a backbone of another family with the same
	// shape (its model_type metadata); the workbench already refuses it for
	// the other base model's fingerprint, so this is adapter.Spec's own check.
	if adapters["roberta"] != "" && models["deberta"] != "" {
		a, err := adapter.Load(adapters["roberta"])
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := backbone.LoadConfigDir(models["deberta"])
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Spec(cfg)
		if a.ModelType != "roberta" || err == nil || !strings.Contains(err.Error(), "trained on a roberta backbone (model_type metadata), this model is deberta") {
			t.Errorf("roberta adapter (model_type %q) on a deberta model: %v", a.ModelType, err)
		}
	}
}

// The Hub download fetches every tokenizer file of every registered family.
func TestHubFetchesEveryFamilysTokenizerFiles(t *testing.T) {
	for _, mt := range backbone.ModelTypes() {
		f, err := backbone.Lookup(mt)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range f.TokenizerFiles {
			if !slices.Contains(hub.TokenizerFiles, name) {
				t.Errorf("family %s reads %s, which hub.TokenizerFiles does not fetch", mt, name)
			}
		}
	}
}
