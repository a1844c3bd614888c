package tasks

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func nerDir(name string) string { return filepath.Join("testdata", "ner", name) }

func TestLoadCoNLL03Fixture(t *testing.T) {
	task := mustLoad(t, "conll03", nerDir("conll03"))
	if task.Kind != TokenClassification || task.TagScheme != "BIO" || len(task.Labels) != 9 {
		t.Fatalf("kind %s scheme %s labels %v", task.Kind, task.TagScheme, task.Labels)
	}
	// -DOCSTART- skipped, a spaces-only line separates sentences.
	if task.Train.Len() != 3 || task.Dev.Len() != 2 || task.Test.Len() != 1 {
		t.Fatalf("sizes %d %d %d", task.Train.Len(), task.Dev.Len(), task.Test.Len())
	}
	s0 := task.Train.Examples[0]
	if !reflect.DeepEqual(s0.Words, []string{"Greta", "Lind", "visited", "Oslo", "."}) ||
		!reflect.DeepEqual(s0.Tags, []string{"B-PER", "I-PER", "O", "B-LOC", "O"}) || s0.Line != 3 || s0.Doc != "1" {
		t.Fatalf("sentence 0: %+v", s0)
	}
	if s1 := task.Train.Examples[1]; s1.Words[1] != "Harbour" || s1.Tags[1] != "B-ORG" || s1.Line != 9 || s1.Doc != "1" {
		t.Fatalf("sentence 1: %+v", s1)
	}
	if s2 := task.Train.Examples[2]; s2.Doc != "2" || s2.ID != "2" {
		t.Fatalf("sentence 2: %+v", s2)
	}
	// The test file has no trailing newline and no DOCSTART.
	if te := task.Test.Examples[0]; !reflect.DeepEqual(te.Tags, []string{"O", "B-MISC"}) || te.Doc != "" {
		t.Fatalf("test: %+v", te)
	}
	if !reflect.DeepEqual(task.Metrics, []string{"f1", "precision", "recall"}) {
		t.Fatalf("metrics %v", task.Metrics)
	}
}

func TestLoadCoNLL04Layouts(t *testing.T) {
	task := mustLoad(t, "conll04", nerDir("conll04"))
	if !reflect.DeepEqual(task.Labels, []string{"O", "B-Loc", "B-Peop", "B-Org", "B-Other", "I-Loc", "I-Peop", "I-Org", "I-Other"}) {
		t.Fatalf("labels %v", task.Labels)
	}
	if task.Train.Len() != 2 || task.Dev.Len() != 1 || task.Test != nil {
		t.Fatalf("sizes")
	}
	s := task.Train.Examples[0]
	if !reflect.DeepEqual(s.Words, []string{"Ada", "works", "for", "Acme", "Corp"}) ||
		!reflect.DeepEqual(s.Tags, []string{"B-Peop", "O", "O", "B-Org", "I-Org"}) || s.Doc != "7" || s.Line != 2 {
		t.Fatalf("%+v", s)
	}
	if s := task.Train.Examples[1]; s.Doc != "9" || s.Words[0] != "Rome" {
		t.Fatalf("%+v", s)
	}
	// P-Tuning v2's own CoNLL04 files are plain columns with blank lines.
	plain := mustLoad(t, "conll04", nerDir("conll04plain"))
	if plain.Train.Len() != 2 || plain.Train.Examples[1].Tags[0] != "B-Loc" {
		t.Fatalf("plain: %+v", plain.Train.Examples)
	}
}

func TestLoadWNUTAndWikiANN(t *testing.T) {
	w := mustLoad(t, "wnut17", nerDir("wnut17"))
	// A TAB-only line separates sentences.
	if w.Train.Len() != 2 || w.Dev.Len() != 1 || w.Test.Len() != 1 || w.Train.Examples[1].Tags[2] != "I-location" {
		t.Fatalf("wnut: %+v", w.Train.Examples)
	}
	if len(w.Labels) != 13 || w.Labels[3] != "B-creative-work" {
		t.Fatalf("wnut labels %v", w.Labels)
	}
	a := mustLoad(t, "wikiann", nerDir("wikiann"))
	// Only the leading "en:" is removed.
	if !reflect.DeepEqual(a.Train.Examples[0].Words, []string{"Karl", "Marx", "(", "en:dash"}) {
		t.Fatalf("wikiann words %q", a.Train.Examples[0].Words)
	}
	if a.Dev.Examples[0].Words[0] != "Berlin" || len(a.Labels) != 7 {
		t.Fatalf("wikiann %+v %v", a.Dev.Examples[0], a.Labels)
	}
}

func TestIOB1ToBIO(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"I-PER", "I-PER", "O", "I-LOC"}, []string{"B-PER", "I-PER", "O", "B-LOC"}},
		// B- between two adjacent entities of one type stays B-.
		{[]string{"I-PER", "B-PER", "I-PER"}, []string{"B-PER", "B-PER", "I-PER"}},
		// Type change inside a span starts a new entity.
		{[]string{"I-ORG", "I-LOC"}, []string{"B-ORG", "B-LOC"}},
		// BIO input is unchanged.
		{[]string{"B-PER", "I-PER", "O", "B-LOC"}, []string{"B-PER", "I-PER", "O", "B-LOC"}},
		{[]string{"O", "O"}, []string{"O", "O"}},
		{[]string{}, []string{}},
	}
	for _, c := range cases {
		in := append([]string(nil), c.in...)
		if got := IOB1ToBIO(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("IOB1ToBIO(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("input modified")
		}
	}
}

func TestTagScheme(t *testing.T) {
	for _, c := range []struct {
		s     [][]string
		want  string
		stray int
	}{
		{[][]string{{"I-PER", "O"}, {"I-LOC", "B-LOC"}}, "IOB1", 0},
		{[][]string{{"B-PER", "I-PER"}, {"O", "B-LOC"}}, "BIO", 0},
		{[][]string{{"B-PER", "O", "I-PER"}}, "BIO", 1},
		{[][]string{{"S-PER", "B-LOC", "E-LOC"}}, "IOBES", 0},
		{[][]string{{"O"}}, "BIO", 0},
	} {
		if got, stray := TagScheme(c.s); got != c.want || stray != c.stray {
			t.Errorf("TagScheme(%v) = %s, %d; want %s, %d", c.s, got, stray, c.want, c.stray)
		}
	}
}

func TestLoadIOB1Converted(t *testing.T) {
	task := mustLoad(t, "conll", nerDir("iob1"))
	if task.TagScheme != "IOB1" {
		t.Fatalf("scheme %s", task.TagScheme)
	}
	want := []string{"B-PER", "O", "B-PER", "I-PER", "B-PER", "O", "O", "B-LOC"}
	if !reflect.DeepEqual(task.Train.Examples[0].Tags, want) {
		t.Fatalf("converted %v", task.Train.Examples[0].Tags)
	}
	if !reflect.DeepEqual(task.Train.Examples[1].Tags, []string{"B-PER", "B-ORG"}) || task.Dev.Examples[0].Tags[0] != "B-PER" {
		t.Fatalf("converted %v", task.Train.Examples[1].Tags)
	}
	// Generic labels: O, then B-/I- per type in sorted order.
	if !reflect.DeepEqual(task.Labels, []string{"O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"}) {
		t.Fatalf("labels %v", task.Labels)
	}
}

func TestLoadIOBES(t *testing.T) {
	task := mustLoad(t, "conll", nerDir("iobes"))
	if task.TagScheme != "IOBES" || task.Train.Examples[0].Tags[3] != "E-LOC" {
		t.Fatalf("%s %v", task.TagScheme, task.Train.Examples[0].Tags)
	}
	if !reflect.DeepEqual(task.Labels, []string{"O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"}) {
		t.Fatalf("labels %v", task.Labels)
	}
}

func TestLoadGenericJSONL(t *testing.T) {
	dir := filepath.Join("testdata", "jsonl")
	task := mustLoad(t, "jsonl", filepath.Join(dir, "basic"))
	if !reflect.DeepEqual(task.Labels, []string{"neg", "pos"}) || task.Train.Len() != 3 || task.Dev.Len() != 2 || task.Test.Len() != 1 {
		t.Fatalf("%v %d %d", task.Labels, task.Train.Len(), task.Dev.Len())
	}
	ex := task.Train.Examples[2]
	if ex.TextB != "They look alike." || ex.ID != "77" || ex.LabelIndex != 1 {
		t.Fatalf("%+v", ex)
	}
	if task.Dev.Examples[1].TextB != "" || task.Test.Labeled {
		t.Fatal("null text_pair / unlabeled test")
	}
	// Integer labels sort numerically.
	ord := mustLoad(t, "jsonl", filepath.Join(dir, "ordered"))
	if !reflect.DeepEqual(ord.Labels, []string{"2", "10"}) || ord.Dev.Examples[0].LabelIndex != 1 {
		t.Fatalf("%v", ord.Labels)
	}
	// labels.txt fixes the set and the order.
	wl := mustLoad(t, "jsonl", filepath.Join(dir, "withlabels"))
	if !reflect.DeepEqual(wl.Labels, []string{"zeta", "alpha"}) || wl.Train.Examples[0].LabelIndex != 1 {
		t.Fatalf("%v", wl.Labels)
	}
	if _, err := Load("conll", ""); err == nil || !strings.Contains(err.Error(), "no directory given") {
		t.Fatalf("no dir: %v", err)
	}
}

func TestStrayIKeptInBIO(t *testing.T) {
	task := mustLoad(t, "conll", nerDir("stray"))
	if task.TagScheme != "BIO" || task.Train.Examples[1].Tags[1] != "I-LOC" {
		t.Fatalf("%s %v", task.TagScheme, task.Train.Examples[1].Tags)
	}
	if len(task.Warnings) != 1 || !strings.Contains(task.Warnings[0], "1 I- tag(s) start an entity") {
		t.Fatalf("warnings %q", task.Warnings)
	}
}
