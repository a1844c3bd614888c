package aptlib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// stopAfter is a context that reports itself cancelled after its Err has
// been asked n times: a Ctrl-C that comes after the first n batches.
type stopAfter struct {
	context.Context
	n, calls atomic.Int32
}

func newStopAfter(n int) *stopAfter {
	c := &stopAfter{Context: context.Background()}
	c.n.Store(int32(n))
	return c
}

func (c *stopAfter) Err() error {
	if c.calls.Add(1) > c.n.Load() {
		return context.Canceled
	}
	return nil
}

// TestInferenceStopsBetweenBatches: eval, gates and predict stop between
// batches when their context is cancelled (at once, or after a few batches),
// return the context's error, write no output (an existing file keeps its
// bytes) and leave the session as it was: the next call gives the results an
// uninterrupted one gives.
func TestInferenceStopsBetweenBatches(t *testing.T) {
	dir := t.TempDir()
	w := demoBench(t)
	for k, v := range map[string]string{"prefix_len": "2", "train_limit": "32", "eval_batch_size": "8"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatal(err)
	}
	wantEval, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	wantGates, err := w.Gates("dev")
	if err != nil {
		t.Fatal(err)
	}
	wantPred := predictFile(t, w, dir, "want.jsonl")
	in := filepath.Join(dir, "in.jsonl")
	var many []byte
	for range 20 { // 40 lines: 5 batches of 8
		many = append(many, predictInput...)
	}
	os.WriteFile(in, many, 0o644)
	existing := filepath.Join(dir, "existing.jsonl")
	os.WriteFile(existing, []byte("keep me\n"), 0o644)
	steps := w.trainer.StepCount

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  func() context.Context
	}{
		{"cancelled", func() context.Context { return cancelled }},
		{"after 2 batches", func() context.Context { return newStopAfter(2) }},
	} {
		ctx := c.ctx()
		if _, err := w.EvalContext(ctx, "dev"); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: EvalContext: %v", c.name, err)
		}
		if sa, ok := ctx.(*stopAfter); ok && sa.calls.Load() != 3 {
			t.Errorf("EvalContext asked the context %d times, want 3 (2 batches, then stop)", sa.calls.Load())
		}
		if _, err := w.GatesContext(c.ctx(), "dev"); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: GatesContext: %v", c.name, err)
		}
		for _, out := range []string{filepath.Join(dir, "new.jsonl"), existing} {
			if _, err := w.PredictContext(c.ctx(), in, out); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: PredictContext to %s: %v", c.name, filepath.Base(out), err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "new.jsonl")); !os.IsNotExist(err) {
			t.Errorf("%s: an interrupted predict created its output (%v)", c.name, err)
		}
		if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
			t.Errorf("%s: an interrupted predict changed an existing output: %q", c.name, b)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			switch e.Name() {
			case "want.jsonl", "in.jsonl", "existing.jsonl":
			default:
				t.Errorf("%s: %s left in the output directory", c.name, e.Name())
			}
		}
	}
	if w.trainer.StepCount != steps {
		t.Errorf("step count %d after the interrupts, was %d", w.trainer.StepCount, steps)
	}
	if got, err := w.Eval("dev"); err != nil || !equalScores(got, wantEval) {
		t.Errorf("eval after the interrupts %v (%v), before %v", got, err, wantEval)
	}
	if got, err := w.Gates("dev"); err != nil || got.Alpha[0][0] != wantGates.Alpha[0][0] || got.Lambda[0] != wantGates.Lambda[0] {
		t.Errorf("gates after the interrupts differ (%v)", err)
	}
	if got := predictFile(t, w, dir, "want2.jsonl"); got != wantPred {
		t.Errorf("predictions after the interrupts:\n%s\nbefore:\n%s", got, wantPred)
	}
}
