package deberta

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aptbench/apt/internal/goldentest"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// goldenOut is one expected output of testdata/golden.json.
type goldenOut struct {
	Sequence [][][]float64 `json:"sequence_output"`
	Pooled   [][]float64   `json:"pooled_output"` // absent for the checkpoint without pooler
}

// golden is testdata/golden.json, written by testdata/make_golden.py (PyTorch).
type golden struct {
	InputIDs      [][]int32            `json:"input_ids"`
	TokenTypeIDs  [][]int32            `json:"token_type_ids"`
	AttentionMask [][]int32            `json:"attention_mask"`
	Variants      map[string]goldenOut `json:"variants"`
	Prefix        struct {
		Lengths []int         `json:"lengths"`
		Key     [][][]float32 `json:"key"`   // per layer [p_i, d], null for p_i = 0
		Value   [][][]float32 `json:"value"` // per layer [p_i, d]
		goldenOut
		// PlainOffset is tiny-deberta-plain (absolute positions) with the
		// prefix and positions shifted by layer 0's prefix length.
		PlainOffset struct {
			PositionOffset int `json:"position_offset"`
			goldenOut
		} `json:"plain_offset"`
	} `json:"prefix"`
}

const tol = 1e-4

// variantNames are the checkpoints of testdata, see make_golden.py.
var variantNames = []string{"tiny-deberta-prefixed", "tiny-deberta-plain", "tiny-deberta-nopooler", "tiny-deberta-norel"}

func readGolden(t *testing.T) *golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// constPrefix is a Hooks.Prefix returning the golden's fixed slots for each
// layer, broadcast over the batch (nil for a layer without prefix).
func constPrefix(gd *golden) func(layer int, prev, mask *Node) (*Node, *Node) {
	return func(layer int, prev, mask *Node) (*Node, *Node) {
		if gd.Prefix.Lengths[layer] == 0 {
			return nil, nil
		}
		g := prev.Graph()
		batch := prev.Shape().Dimensions[0]
		slots := func(x [][]float32) *Node {
			c := InsertAxes(Const(g, x), 0) // [1, p, d]
			return BroadcastToDims(c, batch, c.Shape().Dimensions[1], c.Shape().Dimensions[2])
		}
		return slots(gd.Prefix.Key[layer]), slots(gd.Prefix.Value[layer])
	}
}

// run executes fwd on the golden batch (ids, token types, attention mask) and
// returns the sequence output and, when withPool, the pooled output, flattened.
func run(t *testing.T, backend backends.Backend, ctx *context.Context, gd *golden, withPool bool,
	fwd func(ctx *context.Context, in backbone.Inputs) *backbone.Output) (seq, pooled []float32) {
	t.Helper()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
		out := fwd(ctx, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		if withPool {
			return []*Node{out.Sequence, out.Pooled()}
		}
		return []*Node{out.Sequence}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask))
	if err != nil {
		t.Fatal(err)
	}
	seq = tensors.MustCopyFlatData[float32](res[0])
	if withPool {
		pooled = tensors.MustCopyFlatData[float32](res[1])
	}
	return seq, pooled
}

func load(t *testing.T, name string) (*context.Context, *Config) {
	t.Helper()
	ctx := context.New()
	c, err := LoadDir(ctx, filepath.Join("testdata", name), false)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, c
}

// compare checks seq (and pooled, when want has it) within tol of want.
func compare(t *testing.T, want goldenOut, seq, pooled []float32) {
	t.Helper()
	ds := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.Sequence))
	t.Logf("max difference: sequence %g", ds)
	if ds > tol {
		t.Errorf("sequence output differs from PyTorch by %g (> %g)", ds, tol)
	}
	if want.Pooled != nil {
		dp := goldentest.MaxAbsDiff(pooled, goldentest.Flatten2(want.Pooled))
		t.Logf("max difference: pooled %g", dp)
		if dp > tol {
			t.Errorf("pooled output differs from PyTorch by %g (> %g)", dp, tol)
		}
	}
}

// TestGoldenAgainstPyTorch checks the encoder against the PyTorch
// DebertaModel of testdata/make_golden.py on a padded batch of pairs, for
// each checkpoint: "deberta."-prefixed F32 with lm_predictions.* and an unused
// position table (deberta-base's shape, max_relative_positions below T);
// plain F16 with absolute positions, token types and embed_proj; prefixed
// BF16 c2p-only without pooler (sequence only; the pooler variables must not
// exist); plain F32 with relative_attention off. Every position is compared,
// padded ones included (XSoftmax gives them zero attention rows).
func TestGoldenAgainstPyTorch(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for _, name := range variantNames {
		want, ok := gd.Variants[name]
		if !ok {
			t.Fatalf("golden.json has no variant %q", name)
		}
		t.Run(name, func(t *testing.T) {
			ctx, c := load(t, name)
			has, known := c.CheckpointHasPooler()
			if !known || has != (want.Pooled != nil) {
				t.Fatalf("CheckpointHasPooler() = %v, %v; the checkpoint has a pooler: %v", has, known, want.Pooled != nil)
			}
			if !has {
				for _, n := range PoolerTensors {
					if v := ctx.GetVariableByScopeAndName("/bert/pooler/dense", n[len("pooler.dense."):]); v != nil {
						t.Errorf("variable for %q exists though the checkpoint has no pooler", n)
					}
				}
			}
			seq, pooled := run(t, backend, ctx, gd, has, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
				return Forward(ctx, c, in, nil)
			})
			compare(t, want, seq, pooled)
		})
	}
}

// TestGoldenPrefix puts fixed key/value slots of unequal lengths per layer
// (2, 0, 3) in front of each layer through Hooks.Prefix, through Forward and
// through the registered Family, and compares with P-Tuning v2's placement.
func TestGoldenPrefix(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	fam, err := backbone.Lookup(ModelType)
	if err != nil {
		t.Fatal(err)
	}
	hooks := &backbone.Hooks{Prefix: constPrefix(gd)}
	for name, fwd := range map[string]func(ctx *context.Context, c *Config, in backbone.Inputs) *backbone.Output{
		"Forward": func(ctx *context.Context, c *Config, in backbone.Inputs) *backbone.Output {
			return Forward(ctx, c, in, hooks)
		},
		"Family": func(ctx *context.Context, c *Config, in backbone.Inputs) *backbone.Output {
			return fam.Forward(ctx, c, in, hooks)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, c := load(t, "tiny-deberta-prefixed")
			seq, pooled := run(t, backend, ctx, gd, true, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
				return fwd(ctx, c, in)
			})
			compare(t, gd.Prefix.goldenOut, seq, pooled)
		})
	}
}

// TestGoldenPositionOffset: with absolute positions, position_offset=prefix
// (the registered Family given Inputs.PositionOffset) shifts them as P-Tuning
// v2 does; without the offset the outputs must leave the tolerance.
func TestGoldenPositionOffset(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	fam, err := backbone.Lookup(ModelType)
	if err != nil {
		t.Fatal(err)
	}
	want := gd.Prefix.PlainOffset
	if want.PositionOffset != gd.Prefix.Lengths[0] || want.PositionOffset == 0 {
		t.Fatalf("golden.json's plain_offset should be offset by layer 0's prefix length %d", gd.Prefix.Lengths[0])
	}
	hooks := &backbone.Hooks{Prefix: constPrefix(gd)}
	ctx, c := load(t, "tiny-deberta-plain")
	seq, pooled := run(t, backend, ctx, gd, true, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
		in.PositionOffset = want.PositionOffset
		return fam.Forward(ctx, c, in, hooks)
	})
	compare(t, want.goldenOut, seq, pooled)

	ctx, c = load(t, "tiny-deberta-plain")
	seq, _ = run(t, backend, ctx, gd, false, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
		return Forward(ctx, c, in, hooks)
	})
	if d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.Sequence)); d <= tol {
		t.Errorf("without the offset the outputs are still within %g (diff %g): the offset is not tested", tol, d)
	}
}

// TestGoldenDetectsMistakes is the golden tests' own check: with the scale
// factor dropped (1/sqrt(d_head) as in BERT) or with the paper's p2c index
// delta(j, i) instead of HF's, the outputs must leave the tolerance.
func TestGoldenDetectsMistakes(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for _, tc := range []struct {
		name  string
		scale func(headSize, sf int) float64
		p2c   func(i, j, s int) int
	}{
		{"scale without sf", func(headSize, sf int) float64 { return 1 / math.Sqrt(float64(headSize)) }, relIndex},
		{"p2c at delta(j,i)", scoreScale, func(i, j, s int) int { return relIndex(j, i, s) }},
	} {
		for _, variant := range []string{"tiny-deberta-prefixed", "tiny-deberta-plain"} {
			t.Run(tc.name+"/"+variant, func(t *testing.T) {
				savedScale, savedP2C := scoreScale, p2cIndex
				scoreScale, p2cIndex = tc.scale, tc.p2c
				t.Cleanup(func() { scoreScale, p2cIndex = savedScale, savedP2C })
				ctx, c := load(t, variant)
				seq, _ := run(t, backend, ctx, gd, false, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
					return Forward(ctx, c, in, nil)
				})
				d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(gd.Variants[variant].Sequence))
				t.Logf("max difference %g", d)
				if d <= tol {
					t.Errorf("outputs still within %g of the reference (diff %g): the golden test could not catch it", tol, d)
				}
			})
		}
	}
}
