package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// malformed lists files every reader must reject. tensor, when set, must be
// named (quoted) in the error; want are further substrings of the message.
var malformed = []struct {
	name   string
	data   []byte
	tensor string
	want   []string
}{
	{"empty file", nil, "", []string{"0 bytes", "at least 8"}},
	{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "", []string{"7 bytes"}},
	{"header length past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "",
		[]string{"header length 100", "past the end"}},
	{"absurd header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}"...), "",
		[]string{"exceeds the maximum"}},
	{"max uint64 header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "",
		[]string{"exceeds the maximum"}},
	{"header just over the cap", binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), "",
		[]string{"exceeds the maximum"}},
	{"empty header", rawFile("", nil), "", []string{"must start with '{'"}},
	{"header not JSON", rawFile("{abc", nil), "", []string{"not valid JSON"}},
	{"header truncated", rawFile(`{"a":`, nil), "", []string{"JSON"}},
	{"header is an array", rawFile("[1,2]", nil), "", []string{"must start with '{'"}},
	{"header is a string", rawFile(`"x"`, nil), "", []string{"must start with '{'"}},
	{"leading whitespace", rawFile(" {}", nil), "", []string{"must start with '{'"}},
	{"invalid UTF-8", rawFile("{\"\xff\":1}", nil), "", []string{"UTF-8"}},
	{"data after the object", rawFile("{} {}", nil), "", []string{"after the closing"}},
	{"garbage after the object", rawFile("{}x", nil), "", []string{"after the closing"}},
	{"metadata not an object", rawFile(`{"__metadata__":3}`, nil), "", []string{"__metadata__", "number 3"}},
	{"metadata value a number", rawFile(`{"__metadata__":{"step":12}}`, nil), "",
		[]string{`"step"`, "must be a string", "number 12"}},
	{"metadata value an object", rawFile(`{"__metadata__":{"cfg":{"a":"b"}}}`, nil), "",
		[]string{`"cfg"`, "must be a string", "object"}},
	{"metadata value null", rawFile(`{"__metadata__":{"x":null}}`, nil), "", []string{`"x"`, "null"}},
	{"metadata key twice", rawFile(`{"__metadata__":{"a":"1","a":"2"}}`, nil), "", []string{`"a" twice`}},
	{"metadata twice", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), "", []string{"twice"}},
	{"tensor twice", rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
		`"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w", []string{"twice"}},
	{"tensor twice, escaped", rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
		`"\u0077":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w", []string{"twice"}},
	{"entry not an object", rawFile(`{"w":5}`, nil), "w", []string{"expected '{'", "number 5"}},
	{"unknown dtype", rawFile(`{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), "w",
		[]string{`unknown dtype "Q4"`}},
	{"sub-byte dtype", rawFile(`{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, []byte{0}), "w",
		[]string{`unknown dtype "F4"`}},
	{"lower-case dtype", rawFile(`{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{`unknown dtype "f32"`}},
	{"dtype not a string", rawFile(`{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"dtype must be a string"}},
	{"negative dim", rawFile(`{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"shape value -1 is negative"}},
	{"fractional dim", rawFile(`{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"not an integer"}},
	{"exponent dim", rawFile(`{"w":{"dtype":"F32","shape":[1e1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"not an integer"}},
	{"string dim", rawFile(`{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"must hold integers"}},
	{"huge dim", rawFile(`{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, f32Bytes(1)),
		"w", []string{"too large"}},
	{"shape not an array", rawFile(`{"w":{"dtype":"F32","shape":4,"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{"shape", "expected '['"}},
	{"element count overflow", rawFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`,
		f32Bytes(1)), "w", []string{"overflows"}},
	{"byte size overflow", rawFile(`{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}`,
		f32Bytes(1)), "w", []string{"byte size overflows"}},
	{"size mismatch", rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{`dtype "F32" shape [2] needs 8 bytes, data_offsets give 4`}},
	{"size mismatch F16", rawFile(`{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,4]}}`, f32Bytes(1)), "w",
		[]string{`dtype "F16" shape [2 2] needs 8 bytes, data_offsets give 4`}},
	{"begin after end", rawFile(`{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, f32Bytes(1)), "w",
		[]string{"begin is after end"}},
	{"negative offset", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}`, f32Bytes(1)), "w",
		[]string{"negative"}},
	{"one offset", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[4]}}`, f32Bytes(1)), "w",
		[]string{"[begin, end]", "found 1"}},
	{"three offsets", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4,8]}}`, f32Bytes(1)), "w",
		[]string{"found 3"}},
	{"offsets past buffer", rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32Bytes(1)), "w",
		[]string{"past the end of the data buffer (4 bytes)"}},
	{"offsets far past buffer", rawFile(`{"w":{"dtype":"U8","shape":[1000000000000],"data_offsets":[0,1000000000000]}}`,
		f32Bytes(1)), "w", []string{"past the end"}},
	{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32Bytes(1, 2, 3)), "b",
		[]string{`overlap tensor "a"`}},
	{"same range twice", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "b",
		[]string{`overlap tensor "a"`}},
	{"hole", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32Bytes(1, 2, 3)), "b",
		[]string{`hole after tensor "a"`}},
	{"first not at 0", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32Bytes(1, 2)), "a",
		[]string{"must start at 0"}},
	{"bytes left over", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1, 2)), "a",
		[]string{"ends at 4", "has 8 bytes"}},
	{"buffer without tensors", rawFile(`{}`, f32Bytes(1)), "", []string{"4 bytes", "no tensors"}},
	{"missing dtype", rawFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)), "w", []string{"no dtype"}},
	{"missing shape", rawFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, f32Bytes(1)), "w", []string{"no shape"}},
	{"missing offsets", rawFile(`{"w":{"dtype":"F32","shape":[1]}}`, f32Bytes(1)), "w", []string{"no data_offsets"}},
	{"unknown field", rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}`, f32Bytes(1)),
		"w", []string{`unknown field "offsets"`}},
	{"field twice", rawFile(`{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes(1)),
		"w", []string{`"dtype" appears twice`}},
	{"entry truncated", rawFile(`{"w":{"dtype":"F32","shape":[1`, f32Bytes(1)), "w", []string{"JSON"}},
}

func checkMessage(t *testing.T, err error, file, tensor string, want []string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "safetensors: ") {
		t.Errorf("error %q does not start with \"safetensors: \"", msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q is not one line", msg)
	}
	if file != "" && !strings.Contains(msg, file) {
		t.Errorf("error %q does not name the file %q", msg, file)
	}
	if tensor != "" && !strings.Contains(msg, `tensor "`+tensor+`"`) {
		t.Errorf("error %q does not name tensor %q", msg, tensor)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

func TestMalformedParse(t *testing.T) {
	for _, c := range malformed {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.data)
			if err == nil {
				t.Fatalf("Parse accepted it: names %v", f.Names())
			}
			checkMessage(t, err, "", c.tensor, c.want)
		})
	}
}

func TestMalformedOpen(t *testing.T) {
	dir := t.TempDir()
	for i, c := range malformed {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+".safetensors")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatalf("Open accepted it: names %v", f.Names())
			}
			checkMessage(t, err, p, c.tensor, c.want)
		})
	}
}

func TestOpenMissingAndDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "nope.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Errorf("Open(missing) = %v, want an error naming the file", err)
	}
	_, err = Open(dir)
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Open(dir) = %v, want a 'directory' error", err)
	}
}

// Files the format allows, including corner cases.
func TestParseValidCornerCases(t *testing.T) {
	cases := []struct {
		name  string
		data  []byte
		names []string
		meta  map[string]string
	}{
		{"no tensors", rawFile("{}", nil), nil, map[string]string{}},
		{"space padding", rawFile("{}      ", nil), nil, map[string]string{}},
		{"other whitespace", rawFile("{\n\t}\r\n", nil), nil, map[string]string{}},
		{"null metadata", rawFile(`{"__metadata__":null}`, nil), nil, map[string]string{}},
		{"empty metadata", rawFile(`{"__metadata__":{}}`, nil), nil, map[string]string{}},
		{"metadata only", rawFile(`{"__metadata__":{"a":"1","b":""}}`, nil), nil, map[string]string{"a": "1", "b": ""}},
		{"zero-size tensors share an offset", rawFile(`{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},`+
			`"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"I64","shape":[5,0],"data_offsets":[4,4]}}`,
			f32Bytes(1)), []string{"e", "w", "z"}, map[string]string{}},
		{"zero dim before huge dims", rawFile(`{"e":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}`, nil),
			[]string{"e"}, map[string]string{}},
		{"scalar", rawFile(`{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32Bytes(2)), []string{"s"},
			map[string]string{}},
		{"unicode name", rawFile(`{"\u00e9t\u00e9":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{7}),
			[]string{"été"}, map[string]string{}},
		{"offsets out of name order", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},`+
			`"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1, 2}), []string{"a", "b"}, map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.data)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Names(); !slices.Equal(got, c.names) {
				t.Errorf("Names() = %v, want %v", got, c.names)
			}
			if got := f.Metadata(); got == nil || len(got) != len(c.meta) {
				t.Errorf("Metadata() = %v, want %v", got, c.meta)
			} else {
				for k, v := range c.meta {
					if got[k] != v {
						t.Errorf("Metadata()[%q] = %q, want %q", k, got[k], v)
					}
				}
			}
		})
	}
}

func TestFloat32Dtypes(t *testing.T) {
	hdr := `{"f32":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"f16":{"dtype":"F16","shape":[2,1],"data_offsets":[8,12]},` +
		`"bf16":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},` +
		`"f64":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},` +
		`"i32":{"dtype":"I32","shape":[1],"data_offsets":[24,28]},` +
		`"u8":{"dtype":"U8","shape":[],"data_offsets":[28,29]}}`
	buf := f32Bytes(1.5, -2)
	buf = append(buf, u16Bytes(0x3c00, 0x0001)...) // 1, 2^-24
	buf = append(buf, u16Bytes(0xc049, 0x7f80)...) // -3.140625, +Inf
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(1.0/3))
	buf = append(buf, 1, 0, 0, 0, 9)
	f, err := Parse(rawFile(hdr, buf))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, wantShape []int, want ...float32) {
		t.Helper()
		got, shape, err := f.Float32(name)
		if err != nil {
			t.Fatalf("Float32(%q): %v", name, err)
		}
		if !slices.Equal(shape, wantShape) || !slices.Equal(got, want) {
			t.Errorf("Float32(%q) = %v %v, want %v %v", name, got, shape, want, wantShape)
		}
	}
	check("f32", []int{2}, 1.5, -2)
	check("f16", []int{2, 1}, 1, float32(math.Ldexp(1, -24)))
	check("bf16", []int{2}, -3.140625, float32(math.Inf(1)))
	check("f64", []int{1}, float32(1.0/3))
	for _, name := range []string{"i32", "u8"} {
		_, _, err := f.Float32(name)
		if err == nil {
			t.Fatalf("Float32(%q) succeeded, want a dtype error", name)
		}
		info, _ := f.Info(name)
		checkMessage(t, err, "", name, []string{`dtype "` + info.DType + `"`})
	}
	_, _, err = f.Float32("nope")
	if err == nil {
		t.Fatal("Float32(missing) succeeded")
	}
	checkMessage(t, err, "", "nope", []string{"no such tensor"})
	info, ok := f.Info("f16")
	if !ok || info.Name != "f16" || info.DType != "F16" || !slices.Equal(info.Shape, []int{2, 1}) ||
		info.Begin != 8 || info.End != 12 {
		t.Errorf("Info(f16) = %+v, %v", info, ok)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info(missing) found it")
	}
	// Returned slices are copies.
	info.Shape[0] = 99
	_, shape, _ := f.Float32("f16")
	shape[1] = 98
	if again, _ := f.Info("f16"); again.Shape[0] != 2 || again.Shape[1] != 1 {
		t.Errorf("Info shape was aliased: %v", again.Shape)
	}
}

// Float32 reads large tensors in chunks; check a tensor spanning several.
func TestFloat32Chunked(t *testing.T) {
	n := 3*chunkElems + 17
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(i) * 0.5
	}
	p := filepath.Join(t.TempDir(), "big.safetensors")
	if err := Write(p, []Tensor{{Name: "big", Shape: []int{n}, Data: data}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _, err := f.Float32("big")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, data) {
		t.Error("chunked read differs")
	}
}

func TestClosedAndShrunkFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(p, []Tensor{{Name: "w", Shape: []int{4}, Data: []float32{1, 2, 3, 4}}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	// The file is truncated behind our back: reading is an error, not a panic.
	fi, _ := os.Stat(p)
	if err := os.Truncate(p, fi.Size()-4); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Float32("w"); err == nil {
		t.Error("Float32 on a shrunk file succeeded")
	} else {
		checkMessage(t, err, p, "w", nil)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Float32("w"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Float32 after Close = %v, want a 'closed' error", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
