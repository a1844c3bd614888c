package repro

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOrderForProbe(t *testing.T) {
	got := orderForProbe([]string{"ft", "pt2*", "pt2", "apt", "pt2+"})
	want := []string{"ft", "apt", "pt2*", "pt2", "pt2+"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v (apt before the runs built from it)", got, want)
	}
	if got := orderForProbe([]string{"pt2", "apt"}); !slices.Equal(got, []string{"pt2", "apt"}) {
		t.Fatalf("order without probes changed: %v", got)
	}
}

// TestExecuteOnCB runs APT, PT-2* and PT-2+ on a slice of the real CB data with
// the demo backbone and checks the table (skips without ../shared/data).
func TestExecuteOnCB(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, "CB", "train.jsonl")); err != nil {
		t.Skipf("benchmark data not found at %s: %v", data, err)
	}
	c := Config{Model: "demo", DataDir: data, Tasks: []string{"cb"}, Methods: []string{"pt2*", "apt", "pt2+"},
		Seeds: []int{1, 2}, Protocol: "ptuning-v2-best-dev-epoch", Backend: "go",
		Settings: map[string]string{"epochs": "1", "train_limit": "32", "eval_limit": "16", "max_len": "48", "prefix_len": "4"}}
	runs, err := Execute(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 6 {
		t.Fatalf("%d runs, want 6", len(runs))
	}
	for _, r := range runs {
		if r.Err != nil {
			t.Fatalf("%s seed %d: %v", r.Method, r.Seed, r.Err)
		}
		total := 0
		for _, p := range r.PrefixLens {
			total += p
		}
		switch r.Method {
		case "apt", "pt2*":
			if total != 16 { // 4 layers x 4: PT-2* spends APT's budget
				t.Errorf("%s: prefix lengths %v sum to %d, want 16", r.Method, r.PrefixLens, total)
			}
		case "pt2+":
			if total <= 16 {
				t.Errorf("pt2+: prefix lengths %v should be longer than APT's to match its parameters", r.PrefixLens)
			}
		}
	}
	table := Table(runs, c, "test")
	for _, want := range []string{"| apt |", "| pt2* |", "| pt2+ |", "ptuning-v2-best-dev-epoch", "±"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
