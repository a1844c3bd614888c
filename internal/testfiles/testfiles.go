// Package testfiles holds the file helpers the project's tests share, so that
// each test file does not carry its own copy.
package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// CopyDir copies the files of the flat directory src into dst, created when
// missing, with edits (file name -> new content) applied, and returns dst.
// Any error (a subdirectory in src among them) fails the test.
func CopyDir(t testing.TB, src, dst string, edits map[string]string) string {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := edits[e.Name()]; ok {
			b = []byte(s)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
