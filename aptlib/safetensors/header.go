package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header accepted, the reference's
// MAX_HEADER_SIZE (100,000,000 bytes).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key of the string-to-string metadata
// map (format spec).
const metadataKey = "__metadata__"

// FormatError describes why a file is not a valid safetensors file, or why a
// tensor cannot be read or written. Error() is one line:
//
//	safetensors: <file>: tensor "<name>": <what was expected vs found>
//
// with the file and tensor parts left out when unknown or not applicable.
type FormatError struct {
	File   string // path as given to Open or Write; empty for Parse
	Tensor string // tensor name; empty when the problem is not about a tensor
	Msg    string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	b.WriteString(e.Msg)
	// Keep the message on one line whatever went into it.
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(b.String())
}

// header is the parsed and validated JSON header of one file.
type header struct {
	tensors  map[string]TensorInfo
	names    []string // sorted
	metadata map[string]string
}

// parseHeader parses and validates the header bytes hdr of a file whose byte
// buffer (the part after the header) is bufLen bytes long. file is only used
// in error messages.
func parseHeader(file string, hdr []byte, bufLen int64) (*header, error) {
	fail := func(tensor, format string, args ...any) error {
		return &FormatError{File: file, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	// Format spec / reference InvalidHeader: the header is UTF-8.
	if !utf8.Valid(hdr) {
		return nil, fail("", "header is not valid UTF-8")
	}
	// Format spec: "The header data MUST begin with a { character".
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, fail("", "header must start with '{', found %q", truncate(hdr, 16))
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(hdr)), file: file}
	p.dec.UseNumber()
	h := &header{tensors: map[string]TensorInfo{}, metadata: map[string]string{}}
	if err := p.delim('{', "", "header"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.key("", "header")
		if err != nil {
			return nil, err
		}
		// Format spec: duplicate keys are disallowed.
		if seen[key] {
			if key == metadataKey {
				return nil, fail("", "header has %q twice", metadataKey)
			}
			return nil, fail(key, "appears twice in the header")
		}
		seen[key] = true
		if key == metadataKey {
			if err := p.metadata(h.metadata); err != nil {
				return nil, err
			}
			continue
		}
		info, err := p.tensor(key)
		if err != nil {
			return nil, err
		}
		h.tensors[key] = info
	}
	if err := p.delim('}', "", "header"); err != nil {
		return nil, err
	}
	// Only whitespace may follow the object (format spec: trailing padding).
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fail("", "header is not valid JSON after the closing '}': %v", err)
		}
		return nil, fail("", "header has data after the closing '}': %v", tok)
	}
	if err := checkLayout(file, h.tensors, bufLen); err != nil {
		return nil, err
	}
	h.names = slices.Sorted(maps.Keys(h.tensors))
	return h, nil
}

// checkLayout applies the reference's Metadata::validate and
// MetadataIncompleteBuffer rules: each tensor's byte size matches its dtype
// and shape, offsets lie within the buffer, and sorted by offsets the tensors
// tile the buffer exactly (no overlap, no hole, nothing left over).
func checkLayout(file string, tensors map[string]TensorInfo, bufLen int64) error {
	fail := func(tensor, format string, args ...any) error {
		return &FormatError{File: file, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	// Check in name order so that the error reported is deterministic.
	order := make([]TensorInfo, 0, len(tensors))
	for _, name := range slices.Sorted(maps.Keys(tensors)) {
		t := tensors[name]
		if t.Begin > t.End {
			return fail(t.Name, "data_offsets [%d %d]: begin is after end", t.Begin, t.End)
		}
		n, err := numBytes(t.DType, t.Shape)
		if err != nil {
			return fail(t.Name, "%v", err)
		}
		if n != t.End-t.Begin {
			return fail(t.Name, "dtype %q shape %v needs %d bytes, data_offsets give %d",
				t.DType, t.Shape, n, t.End-t.Begin)
		}
		if t.End > bufLen {
			return fail(t.Name, "data_offsets [%d %d] run past the end of the data buffer (%d bytes)",
				t.Begin, t.End, bufLen)
		}
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return compare(a.Begin, b.Begin)
		}
		if a.End != b.End {
			return compare(a.End, b.End)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var pos int64
	prev := ""
	for _, t := range order {
		switch {
		case t.Begin < pos:
			return fail(t.Name, "data_offsets [%d %d] overlap tensor %q, which ends at %d",
				t.Begin, t.End, prev, pos)
		case t.Begin > pos && prev == "":
			return fail(t.Name, "data_offsets [%d %d] leave bytes [0 %d) of the data buffer unused; the first tensor must start at 0",
				t.Begin, t.End, t.Begin)
		case t.Begin > pos:
			return fail(t.Name, "data_offsets [%d %d] leave a hole after tensor %q, which ends at %d",
				t.Begin, t.End, prev, pos)
		}
		pos, prev = t.End, t.Name
	}
	if pos != bufLen {
		if prev == "" {
			return fail("", "data buffer has %d bytes but the header lists no tensors", bufLen)
		}
		return fail(prev, "is the last tensor and ends at %d, but the data buffer has %d bytes; the rest is not covered by any tensor", pos, bufLen)
	}
	return nil
}

// numBytes returns prod(shape) * size(dtype), failing on an unknown dtype,
// a negative dimension or an overflow (reference ValidationOverflow; the
// product is taken left to right as the reference does).
func numBytes(dtype string, shape []int) (int64, error) {
	size, ok := dtypeSizes[dtype]
	if !ok {
		return 0, fmt.Errorf("unknown dtype %q", dtype)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > math.MaxInt64/int64(d) {
			return 0, fmt.Errorf("shape %v: element count overflows", shape)
		}
		n *= int64(d)
	}
	if n > math.MaxInt64/size {
		return 0, fmt.Errorf("dtype %q shape %v: byte size overflows", dtype, shape)
	}
	return n * size, nil
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// parser walks the header with json.Decoder tokens, so that duplicate keys
// and wrong value types are seen (json.Unmarshal into maps hides both).
type parser struct {
	dec  *json.Decoder
	file string
}

func (p *parser) fail(tensor, format string, args ...any) error {
	return &FormatError{File: p.file, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}

// token reads the next token; a JSON syntax error becomes a FormatError
// (reference InvalidHeaderDeserialization).
func (p *parser) token(tensor, where string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, p.fail(tensor, "%s: header JSON ends early", where)
	}
	if err != nil {
		return nil, p.fail(tensor, "%s: header is not valid JSON: %v", where, err)
	}
	return tok, nil
}

func (p *parser) delim(want json.Delim, tensor, where string) error {
	tok, err := p.token(tensor, where)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.fail(tensor, "%s: expected '%v', found %s", where, want, describe(tok))
	}
	return nil
}

func (p *parser) key(tensor, where string) (string, error) {
	tok, err := p.token(tensor, where)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", p.fail(tensor, "%s: expected a key, found %s", where, describe(tok))
	}
	return s, nil
}

// metadata reads the __metadata__ value into m: null, or an object whose
// values are all strings (format spec: "free form string-to-string map").
func (p *parser) metadata(m map[string]string) error {
	tok, err := p.token("", metadataKey)
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // The reference's Option<HashMap> accepts null.
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return p.fail("", "%s must be an object of strings, found %s", metadataKey, describe(tok))
	}
	for p.dec.More() {
		k, err := p.key("", metadataKey)
		if err != nil {
			return err
		}
		if _, dup := m[k]; dup {
			return p.fail("", "%s has key %q twice", metadataKey, k)
		}
		v, err := p.token("", metadataKey)
		if err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok {
			return p.fail("", "%s[%q] must be a string, found %s", metadataKey, k, describe(v))
		}
		m[k] = s
	}
	return p.delim('}', "", metadataKey)
}

// tensor reads one tensor entry {"dtype": s, "shape": [...], "data_offsets":
// [b, e]}; all three fields are required (reference TensorInfo), others are
// rejected.
func (p *parser) tensor(name string) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	if err := p.delim('{', name, "entry"); err != nil {
		return t, err
	}
	var haveDType, haveShape, haveOffsets bool
	for p.dec.More() {
		field, err := p.key(name, "entry")
		if err != nil {
			return t, err
		}
		switch field {
		case "dtype":
			if haveDType {
				return t, p.fail(name, "field %q appears twice", field)
			}
			haveDType = true
			tok, err := p.token(name, "dtype")
			if err != nil {
				return t, err
			}
			s, ok := tok.(string)
			if !ok {
				return t, p.fail(name, "dtype must be a string, found %s", describe(tok))
			}
			if _, known := dtypeSizes[s]; !known {
				return t, p.fail(name, "unknown dtype %q", s)
			}
			t.DType = s
		case "shape":
			if haveShape {
				return t, p.fail(name, "field %q appears twice", field)
			}
			haveShape = true
			dims, err := p.uints(name, "shape")
			if err != nil {
				return t, err
			}
			t.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return t, p.fail(name, "shape dimension %d is too large", d)
				}
				t.Shape[i] = int(d)
			}
		case "data_offsets":
			if haveOffsets {
				return t, p.fail(name, "field %q appears twice", field)
			}
			haveOffsets = true
			offs, err := p.uints(name, "data_offsets")
			if err != nil {
				return t, err
			}
			if len(offs) != 2 {
				return t, p.fail(name, "data_offsets must be [begin, end], found %d numbers", len(offs))
			}
			t.Begin, t.End = offs[0], offs[1]
		default:
			return t, p.fail(name, "unknown field %q (want dtype, shape, data_offsets)", field)
		}
	}
	if err := p.delim('}', name, "entry"); err != nil {
		return t, err
	}
	switch {
	case !haveDType:
		return t, p.fail(name, "entry has no dtype")
	case !haveShape:
		return t, p.fail(name, "entry has no shape")
	case !haveOffsets:
		return t, p.fail(name, "entry has no data_offsets")
	}
	return t, nil
}

// uints reads an array of non-negative integers (the reference's usize).
func (p *parser) uints(name, field string) ([]int64, error) {
	if err := p.delim('[', name, field); err != nil {
		return nil, err
	}
	var out []int64
	for p.dec.More() {
		tok, err := p.token(name, field)
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, p.fail(name, "%s must hold integers, found %s", field, describe(tok))
		}
		v, err := strconv.ParseInt(num.String(), 10, 64)
		negative := strings.HasPrefix(num.String(), "-")
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange) && negative, err == nil && v < 0:
			return nil, p.fail(name, "%s value %s is negative", field, num)
		case err != nil && errors.Is(err, strconv.ErrRange):
			return nil, p.fail(name, "%s value %s is too large", field, num)
		case err != nil:
			return nil, p.fail(name, "%s value %s is not an integer", field, num)
		}
		out = append(out, v)
	}
	return out, p.delim(']', name, field)
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("'%v'", v)
	case string:
		return fmt.Sprintf("string %q", truncate([]byte(v), 40))
	case json.Number:
		return "number " + v.String()
	case bool:
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%v", tok)
}
