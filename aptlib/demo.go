package aptlib

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/data"
)

// DemoModelDir returns a directory holding the embedded demo model (random
// weights, see package data), unpacked once into the user's cache.
func DemoModelDir() (string, error) { return unpackDemo("demo/model") }

// DemoTaskDir returns a directory holding the embedded demo task (generic jsonl).
func DemoTaskDir() (string, error) { return unpackDemo("demo/task") }

// unpackDemo copies an embedded folder to <cache>/apt-workbench/<name>-<hash>,
// where hash is of the embedded bytes, so a new build never reads stale files.
// The copy is made in a temp dir and renamed into place.
func unpackDemo(sub string) (string, error) {
	h := sha256.New()
	var files []string
	err := fs.WalkDir(data.Demo, sub, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := data.Demo.ReadFile(p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		files = append(files, p)
		return nil
	})
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "apt-workbench", filepath.Base(filepath.Dir(sub))+"-"+filepath.Base(sub)+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".demo-*")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	for _, p := range files {
		b, _ := data.Demo.ReadFile(p)
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(p)), b, 0o644); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("demo: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if st, e := os.Stat(dir); e == nil && st.IsDir() { // another process won the race
			return dir, nil
		}
		return "", fmt.Errorf("demo: %w", err)
	}
	return dir, nil
}
