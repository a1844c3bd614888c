package model_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func lossOf(t *testing.T, s *model.Spec, logits, labels, weights any) float64 {
	t.Helper()
	exec, err := NewExec(testbackend.New(t), func(logits, labels, weights *Node) *Node {
		return model.Loss(s, logits, labels, weights)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(logits, labels, weights)
	if err != nil {
		t.Fatal(err)
	}
	return float64(tensors.ToScalar[float32](out[0]))
}

// TestLossByHand: mean cross-entropy over the weighted examples; filler rows
// (weight 0, label -1) and IgnoreLabel tokens do not count.
func TestLossByHand(t *testing.T) {
	seq := &model.Spec{Head: model.SequenceClassification}
	ln3 := float32(math.Log(3))
	// Row 0: softmax(0, ln 3) = (1/4, 3/4), label 1: -ln(3/4) = 0.2876821.
	// Row 1: softmax(2, 0), label 0: -ln(e^2/(e^2+1)) = 0.1269280.
	// Row 2: filler (weight 0, label -1).
	got := lossOf(t, seq, [][]float32{{0, ln3}, {2, 0}, {5, -5}}, []int32{1, 0, -1}, []float32{1, 1, 0})
	want := (-math.Log(0.75) + math.Log1p(math.Exp(-2))) / 2
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("classification loss %.7f, want %.7f", got, want)
	}
	// Tokens: [1, 3, 2] logits, labels (1, ignore, 0): mean over the 2 labelled tokens.
	tok := &model.Spec{Head: model.TokenClassification}
	got = lossOf(t, tok, [][][]float32{{{0, ln3}, {9, -9}, {2, 0}}}, [][]int32{{1, model.IgnoreLabel, 0}}, []float32{1})
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("token loss %.7f, want %.7f", got, want)
	}
	// A filler example of a token batch (weight 0) does not count either.
	got = lossOf(t, tok, [][][]float32{{{0, ln3}, {2, 0}}, {{7, -7}, {7, -7}}}, [][]int32{{1, 0}, {1, 1}}, []float32{1, 0})
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("token loss with a filler row %.7f, want %.7f", got, want)
	}
}

func TestMakeBatch(t *testing.T) {
	data := []model.Example{
		{IDs: [][]int32{{3, 7, 4}}, TypeIDs: [][]int32{{0, 0, 0}}, Label: 1},
		{IDs: [][]int32{{3, 8, 9, 10, 4}}, TypeIDs: [][]int32{{0, 0, 0, 1, 1}}, Label: 0},
	}
	b, err := model.MakeBatch(model.SequenceClassification, data, []int{1, 0}, 3, 6)
	if err != nil {
		t.Fatal(err)
	}
	ids := tensors.MustCopyFlatData[int32](b.IDs)
	mask := tensors.MustCopyFlatData[int32](b.Mask)
	types := tensors.MustCopyFlatData[int32](b.TypeIDs)
	wantIDs := []int32{3, 8, 9, 10, 4, 0, 3, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	// The filler row has one unmasked position so no attention row is all-masked.
	wantMask := []int32{1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0}
	wantTypes := []int32{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !slices.Equal(ids, wantIDs) || !slices.Equal(mask, wantMask) || !slices.Equal(types, wantTypes) {
		t.Errorf("ids %v mask %v types %v", ids, mask, types)
	}
	if got := tensors.MustCopyFlatData[int32](b.Labels); !slices.Equal(got, []int32{0, 1, -1}) {
		t.Errorf("labels %v, want [0 1 -1]", got)
	}
	if got := tensors.MustCopyFlatData[float32](b.Weights); !slices.Equal(got, []float32{1, 1, 0}) {
		t.Errorf("weights %v, want [1 1 0]", got)
	}
	if !slices.Equal(b.Indices, []int{1, 0}) {
		t.Errorf("indices %v", b.Indices)
	}
	if _, err := model.MakeBatch(model.SequenceClassification, data, []int{1}, 2, 4); err == nil {
		t.Error("an example longer than the batch length was accepted")
	}
	if _, err := model.MakeBatch(model.SequenceClassification, data, []int{0, 1}, 1, 8); err == nil {
		t.Error("more examples than the batch size were accepted")
	}
	// Tokens: labels padded with IgnoreLabel.
	tokData := []model.Example{{IDs: [][]int32{{3, 7, 4}}, TypeIDs: [][]int32{{0, 0, 0}}, TokenLabels: []int32{model.IgnoreLabel, 2, model.IgnoreLabel}}}
	b, err = model.MakeBatch(model.TokenClassification, tokData, []int{0}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	I := int32(model.IgnoreLabel)
	if got := tensors.MustCopyFlatData[int32](b.Labels); !slices.Equal(got, []int32{I, 2, I, I, I, I, I, I}) {
		t.Errorf("token labels %v", got)
	}
}

func TestPlanEpoch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var data []model.Example
	for range 50 {
		n := 2 + rng.IntN(40)
		data = append(data, model.Example{IDs: [][]int32{make([]int32, n)}, TypeIDs: [][]int32{make([]int32, n)}})
	}
	for _, shuffle := range []bool{false, true} {
		var r1, r2 *rand.Rand
		if shuffle {
			r1, r2 = rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
		}
		p := model.PlanEpoch(data, 8, 16, 48, r1)
		seen := make([]int, len(data))
		for bi, batch := range p.Batches {
			if len(batch) == 0 || len(batch) > 8 {
				t.Errorf("batch %d has %d examples", bi, len(batch))
			}
			for _, i := range batch {
				seen[i]++
				if l := model.BucketLen(data[i].Len(), 16, 48); l != p.SeqLens[bi] {
					t.Errorf("example %d (bucket %d) in a batch of length %d", i, l, p.SeqLens[bi])
				}
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("example %d appears %d times", i, n)
			}
		}
		q := model.PlanEpoch(data, 8, 16, 48, r2)
		if len(q.Batches) != len(p.Batches) {
			t.Fatal("same seed, different plans")
		}
		for i := range p.Batches {
			if !slices.Equal(p.Batches[i], q.Batches[i]) {
				t.Errorf("shuffle=%v: the same seed gave another plan", shuffle)
				break
			}
		}
	}
	if got := model.BucketLen(17, 16, 48); got != 32 {
		t.Errorf("BucketLen(17, 16, 48) = %d, want 32", got)
	}
	if got := model.BucketLen(47, 16, 40); got != 40 {
		t.Errorf("BucketLen(47, 16, 40) = %d, want 40", got)
	}
}

// TestMultipleChoiceForward: the choices of an example are consecutive rows; the
// logits are [B, NumChoices], each the head's score of that (premise, choice) row
// alone.
func TestMultipleChoiceForward(t *testing.T) {
	be := testbackend.New(t)
	ctx := context.New()
	cfg, err := bert.LoadDir(ctx, "../method/testdata/tiny-bert-3l", false)
	if err != nil {
		t.Fatal(err)
	}
	spec := &model.Spec{Backbone: cfg, Method: method.Default(method.APT, cfg.NumHiddenLayers), Head: model.MultipleChoice}
	spec.Method.PrefixLens = []int{2, 0, 1}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 1)
	model.CreateHead(ctx, spec, 2)
	mc := []model.Example{
		{IDs: [][]int32{{3, 11, 4, 12, 4}, {3, 11, 4, 13, 14, 4}}, TypeIDs: [][]int32{{0, 0, 0, 1, 1}, {0, 0, 0, 1, 1, 1}}, Label: 1},
		{IDs: [][]int32{{3, 20, 4, 21, 4}, {3, 20, 4, 22, 4}}, TypeIDs: [][]int32{{0, 0, 0, 1, 1}, {0, 0, 0, 1, 1}}, Label: 0},
	}
	run := func(spec *model.Spec, b *model.Batch) []float32 {
		exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, types, mask *Node) *Node {
			logits, _ := model.Forward(ctx, spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask, NumChoices: b.NumChoices})
			return logits
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(b.IDs, b.TypeIDs, b.Mask)
		if err != nil {
			t.Fatal(err)
		}
		if d := out[0].Shape().Dimensions; len(d) != 2 || d[1] != b.NumChoices {
			t.Fatalf("logits shape %v, want [B, %d]", d, b.NumChoices)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	b, err := model.MakeBatch(model.MultipleChoice, mc, []int{0, 1}, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	got := run(spec, b)
	// Each (premise, choice) row alone, as a one-row "multiple choice" of 1 choice.
	for e, ex := range mc {
		for c := range ex.IDs {
			one := []model.Example{{IDs: [][]int32{ex.IDs[c]}, TypeIDs: [][]int32{ex.TypeIDs[c]}}}
			ob, err := model.MakeBatch(model.MultipleChoice, one, []int{0}, 1, 8)
			if err != nil {
				t.Fatal(err)
			}
			single := run(spec, ob)
			if d := math.Abs(float64(single[0] - got[e*2+c])); d > 1e-5 {
				t.Errorf("example %d choice %d: score %v in the batch, %v alone", e, c, got[e*2+c], single[0])
			}
		}
	}
}
