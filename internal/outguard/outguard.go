// Package outguard refuses an output path that would replace a file the
// session reads or has loaded (an input, a model's files, an adapter, a task's
// data), a read-only file, or a directory where a file is wanted. Every writer
// of the workbench and the shell asks a Guard before writing anything, so that
// the rule and its messages live in one place.
//
// Paths are compared after cleaning, making them absolute and resolving
// symbolic links (of the path, or of its parent when the file does not exist
// yet), and existing files are also compared by identity (os.SameFile), which
// catches hard links.
package outguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Guard is a set of protected paths, each with a description used in errors.
// The zero value protects nothing but still applies CheckTarget.
type Guard struct {
	items []item
}

type item struct {
	what string // "the prediction input", "the loaded model", ...
	path string // as given
	dir  bool   // a directory: itself, every entry in it and every new file in it
}

// File protects one file. what describes it in errors, e.g. "the prediction
// input" gives "output x is the prediction input in.jsonl". An empty path is
// ignored.
func (g *Guard) File(what, path string) {
	if path != "" {
		g.items = append(g.items, item{what: what, path: path})
	}
}

// Dir protects a directory: the directory itself, every file in it (existing,
// or new: nothing may be written into it) and every file that is the same as
// one of its entries. what names its owner, e.g. "the loaded model" gives
// "output m/config.json is a file of the loaded model (m)". An empty path is
// ignored.
func (g *Guard) Dir(what, dir string) {
	if dir != "" {
		g.items = append(g.items, item{what: what, path: dir, dir: true})
	}
}

// Check refuses writing the file path (op names the command in the error,
// e.g. "predict"): it must not be a protected file, a file of or in a
// protected directory, a protected directory, an existing directory or a
// read-only file. The error names the output, the protected path and why.
func (g *Guard) Check(op, path string) error {
	if path == "" {
		return fmt.Errorf("%s: no output file given", op)
	}
	out := resolve(path)
	oi, oerr := os.Stat(path)
	for _, it := range g.items {
		p := resolve(it.path)
		pi, perr := os.Stat(it.path)
		same := oerr == nil && perr == nil && os.SameFile(oi, pi)
		if !it.dir {
			if out == p || same {
				return refuse(op, "file", "output %s is %s %s%s", path, it.what, it.path, otherName(path, it.path))
			}
			continue
		}
		switch {
		case out == p || same:
			return refuse(op, "file", "output %s is the directory of %s (%s)", path, it.what, it.path)
		case filepath.Dir(out) == p:
			if oerr == nil {
				return refuse(op, "file", "output %s is a file of %s (%s)", path, it.what, it.path)
			}
			return refuse(op, "file", "output %s is inside the directory of %s (%s)", path, it.what, it.path)
		case within(out, p):
			return refuse(op, "file", "output %s is inside the directory of %s (%s)", path, it.what, it.path)
		}
		if oerr != nil || perr != nil || !pi.IsDir() {
			continue
		}
		entries, err := os.ReadDir(it.path)
		if err != nil {
			continue
		}
		for _, e := range entries {
			f := filepath.Join(it.path, e.Name())
			if fi, err := os.Stat(f); err == nil && os.SameFile(oi, fi) {
				return refuse(op, "file", "output %s is the same file as %s, a file of %s (%s)", path, f, it.what, it.path)
			}
		}
	}
	if err := CheckTarget(path); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// CheckDir refuses writing the directory dir as a whole (it may be replaced
// with a new one): it must not be a protected directory, lie inside one, or
// hold any protected file or directory.
func (g *Guard) CheckDir(op, dir string) error {
	if dir == "" {
		return fmt.Errorf("%s: no output directory given", op)
	}
	out := resolve(dir)
	oi, oerr := os.Stat(dir)
	for _, it := range g.items {
		p := resolve(it.path)
		pi, perr := os.Stat(it.path)
		same := oerr == nil && perr == nil && os.SameFile(oi, pi)
		switch {
		case it.dir && (out == p || same):
			return refuse(op, "directory", "output %s is the directory of %s (%s)", dir, it.what, it.path)
		case it.dir && within(out, p):
			return refuse(op, "directory", "output %s is inside the directory of %s (%s)", dir, it.what, it.path)
		case !it.dir && (out == p || same):
			return refuse(op, "directory", "output %s is %s %s%s", dir, it.what, it.path, otherName(dir, it.path))
		case within(p, out):
			return refuse(op, "directory", "output %s would replace a directory holding %s %s", dir, it.what, it.path)
		}
	}
	return nil
}

// CheckTarget refuses replacing path when it is an existing directory or a
// read-only file (no write permission for its owner): an atomic write renames
// a new file over the old one and would replace either without a word.
func CheckTarget(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return nil // the write itself reports what is wrong
	}
	if fi.IsDir() {
		return fmt.Errorf("output %s is a directory; give a file name", path)
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("output %s is read-only (mode %04o); refusing to replace it", path, fi.Mode().Perm())
	}
	return nil
}

func refuse(op, kind, format string, args ...any) error {
	return fmt.Errorf("%s: %s; choose another %s", op, fmt.Sprintf(format, args...), kind)
}

// otherName notes when the output reaches the protected file under another
// name (a symbolic or hard link).
func otherName(out, protected string) string {
	if abs(out) != abs(protected) {
		return " (the same file under another name)"
	}
	return ""
}

func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// within reports whether path lies strictly inside dir (both resolved).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolve is path made absolute and clean with its symbolic links resolved;
// for a path that does not exist yet, its parent's links are resolved.
func resolve(path string) string {
	a := abs(path)
	if r, err := filepath.EvalSymlinks(a); err == nil {
		return r
	}
	dir, base := filepath.Split(a)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(r, base)
	}
	return a
}
