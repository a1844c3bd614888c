package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conllTask writes a tiny generic CoNLL task.
func conllTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sent := "John B-PER\nlives O\nin O\nParis B-LOC\n\nMary B-PER\nlikes O\nRome B-LOC\n\n"
	var b strings.Builder
	for range 4 {
		b.WriteString(sent)
	}
	os.WriteFile(filepath.Join(dir, "train.txt"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "dev.txt"), []byte(sent), 0o644)
	return dir
}

// TestLoadNERAdapterNote: loading a token-classification adapter with no task
// says that predict reads {"tokens": [...]} lines, and such a line predicts.
func TestLoadNERAdapterNote(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APT_TEST_DIR", dir)
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task conll "+conllTask(t), "set prefix_len=2 max_len=32", "step",
		"save adapter $APT_TEST_DIR/ner.safetensors")

	s2, out2, errb2 := newShell(t)
	run(t, s2, out2, "load model demo")
	errb2.Reset()
	got := run(t, s2, out2, "load adapter $APT_TEST_DIR/ner.safetensors")
	mustContain(t, "load NER adapter", got, "loaded adapter", "B-LOC", "B-PER", "O")
	mustContain(t, "load NER adapter note", errb2.String(), `predict reads {"tokens": ["word", ...]} lines`)
	if strings.Contains(errb2.String(), `"text"`) {
		t.Errorf("the note for a token-classification adapter names text lines: %s", errb2.String())
	}
	os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(`{"tokens": ["Mary", "lives", "in", "Rome"]}`+"\n"), 0o644)
	mustContain(t, "predict NER", run(t, s2, out2, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out.jsonl"), "wrote 1 prediction")

	// A sequence-classification adapter keeps the text note.
	run(t, s, out, "load task demo", "set prefix_len=2 max_len=32", "step", "save adapter $APT_TEST_DIR/seq.safetensors")
	s3, out3, errb3 := newShell(t)
	run(t, s3, out3, "load model demo")
	run(t, s3, out3, "load adapter $APT_TEST_DIR/seq.safetensors")
	mustContain(t, "load sequence adapter note", errb3.String(), `predict reads {"text": ..., "text_pair": ...} lines`)
}
