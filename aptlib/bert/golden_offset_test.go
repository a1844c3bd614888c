package bert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aptbench/apt/internal/goldentest"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// offsetGolden is testdata/golden_offset.json, written by
// testdata/make_golden_offset.py (PyTorch): fixed key/value prefixes of
// unequal per-layer lengths on golden.json's batch, without and with the
// positions shifted by layer 0's prefix length.
type offsetGolden struct {
	Checkpoint string `json:"checkpoint"`
	Prefix     struct {
		Lengths  []int         `json:"lengths"`
		Key      [][][]float32 `json:"key"`   // per layer [p_i, d]
		Value    [][][]float32 `json:"value"` // per layer [p_i, d]
		Variants map[string]struct {
			PositionOffset int           `json:"position_offset"`
			Sequence       [][][]float64 `json:"sequence_output"`
			Pooled         [][]float64   `json:"pooled_output"`
		} `json:"variants"`
	} `json:"prefix"`
}

func readOffsetGolden(t *testing.T) *offsetGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden_offset.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with: cd aptlib/bert/testdata && /usr/bin/python3 make_golden_offset.py)", err)
	}
	var g offsetGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	p := g.Prefix
	if len(p.Lengths) < 2 || p.Lengths[0] == 0 || p.Lengths[0] == p.Lengths[1] || p.Variants["offset_prefix"].PositionOffset != p.Lengths[0] {
		t.Fatalf("golden_offset.json should hold unequal per-layer lengths and a variant shifted by layer 0's length, got %v", p.Lengths)
	}
	return &g
}

// runOffset runs forward on golden.json's batch with the golden's prefixes
// (Hooks.Prefix, broadcast over the batch) and the given position offset.
func runOffset(t *testing.T, gd *golden, og *offsetGolden, offset int,
	forward func(ctx *context.Context, c *Config, in Inputs, hooks *Hooks) *Output) (seq, pooled []float32) {
	t.Helper()
	ctx := context.New()
	cfg, err := LoadDir(ctx, filepath.Join("testdata", og.Checkpoint), false)
	if err != nil {
		t.Fatal(err)
	}
	hooks := &Hooks{Prefix: func(layer int, prev, mask *Node) (*Node, *Node) {
		if og.Prefix.Lengths[layer] == 0 {
			return nil, nil
		}
		slots := func(x [][]float32) *Node {
			c := InsertAxes(Const(prev.Graph(), x), 0)
			return BroadcastToDims(c, prev.Shape().Dimensions[0], c.Shape().Dimensions[1], c.Shape().Dimensions[2])
		}
		return slots(og.Prefix.Key[layer]), slots(og.Prefix.Value[layer])
	}}
	return execGolden(t, testBackend(t), ctx, gd, func(ctx *context.Context, in Inputs) *Output {
		in.PositionOffset = offset
		return forward(ctx, cfg, in, hooks)
	})
}

// TestGoldenPositionOffset: deep prefixes of lengths (3, 5) with the real
// tokens at positions 0..T-1 (the default) and at p_0..p_0+T-1 (HF BertModel
// given past_key_values, position_offset=prefix), through Forward and
// through the registered Family, against PyTorch.
func TestGoldenPositionOffset(t *testing.T) {
	gd, og := readGolden(t), readOffsetGolden(t)
	const tol = 1e-4
	family := func(ctx *context.Context, c *Config, in Inputs, hooks *Hooks) *Output {
		return Family.Forward(ctx, c, in, hooks)
	}
	for name, want := range og.Prefix.Variants {
		for how, fwd := range map[string]func(*context.Context, *Config, Inputs, *Hooks) *Output{"Forward": Forward, "Family": family} {
			t.Run(name+"/"+how, func(t *testing.T) {
				seq, pooled := runOffset(t, gd, og, want.PositionOffset, fwd)
				ds := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.Sequence))
				dp := goldentest.MaxAbsDiff(pooled, goldentest.Flatten2(want.Pooled))
				t.Logf("max difference: sequence %g, pooled %g", ds, dp)
				if ds > tol || dp > tol {
					t.Errorf("differs from PyTorch by %g (sequence), %g (pooled); tolerance %g", ds, dp, tol)
				}
			})
		}
	}
}

// TestGoldenDetectsIgnoredOffset is the test's own check: run without the
// shift, the outputs must leave the tolerance of the shifted reference.
func TestGoldenDetectsIgnoredOffset(t *testing.T) {
	gd, og := readGolden(t), readOffsetGolden(t)
	seq, _ := runOffset(t, gd, og, 0, Forward)
	d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(og.Prefix.Variants["offset_prefix"].Sequence))
	t.Logf("max difference %g", d)
	if d <= 1e-4 {
		t.Errorf("without the offset the outputs are still within 1e-4 of the shifted reference (diff %g)", d)
	}
}
