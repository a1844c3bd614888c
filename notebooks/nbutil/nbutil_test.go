package nbutil

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/internal/testbackend"
)

func TestRoot(t *testing.T) {
	t.Setenv("GONB_DIR", "")
	root := Root() // walks up from notebooks/nbutil
	if !isRoot(root) || filepath.Base(filepath.Join(root, "notebooks")) != "notebooks" {
		t.Fatalf("Root() = %q, not the checkout", root)
	}
	t.Setenv("GONB_DIR", filepath.Join(root, "notebooks"))
	if got := Root(); got != root {
		t.Errorf("with GONB_DIR: Root() = %q, want %q", got, root)
	}
	t.Setenv("APT_SHARED", t.TempDir())
	if _, ok := Shared("data", "CB"); ok {
		t.Errorf("Shared found data in an empty folder")
	}
}

func TestTableEscapes(t *testing.T) {
	h := Table([]string{"a<b"}, [][]string{{"x & y"}})
	if !strings.Contains(h, "a&lt;b") || !strings.Contains(h, "x &amp; y") {
		t.Errorf("table not escaped: %s", h)
	}
}

func TestHighlight(t *testing.T) {
	words := []string{"Anna", "Berg", "flew", "to", "Oslo", "."}
	gold := []string{"B-Peop", "I-Peop", "O", "O", "B-Loc", "O"}
	pred := []string{"B-Peop", "O", "O", "O", "B-Loc", "O"}
	colors := EntityColors(EntityTypes([]string{"O", "B-Loc", "B-Peop", "I-Loc", "I-Peop"}))
	if len(colors) != 2 || colors["Loc"] == colors["Peop"] {
		t.Fatalf("colors %v", colors)
	}
	h := Highlight(words, gold, colors, nil)
	if !strings.Contains(h, "Anna Berg <sup") || !strings.Contains(h, "Oslo <sup") || strings.Count(h, "<sup") != 2 {
		t.Errorf("gold highlight: %s", h)
	}
	h = Highlight(words, pred, colors, gold)
	// "Anna" alone is a wrong Peop entity (dashed), Oslo a right one (solid).
	if strings.Count(h, "dashed") != 1 || strings.Count(h, "2px solid") != 1 {
		t.Errorf("framed highlight: %s", h)
	}
	if l := Legend(colors, true); !strings.Contains(l, "Loc") || !strings.Contains(l, "not in gold") {
		t.Errorf("legend: %s", l)
	}
}

func TestDemoNER(t *testing.T) {
	dir := t.TempDir()
	if err := DemoNER(dir); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.Load("conll", dir)
	if err != nil {
		t.Fatal(err)
	}
	if task.Train.Len() != 320 || task.Dev.Len() != 80 {
		t.Errorf("splits %d / %d", task.Train.Len(), task.Dev.Len())
	}
	if got := EntityTypes(task.Labels); strings.Join(got, ",") != "Loc,Org,Peop" {
		t.Errorf("entity types %v (labels %v)", got, task.Labels)
	}
}

func TestDemoModelWithVocab(t *testing.T) {
	testbackend.Setenv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	demo, err := aptlib.DemoModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := DemoModelWithVocab(filepath.Join(demo, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := DemoModelWithVocab(filepath.Join(demo, "vocab.txt"))
	if err != nil || again != dir {
		t.Fatalf("second call: %q, %v; want the cached %q", again, err, dir)
	}
	w, err := aptlib.New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(dir); err != nil {
		t.Fatal(err)
	}
	if w.Model.Config.NumLayers() != 4 || w.Model.Config.HiddenSize() != 64 || w.Model.Tokenizer.VocabSize() != 134 {
		t.Errorf("model: %+v", w.Model.Config)
	}
}

// TestLoadTaskSlices: a benchmark folder found through APT_SHARED, cut to the
// first examples; an absent one falls back to the demo task.
func TestLoadTaskSlices(t *testing.T) {
	testbackend.Setenv(t)
	shared := t.TempDir()
	t.Setenv("APT_SHARED", shared)
	demoTask, err := aptlib.DemoTaskDir()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(shared, "data", "Sent")
	os.MkdirAll(dst, 0o755)
	for _, f := range []string{"train.jsonl", "val.jsonl"} {
		b, err := os.ReadFile(filepath.Join(demoTask, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, f), b, 0o644)
	}
	w, err := aptlib.New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	if !LoadTask(w, "jsonl", "Sent", 10, 7) {
		t.Fatal("LoadTask did not find the folder")
	}
	if _, exs, err := w.Encoded("train"); err != nil || len(exs) != 10 {
		t.Errorf("train: %d examples, %v", len(exs), err)
	}
	if _, exs, err := w.Encoded("dev"); err != nil || len(exs) != 7 || len(Examples(w, "dev")) != 7 {
		t.Errorf("dev: %d examples, %v", len(exs), err)
	}
	if r, err := w.Step(); err != nil || r.Examples != 10 {
		t.Errorf("a step on the 10 examples: %+v, %v", r, err)
	}
	if LoadTask(w, "cb", "CB", 10, 7) || w.Task.Name != "jsonl" {
		t.Errorf("missing data: want the demo task, got %s", w.Task.Name)
	}
	if LoadTask(w, "conll04", "CoNLL04", 10, 7) || w.Task.Name != "conll" {
		t.Errorf("missing NER data: want the synthetic conll set, got %s", w.Task.Name)
	}
}

func TestPauseWithoutNotebook(t *testing.T) {
	p := NewPause("pause")
	if p.Poll(context.Background(), nil, nil) || p.Live() {
		t.Errorf("a pause button outside a notebook paused or claims a front-end")
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	Save(path, Run{Name: "x", Dev: map[string]float64{"f1": 0.5}})
	var r Run
	Load(path, &r)
	if r.Name != "x" || r.Dev["f1"] != 0.5 {
		t.Errorf("round trip: %+v", r)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Load of a missing file did not panic")
		}
	}()
	os.Remove(path)
	Load(path, &r)
}
