package aptlib

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadTaskKeepsMatchingParameters: "load model; load adapter; load task;
// eval" evaluates the adapter (loading the task used to re-create the
// parameters at random without a word), and a task with another head drops
// them with a note and no longer names the adapter.
func TestLoadTaskKeepsMatchingParameters(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "prefix_len", "2", "train_limit", "32", "max_len", "32")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	want, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}

	// A fresh session: the adapter first (no task: a generic classifier), then the task.
	w2 := demoBench(t)
	w2.Task = nil
	if err := w2.LoadAdapter(path); err != nil {
		t.Fatal(err)
	}
	loaded := methodValues(t, w2)
	var log bytes.Buffer
	w2.Log = &log
	if err := w2.LoadTask("demo", ""); err != nil {
		t.Fatal(err)
	}
	got, err := w2.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	if d := sameValues(loaded, methodValues(t, w2)); d != "" {
		t.Fatalf("load task after load adapter: %s", d)
	}
	if got["accuracy"] != want["accuracy"] {
		t.Errorf("adapter then task: dev accuracy %v, the trained session had %v", got["accuracy"], want["accuracy"])
	}
	if w2.Adapter != path {
		t.Errorf("the adapter is no longer named: %q", w2.Adapter)
	}
	if !strings.Contains(log.String(), "same head and labels") || !strings.Contains(log.String(), path) {
		t.Errorf("note on load task: %q", log.String())
	}

	// A task with another head: the parameters go, and the user is told.
	ner := t.TempDir()
	for _, f := range []string{"train.txt", "dev.txt"} {
		if err := os.WriteFile(filepath.Join(ner, f), []byte("good B-X\nfilm O\n\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log.Reset()
	if err := w2.LoadTask("conll", ner); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "discards the parameters loaded from the adapter "+path) {
		t.Errorf("note on load task with another head: %q", log.String())
	}
	if w2.Adapter != "" {
		t.Errorf("the adapter %q is still named after its parameters were dropped", w2.Adapter)
	}
	if _, err := w2.Eval("dev"); err != nil {
		t.Errorf("eval on the new task: %v", err)
	}
}
