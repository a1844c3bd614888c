package outguard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckRefusesProtectedPaths(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	os.Mkdir("d", 0o755)
	os.Mkdir("m", 0o755)
	os.WriteFile("d/in.jsonl", []byte("in"), 0o644)
	os.WriteFile("m/config.json", []byte("{}"), 0o644)
	os.WriteFile("m/model.safetensors", []byte("w"), 0o644)
	os.WriteFile("a.safetensors", []byte("a"), 0o644)
	os.WriteFile("ro.json", []byte("ro"), 0o444)
	os.Symlink("d/in.jsonl", "link.jsonl")
	os.Link("d/in.jsonl", "hard.jsonl")
	os.Link("m/model.safetensors", "hard.safetensors")
	os.Symlink("m", "mlink")

	var g Guard
	g.File("the prediction input", "d/in.jsonl")
	g.Dir("the loaded model", "m")
	g.File("the loaded adapter", filepath.Join(root, "a.safetensors"))
	for _, c := range []struct{ out, want string }{
		{"d/in.jsonl", "is the prediction input d/in.jsonl"},
		{"d/../d/in.jsonl", "is the prediction input d/in.jsonl"},
		{"./d//in.jsonl", "is the prediction input d/in.jsonl"},
		{filepath.Join(root, "d/in.jsonl"), "is the prediction input d/in.jsonl"},
		{"link.jsonl", "is the prediction input d/in.jsonl (the same file under another name)"},
		{"hard.jsonl", "is the prediction input d/in.jsonl (the same file under another name)"},
		{"m/config.json", "is a file of the loaded model (m)"},
		{"mlink/model.safetensors", "is a file of the loaded model (m)"},
		{"m/new.safetensors", "is inside the directory of the loaded model (m)"},
		{"m", "is the directory of the loaded model (m)"},
		{"mlink", "is the directory of the loaded model (m)"},
		{"hard.safetensors", "is the same file as m/model.safetensors, a file of the loaded model (m)"},
		{"a.safetensors", "is the loaded adapter " + filepath.Join(root, "a.safetensors")},
		{"ro.json", "is read-only (mode 0444); refusing to replace it"},
		{"d", "is a directory; give a file name"},
	} {
		err := g.Check("op", c.out)
		if err == nil || !strings.HasPrefix(err.Error(), "op: output "+c.out+" ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v, want an error naming it and saying %q", c.out, err, c.want)
		}
	}
	for _, ok := range []string{"d/out.jsonl", "out.jsonl", "new/x.jsonl"} {
		if err := g.Check("op", ok); err != nil {
			t.Errorf("Check(%q) = %v, want nil", ok, err)
		}
	}
}

func TestCheckDir(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	os.MkdirAll("data/task", 0o755)
	os.WriteFile("data/task/train.jsonl", []byte("x"), 0o644)
	os.Mkdir("m", 0o755)
	var g Guard
	g.File("the loaded task's train file", "data/task/train.jsonl")
	g.Dir("the loaded model", "m")
	for _, c := range []struct{ out, want string }{
		{"m", "is the directory of the loaded model (m); choose another directory"},
		{"m/sub", "is inside the directory of the loaded model (m)"},
		{".", "would replace a directory holding the loaded "},
		{"data", "would replace a directory holding the loaded task's train file data/task/train.jsonl"},
		{"data/task/train.jsonl", "is the loaded task's train file"},
	} {
		err := g.CheckDir("save", c.out)
		if err == nil || !strings.Contains(err.Error(), "output "+c.out+" ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckDir(%q) = %v, want %q", c.out, err, c.want)
		}
	}
	if err := g.CheckDir("save", "out-model"); err != nil {
		t.Error(err)
	}
}
