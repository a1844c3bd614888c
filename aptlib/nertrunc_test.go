package aptlib

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/testbackend"
)

// TestNERTruncationIsSaid: words past max_len get "O" in predict and count as
// missed in eval; both now say so instead of labelling them silently.
func TestNERTruncationIsSaid(t *testing.T) {
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	long := strings.Repeat("good film\n", 30) // a 60-word sentence
	for _, f := range []string{"train.txt", "dev.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("good B-X\nfilm O\n\n"+strings.ReplaceAll(long, "\n", " O\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.LoadTask("conll", dir); err != nil {
		t.Fatal(err)
	}
	mustSet(t, w, "max_len", "16", "prefix_len", "2")
	var log bytes.Buffer
	w.Log = &log
	if _, err := w.Eval("dev"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "1 sentences are longer than max_len 16") || !strings.Contains(log.String(), "words get no prediction") {
		t.Errorf("eval note: %q", log.String())
	}
	in := filepath.Join(dir, "in.jsonl")
	words := strings.Fields(long)
	line, _ := json.Marshal(map[string]any{"tokens": words})
	os.WriteFile(in, append(line, '\n'), 0o644)
	log.Reset()
	out := filepath.Join(dir, "out.jsonl")
	if _, err := w.Predict(in, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "1 of 1 inputs") || !strings.Contains(log.String(), "labelled O") {
		t.Errorf("predict note: %q", log.String())
	}
	var got struct{ Label []string }
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &got); err != nil || len(got.Label) != len(words) {
		t.Errorf("predict wrote %d labels for %d words (%v)", len(got.Label), len(words), err)
	}
}
