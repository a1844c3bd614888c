package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// TensorInfo describes one tensor of a file. Begin and End are the
// data_offsets of the header: byte offsets relative to the start of the data
// buffer, which follows the header.
type TensorInfo struct {
	Name  string
	DType string
	Shape []int
	Begin int64
	End   int64
}

// File is an opened, fully validated safetensors file. Its tensors are read
// on demand. Float32 and the other accessors may be called concurrently, but
// not concurrently with Close.
type File struct {
	path   string
	h      *header
	r      io.ReaderAt // the file, or a bytes.Reader for Parse
	osFile *os.File    // nil for Parse
	base   int64       // offset of the data buffer in r: 8 + header size
	closed bool
}

// Open opens and validates the safetensors file at path. It reads only the
// 8-byte length and the header; tensor data is read by Float32.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, &FormatError{File: path, Msg: "is a directory, not a .safetensors file"}
	}
	h, base, err := readHeader(path, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{path: path, h: h, r: f, osFile: f, base: base}, nil
}

// Parse validates an in-memory safetensors file, with the same rules as
// Open. data is used in place and must not be modified while the File is in
// use.
func Parse(data []byte) (*File, error) {
	r := bytes.NewReader(data)
	h, base, err := readHeader("", r, int64(len(data)))
	if err != nil {
		return nil, err
	}
	return &File{h: h, r: r, base: base}, nil
}

// readHeader reads and validates the length prefix and the header of a file
// of size bytes. It returns the header and the offset of the data buffer.
// The header is allocated only after its length has been checked against
// MaxHeaderSize and the file size (reference HeaderTooLarge and
// InvalidHeaderLength).
func readHeader(file string, r io.ReaderAt, size int64) (*header, int64, error) {
	fail := func(format string, args ...any) error {
		return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
	}
	// Reference HeaderTooSmall.
	if size < 8 {
		return nil, 0, fail("file has %d bytes, a safetensors file has at least 8 (the header length)", size)
	}
	var nb [8]byte
	if err := readFullAt(r, nb[:], 0); err != nil {
		return nil, 0, fail("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderSize {
		return nil, 0, fail("header length %d exceeds the maximum of %d bytes", n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, 0, fail("header length %d runs past the end of the file (%d bytes after the length)", n, size-8)
	}
	hdr := make([]byte, n)
	if err := readFullAt(r, hdr, 8); err != nil {
		return nil, 0, fail("reading the %d-byte header: %v", n, err)
	}
	base := 8 + int64(n)
	h, err := parseHeader(file, hdr, size-base)
	if err != nil {
		return nil, 0, err
	}
	return h, base, nil
}

// readFullAt fills b from r at off. Per the io.ReaderAt contract a full read
// may come with io.EOF, which is not an error here; a short one is (the file
// shrank after Open).
func readFullAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Path returns the path given to Open, or "" for Parse.
func (f *File) Path() string { return f.path }

// Names returns the tensor names, sorted.
func (f *File) Names() []string { return slices.Clone(f.h.names) }

// Info returns the header entry of a tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	t, ok := f.h.tensors[name]
	t.Shape = slices.Clone(t.Shape)
	return t, ok
}

// Metadata returns a copy of the __metadata__ map (empty, not nil, when the
// file has none).
func (f *File) Metadata() map[string]string { return maps.Clone(f.h.metadata) }

// chunkElems bounds the scratch buffer Float32 reads through.
const chunkElems = 1 << 16

// Float32 reads a tensor and converts it to float32: F32 as is, F16 and BF16
// exactly, F64 rounded to nearest. Other dtypes are an error naming the
// tensor and its dtype. The returned slices are the caller's.
func (f *File) Float32(name string) (data []float32, shape []int, err error) {
	if f.closed {
		return nil, nil, &FormatError{File: f.path, Tensor: name, Msg: "file is closed"}
	}
	t, ok := f.h.tensors[name]
	if !ok {
		return nil, nil, &FormatError{File: f.path, Tensor: name, Msg: "no such tensor in the file"}
	}
	if !floatDTypes[t.DType] {
		return nil, nil, &FormatError{File: f.path, Tensor: name,
			Msg: fmt.Sprintf("dtype %q cannot be read as float32 (supported: F32, F16, BF16, F64)", t.DType)}
	}
	// Header validation guarantees End-Begin == count*size and that the
	// range lies inside the file, so these sizes are bounded by the file.
	size := dtypeSizes[t.DType]
	count := (t.End - t.Begin) / size
	out := make([]float32, count)
	buf := make([]byte, min(count, chunkElems)*size)
	for i := int64(0); i < count; i += chunkElems {
		m := min(chunkElems, count-i)
		b := buf[:m*size]
		if err := readFullAt(f.r, b, f.base+t.Begin+i*size); err != nil {
			return nil, nil, &FormatError{File: f.path, Tensor: name, Msg: fmt.Sprintf("reading data: %v", err)}
		}
		decode(t.DType, out[i:i+m], b)
	}
	return out, slices.Clone(t.Shape), nil
}

// Close releases the file. Using the File afterwards is an error.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.osFile != nil {
		return f.osFile.Close()
	}
	return nil
}
