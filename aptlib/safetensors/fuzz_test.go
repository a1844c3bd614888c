package safetensors

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics on arbitrary bytes, that its
// errors are one line, and that a file it accepts is self-consistent: every
// Float32 call returns prod(shape) values or an error, without panicking.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleTensors(), map[string]string{"format": "apt-adapter/1"}); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	if err := Encode(&buf, nil, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	if golden, err := os.ReadFile("testdata/golden.safetensors"); err == nil {
		f.Add(golden)
	}
	f.Add(rawFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},`+
		`"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},"d":{"dtype":"F64","shape":[],"data_offsets":[6,14]}}`,
		make([]byte, 14)))
	for _, c := range malformed {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		names := file.Names()
		if !slices.IsSorted(names) {
			t.Fatalf("names not sorted: %q", names)
		}
		if file.Metadata() == nil {
			t.Fatal("nil metadata")
		}
		for _, name := range names {
			info, ok := file.Info(name)
			if !ok || info.Name != name || info.Begin < 0 || info.End < info.Begin ||
				info.End > int64(len(data)) {
				t.Fatalf("inconsistent info %+v", info)
			}
			values, shape, err := file.Float32(name)
			if err != nil {
				continue
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			if len(values) != n || !slices.Equal(shape, info.Shape) {
				t.Fatalf("%q: %d values for shape %v (info %v)", name, len(values), shape, info.Shape)
			}
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
