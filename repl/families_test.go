package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/fakehub"
	"github.com/aptbench/apt/internal/familydir"
)

// Each family's model directory (internal/familydir, the Hub's layout, no
// pooler in the checkpoint) through the shell in batch mode (shellRoundTrip).
func TestShellFamilies(t *testing.T) {
	for _, mt := range familydir.ModelTypes {
		t.Run(mt, func(t *testing.T) {
			model := t.TempDir()
			if err := familydir.Write(model, mt, familydir.Options{Seed: 2, NoPooler: true}); err != nil {
				t.Fatal(err)
			}
			shellRoundTrip(t, mt, model, "none in the checkpoint: created")
		})
	}
}

// `load model org/tiny-<family>` against a stand-in Hub (internal/fakehub):
// HF_ENDPOINT points the shell's downloads at it, as it would at a mirror.
// Every family, BERT with its pooler, the others without, goes through the
// same session as TestShellFamilies, loaded by its Hub id both times.
func TestShellFamiliesFromHub(t *testing.T) {
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{}}
	families := append([]string{"bert"}, familydir.ModelTypes...)
	for _, mt := range families {
		dir := t.TempDir()
		if err := familydir.Write(dir, mt, familydir.Options{Seed: 3, NoPooler: mt != "bert"}); err != nil {
			t.Fatal(err)
		}
		hub.Repos["org/tiny-"+mt] = fakehub.DirRepo(t, dir)
	}
	hub.Serve(t)
	for _, mt := range families {
		t.Run(mt, func(t *testing.T) {
			pooler := "none in the checkpoint: created"
			if mt == "bert" {
				pooler = "from the checkpoint"
			}
			shellRoundTrip(t, mt, "org/tiny-"+mt, pooler)
			if len(hub.Fetched("org/tiny-"+mt)) == 0 {
				t.Errorf("nothing of org/tiny-%s was fetched from the Hub", mt)
			}
		})
	}
}

// shellRoundTrip loads model (a directory or a Hub id) of family mt in a
// shell in batch mode: show model names the family and where the pooler
// comes from (pooler); APT trains, the adapter is saved, and a fresh shell
// that loads the model and the adapter evaluates to the same scores and
// writes the same prediction lines.
func shellRoundTrip(t *testing.T, mt, model, pooler string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"text": "the plot was brilliant."}`+"\n"+`{"text": "dull and weak."}`+"\n"), 0o644)
	adapter := filepath.Join(dir, "a.safetensors")

	s, out, _ := newShell(t)
	run(t, s, out, "load model "+model)
	got := run(t, s, out, "show model")
	mustContain(t, "show model", got, mt+":", pooler)
	run(t, s, out, "load task demo", "set method=apt prefix_len=2 max_len=32 lr=1e-2", "train 3 steps")
	eval1 := run(t, s, out, "eval dev")
	run(t, s, out, "save adapter "+adapter, "predict "+in+" "+filepath.Join(dir, "out1.jsonl"))

	s2, out2, _ := newShell(t)
	run(t, s2, out2, "load model "+model, "load task demo")
	mustContain(t, "load adapter", run(t, s2, out2, "load adapter "+adapter), "loaded adapter", "apt, prefix_len 2")
	eval2 := run(t, s2, out2, "eval dev")
	mustContain(t, "predict", run(t, s2, out2, "predict "+in+" "+filepath.Join(dir, "out2.jsonl")), "wrote 2 predictions")
	t.Logf("%s: %s / %s", mt, score(eval1), score(eval2))
	if score(eval1) == "" || score(eval1) != score(eval2) {
		t.Errorf("eval after training:\n%s\neval after reloading:\n%s", eval1, eval2)
	}
	o1, _ := os.ReadFile(filepath.Join(dir, "out1.jsonl"))
	o2, _ := os.ReadFile(filepath.Join(dir, "out2.jsonl"))
	if len(o1) == 0 || string(o1) != string(o2) {
		t.Errorf("predictions differ after reloading the adapter:\n%s\n%s", o1, o2)
	}
}

// score is the line of an eval output that holds the accuracy.
func score(evalOut string) string {
	for _, l := range strings.Split(evalOut, "\n") {
		if strings.Contains(l, "accuracy") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
