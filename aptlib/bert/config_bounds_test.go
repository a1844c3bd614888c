package bert

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
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

// A checkpoint holding a NaN or an infinity is refused at load, naming the file,
// the tensor (as the checkpoint names it), the value and its index.
func TestLoadRejectsNonFinite(t *testing.T) {
	c := tinyConfig(t)
	for _, tc := range []struct {
		tensor, want string
		v            float32
	}{
		{"encoder.layer.0.attention.self.query.weight", "NaN at index 17", float32(math.NaN())},
		{"embeddings.word_embeddings.weight", "+Inf at index 17", float32(math.Inf(1))},
		{"pooler.dense.bias", "-Inf at index 17", float32(math.Inf(-1))},
	} {
		dir := writeModelDir(t, c, func(m map[string]safetensors.Tensor) {
			x := m[tc.tensor]
			x.Data[17] = tc.v
		})
		_, err := LoadDir(context.New(), dir, false)
		want := "model.safetensors: tensor " + tc.tensor + " has a non-finite value (" + tc.want + ")"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error containing %q", err, want)
		}
	}
}
