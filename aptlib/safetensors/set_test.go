package safetensors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"metadata":   map[string]any{"total_size": 1234}, // numbers are allowed here
		"weight_map": weightMap,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	shard1 = "model-00001-of-00002.safetensors"
	shard2 = "model-00002-of-00002.safetensors"
)

// shardedDir writes a two-shard model directory.
func shardedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, Write(filepath.Join(dir, shard1), []Tensor{
		{Name: "bert.embeddings.word_embeddings.weight", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "bert.pooler.dense.bias", Shape: []int{2}, Data: []float32{7, 8}},
	}, map[string]string{"format": "pt"}))
	must(t, Write(filepath.Join(dir, shard2), []Tensor{
		{Name: "bert.encoder.layer.0.output.LayerNorm.gamma", Shape: []int{2}, Data: []float32{9, 10}},
	}, map[string]string{"format": "pt"}))
	writeIndex(t, dir, map[string]string{
		"bert.embeddings.word_embeddings.weight":      shard1,
		"bert.pooler.dense.bias":                      shard1,
		"bert.encoder.layer.0.output.LayerNorm.gamma": shard2,
	})
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirSingle(t *testing.T) {
	dir := t.TempDir()
	must(t, Write(filepath.Join(dir, SingleFileName), sampleTensors(), nil))
	s, err := OpenDir(dir)
	must(t, err)
	defer s.Close()
	want := []string{"empty", "gate.0.weight", "head.bias", "layer_scale.0", "prefix.0.value"}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got := s.Files(); !slices.Equal(got, []string{filepath.Join(dir, SingleFileName)}) {
		t.Errorf("Files() = %v", got)
	}
	data, shape, err := s.Float32("prefix.0.value")
	must(t, err)
	if !slices.Equal(shape, []int{2, 3}) || !slices.Equal(data, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("Float32 = %v %v", data, shape)
	}
	if info, ok := s.Info("head.bias"); !ok || info.DType != "F32" || !slices.Equal(info.Shape, []int{3}) {
		t.Errorf("Info = %+v %v", info, ok)
	}
	if _, ok := s.Info("nope"); ok {
		t.Error("Info(missing) found it")
	}
	if _, _, err := s.Float32("nope"); err == nil || !strings.Contains(err.Error(), `tensor "nope"`) {
		t.Errorf("Float32(missing) = %v", err)
	}
}

func TestOpenDirSharded(t *testing.T) {
	dir := shardedDir(t)
	// A stray model.safetensors must be ignored: the index wins.
	must(t, Write(filepath.Join(dir, SingleFileName), []Tensor{{Name: "stray", Data: []float32{1}}}, nil))
	s, err := OpenDir(dir)
	must(t, err)
	defer s.Close()
	want := []string{"bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.output.LayerNorm.gamma",
		"bert.pooler.dense.bias"}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got := s.Files(); !slices.Equal(got, []string{filepath.Join(dir, shard1), filepath.Join(dir, shard2)}) {
		t.Errorf("Files() = %v", got)
	}
	data, shape, err := s.Float32("bert.encoder.layer.0.output.LayerNorm.gamma")
	must(t, err)
	if !slices.Equal(shape, []int{2}) || !slices.Equal(data, []float32{9, 10}) {
		t.Errorf("Float32 = %v %v", data, shape)
	}
	data, _, err = s.Float32("bert.pooler.dense.bias")
	must(t, err)
	if !slices.Equal(data, []float32{7, 8}) {
		t.Errorf("Float32 = %v", data)
	}
	must(t, s.Close())
}

func TestOpenDirErrors(t *testing.T) {
	t.Run("neither file", func(t *testing.T) {
		dir := t.TempDir()
		_, err := OpenDir(dir)
		if err == nil {
			t.Fatal("OpenDir succeeded")
		}
		checkMessage(t, err, dir, "", []string{SingleFileName, IndexFileName})
	})
	t.Run("missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("OpenDir = %v", err)
		}
	})
	t.Run("bad single file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, SingleFileName)
		os.WriteFile(p, []byte("short"), 0o644)
		_, err := OpenDir(dir)
		if err == nil {
			t.Fatal("OpenDir succeeded")
		}
		checkMessage(t, err, p, "", []string{"5 bytes"})
	})
	cases := []struct {
		name   string
		edit   func(t *testing.T, dir string)
		file   string // expected in the message (relative to dir)
		tensor string
		want   string
	}{
		{"index not JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexFileName), []byte("{"), 0o644)
		}, IndexFileName, "", "not a valid index"},
		{"empty weight_map", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{})
		}, IndexFileName, "", "weight_map"},
		{"shard missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, shard2))
		}, shard2, "", "no such file"},
		{"shard corrupt", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, shard2), rawFile("{}", []byte{1}), 0o644)
		}, shard2, "", "no tensors"},
		{"listed tensor absent", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{
				"bert.embeddings.word_embeddings.weight":      shard1,
				"bert.pooler.dense.bias":                      shard1,
				"bert.encoder.layer.0.output.LayerNorm.gamma": shard2,
				"bert.ghost": shard2,
			})
		}, IndexFileName, "bert.ghost", "not found in shard"},
		{"shard tensor not listed", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{
				"bert.embeddings.word_embeddings.weight":      shard1,
				"bert.encoder.layer.0.output.LayerNorm.gamma": shard2,
			})
		}, shard1, "bert.pooler.dense.bias", "not in " + IndexFileName},
		{"tensor in the wrong shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{
				"bert.embeddings.word_embeddings.weight":      shard1,
				"bert.pooler.dense.bias":                      shard2,
				"bert.encoder.layer.0.output.LayerNorm.gamma": shard2,
			})
		}, shard1, "bert.pooler.dense.bias", "puts it in"},
		{"shard path escapes the dir", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"w": "../model.safetensors"})
		}, IndexFileName, "w", "not a plain file name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardedDir(t)
			c.edit(t, dir)
			s, err := OpenDir(dir)
			if err == nil {
				s.Close()
				t.Fatal("OpenDir succeeded")
			}
			checkMessage(t, err, filepath.Join(dir, c.file), c.tensor, []string{c.want})
		})
	}
}

func TestSHA256(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("bc"), 0o644)
	// sha256("abc"), FIPS 180-2 example.
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	got, err := SHA256(a, b)
	must(t, err)
	if got != abc {
		t.Errorf("SHA256(a, b) = %s, want %s", got, abc)
	}
	if _, err := SHA256(); err == nil {
		t.Error("SHA256() with no files succeeded")
	}
	if _, err := SHA256(a, filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("SHA256(missing) = %v", err)
	}
	// The set's files hash the same way.
	sdir := shardedDir(t)
	s, err := OpenDir(sdir)
	must(t, err)
	defer s.Close()
	h1, err := SHA256(s.Files()...)
	must(t, err)
	h2, _ := SHA256(filepath.Join(sdir, shard1), filepath.Join(sdir, shard2))
	if h1 != h2 || len(h1) != 64 {
		t.Errorf("set hash %s, files hash %s", h1, h2)
	}
}
