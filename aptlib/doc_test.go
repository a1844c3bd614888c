package aptlib

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocListsEverySubpackage: the package doc (doc.go, what `go doc ./aptlib`
// prints) has one line for every Go package under aptlib/, and no line for a
// package that is gone.
func TestDocListsEverySubpackage(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^//\t([a-z0-9]+) {2,}\S`).FindAllStringSubmatch(string(src), -1) {
		listed[m[1]] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" {
			continue
		}
		goFiles, _ := filepath.Glob(filepath.Join(e.Name(), "*.go"))
		hasPkg := false
		for _, f := range goFiles {
			if !strings.HasSuffix(f, "_test.go") {
				hasPkg = true
			}
		}
		if !hasPkg {
			continue
		}
		found[e.Name()] = true
		if !listed[e.Name()] {
			t.Errorf("doc.go's sub-package list has no line for aptlib/%s", e.Name())
		}
	}
	if len(found) == 0 {
		t.Fatal("found no sub-package under aptlib/: is the test running in its folder?")
	}
	for name := range listed {
		if !found[name] {
			t.Errorf("doc.go lists %s, which is not a package under aptlib/", name)
		}
	}
}
