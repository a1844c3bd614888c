package safetensors

import (
	"math"
	"testing"
)

// Hand-worked binary16 bit patterns (sign | 5-bit exponent, bias 15 |
// 10-bit mantissa) and the float32 bits they must become.
func TestF16ToFloat32HandWorked(t *testing.T) {
	cases := []struct {
		h    uint16
		want uint32
		note string
	}{
		{0x0000, 0x00000000, "+0"},
		{0x8000, 0x80000000, "-0"},
		{0x3c00, 0x3f800000, "1.0: exp 15 -> 127"},
		{0xc000, 0xc0000000, "-2.0"},
		{0x3555, 0x3eaaa000, "0.333251953125: mantissa 0x155 << 13"},
		{0x7bff, 0x477fe000, "65504, largest finite"},
		{0x0400, 0x38800000, "2^-14, smallest normal"},
		{0x0001, 0x33800000, "2^-24, smallest subnormal"},
		{0x0002, 0x34000000, "2^-23"},
		{0x0003, 0x34400000, "3 * 2^-24"},
		{0x03ff, 0x387fc000, "1023 * 2^-24, largest subnormal"},
		{0x0200, 0x38000000, "2^-15"},
		{0x8001, 0xb3800000, "-2^-24"},
		{0x7c00, 0x7f800000, "+Inf"},
		{0xfc00, 0xff800000, "-Inf"},
		{0x7e00, 0x7fc00000, "quiet NaN"},
		{0x7c01, 0x7f802000, "signalling NaN, payload kept"},
		{0xfe01, 0xffc02000, "negative NaN with payload"},
	}
	for _, c := range cases {
		got := math.Float32bits(F16ToFloat32(c.h))
		if got != c.want {
			t.Errorf("F16ToFloat32(%#04x) [%s] = %#08x, want %#08x", c.h, c.note, got, c.want)
		}
	}
}

// Every finite binary16 value against the definition computed in float64:
// (-1)^s * 2^(e-15) * (1 + m/1024), or (-1)^s * 2^-24 * m when e == 0.
func TestF16ToFloat32AllFinite(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		s, e, m := h>>15, int(h>>10)&0x1f, float64(h&0x3ff)
		if e == 0x1f {
			got := F16ToFloat32(h)
			if m == 0 && !math.IsInf(float64(got), 0) || m != 0 && !math.IsNaN(float64(got)) {
				t.Errorf("F16ToFloat32(%#04x) = %v, want Inf/NaN", h, got)
			}
			continue
		}
		var v float64
		if e == 0 {
			v = math.Ldexp(m, -24)
		} else {
			v = math.Ldexp(1+m/1024, e-15)
		}
		if s == 1 {
			v = -v
		}
		want := float32(v) // exact: binary16 values are float32 values
		if float64(want) != v {
			t.Fatalf("test bug: %v not exact in float32", v)
		}
		got := F16ToFloat32(h)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("F16ToFloat32(%#04x) = %v (%#08x), want %v (%#08x)",
				h, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
}

// bfloat16 is the top 16 bits of a float32.
func TestBF16ToFloat32HandWorked(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
		note string
	}{
		{0x3f80, 1, "1.0"},
		{0xc049, -3.140625, "-3.140625 = -(1 + 73/128) * 2"},
		{0x7f7f, 3.3895313892515355e38, "largest finite"},
		{0x0080, float32(math.Ldexp(1, -126)), "smallest normal 2^-126"},
		{0x0001, float32(math.Ldexp(1, -133)), "smallest subnormal 2^-133"},
		{0x8000, float32(math.Copysign(0, -1)), "-0"},
		{0x7f80, float32(math.Inf(1)), "+Inf"},
		{0xff80, float32(math.Inf(-1)), "-Inf"},
	}
	for _, c := range cases {
		got := BF16ToFloat32(c.h)
		if math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("BF16ToFloat32(%#04x) [%s] = %v, want %v", c.h, c.note, got, c.want)
		}
	}
	if got := math.Float32bits(BF16ToFloat32(0x7fc1)); got != 0x7fc10000 {
		t.Errorf("BF16ToFloat32(NaN 0x7fc1) bits = %#08x, want 0x7fc10000", got)
	}
}

func TestDTypeSize(t *testing.T) {
	want := map[string]int64{"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2,
		"F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
	for dt, n := range want {
		if got, ok := DTypeSize(dt); !ok || got != n {
			t.Errorf("DTypeSize(%q) = %d, %v; want %d, true", dt, got, ok, n)
		}
	}
	for _, dt := range []string{"F4", "f32", "float32", ""} {
		if _, ok := DTypeSize(dt); ok {
			t.Errorf("DTypeSize(%q) known, want unknown", dt)
		}
	}
}
