package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/familydir"
)

// Each family's model directory (internal/familydir, the Hub's layout, no
// pooler in the checkpoint) through the shell in batch mode: show model names
// the family and the created pooler; APT trains, the adapter is saved, and a
// fresh shell that loads the model and the adapter evaluates to the same
// scores and writes the same prediction lines.
func TestShellFamilies(t *testing.T) {
	for _, mt := range familydir.ModelTypes {
		t.Run(mt, func(t *testing.T) {
			model := t.TempDir()
			if err := familydir.Write(model, mt, familydir.Options{Seed: 2, NoPooler: true}); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in := filepath.Join(dir, "in.jsonl")
			os.WriteFile(in, []byte(`{"text": "the plot was brilliant."}`+"\n"+`{"text": "dull and weak."}`+"\n"), 0o644)
			adapter := filepath.Join(dir, "a.safetensors")

			s, out, _ := newShell(t)
			run(t, s, out, "load model "+model)
			got := run(t, s, out, "show model")
			mustContain(t, "show model", got, mt+":", "none in the checkpoint: created")
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
		})
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
