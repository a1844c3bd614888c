package trainer

import (
	"runtime"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/internal/testbackend"
)

// A batch size far beyond the number of examples (1e8) trains and predicts with
// batches of no more rows than there are examples, without allocating the rest.
func TestHugeBatchSizeIsCapped(t *testing.T) {
	be := testbackend.New(t)
	ctx, spec := setup(t, method.APT, model.SequenceClassification)
	data := synthetic(5, 1, model.SequenceClassification)
	const huge = 100_000_000
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	tr, err := New(be, ctx, spec, data, Options{BatchSize: huge, MaxLen: 16, Bucket: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	if res.Examples != len(data) {
		t.Errorf("step used %d examples, want %d", res.Examples, len(data))
	}
	p, err := NewPredictor(be, ctx, spec, huge, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := p.Predict(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds.Examples) != len(data) {
		t.Fatalf("%d predictions for %d examples", len(preds.Examples), len(data))
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Padding to 1e8 rows of 16 tokens would allocate at least 3 x 6.4 GB.
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<30 {
		t.Errorf("allocated %d bytes for 5 examples", grown)
	}
	for shape := range tr.shapes {
		if shape != "[5 16]" {
			t.Errorf("training batch shape %s, want [5 16]", shape)
		}
	}
}
