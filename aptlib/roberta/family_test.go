package roberta

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func testbackendNew(t *testing.T) backends.Backend { return testbackend.New(t) }

// TestFamilyRegistered: model_type "roberta" finds this package's Family,
// which loads the tiny checkpoint through the backbone interfaces.
func TestFamilyRegistered(t *testing.T) {
	f, err := backbone.Lookup("roberta")
	if err != nil {
		t.Fatal(err)
	}
	if f.ModelType != ModelType || f.Doc == "" {
		t.Errorf("family %q doc %q", f.ModelType, f.Doc)
	}
	dir := filepath.Join("testdata", "tiny-roberta-prefixed")
	c, err := f.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelType() != "roberta" || c.MaxLen() != 38 {
		t.Errorf("config: model_type %q, MaxLen %d (want roberta, 40-1-1)", c.ModelType(), c.MaxLen())
	}
	// The family's tokenizer is the byte-level BPE with RoBERTa's layout.
	tok, err := f.LoadTokenizer(filepath.Join("..", "bpe", "testdata", "roberta"), c)
	if err != nil {
		t.Fatalf("LoadTokenizer: %v", err)
	}
	if ids, _, _ := tok.EncodePairIDs("a", "b", 16); len(ids) < 6 || ids[0] != int32(mustID(t, tok, "<s>")) || ids[len(ids)-1] != int32(mustID(t, tok, "</s>")) {
		t.Errorf("pair ids %v: want <s> a </s></s> b </s>", ids)
	}
	if err := f.LoadWeights(context.New(), fakeConfig{}, nil, false); err == nil || !strings.Contains(err.Error(), "not a RoBERTa one") {
		t.Errorf("LoadWeights with another family's config: %v", err)
	}
	if err := f.LoadWeights(context.New(), nil, nil, false); err == nil || !strings.Contains(err.Error(), "no config") {
		t.Errorf("LoadWeights without config: %v", err)
	}
}

// fakeConfig is another family's config.
type fakeConfig struct{ backbone.Config }

func (fakeConfig) ModelType() string { return "other" }

// TestPositionIDs checks the position rule on a padded batch by hand:
// pad 1, real tokens from 2 (plus the offset), padding 1.
func TestPositionIDs(t *testing.T) {
	backend := testbackend.New(t)
	ids := [][]int32{{0, 5, 2, 1, 1}, {0, 5, 6, 7, 2}, {1, 0, 5, 2, 1}}
	for _, tc := range []struct {
		offset int
		want   [][]int32
	}{
		{0, [][]int32{{2, 3, 4, 1, 1}, {2, 3, 4, 5, 6}, {1, 2, 3, 4, 1}}},
		{3, [][]int32{{5, 6, 7, 1, 1}, {5, 6, 7, 8, 9}, {1, 5, 6, 7, 1}}},
	} {
		got := MustExecOnce(backend, func(ids *Node) *Node { return PositionIDs(ids, 1, tc.offset) }, ids)
		if g := got.Value().([][]int32); !equal2(g, tc.want) {
			t.Errorf("offset %d: positions %v, want %v", tc.offset, g, tc.want)
		}
	}
}

func equal2(a, b [][]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// TestTooLongIsAnError: T + offset beyond MaxLen fails with a message naming
// the limit and where it comes from rather than reading past the position table.
func TestTooLongIsAnError(t *testing.T) {
	c := tinyConfig(t) // MaxLen 38
	backend := testbackend.New(t)
	ctx := context.New()
	InitRandom(ctx, c, 1, false)
	for _, tc := range []struct{ seqLen, offset int }{{39, 0}, {36, 3}} {
		ids := make([][]int32, 1)
		ids[0] = make([]int32, tc.seqLen)
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids *Node) *Node {
			return Forward(ctx, c, backbone.Inputs{IDs: ids, PositionOffset: tc.offset}, nil).Sequence
		})
		if err == nil {
			_, err = exec.Exec(tensors.FromValue(ids))
		}
		if err == nil || !strings.Contains(err.Error(), "exceeds the model's 38 positions (max_position_embeddings 40 less pad_token_id+1 = 2") {
			t.Errorf("length %d offset %d: want an error about the 38-token limit, got %v", tc.seqLen, tc.offset, err)
		}
	}
}

// TestGradientsAndPrompt: full fine-tuning differentiates through RoBERTa's
// computed positions (the position rows the batch uses get a gradient, row
// pad through the padded tokens, the others none; row 0 is never a position
// with pad 1), and a prompt (PT) of p
// embeddings takes part in the layers while Sequence keeps the T input positions.
func TestGradientsAndPrompt(t *testing.T) {
	c := tinyConfig(t)
	backend := testbackend.New(t)
	ctx := context.New()
	InitRandom(ctx, c, 3, true)
	ids := [][]int32{{0, 10, 11, 2, 1, 1}, {0, 12, 2, 2, 13, 2}}
	const promptLen = 2
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids *Node) []*Node {
		g := ids.Graph()
		hooks := &backbone.Hooks{Prompt: func(e *Node) *Node {
			return BroadcastToDims(Const(g, float32(0.1)), e.Shape().Dimensions[0], promptLen, e.Shape().Dimensions[2])
		}}
		out := Forward(ctx, c, backbone.Inputs{IDs: ids, Mask: ConvertDType(NotEqual(ids, OnesLike(ids)), ids.DType())}, hooks)
		table := bert.Variable(ctx, "embeddings.position_embeddings.weight").ValueGraph(g)
		// Every output position counts, padded ones included (their own rows
		// depend on position pad); weighted along d, as a LayerNorm output with
		// unit gains sums to 0.
		weights := ConvertDType(Iota(g, out.Sequence.Shape(), 2), out.Sequence.DType())
		loss := Add(ReduceAllSum(Mul(out.Sequence, weights)), ReduceAllSum(out.Pooled()))
		grad := Gradient(loss, table)[0]
		rowNorm := ReduceSum(Abs(grad), -1) // [rows]
		seqLen := Scalar(g, dtypes.Int32, out.Sequence.Shape().Dimensions[1])
		hidLen := Scalar(g, dtypes.Int32, out.Hidden[0].Shape().Dimensions[1])
		return []*Node{rowNorm, seqLen, hidLen}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromValue(ids))
	if err != nil {
		t.Fatal(err)
	}
	rows := tensors.MustCopyFlatData[float32](res[0])
	if got, want := res[1].Value().(int32), int32(6); got != want {
		t.Errorf("Sequence has %d positions, want %d", got, want)
	}
	if got, want := res[2].Value().(int32), int32(6+promptLen); got != want {
		t.Errorf("Hidden[0] has %d positions, want %d", got, want)
	}
	// Positions used: pad (1) by padding, 2..7 by real tokens.
	for r, v := range rows {
		used := r >= 1 && r <= 7
		if used != (v != 0) {
			t.Errorf("position row %d: gradient magnitude %g, used by the batch: %v", r, v, used)
		}
	}
}

func mustID(t *testing.T, tok backbone.Tokenizer, token string) int {
	t.Helper()
	id, ok := tok.ID(token)
	if !ok {
		t.Fatalf("tokenizer has no %q", token)
	}
	return id
}
