package bench

import "testing"

func TestPlan(t *testing.T) {
	rows := Plan([]string{"small", "base"}, nil, 2)
	count := map[string]int{}
	for _, r := range rows {
		count[r.Group+"/"+r.Size]++
		if r.Steps != 2 {
			t.Fatalf("row %s has %d steps", r.Describe(), r.Steps)
		}
	}
	want := map[string]int{"train/small": 3, "train/base": 3, "infer/small": 2, "infer/base": 2, "prefix/small": 4, "seq/small": 3, "batch/small": 3}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d rows, want %d (all: %v)", k, count[k], v, count)
		}
	}
}

// TestRunTinyRow runs a tiny row of each mode end to end on the pure-Go backend.
func TestRunTinyRow(t *testing.T) {
	for _, mode := range []string{"train", "infer"} {
		r := Row{Mode: mode, Size: "tiny", Method: "apt", Layers: 1, Hidden: 32, Heads: 2, Inter: 64, Batch: 2, Seq: 8, Prefix: 2, Steps: 1}
		res := Run(r, "go")
		if res.Err != "" {
			t.Fatalf("%s: %s", mode, res.Err)
		}
		if res.ExamplesPerS <= 0 || res.Graphs != 1 || res.PeakRSSMiB <= 0 {
			t.Fatalf("%s: implausible result %+v", mode, res)
		}
		if mode == "train" && res.Trainable != 2*2*32+32*2+2+1+32*2+2 {
			t.Errorf("trainable %d", res.Trainable)
		}
	}
}
