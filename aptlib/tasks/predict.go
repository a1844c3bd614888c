package tasks

import (
	"fmt"
)

// ParsePredictLine reads one line of a `predict` input file (docs/tasks.md)
// for task t: the task's own JSONL format (labels optional), or, for a
// sequence-classification task, the generic {"text": ..., "text_pair": ...};
// for a token-classification task, {"tokens": ["word", ...]}. A MultiRC line
// (one passage) gives one example per answer option; other lines give one.
// A generic line's text may be empty. A blank line gives no example and no
// error (Predict decides what a blank line means). file and lineNo are used
// in error messages.
func ParsePredictLine(t *Task, file string, lineNo int, line []byte) ([]Example, error) {
	o, err := parseJSONLine(file, lineNo, line)
	if err != nil || o == nil {
		return nil, err
	}
	id := func(exs []Example) []Example {
		for i := range exs {
			if exs[i].ID == "" {
				exs[i].ID = fmt.Sprintf("line %d", lineNo)
			}
		}
		return exs
	}
	switch {
	case t.Kind == TokenClassification:
		words, err := o.stringList("tokens")
		if err != nil {
			return nil, err
		}
		if len(words) == 0 {
			return nil, o.errf("tokens", "empty")
		}
		for i, w := range words {
			if w == "" {
				return nil, o.errf(fmt.Sprintf("tokens[%d]", i), "empty")
			}
		}
		return id([]Example{{Line: lineNo, Words: words, LabelIndex: -1}}), nil
	case t.Kind == SequenceClassification && (t.Name == "jsonl" || o.has("text")):
		ex, err := parseGenericJSONL(o, true, true)
		if err != nil {
			return nil, err
		}
		if ex.Label != "" {
			if ex.LabelIndex = t.LabelIndex(ex.Label); ex.LabelIndex < 0 {
				return nil, o.errf("label", "%s", unknownLabelMsg(ex.Label, t.Labels))
			}
		}
		return id([]Example{ex}), nil
	}
	if _, ok := superGLUEFolders[t.Name]; !ok {
		return nil, fmt.Errorf("%s: no line format for prediction", t.Name)
	}
	exs, err := parseSuperGLUE(t, o, true)
	if err != nil {
		return nil, err
	}
	return id(exs), nil
}
