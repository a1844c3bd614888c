package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sg(name string) string { return filepath.Join("testdata", "sg", name) }

func mustLoad(t *testing.T, name, dir string) *Task {
	t.Helper()
	task, err := Load(name, dir)
	if err != nil {
		t.Fatalf("Load(%s, %s): %v", name, dir, err)
	}
	return task
}

func inputs(t *testing.T, task *Task, ex *Example) []Pair {
	t.Helper()
	p, err := task.Inputs(ex)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadRTE(t *testing.T) {
	task := mustLoad(t, "rte", sg("RTE"))
	if task.Kind != SequenceClassification || !reflect.DeepEqual(task.Labels, []string{"entailment", "not_entailment"}) {
		t.Fatalf("kind %s labels %v", task.Kind, task.Labels)
	}
	// The blank line in train.jsonl is skipped.
	if task.Train.Len() != 6 || task.Dev.Len() != 2 || task.Test.Len() != 2 {
		t.Fatalf("sizes %d %d %d", task.Train.Len(), task.Dev.Len(), task.Test.Len())
	}
	ex := task.Train.Examples[1]
	if ex.ID != "1" || ex.Line != 2 || ex.Label != "not_entailment" || ex.LabelIndex != 1 {
		t.Fatalf("example %+v", ex)
	}
	if ex5 := task.Train.Examples[4]; ex5.Line != 6 {
		t.Fatalf("line after blank = %d, want 6", ex5.Line)
	}
	got := inputs(t, task, &ex)
	want := []Pair{{"Marta sold her bicycle to a neighbour in March.", "Marta still owns the bicycle."}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("inputs %q", got)
	}
	// The unlabeled test split loads with LabelIndex -1.
	if task.Test.Labeled || task.Test.Examples[0].LabelIndex != -1 || task.Test.Examples[0].Label != "" {
		t.Fatalf("test split %+v", task.Test.Examples[0])
	}
	if !task.Train.Labeled || !task.Dev.Labeled {
		t.Fatal("train/dev should be labeled")
	}
	if _, err := Evaluate(task, "test", []int{0, 1}); err == nil || !strings.Contains(err.Error(), "no label") {
		t.Fatalf("scoring an unlabeled split: %v", err)
	}
	// "val" and "validation" name the dev split.
	for _, n := range []string{"dev", "val", "validation"} {
		if s, err := task.Split(n); err != nil || s != task.Dev {
			t.Fatalf("Split(%q) = %v, %v", n, s, err)
		}
	}
}

func TestLoadCB(t *testing.T) {
	task := mustLoad(t, "cb", sg("CB"))
	if !reflect.DeepEqual(task.Labels, []string{"entailment", "contradiction", "neutral"}) {
		t.Fatalf("labels %v", task.Labels)
	}
	if !reflect.DeepEqual(task.Metrics, []string{"accuracy", "macro_f1"}) {
		t.Fatalf("metrics %v", task.Metrics)
	}
	if task.Train.Examples[0].LabelIndex != 2 || task.Test != nil {
		t.Fatalf("%+v", task.Train.Examples[0])
	}
	got := inputs(t, task, &task.Dev.Examples[0])
	if got[0].A != "Tom did not believe the river had flooded. The fields were dry." || got[0].B != "the river had flooded" {
		t.Fatalf("inputs %q", got)
	}
}

func TestLoadBoolQWithoutTrain(t *testing.T) {
	task := mustLoad(t, "boolq", sg("BoolQ"))
	if task.Train != nil || task.Dev.Len() != 2 {
		t.Fatal("want dev only")
	}
	ex := task.Dev.Examples[0]
	if ex.Label != "True" || ex.LabelIndex != 1 || task.Dev.Examples[1].Label != "False" {
		t.Fatalf("labels %q %q", ex.Label, task.Dev.Examples[1].Label)
	}
	if p := inputs(t, task, &ex); p[0].A != "is a tomato a fruit" || !strings.HasPrefix(p[0].B, "Tomato -- In botany") {
		t.Fatalf("inputs %q", p)
	}
	_, err := task.Split("train")
	if err == nil || !strings.Contains(err.Error(), filepath.Join("BoolQ", "train.jsonl")+" does not exist") ||
		!strings.Contains(err.Error(), "BoolQ.zip") {
		t.Fatalf("missing train: %v", err)
	}
	if _, err := Encode(task, "train", newFakeTok(), 32); err == nil || !strings.Contains(err.Error(), "no train split") {
		t.Fatalf("Encode(train): %v", err)
	}
	if _, err := task.Split("test"); err == nil || !strings.Contains(err.Error(), "test labels are hidden") {
		t.Fatalf("missing test: %v", err)
	}
}

func TestLoadCOPA(t *testing.T) {
	task := mustLoad(t, "copa", sg("COPA"))
	if task.Kind != MultipleChoice || !reflect.DeepEqual(task.Labels, []string{"choice1", "choice2"}) {
		t.Fatalf("kind %s labels %v", task.Kind, task.Labels)
	}
	// P-Tuning v2: text_a = f"{premise} {joiner}", joiner "because" for cause,
	// "so" for effect; text_b = the choice.
	cause := task.Train.Examples[0]
	want := []Pair{{"The kite rose into the sky. because", "The wind picked up."}, {"The kite rose into the sky. because", "The string was cut."}}
	if got := inputs(t, task, &cause); !reflect.DeepEqual(got, want) {
		t.Fatalf("cause inputs %q", got)
	}
	effect := task.Train.Examples[1]
	want = []Pair{{"The soup was too salty. so", "The cook added water."}, {"The soup was too salty. so", "The cook added salt."}}
	if got := inputs(t, task, &effect); !reflect.DeepEqual(got, want) {
		t.Fatalf("effect inputs %q", got)
	}
	if task.Train.Examples[2].Label != "choice2" || task.Train.Examples[2].LabelIndex != 1 || effect.Question != "effect" {
		t.Fatalf("%+v", task.Train.Examples[2])
	}
}

func TestLoadWiCTemplates(t *testing.T) {
	task := mustLoad(t, "wic", sg("WiC"))
	if task.Template != 1 {
		t.Fatalf("WiC template %d, want 1 (run_wic_bert.sh)", task.Template)
	}
	ex := task.Train.Examples[0]
	if ex.Word != "bank" || ex.Label != "False" || task.Train.Examples[1].Label != "True" {
		t.Fatalf("%+v", ex)
	}
	want := []Pair{{"bank: We sat on the bank of the river.", "bank: She opened an account at the bank."}}
	if got := inputs(t, task, &ex); !reflect.DeepEqual(got, want) {
		t.Fatalf("template 1: %q", got)
	}
	task.Template = 0
	want = []Pair{{"We sat on the bank of the river. She opened an account at the bank. Does bank have the same meaning in both sentences?", ""}}
	if got := inputs(t, task, &ex); !reflect.DeepEqual(got, want) {
		t.Fatalf("template 0: %q", got)
	}
	task.Template = 5
	if _, err := task.Inputs(&ex); err == nil {
		t.Fatal("want error for unknown template")
	}
}

func TestLoadWSCTemplates(t *testing.T) {
	task := mustLoad(t, "wsc", sg("WSC"))
	if task.Template != 0 {
		t.Fatalf("WSC template %d, want 0", task.Template)
	}
	ex := task.Train.Examples[0]
	if ex.Span1 != (Span{"Lena", 0}) || ex.Span2 != (Span{"she", 6}) || ex.Label != "True" {
		t.Fatalf("%+v", ex)
	}
	// template 0: (span2_text + ": " + text, span1_text)
	want := []Pair{{"she: Lena gave Rosa the map because she knew the way.", "Lena"}}
	if got := inputs(t, task, &ex); !reflect.DeepEqual(got, want) {
		t.Fatalf("template 0: %q", got)
	}
	// template 1: the word at span2_index wrapped in asterisks.
	task.Template = 1
	want = []Pair{{"Lena gave Rosa the map because *she* knew the way.", "Lena"}}
	if got := inputs(t, task, &ex); !reflect.DeepEqual(got, want) {
		t.Fatalf("template 1: %q", got)
	}
	// val line 2 has an index that points next to the pronoun (as a few
	// official examples do): kept, marked as is, and noted in Warnings.
	odd := task.Dev.Examples[1]
	if got := inputs(t, task, &odd); got[0].A != "Omar thanked Paul because he *had* helped him move." {
		t.Fatalf("odd index: %q", got)
	}
	if len(task.Warnings) != 1 || !strings.Contains(task.Warnings[0], "val.jsonl:2: target.span2_index 5 points at \"had\"") {
		t.Fatalf("warnings %q", task.Warnings)
	}
}

func TestLoadMultiRC(t *testing.T) {
	task := mustLoad(t, "multirc", sg("MultiRC"))
	if task.Train.Len() != 7 || task.Dev.Len() != 2 {
		t.Fatalf("answers: %d %d", task.Train.Len(), task.Dev.Len())
	}
	ex := task.Train.Examples[3]
	if ex.TextB != "How many wells did the village have? Three" || ex.Group != "0/1" || ex.Doc != "0" || ex.ID != "3" || ex.Label != "False" {
		t.Fatalf("%+v", ex)
	}
	if !strings.HasPrefix(ex.TextA, "The village had one well.") {
		t.Fatalf("paragraph %q", ex.TextA)
	}
	if last := task.Train.Examples[6]; last.Group != "1/2" || last.Line != 2 || last.Label != "False" {
		t.Fatalf("%+v", last)
	}
	if !reflect.DeepEqual(task.Metrics, []string{"f1a", "em"}) {
		t.Fatalf("metrics %v", task.Metrics)
	}
}

func TestLoadErrors(t *testing.T) {
	b := func(p ...string) string { return filepath.Join(append([]string{"testdata", "broken"}, p...)...) }
	cases := []struct {
		task, dir string
		want      []string
	}{
		{"rte", b("rte_badlabel", "RTE"), []string{filepath.Join("RTE", "train.jsonl") + `:3: field "label": "maybe" is not one of ["entailment" "not_entailment"]`}},
		{"rte", b("rte_malformed", "RTE"), []string{"train.jsonl:2: malformed JSON"}},
		{"rte", b("rte_missingfield", "RTE"), []string{`train.jsonl:2: field "hypothesis": missing`}},
		{"rte", b("rte_wrongtype", "RTE"), []string{`train.jsonl:1: field "premise": want a string, got a number: 42`}},
		{"rte", b("rte_emptytext", "RTE"), []string{`val.jsonl:1: field "premise": empty`}},
		{"rte", b("rte_unlabeledtrain", "RTE"), []string{`train.jsonl:1: field "label": missing (only a test split may be unlabeled)`}},
		{"rte", b("rte_empty", "RTE"), []string{"train.jsonl: empty split"}},
		{"rte", b("rte_nofiles", "RTE"), []string{"no split file found", "train.jsonl, val.jsonl, test.jsonl"}},
		{"rte", b("does_not_exist"), []string{"task directory"}},
		{"cb", b("cb_arrayline", "CB"), []string{"val.jsonl:1: malformed JSON: want one object per line"}},
		{"cb", b("cb_labeltype", "CB"), []string{`val.jsonl:1: field "label": 1 is not one of ["entailment" "contradiction" "neutral"]`}},
		{"boolq", b("boolq_stringlabel", "BoolQ"), []string{`val.jsonl:1: field "label": "True" is not one of [true false]`}},
		{"copa", b("copa_badquestion", "COPA"), []string{`train.jsonl:1: field "question": "reason" is not one of ["cause" "effect"]`}},
		{"copa", b("copa_badlabel", "COPA"), []string{`train.jsonl:1: field "label": 2 is not one of [0 1]`}},
		{"wsc", b("wsc_badindex", "WSC"), []string{`train.jsonl:1: field "target.span2_index": 40 is outside the text's 7 words`}},
		{"wsc", b("wsc_notarget", "WSC"), []string{`train.jsonl:1: field "target": missing`}},
		{"multirc", b("multirc_badanswer", "MultiRC"), []string{`val.jsonl:1: field "passage.questions[0].answers[1].label": "yes" is not one of [0 1]`}},
		{"multirc", b("multirc_noanswers", "MultiRC"), []string{`val.jsonl:1: field "passage.questions[0].answers": empty`}},
		{"wic", b("wic_badutf8", "WiC"), []string{"val.jsonl:1: not valid UTF-8"}},
		{"jsonl", b("jsonl_unknownlabel"), []string{`val.jsonl:2: field "label": "neutral" is not one of ["neg" "pos"]`}},
		{"jsonl", b("jsonl_onelabel"), []string{"want at least two different labels"}},
		{"conll", b("conll_badtag"), []string{`train.txt:4: column "tag": invalid tag "B_PER"`}},
		{"conll", b("conll_badtag_dev"), []string{`dev.txt:2: column "tag": invalid tag "PER"`}},
		{"conll03", b("conll03_unknowntag"), []string{`train.txt:3: column "tag": "B-ANIMAL" is not one of ["O" "B-PER" "I-PER" "B-ORG" "I-ORG" "B-LOC" "I-LOC" "B-MISC" "I-MISC"]`}},
		{"conll", b("conll_onecolumn"), []string{`train.txt:2: want a token and a tag separated by a tab or space, got "runs"`}},
		{"conll04", b("conll04_badindex"), []string{`train.txt:3: column "index": want token index 1, got "2"`}},
		{"conll", b("conll_empty"), []string{"train.txt: empty split"}},
		{"nosuchtask", sg("RTE"), []string{`unknown task "nosuchtask"`, "boolq cb copa"}},
		{"rte", filepath.Join(sg("RTE"), "train.jsonl"), []string{"is not a directory"}},
	}
	for _, c := range cases {
		_, err := Load(c.task, c.dir)
		if err == nil {
			t.Errorf("Load(%s, %s): no error, want %q", c.task, c.dir, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%s, %s):\n  got  %v\n  want %q", c.task, c.dir, err, w)
			}
		}
	}
	// Data errors are typed.
	_, err := Load("rte", b("rte_badlabel", "RTE"))
	var de *DataError
	if !errors.As(err, &de) || de.Line != 3 || de.Field != "label" || !strings.HasSuffix(de.File, filepath.Join("RTE", "train.jsonl")) {
		t.Fatalf("DataError: %#v", err)
	}
}

func TestParsePredictLine(t *testing.T) {
	rte := mustLoad(t, "rte", sg("RTE"))
	exs, err := ParsePredictLine(rte, "in.jsonl", 1, []byte(`{"premise": "A dog barked.", "hypothesis": "A dog made a sound.", "idx": 9}`))
	if err != nil || len(exs) != 1 || exs[0].TextA != "A dog barked." || exs[0].LabelIndex != -1 || exs[0].ID != "9" {
		t.Fatalf("%+v %v", exs, err)
	}
	exs, err = ParsePredictLine(rte, "in.jsonl", 2, []byte(`{"text": "A dog barked.", "text_pair": "Loud."}`))
	if err != nil || exs[0].TextB != "Loud." || exs[0].ID != "line 2" {
		t.Fatalf("generic: %+v %v", exs, err)
	}
	if exs, err := ParsePredictLine(rte, "in.jsonl", 3, []byte("  ")); err != nil || exs != nil {
		t.Fatalf("blank: %v %v", exs, err)
	}
	if _, err := ParsePredictLine(rte, "in.jsonl", 4, []byte(`{"premise": "x"`)); err == nil || !strings.Contains(err.Error(), "in.jsonl:4: malformed JSON") {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := ParsePredictLine(rte, "in.jsonl", 5, []byte(`{"text": "x", "label": "perhaps"}`)); err == nil || !strings.Contains(err.Error(), `"perhaps" is not one of`) {
		t.Fatalf("bad label: %v", err)
	}
	mrc := mustLoad(t, "multirc", sg("MultiRC"))
	exs, err = ParsePredictLine(mrc, "in.jsonl", 1, []byte(`{"idx": 3, "passage": {"text": "P.", "questions": [{"question": "Q?", "answers": [{"text": "A", "idx": 0}, {"text": "B", "idx": 1}], "idx": 0}]}}`))
	if err != nil || len(exs) != 2 || exs[1].TextB != "Q? B" || exs[1].Group != "3/0" {
		t.Fatalf("multirc: %+v %v", exs, err)
	}
	ner := mustLoad(t, "conll03", filepath.Join("testdata", "ner", "conll03"))
	exs, err = ParsePredictLine(ner, "in.jsonl", 1, []byte(`{"tokens": ["Ana", "lives", "in", "Oslo"]}`))
	if err != nil || len(exs[0].Words) != 4 || exs[0].Tags != nil {
		t.Fatalf("tokens: %+v %v", exs, err)
	}
	if _, err := ParsePredictLine(ner, "in.jsonl", 7, []byte(`{"tokens": ["Ana", 3]}`)); err == nil || !strings.Contains(err.Error(), `in.jsonl:7: field "tokens[1]": want a string`) {
		t.Fatalf("bad tokens: %v", err)
	}
}

// An empty text is a valid prediction input (the tokenizer gives [CLS] [SEP]);
// in a task's data file it stays an error.
func TestPredictLineEmptyText(t *testing.T) {
	rte := mustLoad(t, "rte", sg("RTE"))
	for _, line := range []string{`{"text": ""}`, `{"text": "", "text_pair": ""}`, `{"text": "  "}`} {
		exs, err := ParsePredictLine(rte, "in.jsonl", 1, []byte(line))
		if err != nil || len(exs) != 1 || strings.TrimSpace(exs[0].TextA) != "" {
			t.Errorf("%s: %+v %v", line, exs, err)
			continue
		}
		enc, err := EncodeExamples(rte, exs, newFakeTok(), 16)
		if err != nil || len(enc.IDs) != 1 || len(enc.IDs[0]) < 2 {
			t.Errorf("%s: encoding %+v %v", line, enc, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(`{"text": "good", "label": "a"}`+"\n"+`{"text": "", "label": "b"}`+"\n"), 0o644)
	if _, err := Load("jsonl", dir); err == nil || !strings.Contains(err.Error(), `train.jsonl:2: field "text": empty`) {
		t.Errorf("empty text in train.jsonl: %v", err)
	}
}
