package safetensors

import (
	"encoding/binary"
	"math"
)

// dtypeSizes gives the size in bytes of one element of each dtype this
// package recognises. The names are those of the reference's Dtype enum.
// The sub-byte dtypes of recent reference versions (F4, F6_E2M3, F6_E3M2)
// are not supported and are rejected as unknown.
var dtypeSizes = map[string]int64{
	"BOOL":    1,
	"U8":      1,
	"I8":      1,
	"F8_E5M2": 1,
	"F8_E4M3": 1,
	"F8_E8M0": 1,
	"I16":     2,
	"U16":     2,
	"F16":     2,
	"BF16":    2,
	"I32":     4,
	"U32":     4,
	"F32":     4,
	"F64":     8,
	"I64":     8,
	"U64":     8,
	"C64":     8,
}

// DTypeSize returns the size in bytes of one element of dtype, and whether
// the dtype is known.
func DTypeSize(dtype string) (int64, bool) {
	n, ok := dtypeSizes[dtype]
	return n, ok
}

// floatDTypes are the dtypes Float32 converts.
var floatDTypes = map[string]bool{"F32": true, "F64": true, "F16": true, "BF16": true}

// decode converts the little-endian elements in src, of a dtype in
// floatDTypes, to float32 in dst; len(src) is len(dst) times the dtype size.
// F64 values are rounded to the nearest float32 (Go conversion semantics:
// round to nearest even, overflow to Inf).
func decode(dtype string, dst []float32, src []byte) {
	le := binary.LittleEndian
	switch dtype {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case "F16":
		for i := range dst {
			dst[i] = F16ToFloat32(le.Uint16(src[2*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = BF16ToFloat32(le.Uint16(src[2*i:]))
		}
	default:
		panic("safetensors: decode called with dtype " + dtype)
	}
}

// F16ToFloat32 converts IEEE 754 binary16 bits to float32. The conversion is
// exact: every binary16 value, subnormals included, is a float32. Infinities
// keep their sign; NaNs keep their sign and payload bits, shifted into the
// top of the float32 mantissa (a signalling NaN is not quietened).
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN.
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0: // Signed zero.
		return math.Float32frombits(sign)
	case exp == 0: // Subnormal: mant * 2^-24; normalise it.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	default: // Normal: rebias the exponent from 15 to 127.
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// BF16ToFloat32 converts bfloat16 bits to float32. bfloat16 is the top half
// of a float32, so the conversion is exact for every value, subnormals, Inf
// and NaN included.
func BF16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
