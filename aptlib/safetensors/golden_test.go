package safetensors

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// goldenTensor is one entry of testdata/golden.json (see make_fixture.py).
type goldenTensor struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets []int64  `json:"data_offsets"`
	F32Bits     []uint32 `json:"f32_bits"` // nil when Float32 must refuse the dtype
}

type golden struct {
	Metadata map[string]string       `json:"metadata"`
	Tensors  map[string]goldenTensor `json:"tensors"`
}

func compareGolden(t *testing.T, f *File, want golden) {
	t.Helper()
	gotMeta := f.Metadata()
	if len(gotMeta) != len(want.Metadata) {
		t.Errorf("metadata %v, want %v", gotMeta, want.Metadata)
	}
	for k, v := range want.Metadata {
		if gotMeta[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, gotMeta[k], v)
		}
	}
	var names []string
	for name := range want.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	if got := f.Names(); !slices.Equal(got, names) {
		t.Errorf("Names() = %v, want %v", got, names)
	}
	for _, name := range names {
		w := want.Tensors[name]
		info, ok := f.Info(name)
		if !ok || info.DType != w.DType || !slices.Equal(info.Shape, w.Shape) ||
			info.Begin != w.DataOffsets[0] || info.End != w.DataOffsets[1] {
			t.Errorf("Info(%q) = %+v, want %+v", name, info, w)
		}
		data, shape, err := f.Float32(name)
		if w.F32Bits == nil {
			if err == nil {
				t.Errorf("Float32(%q) of dtype %s succeeded", name, w.DType)
			}
			continue
		}
		if err != nil {
			t.Errorf("Float32(%q): %v", name, err)
			continue
		}
		if !slices.Equal(shape, w.Shape) && !(len(shape) == 0 && len(w.Shape) == 0) {
			t.Errorf("Float32(%q) shape %v, want %v", name, shape, w.Shape)
		}
		if len(data) != len(w.F32Bits) {
			t.Errorf("Float32(%q) has %d values, want %d", name, len(data), len(w.F32Bits))
			continue
		}
		for i, v := range data {
			if got := math.Float32bits(v); got != w.F32Bits[i] {
				t.Errorf("Float32(%q)[%d] = %v (%#08x), want %v (%#08x)", name, i, v, got,
					math.Float32frombits(w.F32Bits[i]), w.F32Bits[i])
			}
		}
	}
}

// The fixture was written by testdata/make_fixture.py, an independent writer
// (struct/json/numpy, unsorted header, __metadata__ last, data out of name
// order); golden.json holds the values numpy computed.
func TestGoldenFixture(t *testing.T) {
	var want golden
	raw, err := os.ReadFile("testdata/golden.json")
	must(t, err)
	must(t, json.Unmarshal(raw, &want))
	if len(want.Tensors) < 5 {
		t.Fatalf("golden.json lists only %d tensors", len(want.Tensors))
	}
	f, err := Open("testdata/golden.safetensors")
	must(t, err)
	defer f.Close()
	compareGolden(t, f, want)

	data, err := os.ReadFile("testdata/golden.safetensors")
	must(t, err)
	pf, err := Parse(data)
	must(t, err)
	compareGolden(t, pf, want)
}

// The reverse direction: the independent Python reader (testdata/
// read_check.py) reads a file written by Write. Skipped when python3 with
// numpy is not available.
func TestGoldenPythonReadsGoWriter(t *testing.T) {
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(cand); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with numpy")
	}
	p := filepath.Join(t.TempDir(), "go.safetensors")
	tensors := sampleTensors()
	meta := map[string]string{"format": "apt-adapter/1", "q": `"x" \u00e9 é`}
	must(t, Write(p, tensors, meta))
	out, err := exec.Command(py, "testdata/read_check.py", p).Output()
	if err != nil {
		t.Fatalf("read_check.py: %v\n%s", err, out)
	}
	var got struct {
		HeaderSize int64 `json:"header_size"`
		golden
	}
	must(t, json.Unmarshal(out, &got))
	if got.HeaderSize%8 != 0 {
		t.Errorf("header size %d not 8-aligned", got.HeaderSize)
	}
	want := golden{Metadata: meta, Tensors: map[string]goldenTensor{}}
	for _, tn := range tensors {
		bits := []uint32{}
		for _, v := range tn.Data {
			bits = append(bits, math.Float32bits(v))
		}
		shape := tn.Shape
		if shape == nil {
			shape = []int{}
		}
		want.Tensors[tn.Name] = goldenTensor{DType: "F32", Shape: shape, F32Bits: bits}
	}
	for k, v := range want.Metadata {
		if got.Metadata[k] != v {
			t.Errorf("python metadata[%q] = %q, want %q", k, got.Metadata[k], v)
		}
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Errorf("python sees %d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		g, ok := got.Tensors[name]
		if !ok {
			t.Errorf("python does not see %q", name)
			continue
		}
		if g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.F32Bits, w.F32Bits) {
			t.Errorf("python reads %q as %+v, want %+v", name, g, w)
		}
	}
}
