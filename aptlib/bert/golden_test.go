package bert

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aptbench/apt/internal/goldentest"

	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// golden is testdata/golden.json, written by testdata/make_golden.py (PyTorch).
type golden struct {
	InputIDs      [][]int32 `json:"input_ids"`
	TokenTypeIDs  [][]int32 `json:"token_type_ids"`
	AttentionMask [][]int32 `json:"attention_mask"`
	Variants      map[string]struct {
		Sequence [][][]float64 `json:"sequence_output"`
		Pooled   [][]float64   `json:"pooled_output"`
	} `json:"variants"`
}

func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	return testbackend.New(t)
}

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

// runEncoder loads dir and runs Forward on the golden batch; it returns the
// sequence output [B,T,d] and pooled output [B,d] flattened.
func runEncoder(t *testing.T, backend backends.Backend, dir string, gd *golden, mutate func(*Config)) (seq, pooled []float32) {
	t.Helper()
	ctx := context.New()
	cfg, err := LoadDir(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	return execGolden(t, backend, ctx, gd, func(ctx *context.Context, in Inputs) *Output { return Forward(ctx, cfg, in, nil) })
}

// execGolden runs encoder on the golden batch (ids, token types, mask) and
// returns the sequence output [B,T,d] and pooled output [B,d] flattened.
func execGolden(t *testing.T, backend backends.Backend, ctx *context.Context, gd *golden,
	encoder func(ctx *context.Context, in Inputs) *Output) (seq, pooled []float32) {
	t.Helper()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types, mask *Node) (*Node, *Node) {
		out := encoder(ctx, Inputs{IDs: ids, TypeIDs: types, Mask: mask})
		return out.Sequence, out.Pooled()
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
}

// TestGoldenAgainstPyTorch checks the encoder against the PyTorch reference on a
// padded two-segment batch, for every checkpoint layout: "bert."-prefixed F32 with
// gamma/beta and erf GELU; plain F16 with tanh GELU; sharded BF16. All positions
// are compared, padded ones included (HF computes them too).
func TestGoldenAgainstPyTorch(t *testing.T) {
	gd := readGolden(t)
	backend := testBackend(t)
	const tol = 1e-4
	for name, want := range gd.Variants {
		t.Run(name, func(t *testing.T) {
			seq, pooled := runEncoder(t, backend, filepath.Join("testdata", name), gd, nil)
			wantSeq, wantPooled := goldentest.Flatten3(want.Sequence), goldentest.Flatten2(want.Pooled)
			if len(seq) != len(wantSeq) || len(pooled) != len(wantPooled) {
				t.Fatalf("sizes: sequence %d want %d, pooled %d want %d", len(seq), len(wantSeq), len(pooled), len(wantPooled))
			}
			t.Logf("max difference: sequence %g, pooled %g", goldentest.MaxAbsDiff(seq, wantSeq), goldentest.MaxAbsDiff(pooled, wantPooled))
			if d := goldentest.MaxAbsDiff(seq, wantSeq); d > tol {
				t.Errorf("sequence output differs from PyTorch by %g (> %g)", d, tol)
			}
			if d := goldentest.MaxAbsDiff(pooled, wantPooled); d > tol {
				t.Errorf("pooled output differs from PyTorch by %g (> %g)", d, tol)
			}
		})
	}
}

// TestGoldenDetectsWrongNumerics is the golden test's own check: with a wrong
// LayerNorm epsilon or the other GELU form the outputs must leave the tolerance,
// so the golden comparison above can fail.
func TestGoldenDetectsWrongNumerics(t *testing.T) {
	gd := readGolden(t)
	backend := testBackend(t)
	want := gd.Variants["tiny-bert-prefixed"]
	wantSeq := goldentest.Flatten3(want.Sequence)
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"epsilon 1e-3 (GoMLX LayerNormalization default)", func(c *Config) { c.LayerNormEps = 1e-3 }},
		{"tanh GELU instead of erf", func(c *Config) { c.HiddenAct = "gelu_new" }},
		{"scores scaled by 1/sqrt(d) instead of 1/sqrt(d/n)", func(c *Config) {
			saved := scoreScale
			scoreScale = func(int) float64 { return 1 / math.Sqrt(float64(c.HiddenDim)) }
			t.Cleanup(func() { scoreScale = saved })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq, _ := runEncoder(t, backend, filepath.Join("testdata", "tiny-bert-prefixed"), gd, tc.mutate)
			d := goldentest.MaxAbsDiff(seq, wantSeq)
			t.Logf("max difference %g", d)
			if d <= 1e-4 {
				t.Errorf("outputs still within 1e-4 of the reference (diff %g): the golden test could not catch it", d)
			}
		})
	}
}
