package aptlib

import (
	"context"
	"testing"
)

func demoBench(t *testing.T) *Workbench {
	t.Helper()
	t.Setenv("GOMLX_BACKEND", "go")
	w, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	if err := w.LoadTask("demo", ""); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDemoTrainsAPT(t *testing.T) {
	w := demoBench(t)
	for k, v := range map[string]string{"method": "apt", "epochs": "3", "lr": "1e-2", "prefix_len": "8"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	before, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Train(context.Background(), TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := w.Eval("dev")
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := w.Trainer()
	t.Logf("dev before %v after %v; best epoch %d score %.3f; steps %d; graphs %d; losses first %.3f last %.3f",
		before, after, res.BestEpoch, res.BestScore, res.Steps, tr.GraphsCompiled(), tr.Losses[0], tr.Losses[len(tr.Losses)-1])
	if after["accuracy"] < 0.8 {
		t.Errorf("APT on the demo task reached dev accuracy %.3f, want >= 0.8", after["accuracy"])
	}
}
