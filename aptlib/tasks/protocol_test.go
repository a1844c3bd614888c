package tasks

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func synthSplit(n int, label func(i int) string, doc func(i int) string) *Split {
	s := &Split{Name: "train", File: "synthetic", Labeled: true}
	for i := 0; i < n; i++ {
		s.Examples = append(s.Examples, Example{ID: fmt.Sprint(i), Label: label(i), Doc: doc(i)})
	}
	return s
}

func ids(s *Split) []string {
	var out []string
	for _, ex := range s.Examples {
		out = append(out, ex.ID)
	}
	return out
}

func TestHoldOutStratifiedDeterministic(t *testing.T) {
	// 80 "a", 20 "b".
	s := synthSplit(100, func(i int) string {
		if i%5 == 0 {
			return "b"
		}
		return "a"
	}, func(int) string { return "" })
	tr, ho, err := HoldOut(s, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 90 || ho.Len() != 10 {
		t.Fatalf("sizes %d %d", tr.Len(), ho.Len())
	}
	nb := 0
	for _, ex := range ho.Examples {
		if ex.Label == "b" {
			nb++
		}
	}
	if nb != 2 {
		t.Fatalf("held-out has %d of label b, want 2 (stratified)", nb)
	}
	// Same seed, same split; another seed, another split.
	tr2, ho2, _ := HoldOut(s, 0.1, 7)
	if !reflect.DeepEqual(ids(ho), ids(ho2)) || !reflect.DeepEqual(ids(tr), ids(tr2)) {
		t.Fatal("not deterministic")
	}
	_, ho3, _ := HoldOut(s, 0.1, 8)
	if reflect.DeepEqual(ids(ho), ids(ho3)) {
		t.Fatal("seed has no effect")
	}
	// Order is preserved and the parts are disjoint and complete.
	seen := map[string]bool{}
	for _, part := range []*Split{tr, ho} {
		prev := -1
		for _, ex := range part.Examples {
			var n int
			fmt.Sscan(ex.ID, &n)
			if n <= prev {
				t.Fatalf("%s: order not kept", part.Name)
			}
			prev = n
			if seen[ex.ID] {
				t.Fatalf("example %s in both parts", ex.ID)
			}
			seen[ex.ID] = true
		}
	}
	if len(seen) != 100 || ho.Name != "heldout" || tr.Name != "train-part" {
		t.Fatal("parts incomplete or misnamed")
	}
	// The input is not modified.
	if s.Len() != 100 || s.Examples[0].ID != "0" {
		t.Fatal("input changed")
	}
}

// The split of a fixed input for a fixed seed is pinned, so that it cannot
// change silently (e.g. with a Go release).
func TestHoldOutPinned(t *testing.T) {
	s := synthSplit(10, func(i int) string { return "x" }, func(int) string { return "" })
	_, ho, err := HoldOut(s, 0.3, 42)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ids(ho), ",")
	if got != pinnedHoldOut {
		t.Fatalf("held-out ids %s, want %s", got, pinnedHoldOut)
	}
}

const pinnedHoldOut = "0,5,9" // also computed by an independent SplitMix64 + Fisher-Yates in Python

func TestHoldOutKeepsDocsTogether(t *testing.T) {
	// 10 docs of 4 examples with mixed labels (like MultiRC passages).
	s := synthSplit(40, func(i int) string { return []string{"False", "True"}[i%2] }, func(i int) string { return fmt.Sprint(i / 4) })
	tr, ho, err := HoldOut(s, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ho.Len() != 8 || tr.Len() != 32 {
		t.Fatalf("sizes %d %d", tr.Len(), ho.Len())
	}
	docs := map[string]bool{}
	for _, ex := range ho.Examples {
		docs[ex.Doc] = true
	}
	for _, ex := range tr.Examples {
		if docs[ex.Doc] {
			t.Fatalf("doc %s on both sides", ex.Doc)
		}
	}
}

func TestHoldOutErrors(t *testing.T) {
	s := synthSplit(10, func(int) string { return "x" }, func(int) string { return "" })
	for _, f := range []float64{0, 1, -0.5, 1.5} {
		if _, _, err := HoldOut(s, f, 1); err == nil {
			t.Errorf("frac %v: want error", f)
		}
	}
	if _, _, err := HoldOut(s, 0.01, 1); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("tiny frac: %v", err)
	}
	if _, _, err := HoldOut(&Split{}, 0.1, 1); err == nil {
		t.Error("empty split: want error")
	}
	one := synthSplit(3, func(int) string { return "x" }, func(int) string { return "d" })
	if _, _, err := HoldOut(one, 0.5, 1); err == nil {
		t.Error("single doc: want error")
	}
}

func TestHoldOutOnRealTask(t *testing.T) {
	task := mustLoad(t, "rte", sg("RTE"))
	tr, ho, err := HoldOut(task.Train, 0.34, 3)
	if err != nil {
		t.Fatal(err)
	}
	// 3 entailment + 3 not_entailment -> 1 of each held out.
	if ho.Len() != 2 || tr.Len() != 4 || ho.Examples[0].Label == ho.Examples[1].Label {
		t.Fatalf("held out %+v", ho.Examples)
	}
	if _, err := EvaluateExamples(task, ho.Examples, []int{ho.Examples[0].LabelIndex, ho.Examples[1].LabelIndex}); err != nil {
		t.Fatal(err)
	}
}

func TestParseProtocol(t *testing.T) {
	for _, p := range Protocols() {
		got, err := ParseProtocol(string(p))
		if err != nil || got != p {
			t.Fatalf("%s: %v %v", p, got, err)
		}
	}
	if _, err := ParseProtocol("best"); err == nil || !strings.Contains(err.Error(), "honest-heldout") {
		t.Fatalf("unknown: %v", err)
	}
	if ProtocolBestDevEpoch != "ptuning-v2-best-dev-epoch" || ProtocolHonestHeldOut != "honest-heldout" {
		t.Fatal("protocol names changed")
	}
}
