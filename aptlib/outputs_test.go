package aptlib

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/testbackend"
	"github.com/aptbench/apt/internal/testfiles"
)

// copyDir copies the regular files of src into a new directory under root.
func copyDir(t *testing.T, src, dst string) string {
	t.Helper()
	return testfiles.CopyDir(t, src, dst, nil)
}

// snapshot is the content of every file under the given paths.
func snapshot(t *testing.T, paths ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range paths {
		filepath.Walk(p, func(f string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(f)
				m[f] = string(b) + "|" + info.Mode().String()
			}
			return nil
		})
	}
	return m
}

// benchOnCopies is a demo workbench whose model, task and adapter live in a
// temporary directory (so that a failing guard cannot damage the shared
// demo cache), with an adapter saved and loaded and a prediction input.
func benchOnCopies(t *testing.T) (w *Workbench, root string) {
	t.Helper()
	root = t.TempDir()
	mdemo, err := DemoModelDir()
	if err != nil {
		t.Fatal(err)
	}
	tdemo, err := DemoTaskDir()
	if err != nil {
		t.Fatal(err)
	}
	copyDir(t, mdemo, filepath.Join(root, "m"))
	copyDir(t, tdemo, filepath.Join(root, "task"))
	os.WriteFile(filepath.Join(root, "task", "labels.txt"), []byte("negative\npositive\n"), 0o644)
	if w, err = New(testbackend.Name()); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(filepath.Join(root, "m")); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadTask("jsonl", filepath.Join(root, "task")); err != nil {
		t.Fatal(err)
	}
	w.Set("prefix_len", "2")
	if err := w.SaveAdapter(filepath.Join(root, "a.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadAdapter(filepath.Join(root, "a.safetensors")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "in.jsonl"), []byte(`{"text": "a fine film"}`+"\n"), 0o644)
	return w, root
}

// Every writer refuses every output that would replace something the session
// reads or has loaded, names both paths, and leaves the protected file as it was.
func TestOutputsNeverReplaceLoadedFiles(t *testing.T) {
	w, root := benchOnCopies(t)
	t.Chdir(root)
	os.WriteFile("ro.json", []byte("keep me"), 0o444)
	os.Symlink("d/in.jsonl", "in-link.jsonl")
	os.Link("d/in.jsonl", "in-hard.jsonl")
	os.Link("m/model.safetensors", "model-hard.safetensors")
	in := "d/in.jsonl"
	writers := []struct {
		name  string
		write func(out string) error
	}{
		{"predict", func(out string) error { _, err := w.Predict(in, out); return err }},
		{"save adapter", w.SaveAdapter},
		{"save checkpoint", w.SaveCheckpoint},
		{"plot", func(out string) error { return w.SavePlot(out, w.LossPlot()) }},
		{"gates --json", func(out string) error { return w.CheckOutput("gates --json", out) }},
	}
	type target struct {
		out, names, why string
		predictOnly     bool
	}
	targets := []target{
		{"d/in.jsonl", "d/in.jsonl", "is the prediction input", true},
		{"d/../d/in.jsonl", "d/in.jsonl", "is the prediction input", true},
		{"in-link.jsonl", "d/in.jsonl", "is the prediction input", true},
		{"in-hard.jsonl", "d/in.jsonl", "is the prediction input", true},
		{"m/config.json", "m", "is a file of the loaded model", false},
		{"m/model.safetensors", "m", "is a file of the loaded model", false},
		{"m/vocab.txt", "m", "is a file of the loaded model", false},
		{"m", "m", "is the directory of the loaded model", false},
		{"model-hard.safetensors", "m/model.safetensors", "a file of the loaded model", false},
		{"a.safetensors", "a.safetensors", "is the loaded adapter", false},
		{"task/train.jsonl", "task/train.jsonl", "is the loaded task's train file", false},
		{"task/val.jsonl", "task/val.jsonl", "is the loaded task's dev file", false},
		{"task/test.jsonl", "task/test.jsonl", "is the loaded task's test file", false},
		{"task/labels.txt", "task/labels.txt", "is the loaded task's labels file", false},
		{"ro.json", "ro.json", "is read-only", false},
		{"d", "d", "is a directory", false},
	}
	for _, wr := range writers {
		for _, tg := range targets {
			if tg.predictOnly && wr.name != "predict" {
				continue
			}
			before := snapshot(t, root)
			err := wr.write(tg.out)
			if err == nil {
				t.Errorf("%s %s: no error", wr.name, tg.out)
			} else if msg := err.Error(); !strings.HasPrefix(msg, wr.name+": ") || !strings.Contains(msg, tg.out) ||
				!strings.Contains(msg, tg.names) || !strings.Contains(msg, tg.why) {
				t.Errorf("%s %s: error %q should start with %q and name %s, %s and say %q", wr.name, tg.out, msg, wr.name+":", tg.out, tg.names, tg.why)
			}
			after := snapshot(t, root)
			for f, b := range before {
				if after[f] != b {
					t.Errorf("%s %s changed %s", wr.name, tg.out, f)
				}
			}
			if len(after) != len(before) {
				t.Errorf("%s %s: %d files before, %d after", wr.name, tg.out, len(before), len(after))
			}
		}
	}
	// An ordinary output is still written.
	if n, err := w.Predict(in, "d/out.jsonl"); err != nil || n != 1 {
		t.Errorf("predict to a new file: %d, %v", n, err)
	}
}

// FT saves a model directory: it must not be the loaded model's, nor one
// holding the loaded model or task.
func TestFTSaveNeverReplacesLoadedDirectories(t *testing.T) {
	root := t.TempDir()
	mdemo, _ := DemoModelDir()
	tdemo, _ := DemoTaskDir()
	copyDir(t, mdemo, filepath.Join(root, "m"))
	copyDir(t, tdemo, filepath.Join(root, "data", "task"))
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(filepath.Join(root, "m")); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadTask("jsonl", filepath.Join(root, "data", "task")); err != nil {
		t.Fatal(err)
	}
	w.Set("method", "ft")
	// A model directory SaveModelDir wrote, loaded again: it is the loaded model now.
	ftDir := filepath.Join(root, "ft")
	if err := w.SaveAdapter(ftDir); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(ftDir); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	for _, c := range []struct{ out, why string }{
		{ftDir, "is the directory of the loaded model"},
		{filepath.Join(root, "data"), "would replace a directory holding the loaded task's"},
		{root, "would replace a directory holding"},
		{filepath.Join(ftDir, "sub"), "is inside the directory of the loaded model"},
	} {
		err := w.SaveAdapter(c.out)
		if err == nil || !strings.Contains(err.Error(), c.out) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("save adapter %s (ft): %v, want an error naming it and saying %q", c.out, err, c.why)
		}
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Errorf("%d files before, %d after", len(before), len(after))
	} else {
		for f, b := range before {
			if after[f] != b {
				t.Errorf("%s changed", f)
			}
		}
	}
	if err := w.SaveAdapter(filepath.Join(root, "ft2")); err != nil {
		t.Errorf("FT save to a new directory: %v", err)
	}
}

// Predict: one output line per input line; a blank line inside the file is an
// error naming it, trailing blank lines are fine, a BOM is skipped and an
// empty text is valid.
func TestPredictLinesAndEmptyText(t *testing.T) {
	w := demoBench(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.jsonl")
	for _, c := range []struct {
		name, input string
		lines       int
		err         string
	}{
		{"empty text", `{"text": ""}` + "\n" + `{"text": "a fine film"}` + "\n", 2, ""},
		{"empty text and pair", `{"text": "", "text_pair": ""}`, 1, ""},
		{"whitespace text", `{"text": "   "}`, 1, ""},
		{"BOM", "\xef\xbb\xbf" + `{"text": "a fine film"}` + "\n", 1, ""},
		{"CRLF", `{"text": "a"}` + "\r\n" + `{"text": "b"}` + "\r\n", 2, ""},
		{"trailing blank lines", `{"text": "a"}` + "\n\n  \n\n", 1, ""},
		{"blank line inside", `{"text": "a"}` + "\n" + `{"text": "b"}` + "\n\n" + `{"text": "c"}` + "\n", 0, "in.jsonl:3: line 3 is empty; predict writes one output line per input line"},
		{"whitespace line inside", `{"text": "a"}` + "\n \t\n" + `{"text": "c"}`, 0, "in.jsonl:2: line 2 is empty"},
		{"leading blank line", "\n" + `{"text": "a"}`, 0, "in.jsonl:1: line 1 is empty"},
		{"only blank lines", "\n\n", 0, "has no examples"},
		{"missing text", `{"text_pair": "x"}`, 0, `in.jsonl:1: field "text"`},
	} {
		os.WriteFile(in, []byte(c.input), 0o644)
		os.Remove(out)
		n, err := w.Predict(in, out)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.name, err, c.err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("%s: an output was written despite the error", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := os.ReadFile(out)
		got := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		if n != c.lines || len(got) != c.lines {
			t.Errorf("%s: %d predictions, %d output lines, want %d", c.name, n, len(got), c.lines)
		}
		for _, l := range got {
			var pl PredictLine
			if err := json.Unmarshal(l, &pl); err != nil || pl.Label == nil {
				t.Errorf("%s: output line %q: %v", c.name, l, err)
			}
		}
	}
}
