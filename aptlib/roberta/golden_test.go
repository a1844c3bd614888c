package roberta

import (
	"encoding/json"
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
	PositionOffset int           `json:"position_offset"`
	Sequence       [][][]float64 `json:"sequence_output"`
	Pooled         [][]float64   `json:"pooled_output"` // absent for the checkpoint without pooler
}

// golden is testdata/golden.json, written by testdata/make_golden.py (PyTorch).
type golden struct {
	InputIDs      [][]int32            `json:"input_ids"`
	AttentionMask [][]int32            `json:"attention_mask"`
	Variants      map[string]goldenOut `json:"variants"`
	Prefix        struct {
		Lengths  []int                `json:"lengths"`
		Key      [][][]float32        `json:"key"`   // per layer [p_i, d], null for p_i = 0
		Value    [][][]float32        `json:"value"` // per layer [p_i, d]
		Variants map[string]goldenOut `json:"variants"`
	} `json:"prefix"`
}

const tol = 1e-4

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

// run executes fwd on the golden batch (ids and attention mask) and returns
// the sequence output and, when withPool, the pooled output, flattened.
func run(t *testing.T, backend backends.Backend, ctx *context.Context, gd *golden, withPool bool,
	fwd func(ctx *context.Context, in backbone.Inputs) *backbone.Output) (seq, pooled []float32) {
	t.Helper()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, mask *Node) []*Node {
		out := fwd(ctx, backbone.Inputs{IDs: ids, Mask: mask})
		if withPool {
			return []*Node{out.Sequence, out.Pooled()}
		}
		return []*Node{out.Sequence}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.AttentionMask))
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
// RobertaModel of testdata/make_golden.py on a padded batch of pairs, for each
// checkpoint layout: "roberta."-prefixed F32 with lm_head.* tensors; plain
// F16 (tanh GELU); "roberta."-prefixed BF16 without pooler (sequence only,
// and the pooler variables must not exist). All positions are compared,
// padded ones included (HF computes them too, with position row pad_token_id).
func TestGoldenAgainstPyTorch(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for _, name := range []string{"tiny-roberta-prefixed", "tiny-roberta-plain", "tiny-roberta-nopooler"} {
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
// (2, 0, 3) in front of each layer through Hooks.Prefix, as PT-2 and APT do,
// with the positions unshifted (the default) and shifted by layer 0's prefix
// length (position_offset=prefix, P-Tuning v2's past_key_values_length), by
// Inputs.PositionOffset, through Forward and through the registered Family.
func TestGoldenPrefix(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	fam, err := backbone.Lookup(ModelType)
	if err != nil {
		t.Fatal(err)
	}
	if gd.Prefix.Variants["offset_prefix"].PositionOffset != gd.Prefix.Lengths[0] || gd.Prefix.Lengths[0] == 0 {
		t.Fatalf("golden.json's offset_prefix variant should be offset by layer 0's prefix length %d", gd.Prefix.Lengths[0])
	}
	hooks := &backbone.Hooks{Prefix: constPrefix(gd)}
	for name, want := range gd.Prefix.Variants {
		t.Run(name+"/Forward", func(t *testing.T) {
			ctx, c := load(t, "tiny-roberta-prefixed")
			seq, pooled := run(t, backend, ctx, gd, true, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
				in.PositionOffset = want.PositionOffset
				return Forward(ctx, c, in, hooks)
			})
			compare(t, want, seq, pooled)
		})
		t.Run(name+"/Family", func(t *testing.T) {
			ctx, c := load(t, "tiny-roberta-prefixed")
			seq, pooled := run(t, backend, ctx, gd, true, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
				in.PositionOffset = want.PositionOffset
				return fam.Forward(ctx, c, in, hooks)
			})
			compare(t, want, seq, pooled)
		})
	}
}

// TestGoldenDetectsWrongPositions is the golden tests' own check: with
// BERT's positions (0..T-1), positions starting at pad_token_id instead of
// pad_token_id+1, padding given the next position instead of pad_token_id, or
// the prefix offset dropped, the outputs must leave the tolerance.
func TestGoldenDetectsWrongPositions(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	prefix := &backbone.Hooks{Prefix: constPrefix(gd)}
	for _, tc := range []struct {
		name    string
		variant goldenOut
		hooks   *backbone.Hooks
		offset  int
		wrong   func(ids *Node, pad, offset int) *Node
	}{
		{"BERT positions 0..T-1", gd.Variants["tiny-roberta-prefixed"], nil, 0, func(ids *Node, pad, offset int) *Node {
			return Iota(ids.Graph(), ids.Shape(), 1)
		}},
		{"real tokens from pad, not pad+1", gd.Variants["tiny-roberta-prefixed"], nil, 0, func(ids *Node, pad, offset int) *Node {
			right := PositionIDs(ids, pad, offset)
			return Sub(right, ConvertDType(NotEqual(right, Scalar(ids.Graph(), right.DType(), pad)), right.DType()))
		}},
		{"padding counted as tokens", gd.Variants["tiny-roberta-prefixed"], nil, 0, func(ids *Node, pad, offset int) *Node {
			return AddScalar(Iota(ids.Graph(), ids.Shape(), 1), float64(pad+1+offset))
		}},
		{"position offset ignored", gd.Prefix.Variants["offset_prefix"], prefix, gd.Prefix.Lengths[0], func(ids *Node, pad, offset int) *Node {
			return PositionIDs(ids, pad, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := positionIDs
			positionIDs = tc.wrong
			t.Cleanup(func() { positionIDs = saved })
			ctx, c := load(t, "tiny-roberta-prefixed")
			seq, _ := run(t, backend, ctx, gd, false, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
				in.PositionOffset = tc.offset
				return Forward(ctx, c, in, tc.hooks)
			})
			d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(tc.variant.Sequence))
			t.Logf("max difference %g", d)
			if d <= tol {
				t.Errorf("outputs still within %g of the reference (diff %g): the golden test could not catch it", tol, d)
			}
		})
	}
}
