// Package tasks loads the benchmark sets of the APT workbench (SuperGLUE in its
// official JSONL, NER in CoNLL column format, and generic jsonl / conll sets),
// builds each SuperGLUE input the way P-Tuning v2's released code does, encodes
// examples through a small Tokenizer interface, scores predictions, and carries
// the evaluation-protocol helpers (held-out split, protocol names).
//
// Loading is strict: every problem is an error naming the file, the line and the
// field, with the known values when a label is unknown. A split file that is
// absent is not an error at Load time (the BoolQ copy in the benchmark data has
// no train.jsonl, SuperGLUE test sets are often left out); asking for that split
// later is (Task.Split, Encode, Evaluate), with a message that says what file is
// missing.
package tasks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kind is the head a task needs; package model calls it model.Head (an alias:
// one type). The strings are those of the adapter file's `head` metadata
// (docs/adapters.md).
type Kind string

const (
	// SequenceClassification: one label per input (SuperGLUE but COPA, jsonl).
	SequenceClassification Kind = "sequence_classification"
	// MultipleChoice: one of the example's choices (COPA).
	MultipleChoice Kind = "multiple_choice"
	// TokenClassification: one tag per word (NER, conll).
	TokenClassification Kind = "token_classification"
)

// Pair is one (text_a, text_b) input; B == "" means a single-segment input.
type Pair struct{ A, B string }

// Span is a WSC span: its text and the index of its first word in
// strings.Fields(text) (SuperGLUE's span1_index / span2_index).
type Span struct {
	Text  string
	Index int
}

// Example is one example as read from a file. Which fields are set depends on
// the task:
//
//	BoolQ     TextA = question, TextB = passage
//	CB, RTE   TextA = premise, TextB = hypothesis
//	WiC       TextA = sentence1, TextB = sentence2, Word = the target word
//	WSC       TextA = text, Span1 = the candidate noun phrase, Span2 = the pronoun
//	COPA      TextA = premise, Question = "cause" | "effect", Choices = the
//	          P-Tuning v2 input pair for each choice (see superglue.go)
//	MultiRC   TextA = paragraph, TextB = question + " " + answer, Question = the
//	          question, Group = its question id, Doc = its passage id
//	jsonl     TextA = text, TextB = text_pair
//	NER       Words and Tags (one tag per word, BIO after IOB1 conversion),
//	          Doc = the document number where the file marks documents
//
// The exact model input is given by Task.Inputs, which applies P-Tuning v2's
// templates.
type Example struct {
	// ID is the example's id: the official "idx" (MultiRC: the answer idx) or,
	// for files without one, the 0-based sentence / line number.
	ID string
	// Line is the 1-based line of the file where the example starts.
	Line int

	TextA, TextB string
	Word         string
	Span1, Span2 Span
	Question     string
	Choices      []Pair

	Words, Tags []string

	// Label is the label name (one of Task.Labels) and LabelIndex its position;
	// "" and -1 for an unlabeled example (SuperGLUE test sets). Token
	// classification examples carry their labels in Tags and have LabelIndex -1.
	Label      string
	LabelIndex int

	// Group names the unit that exact match is computed over (MultiRC: the
	// question); "" elsewhere.
	Group string
	// Doc names the document the example comes from (MultiRC passage, CoNLL
	// document); HoldOut keeps a document on one side. "" when unknown.
	Doc string
}

// Split is one file of a task.
type Split struct {
	// Name is "train", "dev" or "test" (or what HoldOut names its parts).
	Name string
	// File is the path it was read from.
	File     string
	Examples []Example
	// Labeled is true when every example has a label (token tasks: always).
	Labeled bool
}

// Len is the number of examples.
func (s *Split) Len() int { return len(s.Examples) }

// Task is a loaded benchmark set.
type Task struct {
	// Name is the name passed to Load (boolq, cb, ..., conll03, ..., jsonl, conll).
	Name string
	// Dir is the directory the files were read from.
	Dir  string
	Kind Kind
	// Labels are the label names in logit order. For COPA (multiple choice) they
	// name the choices: ["choice1", "choice2"].
	Labels []string
	// Train, Dev and Test are nil when the file is absent (see Split).
	Train, Dev, Test *Split
	// Metrics are the metric names Evaluate reports (package metrics), the first
	// one being the task's main score.
	Metrics []string
	// Template is P-Tuning v2's --template_id for WiC and WSC (the input built by
	// Inputs). Load sets it to the value P-Tuning v2's BERT run scripts use:
	// WiC 1 (run_script/run_wic_bert.sh passes --template_id 1), WSC 0 (the
	// default; run_wsc_bert.sh passes none). It can be changed before Encode.
	Template int
	// TagScheme is, for token tasks, how the tags were read: "BIO", "IOBES", or
	// "IOB1" (converted to BIO on load).
	TagScheme string
	// Warnings are oddities kept as they are in the official files (e.g. a WSC
	// span index that points at another word), for a person to read.
	Warnings []string

	missing map[string]string // split name -> path of the absent file
}

// Split returns the split named name: "train", "dev" (also "val",
// "validation", "valid") or "test". An absent file is an error naming it.
func (t *Task) Split(name string) (*Split, error) {
	canon := canonicalSplit(name)
	var s *Split
	switch canon {
	case "train":
		s = t.Train
	case "dev":
		s = t.Dev
	case "test":
		s = t.Test
	default:
		return nil, fmt.Errorf("%s: unknown split %q (want train, dev or test)", t.Name, name)
	}
	if s == nil {
		msg := fmt.Sprintf("%s: no %s split", t.Name, canon)
		if p, ok := t.missing[canon]; ok {
			msg += fmt.Sprintf(": %s does not exist", p)
		}
		if hint := missingHint(t.Name, canon); hint != "" {
			msg += " (" + hint + ")"
		}
		return nil, errors.New(msg)
	}
	return s, nil
}

func canonicalSplit(name string) string {
	switch strings.ToLower(name) {
	case "train":
		return "train"
	case "dev", "val", "validation", "valid":
		return "dev"
	case "test":
		return "test"
	}
	return name
}

func missingHint(task, split string) string {
	if folder, ok := superGLUEFolders[task]; ok {
		if split == "test" {
			return "SuperGLUE test labels are hidden; test.jsonl is in the official " + folder + ".zip, unlabeled"
		}
		return "the file is in the official " + folder + ".zip; where the network allows, download " + task + " in the shell fetches it into the cache, where load task " + task + " with no directory finds it"
	}
	return ""
}

// LabelIndex returns the logit position of a label name, or -1.
func (t *Task) LabelIndex(label string) int {
	for i, l := range t.Labels {
		if l == label {
			return i
		}
	}
	return -1
}

// Names lists the task names Load accepts.
func Names() []string {
	return []string{"boolq", "cb", "copa", "rte", "wic", "wsc", "multirc",
		"conll03", "conll04", "wnut17", "wikiann", "jsonl", "conll"}
}

// Load reads the task `name` from directory dir (the unzipped official folder
// for SuperGLUE tasks, the folder of column files for NER; see Names and the
// per-family files for the file names). For SuperGLUE tasks an empty dir means
// the download cache (DefaultCacheDir), if the task was downloaded there.
//
// Every split file present is read and checked; at least one must be present.
func Load(name, dir string) (*Task, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if dir == "" {
		if _, ok := superGLUEFolders[name]; ok {
			cached, err := cachedTaskDir(name)
			if err != nil {
				return nil, err
			}
			dir = cached
		} else if isKnownName(name) {
			return nil, fmt.Errorf("%s: no directory given: pass the directory that holds the task's files (load task %s DIR)%s", name, name, noDownloadNote(name))
		}
	}
	if !isKnownName(name) {
		return nil, fmt.Errorf("unknown task %q (known: %s)", name, strings.Join(Names(), " "))
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: task directory: %w", name, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: %s is not a directory", name, dir)
	}
	if _, ok := superGLUEFolders[name]; ok {
		return loadSuperGLUE(name, dir)
	}
	switch name {
	case "jsonl":
		return loadGenericJSONL(dir)
	default:
		return loadCoNLLTask(name, dir)
	}
}

// noDownloadNote says that a task has no official archive to download.
func noDownloadNote(name string) string {
	if name == "jsonl" || name == "conll" {
		return ""
	}
	return "; the NER sets have no official download, get their CoNLL files yourself"
}

func isKnownName(name string) bool {
	for _, n := range Names() {
		if n == name {
			return true
		}
	}
	return false
}

// splitFiles describes where a task looks for each split: candidates in order.
type splitFiles struct {
	train, dev, test []string
}

// readSplits resolves the split files of dir and calls read for each present
// one, filling t.Train/Dev/Test and t.missing.
func readSplits(t *Task, files splitFiles, read func(split, path string) (*Split, error)) error {
	t.missing = map[string]string{}
	found := 0
	for _, sp := range []struct {
		name  string
		cands []string
		dst   **Split
	}{{"train", files.train, &t.Train}, {"dev", files.dev, &t.Dev}, {"test", files.test, &t.Test}} {
		path := ""
		for _, c := range sp.cands {
			p := filepath.Join(t.Dir, c)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				path = p
				break
			}
		}
		if path == "" {
			if len(sp.cands) > 0 {
				t.missing[sp.name] = filepath.Join(t.Dir, sp.cands[0])
			}
			continue
		}
		s, err := read(sp.name, path)
		if err != nil {
			return err
		}
		if len(s.Examples) == 0 {
			return fmt.Errorf("%s: empty split: no examples", path)
		}
		*sp.dst = s
		found++
	}
	if found == 0 {
		var all []string
		for _, c := range [][]string{files.train, files.dev, files.test} {
			all = append(all, c...)
		}
		return fmt.Errorf("%s: no split file found in %s (looked for %s)", t.Name, t.Dir, strings.Join(all, ", "))
	}
	return nil
}

// DataError is a problem in a data file, located by file, line and field.
type DataError struct {
	File  string
	Line  int    // 1-based; 0 when the problem is about the whole file
	Field string // JSON field path (e.g. "target.span2_index") or CoNLL column; may be ""
	// Column is true when Field names a CoNLL column rather than a JSON field.
	Column bool
	Msg    string
}

func (e *DataError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		what := "field"
		if e.Column {
			what = "column"
		}
		fmt.Fprintf(&b, "%s %q: ", what, e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// unknownLabelMsg is the message for a label outside the known set.
func unknownLabelMsg(got string, known []string) string {
	return fmt.Sprintf("%q is not one of %s", got, quoteList(known))
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
