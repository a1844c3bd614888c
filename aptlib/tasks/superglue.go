package tasks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/metrics"
)

// SuperGLUE tasks in their official JSONL (the files inside the SuperGLUE task
// zips: train.jsonl, val.jsonl, test.jsonl). Field names and label values are
// those of the official files; the label names, in logit order, are those of
// the HuggingFace `super_glue` dataset's ClassLabel features, which is where
// P-Tuning v2 takes them from (tasks/superglue/dataset.py,
// SuperGlueDataset.__init__: `raw_datasets["train"].features["label"].names`).
//
// How each input is built follows P-Tuning v2's released code
// (github.com/THUDM/P-tuning-v2, tasks/superglue/dataset.py, `task_to_keys` and
// SuperGlueDataset.preprocess_function); see Task.Inputs.

// superGLUEFolders maps task names to the official folder / zip names.
var superGLUEFolders = map[string]string{
	"boolq": "BoolQ", "cb": "CB", "copa": "COPA", "multirc": "MultiRC",
	"rte": "RTE", "wic": "WiC", "wsc": "WSC",
}

var superGLUELabels = map[string][]string{
	"boolq":   {"False", "True"},
	"cb":      {"entailment", "contradiction", "neutral"},
	"copa":    {"choice1", "choice2"},
	"multirc": {"False", "True"},
	"rte":     {"entailment", "not_entailment"},
	"wic":     {"False", "True"},
	"wsc":     {"False", "True"},
}

var superGLUEFiles = splitFiles{
	train: []string{"train.jsonl"},
	dev:   []string{"val.jsonl"},
	test:  []string{"test.jsonl"},
}

func loadSuperGLUE(name, dir string) (*Task, error) {
	t := &Task{Name: name, Dir: dir, Kind: SequenceClassification, Labels: superGLUELabels[name],
		Metrics: []string{metrics.Accuracy}}
	switch name {
	case "cb":
		// HF super_glue metric for CB: accuracy and macro-F1 (P-Tuning v2 reports
		// both, plus their mean as combined_score).
		t.Metrics = []string{metrics.Accuracy, metrics.MacroF1}
	case "copa":
		t.Kind = MultipleChoice
	case "multirc":
		// P-Tuning v2 reports sklearn f1_score over all answers (compute_metrics:
		// `{"f1": f1_score(preds, p.label_ids)}`), i.e. F1a; EM is SuperGLUE's other
		// MultiRC score.
		t.Metrics = []string{metrics.F1a, metrics.EM}
	case "wic":
		t.Template = 1 // run_script/run_wic_bert.sh: --template_id 1
	case "wsc":
		t.Template = 0 // run_script/run_wsc_bert.sh: no --template_id (default 0)
	}
	err := readSplits(t, superGLUEFiles, func(split, path string) (*Split, error) {
		s := &Split{Name: split, File: path, Labeled: true}
		err := readJSONL(path, func(o *jobj) error {
			exs, err := parseSuperGLUE(t, o, split == "test")
			if err != nil {
				return err
			}
			for _, ex := range exs {
				if ex.LabelIndex < 0 {
					s.Labeled = false
				}
				if ex.ID == "" {
					ex.ID = strconv.Itoa(len(s.Examples))
				}
				s.Examples = append(s.Examples, ex)
			}
			return nil
		})
		return s, err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// parseSuperGLUE turns one line of an official file into examples (MultiRC: one
// per answer option; the others: one). In a test split the label may be absent.
func parseSuperGLUE(t *Task, o *jobj, labelOptional bool) ([]Example, error) {
	ex := Example{Line: o.line, ID: o.idString("idx"), LabelIndex: -1}
	var err error
	str := func(dst *string, field string) {
		if err == nil {
			*dst, err = o.str(field, true)
		}
	}
	switch t.Name {
	case "boolq":
		// task_to_keys["boolq"] = ("question", "passage")
		str(&ex.TextA, "question")
		str(&ex.TextB, "passage")
		if err == nil {
			err = boolLabel(t, o, &ex, labelOptional)
		}
	case "cb", "rte":
		// task_to_keys["cb"] = task_to_keys["rte"] = ("premise", "hypothesis")
		str(&ex.TextA, "premise")
		str(&ex.TextB, "hypothesis")
		if err == nil {
			err = stringLabel(t, o, &ex, labelOptional)
		}
	case "wic":
		str(&ex.Word, "word")
		str(&ex.TextA, "sentence1")
		str(&ex.TextB, "sentence2")
		if err == nil {
			err = boolLabel(t, o, &ex, labelOptional)
		}
	case "wsc":
		str(&ex.TextA, "text")
		if err == nil {
			err = parseWSCTarget(t, o, &ex)
		}
		if err == nil {
			err = boolLabel(t, o, &ex, labelOptional)
		}
	case "copa":
		var c1, c2 string
		str(&ex.TextA, "premise")
		str(&c1, "choice1")
		str(&c2, "choice2")
		str(&ex.Question, "question")
		if err == nil && ex.Question != "cause" && ex.Question != "effect" {
			err = o.errf("question", "%s", unknownLabelMsg(ex.Question, []string{"cause", "effect"}))
		}
		if err == nil {
			ex.Choices = copaChoices(ex.TextA, ex.Question, c1, c2)
			err = intLabel(t, o, &ex, labelOptional)
		}
	case "multirc":
		return parseMultiRC(t, o, labelOptional)
	default:
		return nil, fmt.Errorf("internal: %s is not a SuperGLUE task", t.Name)
	}
	if err != nil {
		return nil, err
	}
	return []Example{ex}, nil
}

// copaChoices builds COPA's two inputs as P-Tuning v2 does
// (tasks/superglue/dataset.py, preprocess_function, "# COPA"): text_a is the
// premise followed by a connective, "because" when question == "cause" and "so"
// otherwise (`text_a = f"{premise} {joiner}"`), and each choice is text_b
// (`self.tokenizer(examples["text_a"], examples["choice1"], ...)`, the same for
// choice2). The model scores both pairs (multiple choice).
func copaChoices(premise, question, choice1, choice2 string) []Pair {
	joiner := "so"
	if question == "cause" {
		joiner = "because"
	}
	a := premise + " " + joiner
	return []Pair{{A: a, B: choice1}, {A: a, B: choice2}}
}

func parseWSCTarget(t *Task, o *jobj, ex *Example) error {
	tg, err := o.object("target")
	if err != nil {
		return err
	}
	if ex.Span1.Text, err = tg.str("span1_text", true); err != nil {
		return err
	}
	if ex.Span1.Index, err = tg.integer("span1_index"); err != nil {
		return err
	}
	if ex.Span2.Text, err = tg.str("span2_text", true); err != nil {
		return err
	}
	if ex.Span2.Index, err = tg.integer("span2_index"); err != nil {
		return err
	}
	words := strings.Fields(ex.TextA)
	for _, sp := range []struct {
		field string
		s     Span
	}{{"span1_index", ex.Span1}, {"span2_index", ex.Span2}} {
		if sp.s.Index < 0 || sp.s.Index >= len(words) {
			return tg.errf(sp.field, "%d is outside the text's %d words", sp.s.Index, len(words))
		}
		// The official WSC files have a few indices that point next to the span
		// (HF's "wsc.fixed" corrects them in code). P-Tuning v2 uses the "wsc"
		// config as is, so the index is kept; we only note it.
		first := strings.Fields(sp.s.Text)[0]
		if !strings.HasPrefix(strings.ToLower(strings.Join(words[sp.s.Index:], " ")), strings.ToLower(first)) {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s:%d: target.%s %d points at %q, not at %q (kept as in the official file)",
				o.file, o.line, sp.field, sp.s.Index, words[sp.s.Index], sp.s.Text))
		}
	}
	return nil
}

// parseMultiRC expands one passage line into one example per answer option, as
// the HF super_glue loader does (one row per (paragraph, question, answer)),
// with P-Tuning v2's input: task_to_keys["multirc"] = ("paragraph",
// "question_answer") where question_answer = f"{question} {answer}"
// (preprocess_function, "# MultiRC").
func parseMultiRC(t *Task, o *jobj, labelOptional bool) ([]Example, error) {
	pid := o.idString("idx")
	if pid == "" {
		return nil, o.errf("idx", "missing (MultiRC needs passage ids to group questions)")
	}
	p, err := o.object("passage")
	if err != nil {
		return nil, err
	}
	text, err := p.str("text", true)
	if err != nil {
		return nil, err
	}
	qs, err := p.objects("questions")
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, p.errf("questions", "empty")
	}
	var out []Example
	for _, q := range qs {
		question, err := q.str("question", true)
		if err != nil {
			return nil, err
		}
		qid := q.idString("idx")
		if qid == "" {
			return nil, q.errf("idx", "missing (needed to group answers for exact match)")
		}
		as, err := q.objects("answers")
		if err != nil {
			return nil, err
		}
		if len(as) == 0 {
			return nil, q.errf("answers", "empty")
		}
		for _, a := range as {
			// A few official answer options are empty strings (MultiRC train.jsonl
			// has three); HF and P-Tuning v2 keep them, and so do we.
			answer, err := a.str("text", false)
			if err != nil {
				return nil, err
			}
			if answer == "" {
				t.Warnings = append(t.Warnings, fmt.Sprintf("%s:%d: %stext is empty (kept, as in the official file)", a.file, a.line, a.path))
			}
			ex := Example{Line: o.line, ID: a.idString("idx"), LabelIndex: -1,
				TextA: text, TextB: question + " " + answer, Question: question,
				Group: pid + "/" + qid, Doc: pid}
			if ex.ID == "" {
				ex.ID = pid + "/" + qid + "/" + strconv.Itoa(len(out))
			}
			if err := intLabel(t, a, &ex, labelOptional); err != nil {
				return nil, err
			}
			out = append(out, ex)
		}
	}
	return out, nil
}

// boolLabel reads a JSON boolean label (BoolQ, WiC, WSC) as "False"/"True".
func boolLabel(t *Task, o *jobj, ex *Example, optional bool) error {
	if !o.has("label") {
		return missingLabel(o, optional)
	}
	raw := o.m["label"]
	if jsonType(raw) != "boolean" {
		return o.errf("label", "%s is not one of [true false] (JSON booleans)", clip(raw))
	}
	b, _ := o.boolean("label")
	return setLabel(t, ex, map[bool]string{false: "False", true: "True"}[b])
}

// intLabel reads a 0/1 label (COPA: the right choice; MultiRC: the answer is
// right) and names it with the task's labels.
func intLabel(t *Task, o *jobj, ex *Example, optional bool) error {
	if !o.has("label") {
		return missingLabel(o, optional)
	}
	raw := o.m["label"]
	n, err := o.integer("label")
	if err != nil || n < 0 || n >= len(t.Labels) {
		return o.errf("label", "%s is not one of [0 1]", clip(raw))
	}
	return setLabel(t, ex, t.Labels[n])
}

// stringLabel reads a string label (CB, RTE) that must be one of t.Labels.
func stringLabel(t *Task, o *jobj, ex *Example, optional bool) error {
	if !o.has("label") {
		return missingLabel(o, optional)
	}
	raw := o.m["label"]
	if jsonType(raw) != "string" {
		return o.errf("label", "%s is not one of %s", clip(raw), quoteList(t.Labels))
	}
	s, _ := o.str("label", false)
	if t.LabelIndex(s) < 0 {
		return o.errf("label", "%s", unknownLabelMsg(s, t.Labels))
	}
	return setLabel(t, ex, s)
}

func missingLabel(o *jobj, optional bool) error {
	if optional {
		return nil
	}
	return o.errf("label", "missing (only a test split may be unlabeled)")
}

func setLabel(t *Task, ex *Example, label string) error {
	ex.Label = label
	ex.LabelIndex = t.LabelIndex(label)
	if ex.LabelIndex < 0 {
		return fmt.Errorf("internal: label %q not in %v", label, t.Labels)
	}
	return nil
}

// Inputs returns the model input(s) of an example: one pair for classification,
// one per choice for multiple choice. For WiC and WSC it applies P-Tuning v2's
// template t.Template (tasks/superglue/dataset.py, preprocess_function):
//
//	WiC, template 1 (BERT): ("{word}: {sentence1}", "{word}: {sentence2}")
//	WiC, template 0 (RoBERTa): ("{sentence1} {sentence2} Does {word} have the
//	     same meaning in both sentences?", none)
//	WSC, template 0: ("{span2_text}: {text}", "{span1_text}") — task_to_keys["wsc"]
//	     = ("span2_word_text", "span1_text")
//	WSC, template 1: the text split on whitespace with the word at span2_index
//	     wrapped in asterisks ("*he*"), joined by single spaces; text_b = span1_text
//
// Token classification examples have no text pairs (Encode uses Words).
func (t *Task) Inputs(ex *Example) ([]Pair, error) {
	switch t.Kind {
	case MultipleChoice:
		if len(ex.Choices) == 0 {
			return nil, fmt.Errorf("%s: example %s has no choices", t.Name, ex.ID)
		}
		return ex.Choices, nil
	case TokenClassification:
		return nil, fmt.Errorf("%s: token classification examples have words, not text pairs", t.Name)
	}
	switch t.Name {
	case "wic":
		switch t.Template {
		case 0:
			return []Pair{{A: fmt.Sprintf("%s %s Does %s have the same meaning in both sentences?", ex.TextA, ex.TextB, ex.Word)}}, nil
		case 1:
			return []Pair{{A: ex.Word + ": " + ex.TextA, B: ex.Word + ": " + ex.TextB}}, nil
		}
		return nil, fmt.Errorf("wic: template %d unknown (P-Tuning v2 has 0 and 1)", t.Template)
	case "wsc":
		switch t.Template {
		case 0:
			return []Pair{{A: ex.Span2.Text + ": " + ex.TextA, B: ex.Span1.Text}}, nil
		case 1:
			words := strings.Fields(ex.TextA)
			if ex.Span2.Index < 0 || ex.Span2.Index >= len(words) {
				return nil, fmt.Errorf("wsc: example %s: span2 index %d outside %d words", ex.ID, ex.Span2.Index, len(words))
			}
			words[ex.Span2.Index] = "*" + words[ex.Span2.Index] + "*"
			return []Pair{{A: strings.Join(words, " "), B: ex.Span1.Text}}, nil
		}
		return nil, fmt.Errorf("wsc: template %d unknown (P-Tuning v2 has 0 and 1)", t.Template)
	}
	return []Pair{{A: ex.TextA, B: ex.TextB}}, nil
}
