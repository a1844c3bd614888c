package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Task files the fuzzers seed from: each task's train file in the fixtures.
var (
	jsonlFuzzTasks = []struct{ name, dir, file string }{
		{"jsonl", "testdata/jsonl/basic", "train.jsonl"},
		{"rte", "testdata/sg/RTE", "train.jsonl"},
		{"cb", "testdata/sg/CB", "train.jsonl"},
		{"boolq", "testdata/sg/BoolQ", "train.jsonl"},
		{"copa", "testdata/sg/COPA", "train.jsonl"},
		{"multirc", "testdata/sg/MultiRC", "train.jsonl"},
		{"wic", "testdata/sg/WiC", "train.jsonl"},
		{"wsc", "testdata/sg/WSC", "train.jsonl"},
	}
	conllFuzzTasks = []struct{ name, dir, file string }{
		{"conll03", "testdata/ner/conll03", "train.txt"},
		{"conll04", "testdata/ner/conll04", "train.txt"},
		{"wnut17", "testdata/ner/wnut17", "wnut17train.conll"},
		{"wikiann", "testdata/ner/wikiann", "train"},
		{"conll", "testdata/ner/iobes", "train.txt"},
	}
)

// seedTaskFuzz adds every fixture train file (and the broken fixtures) for each task.
func seedTaskFuzz(f *testing.F, n int, fileOf func(i int) string) {
	for i := range n {
		if b, err := os.ReadFile(fileOf(i)); err == nil {
			f.Add(b, uint8(i))
		}
	}
	broken, _ := filepath.Glob("testdata/broken/*/*")
	for j, p := range broken {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint8(j%n))
		}
	}
}

// fuzzTask loads data as the train file of task name and checks the invariants
// of a load: no panic; an error is one line naming the file; a loaded task's
// examples have labels of the task, usable inputs, and encode.
func fuzzTask(t *testing.T, name, file string, data []byte) {
	dir := t.TempDir()
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	task, err := Load(name, dir)
	if err != nil {
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("error is not one line: %q", msg)
		}
		if !strings.Contains(msg, dir) && !strings.Contains(msg, name) {
			t.Fatalf("error names neither the file nor the task: %q", msg)
		}
		return
	}
	if task.Train == nil {
		t.Fatal("loaded without a train split")
	}
	for i, ex := range task.Train.Examples {
		if ex.LabelIndex >= len(task.Labels) || (ex.LabelIndex < 0 && task.Kind != TokenClassification && task.Train.Labeled) {
			t.Fatalf("example %d: label index %d of %d labels (%q)", i, ex.LabelIndex, len(task.Labels), ex.Label)
		}
		if ex.LabelIndex >= 0 && task.Labels[ex.LabelIndex] != ex.Label {
			t.Fatalf("example %d: label %q at index %d is %q", i, ex.Label, ex.LabelIndex, task.Labels[ex.LabelIndex])
		}
		if task.Kind == TokenClassification {
			if len(ex.Words) == 0 || len(ex.Words) != len(ex.Tags) {
				t.Fatalf("example %d: %d words, %d tags", i, len(ex.Words), len(ex.Tags))
			}
			continue
		}
		if _, err := task.Inputs(&ex); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("example %d: inputs error is not one line: %q", i, err)
		}
	}
	enc, err := EncodeExamples(task, task.Train.Examples, newFakeTok(), 16)
	if err != nil {
		return
	}
	if enc.Rows() != len(task.Train.Examples)*enc.NumChoices && task.Kind != TokenClassification {
		t.Fatalf("%d rows for %d examples x %d choices", enc.Rows(), len(task.Train.Examples), enc.NumChoices)
	}
	for r, ids := range enc.IDs {
		if len(ids) > 16 || len(ids) != len(enc.TypeIDs[r]) {
			t.Fatalf("row %d: %d ids, %d type ids, max_len 16", r, len(ids), len(enc.TypeIDs[r]))
		}
	}
}

// FuzzJSONL: the generic jsonl task and the SuperGLUE parsers on arbitrary train files.
func FuzzJSONL(f *testing.F) {
	seedTaskFuzz(f, len(jsonlFuzzTasks), func(i int) string {
		return filepath.Join(jsonlFuzzTasks[i].dir, jsonlFuzzTasks[i].file)
	})
	for i, c := range jsonlFuzzTasks { // the dev files too (BoolQ's train fixture is empty)
		if b, err := os.ReadFile(filepath.Join(c.dir, "val.jsonl")); err == nil {
			f.Add(b, uint8(i))
		}
	}
	f.Add([]byte("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\"}\n"), uint8(0))
	f.Add([]byte("\xef\xbb\xbf{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"entailment\", \"idx\": 0}\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		c := jsonlFuzzTasks[int(which)%len(jsonlFuzzTasks)]
		fuzzTask(t, c.name, c.file, data)
	})
}

// FuzzCoNLL: the column-format loaders on arbitrary train files.
func FuzzCoNLL(f *testing.F) {
	seedTaskFuzz(f, len(conllFuzzTasks), func(i int) string {
		return filepath.Join(conllFuzzTasks[i].dir, conllFuzzTasks[i].file)
	})
	f.Add([]byte("-DOCSTART- -X- -X- O\n\nGreta NNP B-NP B-PER\n. . O O\n"), uint8(0))
	f.Add([]byte("#doc 1\n1\tB-Peop\t0\tNNP\tJohn\tO\t[]\t[0]\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		c := conllFuzzTasks[int(which)%len(conllFuzzTasks)]
		fuzzTask(t, c.name, c.file, data)
	})
}
