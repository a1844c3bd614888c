package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aptbench/apt/internal/testfiles"
)

// copyDir copies the regular files of src into a fresh temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	return testfiles.CopyDir(t, src, t.TempDir(), nil)
}

// loadQuickly loads a task and fails the test if that takes more than a few seconds.
func loadQuickly(t *testing.T, name, dir string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := Load(name, dir); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s: Load did not return", name, dir)
		return nil
	}
}

// A task file that never ends (a link to /dev/zero) must fail at once, naming the
// file, instead of reading until memory runs out.
func TestTaskFileEndless(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct{ name, src, file string }{
		{"rte", filepath.Join("testdata", "sg", "RTE"), "train.jsonl"},
		{"jsonl", filepath.Join("testdata", "jsonl", "basic"), "val.jsonl"},
		{"conll03", nerDir("conll03"), "train.txt"},
	} {
		dir := copyDir(t, c.src)
		p := filepath.Join(dir, c.file)
		os.Remove(p)
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Fatal(err)
		}
		err := loadQuickly(t, c.name, dir)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: got %v, want an error naming %s as not a regular file", c.name, err, p)
		}
	}
}

// A line longer than the line cap is refused with file:line, for JSONL and CoNLL.
func TestTaskFileLongLine(t *testing.T) {
	long := strings.Repeat("a", MaxLineBytes+1)
	for _, c := range []struct{ name, src, file, content string }{
		{"rte", filepath.Join("testdata", "sg", "RTE"), "train.jsonl", "\n{\"premise\": \"" + long + "\"}\n"},
		{"jsonl", filepath.Join("testdata", "jsonl", "basic"), "train.jsonl", "\n{\"text\": \"" + long + "\"}\n"},
		{"conll03", nerDir("conll03"), "train.txt", "Greta NNP B-NP B-PER\n" + long + " NNP B-NP O\n"},
	} {
		dir := copyDir(t, c.src)
		p := filepath.Join(dir, c.file)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		err := loadQuickly(t, c.name, dir)
		want := p + ":2: line longer than 16777216 bytes"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %.200v, want %q", c.name, err, want)
		}
	}
}
