package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGenReproducesDemo: the recipe writes the committed (and embedded) demo
// task and model byte for byte, so that a change to the recipe that would
// change the demo shows here rather than in a silently different demo.
func TestGenReproducesDemo(t *testing.T) {
	out := t.TempDir()
	for _, d := range []string{"task", "model"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeModel(filepath.Join(out, "model"), writeTask(filepath.Join(out, "task")))
	for _, d := range []string{"task", "model"} {
		want, err := os.ReadDir(filepath.Join("..", "demo", d))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadDir(filepath.Join(out, d))
		if len(got) != len(want) {
			t.Errorf("%s: wrote %d files, the committed demo has %d", d, len(got), len(want))
		}
		for _, e := range want {
			w, _ := os.ReadFile(filepath.Join("..", "demo", d, e.Name()))
			g, err := os.ReadFile(filepath.Join(out, d, e.Name()))
			if err != nil || !bytes.Equal(g, w) {
				t.Errorf("%s/%s differs from the committed demo file (%d bytes, want %d; %v)", d, e.Name(), len(g), len(w), err)
			}
		}
	}
}
