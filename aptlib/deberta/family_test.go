package deberta

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/internal/goldentest"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestRegistered: model_type "deberta" finds this family; its functions
// refuse another family's config with a message; the tokenizer is package
// bpe's.
func TestRegistered(t *testing.T) {
	fam, err := backbone.Lookup("deberta")
	if err != nil {
		t.Fatal(err)
	}
	if fam.ModelType != ModelType || fam.Doc == "" {
		t.Errorf("family %q, doc %q", fam.ModelType, fam.Doc)
	}
	c, err := fam.LoadConfig(filepath.Join("testdata", "tiny-deberta-plain", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*Config); !ok {
		t.Fatalf("LoadConfig gave a %T", c)
	}
	// The family's tokenizer is the byte-level BPE with DeBERTa's layout.
	if tok, err := fam.LoadTokenizer(filepath.Join("..", "bpe", "testdata", "deberta"), c); err != nil {
		t.Errorf("LoadTokenizer: %v", err)
	} else if ids, types, _ := tok.EncodePairIDs("a", "b", 16); len(ids) < 5 || ids[0] != idOf(t, tok, "[CLS]") || ids[len(ids)-1] != idOf(t, tok, "[SEP]") || types[len(types)-1] != 1 {
		t.Errorf("pair ids %v types %v: want [CLS] a [SEP] b [SEP], types 0 then 1", ids, types)
	}
	if err := fam.LoadWeights(context.New(), otherConfig{}, nil, false); err == nil || !strings.Contains(err.Error(), "not a DeBERTa v1 one") {
		t.Errorf("LoadWeights with another family's config: got %v", err)
	}
	if err := fam.LoadWeights(context.New(), nil, nil, false); err == nil || !strings.Contains(err.Error(), "no config") {
		t.Errorf("LoadWeights without config: got %v", err)
	}
}

// otherConfig is another family's config.
type otherConfig struct{ backbone.Config }

func (otherConfig) ModelType() string { return "other" }

// TestPooledWithoutPooler: Output.Pooled on a checkpoint without pooler fails
// naming the missing variable (the workbench must create it first).
func TestPooledWithoutPooler(t *testing.T) {
	ctx, c := load(t, "tiny-deberta-nopooler")
	exec, err := context.NewExec(testbackend.New(t), ctx, func(ctx *context.Context, ids *Node) *Node {
		out := Forward(ctx, c, backbone.Inputs{IDs: ids}, nil)
		return out.Pooled()
	})
	if err == nil {
		_, err = exec.Exec(tensors.FromValue([][]int32{{1, 5, 2}}))
	}
	if err == nil || !strings.Contains(err.Error(), `no pooler variable "pooler.dense.weight"`) {
		t.Errorf("want an error naming the pooler variable, got %v", err)
	}
}

// TestPrefixGradients: the gradients of a loss with respect to the prefix
// slots (what PT-2 and APT train) and to the backbone's in_proj and
// rel_embeddings (full fine-tuning) are built and run on the pure-Go backend
// (the relative-position gathers differentiate as scatter-adds), and the
// prefix gradients equal central finite differences.
func TestPrefixGradients(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	ctx, c := load(t, "tiny-deberta-prefixed")
	type slots struct{ k0, v0, k2 [][]float32 }
	base := slots{gd.Prefix.Key[0], gd.Prefix.Value[0], gd.Prefix.Key[2]}
	v2 := gd.Prefix.Value[2]
	build := func(withGrad bool) *context.Exec {
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types, mask, k0, v0, k2 *Node) []*Node {
			g := ids.Graph()
			batch := ids.Shape().Dimensions[0]
			bc := func(x *Node) *Node {
				return BroadcastToDims(InsertAxes(x, 0), batch, x.Shape().Dimensions[0], x.Shape().Dimensions[1])
			}
			hooks := &backbone.Hooks{Prefix: func(layer int, prev, m *Node) (*Node, *Node) {
				switch layer {
				case 0:
					return bc(k0), bc(v0)
				case 2:
					return bc(k2), bc(Const(g, v2))
				}
				return nil, nil
			}}
			out := Forward(ctx, c, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, hooks)
			w := Sin(ConvertDType(Iota(g, out.Sequence.Shape(), 2), out.Sequence.DType()))
			loss := Add(ReduceAllSum(Mul(out.Sequence, w)), ReduceAllSum(out.Pooled()))
			if !withGrad {
				return []*Node{loss}
			}
			inProj := bert.Variable(ctx, "encoder.layer.0.attention.self.in_proj.weight").ValueGraph(g)
			rel := bert.Variable(ctx, "encoder.rel_embeddings.weight").ValueGraph(g)
			grads := Gradient(loss, k0, v0, k2, inProj, rel)
			out2 := []*Node{loss}
			for _, gr := range grads {
				out2 = append(out2, gr)
			}
			out2 = append(out2, ReduceAllSum(Abs(grads[3])), ReduceAllSum(Abs(grads[4])))
			return out2
		})
		if err != nil {
			t.Fatal(err)
		}
		return exec
	}
	inputs := func(s slots) []any {
		return []any{tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask),
			tensors.FromValue(s.k0), tensors.FromValue(s.v0), tensors.FromValue(s.k2)}
	}
	res, err := build(true).Exec(inputs(base)...)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"in_proj", "rel_embeddings"} {
		v := float64(res[6+i].Value().(float32))
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("gradient of %s: total magnitude %g, want finite and non-zero", name, v)
		}
	}
	lossExec := build(false)
	lossAt := func(s slots) float64 {
		r, err := lossExec.Exec(inputs(s)...)
		if err != nil {
			t.Fatal(err)
		}
		return float64(r[0].Value().(float32))
	}
	clone := func(x [][]float32) [][]float32 {
		out := make([][]float32, len(x))
		for i := range x {
			out[i] = append([]float32(nil), x[i]...)
		}
		return out
	}
	// Directional derivatives (a whole slot tensor moved at once gives a
	// signal far above float32 rounding): along the gradient itself, where
	// the derivative is |grad|, and along a fixed pseudo-random direction r,
	// where it is grad.r.
	const h = 1e-2
	for slot, name := range []string{"layer 0 key", "layer 0 value", "layer 2 key"} {
		grad := res[1+slot].Value().([][]float32)
		norm := 0.0
		for _, row := range grad {
			for _, x := range row {
				norm += float64(x) * float64(x)
			}
		}
		norm = math.Sqrt(norm)
		if norm == 0 || math.IsNaN(norm) {
			t.Errorf("%s: gradient norm %g", name, norm)
			continue
		}
		random := func(i, j int) float64 { return math.Sin(float64(7*i+13*j+1)) / 4 }
		for _, dir := range []struct {
			what string
			u    func(i, j int) float64
		}{
			{"gradient", func(i, j int) float64 { return float64(grad[i][j]) / norm }},
			{"random", random},
		} {
			want := 0.0
			for i, row := range grad {
				for j, x := range row {
					want += float64(x) * dir.u(i, j)
				}
			}
			step := func(sign float64) float64 {
				s := slots{clone(base.k0), clone(base.v0), clone(base.k2)}
				target := *[]*[][]float32{&s.k0, &s.v0, &s.k2}[slot]
				for i := range target {
					for j := range target[i] {
						target[i][j] += float32(sign * h * dir.u(i, j))
					}
				}
				return lossAt(s)
			}
			fd := (step(1) - step(-1)) / (2 * h)
			t.Logf("%s along the %s direction: gradient gives %g, finite difference %g", name, dir.what, want, fd)
			if math.Abs(fd-want) > 0.01*norm {
				t.Errorf("%s along the %s direction: gradient gives %g, finite difference %g", name, dir.what, want, fd)
			}
		}
	}
}

// TestPrompt: a prompt (PT) of p embeddings takes part in every layer (the
// output changes) while Sequence keeps the T input positions and Hidden[0]
// has p+T.
func TestPrompt(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	ctx, c := load(t, "tiny-deberta-prefixed")
	const promptLen = 2
	hooks := &backbone.Hooks{Prompt: func(e *Node) *Node {
		return BroadcastToDims(Const(e.Graph(), float32(0.3)), e.Shape().Dimensions[0], promptLen, e.Shape().Dimensions[2])
	}}
	var seqLen, hidLen int
	seq, _ := run(t, backend, ctx, gd, false, func(ctx *context.Context, in backbone.Inputs) *backbone.Output {
		out := Forward(ctx, c, in, hooks)
		seqLen, hidLen = out.Sequence.Shape().Dimensions[1], out.Hidden[0].Shape().Dimensions[1]
		return out
	})
	T := len(gd.InputIDs[0])
	if seqLen != T || hidLen != T+promptLen {
		t.Errorf("Sequence has %d positions (want %d), Hidden[0] %d (want %d)", seqLen, T, hidLen, T+promptLen)
	}
	if d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(gd.Variants["tiny-deberta-prefixed"].Sequence)); d < 1e-3 {
		t.Errorf("the prompt changed the output by only %g", d)
	}
}

// TestLengthLimit: with absolute positions, T + offset beyond
// max_position_embeddings (40) fails with a message naming the limit; without
// them (relative positions only, clamped) a longer input runs, as in HF.
func TestLengthLimit(t *testing.T) {
	backend := testbackend.New(t)
	for _, tc := range []struct {
		variant        string
		seqLen, offset int
		wantErr        bool
	}{
		{"tiny-deberta-plain", 41, 0, true},
		{"tiny-deberta-plain", 39, 2, true},
		{"tiny-deberta-plain", 38, 2, false},
		{"tiny-deberta-prefixed", 45, 0, false},
	} {
		ctx, c := load(t, tc.variant)
		ids := [][]int32{make([]int32, tc.seqLen)}
		for i := range ids[0] {
			ids[0][i] = int32(3 + i%50)
		}
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids *Node) *Node {
			return Forward(ctx, c, backbone.Inputs{IDs: ids, PositionOffset: tc.offset}, nil).Sequence
		})
		if err == nil {
			_, err = exec.Exec(tensors.FromValue(ids))
		}
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), "exceeds max_position_embeddings 40")):
			t.Errorf("%s length %d offset %d: want an error about max_position_embeddings 40, got %v", tc.variant, tc.seqLen, tc.offset, err)
		case !tc.wantErr && err != nil:
			t.Errorf("%s length %d offset %d: %v", tc.variant, tc.seqLen, tc.offset, err)
		}
	}
}

func idOf(t *testing.T, tok backbone.Tokenizer, token string) int32 {
	t.Helper()
	id, ok := tok.ID(token)
	if !ok {
		t.Fatalf("tokenizer has no %q", token)
	}
	return int32(id)
}
