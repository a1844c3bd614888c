package aptlib

import (
	"context"
	"maps"
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
	"github.com/aptbench/apt/internal/fakehub"
	"github.com/aptbench/apt/internal/familydir"
)

// A model directory of each family, in the Hub's layout and without pooler
// tensors like the real roberta-base and deberta-base (internal/familydir:
// config.json, model.safetensors, the aptlib/bpe test vocabularies or a
// Unigram tokenizer.json), goes the whole way through the Workbench
// (familyRoundTrip).
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
			adapters[mt] = familyRoundTrip(t, mt, dir, false, filepath.Join(root, mt+".safetensors"))
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

// Every family, BERT included, by its Hub id: the fake Hub (internal/fakehub,
// HF_ENDPOINT) serves each tiny directory exactly as the HuggingFace Hub
// serves files, and Workbench.LoadModel("org/tiny-<family>") downloads it
// into the cache and loads it; training, the adapter round trip through a
// fresh workbench that loads the model by its id again, eval and predict as
// in TestWorkbenchFamiliesEndToEnd. The Hub sends exactly the files the
// loader needs (config.json, the weights and the family's tokenizer files),
// each once: the second workbench finds them in the cache.
func TestWorkbenchFamiliesFromHub(t *testing.T) {
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{}}
	src := t.TempDir()
	families := append([]string{"bert"}, familydir.ModelTypes...)
	for _, mt := range families {
		dir := filepath.Join(src, mt)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// BERT keeps its pooler, the others have none (as on the Hub).
		if err := familydir.Write(dir, mt, familydir.Options{Seed: 3, NoPooler: mt != "bert"}); err != nil {
			t.Fatal(err)
		}
		repo := fakehub.DirRepo(t, dir)
		repo.Files["README.md"] = []byte("# tiny " + mt + "\n") // served, never fetched
		hub.Repos["org/tiny-"+mt] = repo
	}
	hub.Serve(t)
	for _, mt := range families {
		t.Run(mt, func(t *testing.T) {
			id := "org/tiny-" + mt
			familyRoundTrip(t, mt, id, mt == "bert", filepath.Join(t.TempDir(), "a.safetensors"))
			fam, err := backbone.Lookup(mt)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"config.json": true, "model.safetensors": true}
			for _, f := range fam.TokenizerFiles {
				if _, ok := hub.Repos[id].Files[f]; ok {
					want[f] = true
				}
			}
			fetched := hub.Fetched(id)
			got := map[string]bool{}
			for _, f := range fetched {
				got[f] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fetched %v from the Hub, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			if len(fetched) != len(got) { // the second workbench loads from the cache
				t.Errorf("fetched %v: some files twice", fetched)
			}
		})
	}
}

// familyRoundTrip takes the model name (a directory or a Hub id) of family mt
// through the Workbench: it loads with its family and says where the pooler
// comes from (the checkpoint's with hasPooler, else a created one); APT
// trains a few steps on the demo task; the adapter saved at path holds the
// created pooler (when there is one); a fresh workbench that loads the model
// and the adapter evaluates to the same scores and predicts the same lines.
// It returns path.
func familyRoundTrip(t *testing.T, mt, name string, hasPooler bool, path string) string {
	t.Helper()
	w := benchOn(t, name)
	info, err := w.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	d := w.Model.Config.HiddenSize()
	if hasPooler {
		if info.ModelType != mt || !strings.HasPrefix(info.Pooler, "from the checkpoint") || info.PoolerParams != 0 {
			t.Errorf("model info: family %q, pooler %q with %d parameters", info.ModelType, info.Pooler, info.PoolerParams)
		}
	} else if info.ModelType != mt || !strings.HasPrefix(info.Pooler, "none in the checkpoint: created") || info.PoolerParams != d*d+d {
		t.Errorf("model info: family %q, pooler %q with %d parameters", info.ModelType, info.Pooler, info.PoolerParams)
	}
	mustSet(t, w, "method", "apt", "prefix_len", "2", "max_len", "32", "lr", "1e-2")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	scores, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, pn := range []string{"pooler.weight", "pooler.bias"} {
		if _, ok := f.Info(pn); ok == hasPooler {
			t.Errorf("adapter has %s: %v, want %v", pn, ok, !hasPooler)
		}
	}
	if md := f.Metadata(); md["model_type"] != mt || md["base_model"] != name {
		t.Errorf("adapter metadata model_type %q, base_model %q; want %q, %q", md["model_type"], md["base_model"], mt, name)
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

	w2 := benchOn(t, name)
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
	return path
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
