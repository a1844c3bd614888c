package safetensors

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aptbench/apt/internal/boundedread"
)

// File names of a model directory, as HuggingFace transformers writes them
// (SAFE_WEIGHTS_NAME and SAFE_WEIGHTS_INDEX_NAME).
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is the weights of a model directory: one file, or the shards listed by
// an index. Tensor names are unique across the set.
type Set struct {
	dir   string
	files []*File          // sorted by path
	owner map[string]*File // tensor name -> file holding it
	names []string         // sorted
}

// index is the JSON of model.safetensors.index.json. "metadata" (e.g.
// {"total_size": 440000000}) is free-form and not used.
type index struct {
	Metadata  json.RawMessage   `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// MaxIndexSize caps model.safetensors.index.json (real ones are tens of KB).
const MaxIndexSize = 64 << 20

// OpenDir opens the weights of the model directory dir: the sharded form
// when dir/model.safetensors.index.json exists, else dir/model.safetensors.
// For the sharded form every shard is opened and validated, and the index
// must agree with the shards exactly: each listed tensor is in its shard and
// each shard tensor is listed, for that shard.
func OpenDir(dir string) (*Set, error) {
	indexPath := filepath.Join(dir, IndexFileName)
	raw, err := boundedread.ReadFile(indexPath, MaxIndexSize)
	switch {
	case err == nil:
		return openIndex(dir, indexPath, raw)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	single := filepath.Join(dir, SingleFileName)
	if _, err := os.Stat(single); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %s: no model weights: expected %s or %s", dir, SingleFileName, IndexFileName)
	}
	f, err := Open(single)
	if err != nil {
		return nil, err
	}
	s := &Set{dir: dir, files: []*File{f}, owner: map[string]*File{}, names: f.Names()}
	for _, name := range s.names {
		s.owner[name] = f
	}
	return s, nil
}

func openIndex(dir, indexPath string, raw []byte) (*Set, error) {
	fail := func(format string, args ...any) error {
		return &FormatError{File: indexPath, Msg: fmt.Sprintf(format, args...)}
	}
	var idx index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fail("not a valid index: %v", err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fail("weight_map is missing or empty")
	}
	shards := map[string]bool{}
	for name, shard := range idx.WeightMap {
		// Shards are plain file names in dir; never follow a path out of it.
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return nil, &FormatError{File: indexPath, Tensor: name,
				Msg: fmt.Sprintf("shard %q is not a plain file name", shard)}
		}
		shards[shard] = true
	}
	s := &Set{dir: dir, owner: map[string]*File{}}
	for _, shard := range slices.Sorted(maps.Keys(shards)) {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%w (shard listed in %s)", err, IndexFileName)
		}
		s.files = append(s.files, f)
		for _, name := range f.Names() {
			if want, ok := idx.WeightMap[name]; !ok || want != shard {
				s.Close()
				if !ok {
					return nil, &FormatError{File: f.Path(), Tensor: name, Msg: "is in the shard but not in " + IndexFileName}
				}
				return nil, &FormatError{File: f.Path(), Tensor: name,
					Msg: fmt.Sprintf("is in this shard but %s puts it in %q", IndexFileName, want)}
			}
			s.owner[name] = f
		}
	}
	for name, shard := range idx.WeightMap {
		if _, ok := s.owner[name]; !ok {
			s.Close()
			return nil, &FormatError{File: indexPath, Tensor: name,
				Msg: fmt.Sprintf("listed in weight_map but not found in shard %q", shard)}
		}
	}
	s.names = slices.Sorted(maps.Keys(s.owner))
	return s, nil
}

// Names returns the names of all tensors of the set, sorted.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Info returns the header entry of a tensor; Begin and End are relative to
// the data buffer of the file holding it.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Float32 reads a tensor from the file holding it; see File.Float32.
func (s *Set) Float32(name string) ([]float32, []int, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, nil, &FormatError{File: s.dir, Tensor: name, Msg: "no such tensor in the model weights"}
	}
	return f.Float32(name)
}

// Files returns the paths of the safetensors files of the set, sorted (the
// index JSON is not included). SHA256(s.Files()...) identifies the weights.
func (s *Set) Files() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.Path()
	}
	return out
}

// Close closes every file of the set and returns the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// SHA256 returns the hex SHA-256 of the concatenation of the given files, in
// the order given.
func SHA256(paths ...string) (string, error) {
	if len(paths) == 0 {
		return "", errors.New("safetensors: SHA256: no files given")
	}
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("safetensors: %w", err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("safetensors: hashing %s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
