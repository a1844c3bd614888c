// Package safetensors reads and writes the HuggingFace safetensors format.
//
// It is written from the public format description (the "Format" section of
// the README of github.com/huggingface/safetensors, called "the format spec"
// below) and follows the validation done by the reference Rust
// implementation (safetensors/src/tensor.rs in the same repository, "the
// reference" below). A file is:
//
//	8 bytes      N, a little-endian uint64: the size of the header
//	N bytes      a UTF-8 JSON object, the header:
//	               {"__metadata__": {"key": "value", ...},
//	                "<tensor name>": {"dtype": "F32", "shape": [2, 3],
//	                                  "data_offsets": [begin, end]}, ...}
//	rest         the byte buffer; data_offsets are relative to its start
//
// The reader is strict: every rule below rejects a file with an error that
// names the file, the tensor and what was expected versus what was found, on
// one line. No allocation is ever sized by a header value that has not been
// checked against the size of the file first, and malformed input never
// panics (see FuzzParse).
//
// Rules from the format spec: the header starts with '{' and may be padded
// at the end with whitespace; duplicate keys are not allowed; the
// __metadata__ map holds strings only; data is little-endian; tensors with a
// zero dimension are allowed; the byte buffer is fully indexed (no holes).
//
// Rules from the reference: the header is at most 100,000,000 bytes
// (MAX_HEADER_SIZE) and must fit in the file (HeaderTooLarge,
// InvalidHeaderLength); the header is valid UTF-8 (InvalidHeader) and valid
// JSON (InvalidHeaderDeserialization); shape and data_offsets are unsigned
// integers; the product of the shape and its byte size must not overflow
// (ValidationOverflow) and must equal end-begin (TensorInvalidInfo); sorted
// by offsets, each tensor starts where the previous one ended, the first at 0
// (InvalidOffset: this rejects overlaps and holes); and the last one ends
// exactly at the end of the file (MetadataIncompleteBuffer).
//
// Stricter than the reference: unknown fields in a tensor entry are rejected,
// and so are duplicate keys at any level (serde_json keeps the last one).
//
// The writer (Write) produces F32 tensors laid out as the reference's
// serialize does: tensors sorted by name, packed back to back, the header
// padded with spaces so the byte buffer starts at an 8-byte aligned offset.
// Writes are atomic: temp file in the target directory, fsync, rename.
package safetensors
