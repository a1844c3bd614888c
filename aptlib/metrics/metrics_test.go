package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAccuracy(t *testing.T) {
	a, err := AccuracyScore([]int{0, 1, 1, 2}, []int{0, 1, 0, 2})
	if err != nil || !near(a, 0.75) {
		t.Fatalf("accuracy = %v, %v; want 0.75", a, err)
	}
	if _, err := AccuracyScore([]int{0}, []int{0, 1}); err == nil {
		t.Fatal("want length mismatch error")
	}
	if _, err := AccuracyScore(nil, nil); err == nil {
		t.Fatal("want error on empty input")
	}
}

func TestMacroF1(t *testing.T) {
	// gold: 0 0 1 1 2 ; pred: 0 1 1 1 0
	// class 0: tp1 pred2 gold2 -> p .5 r .5 f .5
	// class 1: tp2 pred3 gold2 -> p 2/3 r 1 f .8
	// class 2: tp0 pred0 gold1 -> f 0
	f, err := MacroF1Score([]int{0, 0, 1, 1, 2}, []int{0, 1, 1, 1, 0})
	if err != nil || !near(f, (0.5+0.8+0)/3) {
		t.Fatalf("macro F1 = %v, %v; want %v", f, err, (0.5+0.8)/3)
	}
	// A class absent from both gold and pred does not count (sklearn's labels =
	// unique_labels(y_true, y_pred)).
	f, _ = MacroF1Score([]int{0, 1}, []int{0, 1})
	if !near(f, 1) {
		t.Fatalf("macro F1 = %v, want 1", f)
	}
}

func TestBinaryF1(t *testing.T) {
	// gold 1 1 0 0, pred 1 0 1 0: tp1 pred2 gold2 -> .5
	f, _ := BinaryF1([]int{1, 1, 0, 0}, []int{1, 0, 1, 0}, 1)
	if !near(f, 0.5) {
		t.Fatalf("F1 = %v, want .5", f)
	}
	f, _ = BinaryF1([]int{0, 0}, []int{0, 0}, 1)
	if f != 0 {
		t.Fatalf("F1 with no positives = %v, want 0", f)
	}
}

func TestMultiRC(t *testing.T) {
	groups := []string{"q1", "q1", "q1", "q2", "q2", "q3"}
	gold := []int{1, 0, 1, 0, 1, 0}
	pred := []int{1, 0, 1, 1, 1, 0}
	// q1 all right, q2 wrong, q3 right -> EM 2/3
	// positives: gold 3, pred 4, tp 3 -> p .75 r 1 f 6/7
	s, err := MultiRC(groups, gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.EM, 2.0/3) || !near(s.F1a, 6.0/7) || s.Questions != 3 || s.Answers != 6 {
		t.Fatalf("got %+v", s)
	}
	if _, err := MultiRC(groups, gold, []int{1, 0, 1, 2, 1, 0}); err == nil {
		t.Fatal("want error on a label that is not 0/1")
	}
	if _, err := MultiRC(groups[:2], gold, pred); err == nil {
		t.Fatal("want error on group length mismatch")
	}
}

func ents(t *testing.T, tags ...string) []Entity {
	t.Helper()
	e, err := Entities(tags)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEntitiesHandWorked(t *testing.T) {
	cases := []struct {
		name string
		tags []string
		want []Entity
	}{
		{"plain BIO", []string{"B-PER", "I-PER", "O", "B-LOC"},
			[]Entity{{"PER", 0, 1}, {"LOC", 3, 3}}},
		{"I- with no B- starts an entity", []string{"O", "I-PER", "I-PER", "O"},
			[]Entity{{"PER", 1, 2}}},
		{"I- at sentence start", []string{"I-ORG", "O"},
			[]Entity{{"ORG", 0, 0}}},
		{"entity at sentence end", []string{"O", "B-LOC", "I-LOC"},
			[]Entity{{"LOC", 1, 2}}},
		{"single-word entity at end", []string{"O", "O", "B-MISC"},
			[]Entity{{"MISC", 2, 2}}},
		{"type change inside a span", []string{"B-PER", "I-PER", "I-LOC", "I-LOC"},
			[]Entity{{"PER", 0, 1}, {"LOC", 2, 3}}},
		{"B- after B- of the same type", []string{"B-PER", "B-PER", "I-PER"},
			[]Entity{{"PER", 0, 0}, {"PER", 1, 2}}},
		{"B- of another type after I-", []string{"B-ORG", "I-ORG", "B-LOC"},
			[]Entity{{"ORG", 0, 1}, {"LOC", 2, 2}}},
		{"all O", []string{"O", "O", "O"}, nil},
		{"empty sentence", []string{}, nil},
		{"IOBES", []string{"S-PER", "B-ORG", "I-ORG", "E-ORG", "O", "S-LOC"},
			[]Entity{{"PER", 0, 0}, {"ORG", 1, 3}, {"LOC", 5, 5}}},
		{"I- after E- starts a new entity", []string{"B-ORG", "E-ORG", "I-ORG", "E-ORG"},
			[]Entity{{"ORG", 0, 1}, {"ORG", 2, 3}}},
		{"E- after O is a one-word entity", []string{"O", "E-PER", "O"},
			[]Entity{{"PER", 1, 1}}},
		{"hyphenated type", []string{"B-creative-work", "I-creative-work"},
			[]Entity{{"creative-work", 0, 1}}},
		{"bare tags have type _", []string{"B", "I", "O", "I"},
			[]Entity{{"_", 0, 1}, {"_", 3, 3}}},
	}
	for _, c := range cases {
		got := ents(t, c.tags...)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v -> %v, want %v", c.name, c.tags, got, c.want)
		}
	}
	for _, bad := range []string{"X-PER", "B_PER", "PER", "B-", ""} {
		if _, err := Entities([]string{"O", bad}); err == nil || !strings.Contains(err.Error(), "position 1") {
			t.Errorf("tag %q: err = %v, want invalid tag at position 1", bad, err)
		}
	}
}

func TestNERHandWorked(t *testing.T) {
	// seqeval's docstring example: one MISC missed (wrong start), PER right.
	gold := [][]string{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	pred := [][]string{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	s, err := NER(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Precision, .5) || !near(s.Recall, .5) || !near(s.F1, .5) {
		t.Fatalf("got %+v, want .5/.5/.5", s.PRF)
	}
	if s.PerType["PER"].F1 != 1 || s.PerType["MISC"].F1 != 0 || s.PerType["MISC"].Gold != 1 {
		t.Fatalf("per type: %+v", s.PerType)
	}

	// Hand-worked mix:
	// sent 0 gold: PER[0,1] LOC[3,3]        pred: PER[0,1] (I- without B-: "I-PER I-PER") LOC[3,4] -> 1 correct
	// sent 1 gold: all O                    pred: ORG[2,2]                        -> 0 correct
	// sent 2 gold: ORG[0,1] LOC[2,2] (type change) pred: ORG[0,2] (B-ORG I-ORG I-ORG) -> 0 correct
	// sent 3 gold: MISC[2,2] at end         pred: MISC[2,2]                       -> 1 correct
	gold = [][]string{
		{"B-PER", "I-PER", "O", "B-LOC", "O"},
		{"O", "O", "O"},
		{"B-ORG", "I-ORG", "I-LOC"},
		{"O", "O", "B-MISC"},
	}
	pred = [][]string{
		{"I-PER", "I-PER", "O", "B-LOC", "I-LOC"},
		{"O", "O", "B-ORG"},
		{"B-ORG", "I-ORG", "I-ORG"},
		{"O", "O", "I-MISC"},
	}
	s, err = NER(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	// gold 5 entities, predicted 5, correct 2
	if s.Gold != 5 || s.Predicted != 5 || s.Correct != 2 {
		t.Fatalf("counts %+v", s.PRF)
	}
	if !near(s.Precision, .4) || !near(s.Recall, .4) || !near(s.F1, .4) {
		t.Fatalf("got %+v", s.PRF)
	}
	if pt := s.PerType["ORG"]; pt.Gold != 1 || pt.Predicted != 2 || pt.Correct != 0 {
		t.Fatalf("ORG %+v", pt)
	}

	// Entities do not run across sentences: gold ends sentence 0 with B-PER and
	// sentence 1 starts with I-PER; both are separate one-word entities.
	s, _ = NER([][]string{{"O", "B-PER"}, {"I-PER", "O"}}, [][]string{{"O", "B-PER"}, {"I-PER", "O"}})
	if s.Gold != 2 || s.Correct != 2 {
		t.Fatalf("cross-sentence: %+v", s.PRF)
	}

	// All-O everywhere: no entities, scores 0 (seqeval returns 0 with a warning).
	s, _ = NER([][]string{{"O"}}, [][]string{{"O"}})
	if s.F1 != 0 || s.Gold != 0 {
		t.Fatalf("all O: %+v", s.PRF)
	}

	if _, err := NER([][]string{{"O"}}, [][]string{{"O", "O"}}); err == nil {
		t.Fatal("want length mismatch error")
	}
	if _, err := NER([][]string{{"O"}}, [][]string{{"Q-X"}}); err == nil {
		t.Fatal("want invalid tag error")
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{0.70, 0.72, 0.74})
	if s.N != 3 || !near(s.Mean, 0.72) || !near(s.Std, 0.02) {
		t.Fatalf("got %+v", s)
	}
	if got := s.String(); got != "72.00 ± 2.00 (n=3)" {
		t.Fatalf("String = %q", got)
	}
	one := Summarize([]float64{0.5})
	if one.Mean != 0.5 || !math.IsNaN(one.Std) || one.String() != "50.00 (n=1)" {
		t.Fatalf("one run: %+v %q", one, one.String())
	}
	if z := Summarize(nil); z.N != 0 || !math.IsNaN(z.Mean) {
		t.Fatalf("empty: %+v", z)
	}
}

func TestRowMeans(t *testing.T) {
	a, b := 0.1, 0.2 // run-time float64 sums, not exact constants
	got := RowMeans([][]float64{{1, 2, 4}, nil, {}, {a, b}})
	if len(got) != 4 || got[0] != 7.0/3 || !math.IsNaN(got[1]) || !math.IsNaN(got[2]) || got[3] != (a+b)/2 {
		t.Errorf("RowMeans = %v", got)
	}
	if !math.IsNaN(Mean(nil)) || Mean([]float64{-3}) != -3 {
		t.Errorf("Mean(nil) = %v, Mean([-3]) = %v", Mean(nil), Mean([]float64{-3}))
	}
}
