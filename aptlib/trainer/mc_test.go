package trainer

import (
	"math"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/internal/testbackend"
)

// TestMultipleChoiceGates: APT on a multiple-choice head trains (the gate
// snapshot weighs each choice row by its example) and an example's predicted
// alpha is the mean of its choices' alphas, whatever else is in the batch.
func TestMultipleChoiceGates(t *testing.T) {
	ctx, spec := setup(t, method.APT, model.MultipleChoice)
	var data []model.Example
	for i, ex := range synthetic(12, 3, model.SequenceClassification) {
		other := synthetic(12, 4, model.SequenceClassification)[i]
		data = append(data, model.Example{IDs: [][]int32{ex.IDs[0], other.IDs[0]},
			TypeIDs: [][]int32{ex.TypeIDs[0], other.TypeIDs[0]}, Label: i % 2})
	}
	backend := testbackend.New(t)
	tr, err := New(backend, ctx, spec, data, Options{BatchSize: 4, MaxLen: 32, Bucket: 32})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Gates.Alpha[0]) != 4 {
		t.Fatalf("batch alpha of layer 0: %v", r.Gates.Alpha[0])
	}
	p, err := NewPredictor(backend, ctx, spec, 4, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	all, err := p.Predict(data)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := p.Predict(data[5:6])
	if err != nil {
		t.Fatal(err)
	}
	for s, v := range alone.Examples[0].Alpha[0] {
		if d := math.Abs(float64(v - all.Examples[5].Alpha[0][s])); d > 1e-6 {
			t.Fatalf("example 5 alpha in a batch %v, alone %v", all.Examples[5].Alpha[0], alone.Examples[0].Alpha[0])
		}
	}
	if len(all.Examples[5].Logits[0]) != 2 {
		t.Fatalf("multiple-choice logits: %v", all.Examples[5].Logits)
	}
}
