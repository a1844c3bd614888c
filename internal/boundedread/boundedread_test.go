package boundedread

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(p, 10)
	if err != nil || string(got) != "0123456789" {
		t.Fatalf("ReadFile at the limit = %q, %v", got, err)
	}
	_, err = ReadFile(p, 9)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "9 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ReadFile(dir, 10); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if got, err := ReadFile(empty, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty file: %q, %v", got, err)
	}
}

// A link to /dev/zero or to a FIFO nobody writes must fail at once, not read forever or block.
func TestReadFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skip(err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for _, p := range []string{zero, fifo} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(p, 1<<20); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %v", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile did not return", p)
		}
	}
}

func TestCheckLines(t *testing.T) {
	if err := CheckLines("f", []byte("abc\nde\nf"), 3); err != nil {
		t.Fatal(err)
	}
	err := CheckLines("f", []byte("abc\nde\nfghi"), 3)
	if err == nil || err.Error() != "f:3: line longer than 3 bytes" {
		t.Fatalf("got %v", err)
	}
	err = CheckLines("f", []byte("abcd\n"), 3)
	if err == nil || err.Error() != "f:1: line longer than 3 bytes" {
		t.Fatalf("got %v", err)
	}
}
