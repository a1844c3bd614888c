package aptlib

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/internal/testbackend"
)

// demoBench is a workbench with the demo model and task.
func demoBench(t *testing.T) *Workbench {
	t.Helper()
	return benchOn(t, "demo")
}

// benchOn is a workbench on the test backend with model (a directory, a Hub
// id or "demo") and the demo task loaded.
func benchOn(t *testing.T, model string) *Workbench {
	t.Helper()
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LoadModel(model); err != nil {
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

	// Gates: a report for the dev split and for the last batch.
	g, err := w.Gates("dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Lambda) != 4 || len(g.Alpha) != 4 || len(g.Alpha[0]) != 8 || len(g.AlphaByLabel) != 2 {
		t.Fatalf("gate report shapes: lambda %d alpha %d x %d by label %d", len(g.Lambda), len(g.Alpha), len(g.Alpha[0]), len(g.AlphaByLabel))
	}
	if _, err := w.Gates("batch"); err != nil {
		t.Fatal(err)
	}

	// Adapter round trip into a fresh workbench, then identical predictions.
	dir := t.TempDir()
	adapterPath := filepath.Join(dir, "demo.safetensors")
	if err := w.SaveAdapter(adapterPath); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"text": "the plot was really brilliant and fun."}`+"\n"+`{"text": "this show felt dull."}`+"\n"), 0o644)
	if n, err := w.Predict(in, filepath.Join(dir, "out1.jsonl")); err != nil || n != 2 {
		t.Fatalf("predict: %d lines, %v", n, err)
	}
	w2, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.LoadModel("demo"); err != nil {
		t.Fatal(err)
	}
	if err := w2.LoadAdapter(adapterPath); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Predict(in, filepath.Join(dir, "out2.jsonl")); err != nil {
		t.Fatal(err)
	}
	out1, _ := os.ReadFile(filepath.Join(dir, "out1.jsonl"))
	out2, _ := os.ReadFile(filepath.Join(dir, "out2.jsonl"))
	if string(out1) != string(out2) {
		t.Errorf("predictions after reloading the adapter differ:\n%s\n%s", out1, out2)
	}
	var line PredictLine
	json.Unmarshal([]byte(strings.SplitN(string(out1), "\n", 2)[0]), &line)
	if line.Label != "positive" || len(line.Gates.LayerScale) != 4 || len(line.Gates.TokenGate) != 4 {
		t.Errorf("first prediction line: %s", strings.SplitN(string(out1), "\n", 2)[0])
	}
	st, _ := os.Stat(adapterPath)
	t.Logf("adapter %d bytes; prediction: %s", st.Size(), strings.SplitN(string(out1), "\n", 2)[0])
}

// TestTrainCancelKeepsState: cancelling Train between steps returns the
// context's error, keeps the steps done, and a later Train continues.
func TestTrainCancelKeepsState(t *testing.T) {
	w := demoBench(t)
	w.Set("prefix_len", "2")
	w.Set("train_limit", "64")
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err := w.Train(ctx, TrainOptions{Steps: 50, OnStep: func(r trainer.StepResult) {
		steps++
		if steps == 3 {
			cancel()
		}
	}})
	if err != context.Canceled {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	tr, _ := w.Trainer()
	if tr.StepCount != 3 || len(w.Losses()) != 3 {
		t.Fatalf("after cancel: step count %d, %d losses; want 3", tr.StepCount, len(w.Losses()))
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatal(err)
	}
	if tr.StepCount != 5 {
		t.Fatalf("continued to step %d, want 5", tr.StepCount)
	}
}

// TestCheckpointResume: a workbench checkpoint restores settings and state, and
// the resumed run's losses equal those of a run that never stopped.
func TestCheckpointResume(t *testing.T) {
	settings := map[string]string{"prefix_len": "2", "train_limit": "48", "seed": "7", "lr": "2e-2"}
	w := demoBench(t)
	for k, v := range settings {
		w.Set(k, v)
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if err := w.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	want := w.Losses()[3:]

	w2 := demoBench(t) // default settings: the checkpoint must bring its own
	if err := w2.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if v, _ := w2.Get("seed"); v != "7" {
		t.Fatalf("seed after LoadCheckpoint: %s", v)
	}
	if _, err := w2.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	got := w2.Losses()[3:]
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resumed losses %v, uninterrupted %v", got, want)
		}
	}
}

// TestNoRecompilationAfterFirstEpoch: length buckets make every batch shape
// appear in the first epoch; later epochs compile nothing new.
func TestNoRecompilationAfterFirstEpoch(t *testing.T) {
	w := demoBench(t)
	w.Set("prefix_len", "2")
	w.Set("train_limit", "96")
	w.Set("bucket", "8") // demo sentences span several 8-token buckets
	var graphs []int
	if _, err := w.Train(context.Background(), TrainOptions{Epochs: 3, OnEpoch: func(r trainer.EpochReport) { graphs = append(graphs, r.Graphs) }}); err != nil {
		t.Fatal(err)
	}
	if len(graphs) != 3 || graphs[0] < 2 || graphs[1] != graphs[0] || graphs[2] != graphs[0] {
		t.Fatalf("training graphs compiled after each epoch: %v (want several, then no new ones)", graphs)
	}
	t.Logf("graphs after each epoch: %v", graphs)
}
