package repro

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/familydir"
	"github.com/aptbench/apt/internal/testbackend"
)

// TestExecuteOtherFamilies runs a tiny reproduction (APT, then PT-2* built from
// its gates, on the seven-example RTE slice of the tasks package's test data)
// over a model directory of each non-BERT family in the Hub's layout (random
// weights, no pooler tensors as in roberta-base and deberta-v3-base), and
// checks that the runs succeed, train the created pooler and that the table
// names the family.
func TestExecuteOtherFamilies(t *testing.T) {
	for _, mt := range familydir.ModelTypes {
		t.Run(mt, func(t *testing.T) {
			dir := t.TempDir()
			if err := familydir.Write(dir, mt, familydir.Options{Seed: 3, NoPooler: true}); err != nil {
				t.Fatal(err)
			}
			c := Config{Model: dir, DataDir: filepath.Join("..", "tasks", "testdata", "sg"), Tasks: []string{"rte"},
				Methods: []string{"pt2*", "apt"}, Seeds: []int{1}, Protocol: "ptuning-v2-best-dev-epoch",
				Backend:  testbackend.Name(),
				Settings: map[string]string{"epochs": "1", "max_len": "32", "prefix_len": "2", "batch_size": "4"}}
			runs, err := Execute(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 2 {
				t.Fatalf("%d runs, want 2", len(runs))
			}
			for _, r := range runs {
				if r.Err != nil {
					t.Fatalf("%s: %v", r.Method, r.Err)
				}
				if r.ModelType != mt {
					t.Errorf("%s: run's model type %q, want %q", r.Method, r.ModelType, mt)
				}
				// familydir's models: 3 layers, d = 32. PT-2* trains its
				// prefixes (APT's lengths, 2 per layer), the created pooler
				// and the head.
				if d := 32; r.Method == "pt2*" && r.Trainable != 3*2*2*d+(d*d+d)+(d*2+2) {
					t.Errorf("pt2*: %d trainable parameters, want prefixes + created pooler + head = %d", r.Trainable, 3*2*2*d+(d*d+d)+(d*2+2))
				}
			}
			table := Table(runs, c, "test")
			if want := "Family: `" + mt + "`"; !strings.Contains(table, want) {
				t.Errorf("table lacks %q:\n%s", want, table)
			}
		})
	}
}
