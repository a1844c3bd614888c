// Package atomicfile writes files so that a reader sees either the previous file
// or the complete new one: never a half-written file under the final name.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/internal/outguard"
)

// Write creates path through a temporary file in the same directory: write
// fills it (buffered), then it is synced, made 0644 and renamed over path. On
// any error the temporary file is removed and path is left as it was. The
// directory is synced after the rename, best effort (some systems cannot).
//
// An existing directory or read-only file at path is refused (see
// outguard.CheckTarget) rather than replaced. Errors of the file system name
// path, never the temporary file: "write out.jsonl: permission denied".
func Write(path string, write func(io.Writer) error) (err error) {
	if err := outguard.CheckTarget(path); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &os.PathError{Op: "write", Path: path, Err: noDir{dir}}
		}
		return nameFinal(err, path, "")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = nameFinal(err, path, tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// nameFinal replaces an error of the file system about the temporary file (or
// about creating it in dir) by the same error about the final path.
func nameFinal(err error, path, tmp string) error {
	var pe *os.PathError
	if errors.As(err, &pe) && (tmp == "" || pe.Path == tmp) {
		return &os.PathError{Op: "write", Path: path, Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) && le.Old == tmp {
		return &os.PathError{Op: "write", Path: path, Err: le.Err}
	}
	return err
}

// noDir is the error of a write into a directory that does not exist.
type noDir struct{ dir string }

func (e noDir) Error() string {
	return "no such file or directory (the directory " + filepath.Clean(e.dir) + " does not exist)"
}
func (e noDir) Unwrap() error { return fs.ErrNotExist }

// WriteBytes is Write with the whole content at hand.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
