package repl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/internal/testfiles"
)

// copyFiles copies the regular files of src into dst.
func copyFiles(t *testing.T, src, dst string) {
	t.Helper()
	testfiles.CopyDir(t, src, dst, nil)
}

func fileContents(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

// TestOutputsNeverReplaceInputs: no shell command writes over its own input,
// the loaded model, adapter or task, or a read-only file; each says which.
func TestOutputsNeverReplaceInputs(t *testing.T) {
	root := t.TempDir()
	mdemo, err := aptlib.DemoModelDir()
	if err != nil {
		t.Fatal(err)
	}
	copyFiles(t, mdemo, filepath.Join(root, "m"))
	task := tinyTask(t)
	copyFiles(t, task, filepath.Join(root, "task"))
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "in.jsonl"), []byte(`{"text": "a fine film"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "ro.json"), []byte("mine"), 0o444)
	t.Setenv("R", root)

	s, out, _ := newShell(t)
	run(t, s, out, "load model $R/m", "load task jsonl $R/task", "set prefix_len=2 max_len=32",
		"save adapter $R/a.safetensors", "load adapter $R/a.safetensors")
	before := fileContents(t, root)
	for _, c := range []struct{ line, want string }{
		{"predict $R/d/in.jsonl $R/d/in.jsonl", "predict: output " + root + "/d/in.jsonl is the prediction input " + root + "/d/in.jsonl; choose another file"},
		{"predict $R/d/in.jsonl $R/d/../d/in.jsonl", "is the prediction input " + root + "/d/in.jsonl"},
		{"predict $R/d/in.jsonl $R/a.safetensors", "predict: output " + root + "/a.safetensors is the loaded adapter " + root + "/a.safetensors"},
		{"predict $R/d/in.jsonl $R/task/train.jsonl", "is the loaded task's train file " + root + "/task/train.jsonl"},
		{"save adapter $R/m/model.safetensors", "save adapter: output " + root + "/m/model.safetensors is a file of the loaded model (" + root + "/m); choose another file"},
		{"save adapter $R/m", "save adapter: output " + root + "/m is the directory of the loaded model (" + root + "/m)"},
		{"save adapter $R/task/train.jsonl", "is the loaded task's train file"},
		{"save adapter $R/ro.json", "save adapter: output " + root + "/ro.json is read-only (mode 0444); refusing to replace it"},
		{"gates dev --json $R/a.safetensors", "gates --json: output " + root + "/a.safetensors is the loaded adapter " + root + "/a.safetensors"},
		{"gates dev --csv $R/m/config.json", "gates --csv: output " + root + "/m/config.json is a file of the loaded model"},
		{"gates dev --json $R/g.json --csv $R/g.json", "gates --csv: output " + root + "/g.json is the --json output " + root + "/g.json"},
		{"plot gates $R/m/x.svg dev", "plot gates: output " + root + "/m/x.svg is inside the directory of the loaded model"},
	} {
		err := s.RunScript(context.Background(), "s.apt", "", []string{c.line})
		var se *ScriptError
		if !errors.As(err, &se) || !strings.Contains(se.Error(), c.want) || strings.Contains(se.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line error with %q", c.line, err, c.want)
		}
		after := fileContents(t, root)
		if len(after) != len(before) {
			t.Errorf("%s: %d files before, %d after", c.line, len(before), len(after))
		}
		for f, b := range before {
			if after[f] != b {
				t.Errorf("%s changed %s", c.line, f)
			}
		}
	}
	// The write error names the output, not the hidden temporary file.
	err = s.RunScript(context.Background(), "s.apt", "", []string{"predict $R/d/in.jsonl $R/nodir/out.jsonl"})
	if err == nil || !strings.Contains(err.Error(), root+"/nodir/out.jsonl") || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("predict into a missing directory: %v", err)
	}
	// Ordinary outputs still work, also beside the task's data.
	run(t, s, out, "predict $R/d/in.jsonl $R/task/in.pred.jsonl", "predict $R/d/in.jsonl $R/task/in.pred.jsonl", "gates dev --json $R/g.json")
}
