package method_test

import (
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestNormalizeOffset: the spellings of position_offset map onto "0" and
// "prefix"; anything else comes back as given for the caller to refuse.
func TestNormalizeOffset(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", " 0 ": "0", "none": "0", "NONE": "0", "off": "0", "Off": "0",
		"prefix": "prefix", "PREFIX": "prefix", " Prefix ": "prefix",
		"1": "1", "3": "3", "x": "x", "": "", "prefixes": "prefixes", "-1": "-1",
	} {
		if got := method.NormalizeOffset(in); got != want {
			t.Errorf("NormalizeOffset(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOffset: the shift is layer 0's prefix length under prefix, for the
// methods with per-layer prefixes only; 0 by default, for pt and ft, and
// when layer 0 has no prefix (the others' lengths do not count).
func TestOffset(t *testing.T) {
	for _, c := range []struct {
		kind method.Kind
		mode string
		lens []int
		want int
	}{
		{method.APT, method.OffsetPrefix, []int{3, 0, 5}, 3},
		{method.PT2, method.OffsetPrefix, []int{2, 7}, 2},
		{method.APTNoTokenGate, method.OffsetPrefix, []int{4, 4}, 4},
		{method.APTNoLayerGate, method.OffsetPrefix, []int{1, 9}, 1},
		{method.APT, method.OffsetPrefix, []int{0, 5}, 0},
		{method.APT, method.OffsetNone, []int{3, 0, 5}, 0},
		{method.PT2, "", []int{3}, 0},
		{method.PT, method.OffsetPrefix, nil, 0},
		{method.FT, method.OffsetPrefix, nil, 0},
	} {
		cfg := method.Config{Kind: c.kind, PrefixLens: c.lens, PositionOffset: c.mode}
		if got := cfg.Offset(); got != c.want {
			t.Errorf("%s %q %v: Offset() = %d, want %d", c.kind, c.mode, c.lens, got, c.want)
		}
	}
}

// TestOffsetFromContext: KindConfigFromContext reads position_offset (any
// spelling) with default "0", Validate refuses other values naming the
// setting, Params writes the mode for adapters to fix, and Describe names a
// non-zero shift only.
func TestOffsetFromContext(t *testing.T) {
	ctx := context.New()
	ctx.SetParam(method.ParamPrefixLen, "3,1")
	c, err := method.KindConfigFromContext(ctx, method.APT, 2)
	if err != nil || c.PositionOffset != method.OffsetNone || c.Offset() != 0 {
		t.Fatalf("default: %+v, %v", c, err)
	}
	if p := c.Params()[method.ParamPositionOffset]; p != method.OffsetNone {
		t.Errorf("Params position_offset %q by default, want 0", p)
	}
	if strings.Contains(c.Describe(), "shifted") {
		t.Errorf("Describe names a shift by default: %q", c.Describe())
	}
	ctx.SetParam(method.ParamPositionOffset, "Prefix")
	if c, err = method.KindConfigFromContext(ctx, method.APT, 2); err != nil || c.PositionOffset != method.OffsetPrefix || c.Offset() != 3 {
		t.Fatalf("prefix: %+v, %v", c, err)
	}
	if p := c.Params()[method.ParamPositionOffset]; p != method.OffsetPrefix {
		t.Errorf("Params position_offset %q, want prefix", p)
	}
	if d := c.Describe(); !strings.HasSuffix(d, ", positions shifted by 3 (position_offset=prefix)") {
		t.Errorf("Describe = %q, want the shift by 3 named", d)
	}
	pt, err := method.KindConfigFromContext(ctx, method.PT, 2)
	if err != nil || pt.Offset() != 0 || strings.Contains(pt.Describe(), "shifted") {
		t.Errorf("pt under prefix: offset %d, %q, %v", pt.Offset(), pt.Describe(), err)
	}
	ctx.SetParam(method.ParamPositionOffset, "2")
	if _, err := method.KindConfigFromContext(ctx, method.APT, 2); err == nil || err.Error() != `position_offset: want 0 or prefix, got "2"` {
		t.Errorf("position_offset=2: %v", err)
	}
}
