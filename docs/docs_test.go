// Package docs holds the workbench's user-facing contract as Markdown; this
// test keeps the code and the docs pointing at it rather than at documents
// that are not in the repository.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// citePattern matches a cite of the design document that lived outside the
// repository (its name in capitals as a word: with ".md", with " section N",
// with "'s", or at the end of a line where a cite breaks in two) or of an
// issue's number ("issue N", "issue N, point M"). The pattern is spelled in
// pieces so that this file does not match itself.
var citePattern = regexp.MustCompile(`\bSP` + `EC\b|(?i:\bissue` + ` #?\d+)`)

// TestNoContractCites fails on any such cite in the repository's Go, Markdown,
// shell, Python, notebook or script files: the contract is in docs/ (cite
// docs/adapters.md, docs/methods.md, docs/tasks.md, docs/shell.md or
// docs/backends.md, or state the fact).
func TestNoContractCites(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: the test must run in the docs folder", root)
	}
	exts := map[string]bool{".go": true, ".md": true, ".sh": true, ".py": true, ".ipynb": true, ".apt": true}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !exts[filepath.Ext(path)] && d.Name() != "run" && d.Name() != "Dockerfile" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(data), "\n") {
			if m := citePattern.FindString(line); m != "" {
				t.Errorf("%s:%d: cites %q, which is not in the repository: %s", rel, i+1, m, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("checked only %d files under %s: the walk is broken", files, root)
	}
}
