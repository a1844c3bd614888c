package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aptbench/apt/internal/atomicfile"
)

// Tensor is a named float32 tensor to write. Data is row-major and holds
// prod(Shape) values; a nil or empty Shape is a scalar.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Write writes tensors as F32 and metadata as __metadata__ to path,
// atomically: the file is written to a temporary file in the same directory,
// fsynced, and renamed over path. On any error the temporary file is
// removed, so path holds either its previous content or the complete new
// file, never a partial one. Tensors are validated first (unique non-empty
// names, len(Data) == prod(Shape)); an invalid tensor creates no file at all.
func Write(path string, tensors []Tensor, metadata map[string]string) (err error) {
	hdr, order, err := encodeHeader(tensors, metadata)
	if err != nil {
		return withFile(err, path)
	}
	err = atomicfile.Write(path, func(w io.Writer) error { return writeBody(w, hdr, order) })
	if err != nil {
		return fmt.Errorf("safetensors: %s: writing: %w", path, err)
	}
	return nil
}

// Encode writes tensors and metadata in safetensors form to w, with the same
// layout and validation as Write but without the atomic file handling.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	hdr, order, err := encodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := writeBody(bw, hdr, order); err != nil {
		return err
	}
	return bw.Flush()
}

func withFile(err error, path string) error {
	if fe, ok := err.(*FormatError); ok {
		fe.File = path
	}
	return err
}

// encodeHeader validates the tensors and builds the header as the
// reference's serialize does: tensors sorted by name (all share one dtype, so
// the reference's dtype-alignment key does not matter), packed back to back
// from offset 0, __metadata__ first (left out when empty), the JSON padded
// with spaces to a multiple of 8 bytes so the data buffer is 8-byte aligned.
// It returns the padded header and the tensors in data order.
func encodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, []Tensor, error) {
	fail := func(tensor, format string, args ...any) error {
		return &FormatError{Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	order := slices.Clone(tensors)
	slices.SortFunc(order, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	for i, t := range order {
		switch {
		case t.Name == "":
			return nil, nil, fail("", "a tensor has an empty name")
		case t.Name == metadataKey:
			return nil, nil, fail(t.Name, "name is reserved for the metadata map")
		case !utf8.ValidString(t.Name):
			return nil, nil, fail(t.Name, "name is not valid UTF-8")
		case i > 0 && order[i-1].Name == t.Name:
			return nil, nil, fail(t.Name, "name appears twice")
		}
		n, err := numBytes("F32", t.Shape)
		if err != nil {
			return nil, nil, fail(t.Name, "%v", err)
		}
		if int64(len(t.Data)) != n/4 {
			return nil, nil, fail(t.Name, "shape %v needs %d values, Data has %d", t.Shape, n/4, len(t.Data))
		}
	}
	keys := slices.Sorted(maps.Keys(metadata))
	for _, k := range keys {
		if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
			return nil, nil, fail("", "metadata key %q or its value is not valid UTF-8", k)
		}
	}

	var b bytes.Buffer
	b.WriteByte('{')
	if len(keys) > 0 {
		b.WriteString(`"` + metadataKey + `":{`)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, metadata[k])
		}
		b.WriteByte('}')
	}
	var off int64
	for i, t := range order {
		if i > 0 || len(keys) > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, d)
		}
		end := off + 4*int64(len(t.Data))
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeaderSize {
		return nil, nil, fail("", "header would be %d bytes, more than the maximum %d", b.Len(), MaxHeaderSize)
	}
	return b.Bytes(), order, nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // cannot fail for a string
	b.Write(enc)
}

// writeBody writes the length prefix, the header and the F32 data.
func writeBody(w io.Writer, hdr []byte, order []Tensor) error {
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(len(hdr)))
	if _, err := w.Write(nb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 4*chunkElems)
	for _, t := range order {
		for i := 0; i < len(t.Data); i += chunkElems {
			part := t.Data[i:min(i+chunkElems, len(t.Data))]
			for j, v := range part {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*len(part)]); err != nil {
				return err
			}
		}
	}
	return nil
}
