package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aptbench/apt/aptlib/metrics"

	"github.com/aptbench/apt/internal/boundedread"
)

// Caps on task files: a whole split file, and one line of it (a JSONL record or
// a CoNLL token line). The largest official files (ReCoRD train, about 110 MB;
// MultiRC passages, some tens of KB a line) are far below them.
const (
	MaxTaskFileBytes = 1 << 30
	MaxLineBytes     = 16 << 20
)

// readTaskFile reads a task's data file whole, within the caps, without its
// UTF-8 byte-order mark.
func readTaskFile(path string) ([]byte, error) {
	data, err := boundedread.ReadFile(path, MaxTaskFileBytes)
	if err != nil {
		return nil, err
	}
	if err := boundedread.CheckLines(path, data, MaxLineBytes); err != nil {
		return nil, err
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// readJSONL calls fn for each non-blank line of a JSONL file with the line's
// top-level object. Blank (whitespace-only) lines are skipped; anything else
// that is not one JSON object is an error naming the line.
func readJSONL(path string, fn func(o *jobj) error) error {
	data, err := readTaskFile(path)
	if err != nil {
		return err
	}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		o, err := parseJSONLine(path, i+1, line)
		if err != nil {
			return err
		}
		if o == nil {
			continue
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// parseJSONLine parses one line; nil, nil for a blank line.
func parseJSONLine(file string, lineNo int, line []byte) (*jobj, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	if !utf8.Valid(line) {
		return nil, &DataError{File: file, Line: lineNo, Msg: "not valid UTF-8"}
	}
	if line[0] != '{' {
		return nil, &DataError{File: file, Line: lineNo, Msg: fmt.Sprintf("malformed JSON: want one object per line, got %s", describeStart(line))}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, &DataError{File: file, Line: lineNo, Msg: "malformed JSON: " + err.Error()}
	}
	return &jobj{file: file, line: lineNo, m: m}, nil
}

func describeStart(line []byte) string {
	if len(line) > 20 {
		return strconv.Quote(string(line[:20])) + "..."
	}
	return strconv.Quote(string(line))
}

// jobj is a JSON object read from one line, with typed accessors whose errors
// name the file, the line and the field path.
type jobj struct {
	file string
	line int
	path string // prefix for field names, e.g. "passage.questions[2]."
	m    map[string]json.RawMessage
}

func (o *jobj) errf(field, format string, args ...any) error {
	return &DataError{File: o.file, Line: o.line, Field: o.path + field, Msg: fmt.Sprintf(format, args...)}
}

// has reports whether the field is present and not null.
func (o *jobj) has(name string) bool {
	raw, ok := o.m[name]
	return ok && jsonType(raw) != "null"
}

func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (o *jobj) get(name, want string) (json.RawMessage, error) {
	raw, ok := o.m[name]
	if !ok {
		return nil, o.errf(name, "missing")
	}
	if got := jsonType(raw); got != want {
		return nil, o.errf(name, "want a %s, got %s %s", want, article(got), clip(raw))
	}
	return raw, nil
}

func article(t string) string {
	switch t {
	case "null":
		return "null:"
	case "array", "object":
		return "an " + t + ":"
	}
	return "a " + t + ":"
}

func clip(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// str reads a required string field; nonEmpty also rejects "".
func (o *jobj) str(name string, nonEmpty bool) (string, error) {
	raw, err := o.get(name, "string")
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", o.errf(name, "%v", err)
	}
	if nonEmpty && strings.TrimSpace(s) == "" {
		return "", o.errf(name, "empty")
	}
	return s, nil
}

// integer reads a required number field that must be a whole number.
func (o *jobj) integer(name string) (int, error) {
	raw, err := o.get(name, "number")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		return 0, o.errf(name, "want a whole number, got %s", clip(raw))
	}
	return int(f), nil
}

func (o *jobj) boolean(name string) (bool, error) {
	raw, err := o.get(name, "boolean")
	if err != nil {
		return false, err
	}
	return string(bytes.TrimSpace(raw)) == "true", nil
}

func (o *jobj) object(name string) (*jobj, error) {
	raw, err := o.get(name, "object")
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, o.errf(name, "%v", err)
	}
	return &jobj{file: o.file, line: o.line, path: o.path + name + ".", m: m}, nil
}

// array reads a required array field's elements, undecoded.
func (o *jobj) array(name string) ([]json.RawMessage, error) {
	raw, err := o.get(name, "array")
	if err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, o.errf(name, "%v", err)
	}
	return elems, nil
}

// objects reads a required array of objects.
func (o *jobj) objects(name string) ([]*jobj, error) {
	elems, err := o.array(name)
	if err != nil {
		return nil, err
	}
	out := make([]*jobj, len(elems))
	for i, e := range elems {
		field := fmt.Sprintf("%s[%d]", name, i)
		if jsonType(e) != "object" {
			return nil, o.errf(field, "want an object, got %s %s", article(jsonType(e)), clip(e))
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(e, &m); err != nil {
			return nil, o.errf(field, "%v", err)
		}
		out[i] = &jobj{file: o.file, line: o.line, path: o.path + field + ".", m: m}
	}
	return out, nil
}

// stringList reads a required array of strings.
func (o *jobj) stringList(name string) ([]string, error) {
	elems, err := o.array(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if jsonType(e) != "string" {
			return nil, o.errf(fmt.Sprintf("%s[%d]", name, i), "want a string, got %s %s", article(jsonType(e)), clip(e))
		}
		if err := json.Unmarshal(e, &out[i]); err != nil {
			return nil, o.errf(fmt.Sprintf("%s[%d]", name, i), "%v", err)
		}
	}
	return out, nil
}

// idString returns the "idx" field as text ("" when absent); it may be a
// number or a string.
func (o *jobj) idString(name string) string {
	raw, ok := o.m[name]
	if !ok {
		return ""
	}
	switch jsonType(raw) {
	case "number":
		return string(bytes.TrimSpace(raw))
	case "string":
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	return ""
}

// scalarText reads a required string, number or boolean field as text: strings
// as they are, numbers and booleans as written in the JSON.
func (o *jobj) scalarText(name string) (string, error) {
	raw, ok := o.m[name]
	if !ok {
		return "", o.errf(name, "missing")
	}
	switch jsonType(raw) {
	case "string":
		return o.str(name, true)
	case "number", "boolean":
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", o.errf(name, "want a string, number or boolean, got %s %s", article(jsonType(raw)), clip(raw))
}

// ---- the generic jsonl task ----

// The generic `jsonl` task (docs/tasks.md): a directory with train.jsonl,
// val.jsonl and optional test.jsonl, one {"text": ..., "text_pair": ...
// (optional), "label": ...} per line. The label may be a string, a number or a
// boolean (numbers and booleans become their JSON text, e.g. "1", "true").
// Labels come, in this order of preference, from an optional labels.txt (one
// label per line, fixing the logit order), else from the labels seen in
// train.jsonl (sorted; numerically when all are integers), else from all splits.
// A dev or test label outside that set is an error.
var genericJSONLFiles = splitFiles{
	train: []string{"train.jsonl"},
	dev:   []string{"val.jsonl", "dev.jsonl"},
	test:  []string{"test.jsonl"},
}

func loadGenericJSONL(dir string) (*Task, error) {
	t := &Task{Name: "jsonl", Dir: dir, Kind: SequenceClassification,
		Metrics: []string{metrics.Accuracy, metrics.MacroF1}}
	err := readSplits(t, genericJSONLFiles, func(split, path string) (*Split, error) {
		s := &Split{Name: split, File: path, Labeled: true}
		err := readJSONL(path, func(o *jobj) error {
			ex, err := parseGenericJSONL(o, split == "test", false)
			if err != nil {
				return err
			}
			if ex.ID == "" {
				ex.ID = strconv.Itoa(len(s.Examples))
			}
			if ex.Label == "" {
				s.Labeled = false
			}
			s.Examples = append(s.Examples, ex)
			return nil
		})
		return s, err
	})
	if err != nil {
		return nil, err
	}
	if err := assignGenericLabels(t); err != nil {
		return nil, err
	}
	return t, nil
}

// parseGenericJSONL reads a {"text", "text_pair", "label"} line. A data file's
// text must not be empty; a prediction input's may be (the tokenizer encodes
// "" as [CLS] [SEP], as HuggingFace does), hence allowEmpty.
func parseGenericJSONL(o *jobj, labelOptional, allowEmpty bool) (Example, error) {
	ex := Example{Line: o.line, LabelIndex: -1}
	var err error
	if ex.TextA, err = o.str("text", !allowEmpty); err != nil {
		return ex, err
	}
	if o.has("text_pair") {
		if ex.TextB, err = o.str("text_pair", false); err != nil {
			return ex, err
		}
	}
	ex.ID = o.idString("idx")
	if ex.ID == "" {
		ex.ID = o.idString("id")
	}
	if o.has("label") {
		if ex.Label, err = o.scalarText("label"); err != nil {
			return ex, err
		}
	} else if !labelOptional {
		return ex, o.errf("label", "missing (only a test split may be unlabeled)")
	}
	return ex, nil
}

func assignGenericLabels(t *Task) error {
	labelsFile := filepath.Join(t.Dir, "labels.txt")
	if data, err := boundedread.ReadFile(labelsFile, MaxLineBytes); err == nil {
		seen := map[string]bool{}
		for i, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if seen[l] {
				return &DataError{File: labelsFile, Line: i + 1, Msg: fmt.Sprintf("label %q listed twice", l)}
			}
			seen[l] = true
			t.Labels = append(t.Labels, l)
		}
		if len(t.Labels) < 2 {
			return &DataError{File: labelsFile, Msg: "want at least two labels"}
		}
	} else {
		from := []*Split{t.Train}
		if t.Train == nil {
			from = []*Split{t.Dev, t.Test}
		}
		set := map[string]bool{}
		for _, s := range from {
			if s == nil {
				continue
			}
			for _, ex := range s.Examples {
				if ex.Label != "" {
					set[ex.Label] = true
				}
			}
		}
		t.Labels = sortLabels(sortedKeys(set))
		if len(t.Labels) < 2 {
			src := "train.jsonl"
			if t.Train == nil {
				src = "the split files"
			}
			return fmt.Errorf("jsonl: %s: want at least two different labels, found %s (or give labels.txt)", src, quoteList(t.Labels))
		}
	}
	for _, s := range []*Split{t.Train, t.Dev, t.Test} {
		if s == nil {
			continue
		}
		for i := range s.Examples {
			ex := &s.Examples[i]
			if ex.Label == "" {
				continue
			}
			ex.LabelIndex = t.LabelIndex(ex.Label)
			if ex.LabelIndex < 0 {
				return &DataError{File: s.File, Line: ex.Line, Field: "label", Msg: unknownLabelMsg(ex.Label, t.Labels)}
			}
		}
	}
	return nil
}

// sortLabels orders labels numerically when all are integers, else as given
// (already sorted as strings).
func sortLabels(ls []string) []string {
	for _, l := range ls {
		if _, err := strconv.Atoi(l); err != nil {
			return ls
		}
	}
	sort.Slice(ls, func(i, j int) bool {
		a, _ := strconv.Atoi(ls[i])
		b, _ := strconv.Atoi(ls[j])
		return a < b
	})
	return ls
}
