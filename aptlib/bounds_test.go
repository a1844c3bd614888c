package aptlib

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aptbench/apt/internal/testbackend"
)

// A model path that exists but is no directory is reported for what it is, not
// as missing and not sent to the Hub as an id.
func TestLoadModelPathErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Symlink("loop", "loop"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("file", []byte("x"), 0o644)
	os.Symlink("missing-target", "dangling")
	if err := syscall.Mkfifo("fifo", 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"loop":                     "load model loop: too many levels of symbolic links",
		"./loop":                   "load model ./loop: too many levels of symbolic links",
		"loop/sub":                 "load model loop/sub: too many levels of symbolic links",
		filepath.Join(dir, "loop"): "too many levels of symbolic links",
		"file":                     "load model: file is a file, not a model directory",
		"file/sub":                 "load model file/sub: not a directory",
		"fifo":                     "load model: fifo is not a directory",
		"dangling":                 "load model dangling: no such file or directory",
		"./nothing-here":           "load model: ./nothing-here: no such directory",
	} {
		err := w.LoadModel(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadModel(%q) = %v, want %q", name, err, want)
		}
	}
}
