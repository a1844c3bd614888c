package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "new" || st.Mode().Perm() != 0o644 {
		t.Fatalf("content %q mode %v", b, st.Mode().Perm())
	}
}

func TestFailedWriteLeavesOldFileAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	WriteBytes(p, []byte("old"))
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	b, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if string(b) != "old" || len(entries) != 1 {
		t.Fatalf("after a failed write: content %q, %d entries in the directory", b, len(entries))
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}

// Errors of the file system name the final path, never the temporary file.
func TestWriteErrorsNameTheOutput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	cases := map[string]string{
		"missing directory":    filepath.Join(dir, "missing", "out.jsonl"),
		"parent is a file":     filepath.Join(file, "out.jsonl"),
		"relative and missing": filepath.Join("no-such-dir-here", "out.jsonl"),
	}
	if os.Geteuid() != 0 { // root may write into a read-only directory
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		cases["write-protected directory"] = filepath.Join(ro, "out.jsonl")
	}
	for name, p := range cases {
		err := WriteBytes(p, []byte("data"))
		if err == nil {
			t.Errorf("%s: writing %s succeeded", name, p)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, p) || strings.Contains(msg, ".tmp-") {
			t.Errorf("%s: error %q should name %s and not the temporary file", name, msg, p)
		}
	}
	err := WriteBytes(filepath.Join(dir, "missing", "out.jsonl"), nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "the directory "+filepath.Join(dir, "missing")+" does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 2 {
		t.Errorf("a failed write left files behind: %v", entries)
	}
}

// A read-only file or a directory at the output path is refused, not replaced
// by the rename.
func TestWriteRefusesReadOnlyAndDirectory(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro.txt")
	os.WriteFile(ro, []byte("keep"), 0o444)
	err := WriteBytes(ro, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), ro) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("writing a 0444 file: %v", err)
	}
	if b, _ := os.ReadFile(ro); string(b) != "keep" {
		t.Errorf("the read-only file now holds %q", b)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	err = WriteBytes(sub, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), sub) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("writing onto a directory: %v", err)
	}
	if st, err := os.Stat(sub); err != nil || !st.IsDir() {
		t.Errorf("the directory was replaced: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2", len(entries))
	}
}
