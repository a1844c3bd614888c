package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// rawFile assembles a safetensors file by hand: length prefix, header text
// as given (no padding added), then buf.
func rawFile(header string, buf []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, buf...)
}

// f32Bytes encodes values as little-endian float32.
func f32Bytes(values ...float32) []byte {
	var out []byte
	for _, v := range values {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// u16Bytes encodes bit patterns as little-endian uint16.
func u16Bytes(bits ...uint16) []byte {
	var out []byte
	for _, b := range bits {
		out = binary.LittleEndian.AppendUint16(out, b)
	}
	return out
}

// writeTemp writes data to a new file in a temporary directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
