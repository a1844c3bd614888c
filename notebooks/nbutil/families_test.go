package nbutil

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/internal/testbackend"
)

// TestTinyFamilyModel: every registered family gets a tiny model directory
// that loads with that family, with a pooler only for BERT, whose tokenizer
// splits the demo task's text into known pieces (no [UNK] in a sentence of
// plain words); a second call returns the same directory, an unknown family
// is refused.
func TestTinyFamilyModel(t *testing.T) {
	testbackend.Setenv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if got := Families(); !slices.Equal(got, []string{"bert", "deberta", "deberta-v2", "roberta"}) {
		t.Fatalf("Families() = %v", got)
	}
	w, err := aptlib.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range Families() {
		dir, err := TinyFamilyModel(mt)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := TinyFamilyModel(mt); err != nil || again != dir {
			t.Errorf("%s: second call %q, %v; want %q", mt, again, err, dir)
		}
		if err := w.LoadModel(dir); err != nil {
			t.Fatal(err)
		}
		info, err := w.ModelInfo()
		if err != nil {
			t.Fatal(err)
		}
		if info.ModelType != mt || (info.PoolerParams == 0) != (mt == "bert") || info.Layers != 3 || info.Hidden != 32 {
			t.Errorf("%s: loaded as %s, %d layers, hidden %d, created pooler parameters %d", mt, info.ModelType, info.Layers, info.Hidden, info.PoolerParams)
		}
		tok := w.Model.Tokenizer
		pieces := tok.Tokenize("the acting was brilliant and the story was fun")
		for _, p := range pieces {
			if id, ok := tok.ID(p); !ok || strings.Contains(p, "UNK") || strings.Contains(p, "unk") {
				t.Errorf("%s: piece %q (id %d, known %v) of a demo sentence", mt, p, id, ok)
			}
		}
		if len(pieces) == 0 || len(pieces) > 40 {
			t.Errorf("%s: %d pieces for a 9-word sentence", mt, len(pieces))
		}
	}
	if _, err := TinyFamilyModel("gpt2"); err == nil || !strings.Contains(err.Error(), `unknown family "gpt2"`) {
		t.Errorf("unknown family: %v", err)
	}
	// Nothing half-built is left beside the directories.
	entries, _ := os.ReadDir(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "apt-workbench"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tiny-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
