package bert

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A config.json that never ends (a link to /dev/zero), a FIFO or one over the cap
// fails at once with an error naming the file.
func TestLoadConfigBounded(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero", "config.json")
	fifo := filepath.Join(dir, "fifo", "config.json")
	big := filepath.Join(dir, "big", "config.json")
	for _, p := range []string{zero, fifo, big} {
		os.MkdirAll(filepath.Dir(p), 0o755)
	}
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxConfigBytes + 1) // sparse: no disk used
	f.Close()
	for p, want := range map[string]string{zero: "not a regular file", fifo: "not a regular file", big: "larger than 1 MiB"} {
		_, err := LoadConfigDir(filepath.Dir(p))
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", p, err, want)
		}
	}
}
