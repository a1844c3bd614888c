package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "prefix.0.value", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "head.bias", Shape: []int{3}, Data: []float32{-0.5, float32(math.Inf(1)), 1e-40}},
		{Name: "layer_scale.0", Shape: nil, Data: []float32{0.25}},
		{Name: "empty", Shape: []int{0, 5}, Data: nil},
		{Name: "gate.0.weight", Shape: []int{1, 1, 1}, Data: []float32{float32(math.NaN())}},
	}
}

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "adapter.safetensors")
	meta := map[string]string{"format": "apt-adapter/1", "labels": `["no","yes"]`, "note": "<&>\n\u00e9"}
	tensors := sampleTensors()
	if err := Write(p, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"adapter.safetensors"}) {
		t.Errorf("directory holds %v, want only the file", got)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode: %v %v", fi.Mode(), err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Path() != p {
		t.Errorf("Path() = %q", f.Path())
	}
	if got := f.Names(); !slices.Equal(got, []string{"empty", "gate.0.weight", "head.bias", "layer_scale.0", "prefix.0.value"}) {
		t.Errorf("Names() = %v", got)
	}
	gotMeta := f.Metadata()
	if len(gotMeta) != len(meta) {
		t.Errorf("Metadata() = %v", gotMeta)
	}
	for k, v := range meta {
		if gotMeta[k] != v {
			t.Errorf("Metadata()[%q] = %q, want %q", k, gotMeta[k], v)
		}
	}
	for _, want := range tensors {
		data, shape, err := f.Float32(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(shape) != len(want.Shape) || (len(shape) > 0 && !slices.Equal(shape, want.Shape)) {
			t.Errorf("%s: shape %v, want %v", want.Name, shape, want.Shape)
		}
		if len(data) != len(want.Data) {
			t.Fatalf("%s: %d values, want %d", want.Name, len(data), len(want.Data))
		}
		for i := range data {
			if math.Float32bits(data[i]) != math.Float32bits(want.Data[i]) {
				t.Errorf("%s[%d] = %v, want %v", want.Name, i, data[i], want.Data[i])
			}
		}
		info, _ := f.Info(want.Name)
		if info.DType != "F32" {
			t.Errorf("%s: dtype %q", want.Name, info.DType)
		}
	}
	// The caller's slice is not reordered.
	if tensors[0].Name != "prefix.0.value" {
		t.Error("Write reordered the caller's slice")
	}
}

// The layout of the reference writer: header padded with spaces to a
// multiple of 8, __metadata__ first, names sorted, offsets packed from 0.
func TestWriteLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleTensors(), map[string]string{"b": "2", "a": "1"}); err != nil {
		t.Fatal(err)
	}
	raw := bytes.Clone(buf.Bytes())
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	hdr := string(raw[8 : 8+n])
	trimmed := strings.TrimRight(hdr, " ")
	if len(hdr)-len(trimmed) >= 8 || !strings.HasSuffix(trimmed, "}") {
		t.Errorf("bad padding: %q", hdr)
	}
	want := `{"__metadata__":{"a":"1","b":"2"},` +
		`"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},` +
		`"gate.0.weight":{"dtype":"F32","shape":[1,1,1],"data_offsets":[0,4]},` +
		`"head.bias":{"dtype":"F32","shape":[3],"data_offsets":[4,16]},` +
		`"layer_scale.0":{"dtype":"F32","shape":[],"data_offsets":[16,20]},` +
		`"prefix.0.value":{"dtype":"F32","shape":[2,3],"data_offsets":[20,44]}}`
	if trimmed != want {
		t.Errorf("header\n got %s\nwant %s", trimmed, want)
	}
	if len(raw) != int(8+n+44) {
		t.Errorf("file has %d bytes, want %d", len(raw), 8+n+44)
	}
	if !bytes.Equal(raw[8+n+20:8+n+24], f32Bytes(1)) {
		t.Error("prefix.0.value data not where its offsets say")
	}
	// No metadata: no __metadata__ key (the reference skips None).
	buf.Reset()
	if err := Encode(&buf, sampleTensors()[:1], nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), metadataKey) {
		t.Error("empty metadata written")
	}
	// Write produces the same bytes as Encode.
	p := filepath.Join(t.TempDir(), "x.safetensors")
	if err := Write(p, sampleTensors(), map[string]string{"b": "2", "a": "1"}); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(p)
	if !bytes.Equal(onDisk, raw) {
		t.Error("Write and Encode differ")
	}
	// And the header is valid JSON.
	var anyHdr map[string]any
	if err := json.Unmarshal([]byte(hdr), &anyHdr); err != nil {
		t.Error(err)
	}
}

func TestWriteValidation(t *testing.T) {
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		tensor  string
		want    string
	}{
		{"data too short", []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}},
			{Name: "prefix.1.key", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil,
			"prefix.1.key", "shape [2 3] needs 6 values, Data has 5"},
		{"data too long", []Tensor{{Name: "s", Shape: nil, Data: []float32{1, 2}}}, nil, "s", "needs 1 values, Data has 2"},
		{"duplicate name", []Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}},
			{Name: "v", Shape: []int{1}, Data: []float32{1}}, {Name: "w", Shape: []int{1}, Data: []float32{2}}}, nil,
			"w", "appears twice"},
		{"negative dim", []Tensor{{Name: "n", Shape: []int{-1}, Data: nil}}, nil, "n", "negative"},
		{"overflow", []Tensor{{Name: "o", Shape: []int{1 << 40, 1 << 40}, Data: nil}}, nil, "o", "overflows"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: nil, Data: []float32{1}}}, nil, "__metadata__", "reserved"},
		{"empty name", []Tensor{{Name: "", Shape: nil, Data: []float32{1}}}, nil, "", "empty name"},
		{"bad UTF-8 name", []Tensor{{Name: "a\xff", Shape: nil, Data: []float32{1}}}, nil, "", `tensor "a\xff": name is not valid UTF-8`},
		{"bad UTF-8 metadata", nil, map[string]string{"k": "\xfe"}, "", "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "out.safetensors")
			err := Write(p, c.tensors, c.meta)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			checkMessage(t, err, p, c.tensor, []string{c.want})
			if got := dirEntries(t, dir); len(got) != 0 {
				t.Errorf("failed Write left %v behind", got)
			}
			if err := Encode(&bytes.Buffer{}, c.tensors, c.meta); err == nil {
				t.Error("Encode succeeded")
			}
		})
	}
}

// A failing Write leaves an existing file under the final name untouched,
// and no temporary file.
func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "adapter.safetensors")
	if err := Write(p, sampleTensors(), map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	err := Write(p, []Tensor{{Name: "w", Shape: []int{3}, Data: []float32{1}}}, nil)
	if err == nil {
		t.Fatal("Write succeeded")
	}
	after, _ := os.ReadFile(p)
	if !bytes.Equal(before, after) {
		t.Error("failed Write changed the existing file")
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"adapter.safetensors"}) {
		t.Errorf("directory holds %v", got)
	}
	// A successful overwrite replaces it whole.
	if err := Write(p, []Tensor{{Name: "w", Shape: []int{1}, Data: []float32{7}}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); !slices.Equal(got, []string{"w"}) {
		t.Errorf("after overwrite Names() = %v", got)
	}
}

// The rename fails after the data was fully written (the final name is a
// non-empty directory): the temporary file must be removed.
func TestWriteRenameFailureRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "taken.safetensors")
	if err := os.MkdirAll(filepath.Join(p, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(p, sampleTensors(), nil)
	if err == nil {
		t.Fatal("Write over a directory succeeded")
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("error %q does not name the file", err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"taken.safetensors"}) {
		t.Errorf("directory holds %v, want only the pre-existing directory", got)
	}
}

func TestWriteUnwritableTarget(t *testing.T) {
	dir := t.TempDir()
	// Parent missing.
	p := filepath.Join(dir, "missing", "a.safetensors")
	if err := Write(p, sampleTensors(), nil); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Write into a missing directory = %v, want an error naming %s", err, p)
	}
	// Parent is a file.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if err := Write(filepath.Join(file, "a.safetensors"), sampleTensors(), nil); err == nil {
		t.Error("Write under a regular file succeeded")
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"file"}) {
		t.Errorf("directory holds %v", got)
	}
	// Read-only directory (meaningless for root, who may write anyway).
	if os.Geteuid() == 0 {
		t.Log("running as root: skipping the read-only directory case")
		return
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	defer os.Chmod(ro, 0o755)
	if err := Write(filepath.Join(ro, "a.safetensors"), sampleTensors(), nil); err == nil {
		t.Error("Write into a read-only directory succeeded")
	}
	if got := dirEntries(t, ro); len(got) != 0 {
		t.Errorf("read-only directory holds %v", got)
	}
}

// Write with a path relative to the working directory.
func TestWriteRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := Write("rel.safetensors", sampleTensors(), nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open("rel.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := dirEntries(t, "."); !slices.Equal(got, []string{"rel.safetensors"}) {
		t.Errorf("directory holds %v", got)
	}
}
