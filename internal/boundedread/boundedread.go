// Package boundedread reads whole files with a size cap, so that a file that never
// ends (a link to /dev/zero, a FIFO) or one far larger than its kind can sensibly
// be fails at once with an error naming the file and the limit, instead of
// growing memory until the process dies.
package boundedread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Common caps, by kind of file.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// TooLargeError reports a file over its cap.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: file is larger than %s, the limit for this kind of file", e.Path, Size(e.Limit))
}

// ErrNotRegular is wrapped by the error for a path that is not a regular file
// (a directory, a device, a FIFO, a socket).
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the regular file at path whole. It refuses, before reading, a
// path that is not a regular file (following symlinks) and a file whose size is
// over limit; and it never reads more than limit+1 bytes, so a file that grows
// while being read is refused too. Errors from the file system keep their
// os.PathError (errors.Is(err, fs.ErrNotExist) works).
func ReadFile(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkInfo(path, st, limit); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open: check what was opened.
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkInfo(path, st, limit); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(st.Size()) + 1)
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(buf.Len()) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return buf.Bytes(), nil
}

func checkInfo(path string, st fs.FileInfo, limit int64) error {
	if st.IsDir() {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (it is a directory)", ErrNotRegular)}
	}
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
	}
	if st.Size() > limit {
		return &TooLargeError{Path: path, Limit: limit}
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// LongLineError reports a line over the line cap of a line-oriented file.
type LongLineError struct {
	Path  string
	Line  int // 1-based
	Limit int
}

func (e *LongLineError) Error() string {
	return fmt.Sprintf("%s:%d: line longer than %d bytes", e.Path, e.Line, e.Limit)
}

// CheckLines returns a *LongLineError for the first line of data (split at '\n')
// longer than limit bytes, nil when there is none.
func CheckLines(path string, data []byte, limit int) error {
	line, start := 1, 0
	for i, c := range data {
		if c == '\n' {
			if i-start > limit {
				return &LongLineError{Path: path, Line: line, Limit: limit}
			}
			line++
			start = i + 1
		}
	}
	if len(data)-start > limit {
		return &LongLineError{Path: path, Line: line, Limit: limit}
	}
	return nil
}

// Size formats a byte count for messages: "64 MiB", "1 GiB", "512 bytes".
func Size(n int64) string {
	switch {
	case n >= GiB && n%GiB == 0:
		return fmt.Sprintf("%d GiB", n/GiB)
	case n >= MiB && n%MiB == 0:
		return fmt.Sprintf("%d MiB", n/MiB)
	case n >= KiB && n%KiB == 0:
		return fmt.Sprintf("%d KiB", n/KiB)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadStream reads r to its end, or fails with a *TooLargeError naming name once
// more than limit bytes came: for inputs that may legitimately be pipes (a
// shell script on standard input or from a process substitution), where
// ReadFile's regular-file rule would be wrong.
func ReadStream(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: name, Limit: limit}
	}
	return data, nil
}
