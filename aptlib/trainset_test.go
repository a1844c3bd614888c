package aptlib

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// methodValues copies every method and head variable's values, by adapter name.
func methodValues(t *testing.T, w *Workbench) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	w.Context().EnumerateVariables(func(v *mlctx.Variable) {
		for _, s := range []string{"prefix", "gate", "layer_scale", "prompt", "head"} {
			if inScope(v.Scope(), s) {
				out[v.ScopeAndName()] = tensors.MustCopyFlatData[float32](v.MustValue())
			}
		}
	})
	if len(out) == 0 {
		t.Fatal("no method variables")
	}
	return out
}

func sameValues(a, b map[string][]float32) string {
	if len(a) != len(b) {
		return "a different set of variables"
	}
	for k, x := range a {
		if !slices.Equal(x, b[k]) {
			return k + " changed"
		}
	}
	return ""
}

func mustSet(t *testing.T, w *Workbench, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if err := w.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSetKeepsTrainedParameters: settings that do not change the parameters'
// shapes keep the trained values (max_len, seed and prefix_dropout used to
// re-create them at random), and training goes on from the same step.
func TestSetKeepsTrainedParameters(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "prefix_len", "2", "train_limit", "64")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	trained := methodValues(t, w)
	for _, kv := range [][2]string{{"max_len", "64"}, {"seed", "7"}, {"prefix_dropout", "0.2"}, {"dropout", "0.3"},
		{"backbone_dropout", "0"}, {"gate_pooling", "cls"}, {"eval_batch_size", "8"}, {"gate_every", "2"},
		{"bucket", "8"}, {"init_std", "0.5"}, {"gate_bias_init", "1"}, {"layer_scale_init", "0.5"}, {"lr", "1e-3"},
		{"train_limit", "48"}, {"protocol", "honest-heldout"}, {"heldout", "0.2"}, {"eval_limit", "16"}, {"prompt_len", "3"}} {
		note, err := w.SetWithNote(kv[0], kv[1])
		if err != nil {
			t.Fatalf("set %s=%s: %v", kv[0], kv[1], err)
		}
		if strings.Contains(note, "discards") {
			t.Errorf("set %s=%s: %s", kv[0], kv[1], note)
		}
		if _, err := w.Eval("dev"); err != nil {
			t.Fatalf("eval after set %s=%s: %v", kv[0], kv[1], err)
		}
		if d := sameValues(trained, methodValues(t, w)); d != "" {
			t.Fatalf("set %s=%s re-created the trained parameters: %s", kv[0], kv[1], d)
		}
		if n := len(w.Losses()); n != 3 {
			t.Fatalf("set %s=%s: the run now has %d steps, want 3", kv[0], kv[1], n)
		}
	}
	if r, err := w.Step(); err != nil || r.Step != 4 {
		t.Fatalf("step after the settings: %+v, %v", r, err)
	}
}

// TestSetSaysWhatItDiscards: a setting that re-creates the parameters says so,
// naming the trained run and the loaded adapter, and the adapter is no longer
// named once its parameters are gone.
func TestSetSaysWhatItDiscards(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "prefix_len", "2", "train_limit", "32")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	w.Log = &log
	if err := w.Set("prefix_len", "3"); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); !strings.Contains(got, "prefix_len=3 discards the apt parameters trained to step 2") {
		t.Errorf("note of set prefix_len after training: %q", got)
	}
	if len(w.Losses()) != 0 {
		t.Errorf("the discarded run still has %d losses", len(w.Losses()))
	}

	w2 := demoBench(t)
	if err := w2.LoadAdapter(path); err != nil {
		t.Fatal(err)
	}
	loaded := methodValues(t, w2)
	for _, kv := range [][2]string{{"max_len", "64"}, {"seed", "3"}, {"prefix_dropout", "0"}} {
		note, err := w2.SetWithNote(kv[0], kv[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w2.Eval("dev"); err != nil {
			t.Fatal(err)
		}
		if d := sameValues(loaded, methodValues(t, w2)); d != "" || w2.Adapter != path {
			t.Fatalf("set %s=%s after load adapter: %s, adapter %q (note %q)", kv[0], kv[1], d, w2.Adapter, note)
		}
	}
	note, err := w2.SetWithNote("method", "pt2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "method=pt2 discards the parameters loaded from the adapter "+path) || !strings.Contains(note, "re-created at random") {
		t.Errorf("note of set method after load adapter: %q", note)
	}
	if w2.Adapter != "" {
		t.Errorf("the workbench still names the adapter %q after discarding it", w2.Adapter)
	}
	// A new value that changes nothing, or a setting the method does not use, keeps them.
	w3 := demoBench(t)
	if err := w3.LoadAdapter(path); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"method", "apt"}, {"prompt_len", "5"}, {"prefix_len", "2"}, {"prefix_len", "2,2,2,2"}} {
		if note, err := w3.SetWithNote(kv[0], kv[1]); err != nil || note != "" || w3.Adapter != path {
			t.Errorf("set %s=%s after load adapter: note %q, err %v, adapter %q", kv[0], kv[1], note, err, w3.Adapter)
		}
	}
}

// TestSettingValidation: every setting is checked at set time by the one
// table, and every message names the setting.
func TestSettingValidation(t *testing.T) {
	w := demoBench(t)
	bad := [][2]string{
		{"lr", "nan"}, {"lr", "inf"}, {"lr", "-inf"}, {"lr", "0"}, {"lr", "-1"}, {"lr", "1e999"},
		{"warmup", "-1"}, {"warmup", "NaN"}, {"weight_decay", "-0.01"}, {"weight_decay", "inf"},
		{"max_grad_norm", "nan"}, {"max_grad_norm", "inf"}, {"max_grad_norm", "0"},
		{"dropout", "1"}, {"dropout", "-0.1"}, {"prefix_dropout", "1.5"}, {"prefix_dropout", "nan"},
		{"backbone_dropout", "1"}, {"backbone_dropout", "-1"}, {"backbone_dropout", "nan"}, {"backbone_dropout", "cfg"},
		{"init_std", "-0.1"}, {"init_std", "inf"}, {"gate_bias_init", "nan"}, {"layer_scale_init", "inf"},
		{"max_len", "0"}, {"max_len", "129"}, {"max_len", "100000"}, {"max_len", "12.5"},
		{"bucket", "0"}, {"batch_size", "0"}, {"eval_batch_size", "0"}, {"gate_every", "0"}, {"epochs", "0"},
		{"epochs", "1.5"}, {"batch_size", "99999999999999999999999"}, {"prompt_len", "0"}, {"seed", "-1"}, {"patience", "-1"}, {"train_limit", "-5"},
		{"heldout", "0"}, {"heldout", "1"}, {"method", "aptt"}, {"gate_pooling", "max"}, {"schedule", "cosine"},
		{"protocol", "best"}, {"prefix_len", "-1"}, {"prefix_len", "1,2"},
	}
	for _, kv := range bad {
		before, _ := w.Get(kv[0])
		err := w.Set(kv[0], kv[1])
		if err == nil {
			t.Errorf("set %s=%s accepted", kv[0], kv[1])
			continue
		}
		if !strings.HasPrefix(err.Error(), kv[0]) || strings.Contains(err.Error(), "\n") {
			t.Errorf("set %s=%s: the error does not start with the setting: %v", kv[0], kv[1], err)
		}
		if now, _ := w.Get(kv[0]); now != before {
			t.Errorf("a refused set %s=%s changed the value from %s to %s", kv[0], kv[1], before, now)
		}
	}
	if err := w.Set("max_len", "129"); err == nil || !strings.Contains(err.Error(), "max_position_embeddings 128") {
		t.Errorf("max_len above the model's positions: %v", err)
	}
	for _, kv := range [][2]string{{"backbone_dropout", "config"}, {"backbone_dropout", "0"}, {"backbone_dropout", "0.3"},
		{"max_len", "128"}, {"max_grad_norm", "-1"}, {"warmup", "0"}, {"warmup", "20"}, {"gate_bias_init", "-2"},
		{"weight_decay", "0"}, {"method", "PT-2"}, {"prefix_len", "1,0,2,3"}} {
		if err := w.Set(kv[0], kv[1]); err != nil {
			t.Errorf("set %s=%s: %v", kv[0], kv[1], err)
		}
	}
	if v, _ := w.Get("method"); v != "pt2" {
		t.Errorf("method after set method=PT-2: %s", v)
	}
	// Every row has a rule text (the shell shows it).
	for _, s := range Settings {
		if s.Valid.Text == "" {
			t.Errorf("setting %s has no validation text", s.Key)
		}
		if _, err := s.Parse(s.DefaultString()); err != nil {
			t.Errorf("setting %s: its default %s is refused: %v", s.Key, s.DefaultString(), err)
		}
	}
}

// TestMaxLenFollowsTheModel: loading a model with fewer positions than max_len
// lowers max_len with a note; an adapter's max_len is checked too.
func TestMaxLenFollowsTheModel(t *testing.T) {
	w := demoBench(t)
	var log bytes.Buffer
	w.Log = &log
	if err := w.LoadModel(filepath.Join("bert", "testdata", "tiny-bert-plain")); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.Get("max_len"); v != "64" {
		t.Errorf("max_len after loading a 64-position model: %s", v)
	}
	if !strings.Contains(log.String(), "max_len 128 exceeds") || !strings.Contains(log.String(), "max_position_embeddings 64") {
		t.Errorf("no note on the lowered max_len: %q", log.String())
	}
	if err := w.Set("max_len", "65"); err == nil || !strings.Contains(err.Error(), "max_len: 65 exceeds the model's 64 positions (max_position_embeddings 64)") {
		t.Errorf("set max_len=65 on a 64-position model: %v", err)
	}
	// The bucket pads at most to max_len: a whole epoch at bucket 1000 runs.
	mustSet(t, w, "bucket", "1000", "prefix_len", "2", "train_limit", "32", "max_len", "64")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 2}); err != nil {
		t.Fatalf("training with a bucket larger than the positions: %v", err)
	}
}

// TestDivergedStepIsNotApplied: the first non-finite step stops the run with
// the state of the last finite step (parameters, moments, random state and
// position); evaluation still works, and a lower lr trains on from there
// exactly as if the refused step had never been tried.
func TestDivergedStepIsNotApplied(t *testing.T) {
	settings := []string{"prefix_len", "2", "train_limit", "64", "warmup", "0", "schedule", "constant", "lr", "1e-2"}
	ref := demoBench(t)
	mustSet(t, ref, settings...)
	if _, err := ref.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, ref, "lr", "2e-2", "lr", "1e-2") // the same trainer rebuild as below
	if _, err := ref.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}

	w := demoBench(t)
	mustSet(t, w, settings...)
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	kept := methodValues(t, w)
	for _, lr := range []string{"1e39", "1e300"} { // the update overflows float32
		mustSet(t, w, "lr", lr)
		_, err := w.Step()
		var div *trainer.DivergedError
		if !errors.As(err, &div) || div.Step != 4 {
			t.Fatalf("lr %s: want a diverged step 4, got %v", lr, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "step 4: the update makes the parameters non-finite (lr "+
			strconv.FormatFloat(div.LR, 'g', -1, 64)+": try a lower lr); the parameters of step 3 are kept") {
			t.Errorf("lr %s: error %q", lr, msg)
		}
		if d := sameValues(kept, methodValues(t, w)); d != "" || len(w.Losses()) != 3 {
			t.Fatalf("lr %s: the refused step changed the state: %s, %d losses", lr, d, len(w.Losses()))
		}
		if _, err := w.Eval("dev"); err != nil {
			t.Fatalf("lr %s: eval after the refused step: %v", lr, err)
		}
	}
	mustSet(t, w, "lr", "1e-2")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatalf("training on with a lower lr: %v", err)
	}
	if !slices.Equal(w.Losses(), ref.Losses()) {
		t.Errorf("losses after the refused steps %v, without them %v", w.Losses(), ref.Losses())
	}

	// A loss or gradient norm that turns NaN stops the run at that step, the
	// parameters being those of the step before.
	for _, lr := range []string{"1e30", "1e10"} {
		w := demoBench(t)
		mustSet(t, w, "prefix_len", "2", "train_limit", "64", "warmup", "0", "lr", lr)
		var before map[string][]float32
		_, err := w.Train(context.Background(), TrainOptions{Steps: 12, OnStep: func(trainer.StepResult) { before = methodValues(t, w) }})
		var div *trainer.DivergedError
		if !errors.As(err, &div) || !strings.Contains(err.Error(), fmt.Sprintf("the parameters of step %d are kept", div.Step-1)) {
			t.Fatalf("lr %s: want a diverged step, got %v", lr, err)
		}
		tr, _ := w.Trainer()
		if tr.StepCount != div.Step-1 || len(w.Losses()) != div.Step-1 {
			t.Fatalf("lr %s: after the refused step %d: step count %d, %d losses", lr, div.Step, tr.StepCount, len(w.Losses()))
		}
		if d := sameValues(before, methodValues(t, w)); d != "" {
			t.Fatalf("lr %s: the refused step changed the parameters: %s", lr, d)
		}
		if _, err := w.Eval("dev"); err != nil {
			t.Fatalf("lr %s: eval after the refused step: %v", lr, err)
		}
	}
}

// TestNonFiniteParametersRefused: eval, predict and the saves refuse NaN
// parameters, naming the tensor, and write nothing.
func TestNonFiniteParametersRefused(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "prefix_len", "2", "train_limit", "32")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 1}); err != nil {
		t.Fatal(err)
	}
	v := w.Context().GetVariableByScopeAndName("/prefix/1", "key")
	if v == nil {
		t.Fatal("no /prefix/1 key variable")
	}
	data := tensors.MustCopyFlatData[float32](v.MustValue())
	data[3] = float32(math.NaN())
	v.MustSetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"text": "a fine film"}`+"\n"), 0o644)
	_, evalErr := w.Eval("dev")
	_, predErr := w.Predict(in, filepath.Join(dir, "out.jsonl"))
	for what, err := range map[string]error{
		"eval": evalErr, "predict": predErr,
		"save adapter":    w.SaveAdapter(filepath.Join(dir, "a.safetensors")),
		"save checkpoint": w.SaveCheckpoint(filepath.Join(dir, "c.ckpt")),
	} {
		if err == nil || !strings.Contains(err.Error(), what+": ") || !strings.Contains(err.Error(), "prefix.1.key has 1 NaN or infinite values") {
			t.Errorf("%s with a NaN parameter: %v", what, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files written with NaN parameters: %v", ents)
	}
}

// TestTrainEndsOnTheBestEpoch: train with no length runs to the end of the
// schedule and ends on the best epoch's state, and says whether it put it
// back; both when the best epoch is an earlier one and when it is the last.
func TestTrainEndsOnTheBestEpoch(t *testing.T) {
	for _, c := range []struct {
		evalLimit string
		restored  bool
	}{{"8", true}, {"16", false}} {
		w := demoBench(t)
		mustSet(t, w, "prefix_len", "2", "train_limit", "64", "eval_limit", c.evalLimit, "epochs", "4", "lr", "3e-2")
		best := map[string][]float32{}
		res, err := w.Train(context.Background(), TrainOptions{OnEpoch: func(r trainer.EpochReport) {
			if r.Best {
				best = methodValues(t, w)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		last := res.Epochs[len(res.Epochs)-1]
		if res.Steps != 16 || len(res.Epochs) != 4 || res.Restored != c.restored || res.Restored != !last.Best {
			t.Fatalf("eval_limit %s: %d steps, %d epochs, restored %v (want %v), last epoch best %v",
				c.evalLimit, res.Steps, len(res.Epochs), res.Restored, c.restored, last.Best)
		}
		if d := sameValues(best, methodValues(t, w)); d != "" {
			t.Fatalf("eval_limit %s: the state after train is not the best epoch's: %s", c.evalLimit, d)
		}
		scores, _ := w.Eval("dev")
		if got := MainScore(w.Task, scores); got != res.BestScore {
			t.Errorf("eval_limit %s: dev score after train %v, best epoch's %v", c.evalLimit, got, res.BestScore)
		}
	}
}

// TestTrainStepsSpansTheSchedule: train n steps on a fresh run makes the
// schedule span n steps; continuing keeps it (lr 0 past its end); setting
// epochs makes it span epochs again; a checkpoint keeps it.
func TestTrainStepsSpansTheSchedule(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "prefix_len", "2", "train_limit", "64", "lr", "1e-2", "warmup", "0.2")
	plan, err := w.PlanTrain(TrainOptions{Steps: 10})
	if err != nil || !plan.NewSchedule || plan.Schedule.Total != 10 || plan.Schedule.Warmup != 2 || plan.RestoreBest {
		t.Fatalf("plan of train 10 steps on a fresh run: %+v, %v", plan, err)
	}
	var lrs []float64
	onStep := func(r trainer.StepResult) { lrs = append(lrs, r.LR) }
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 10, OnStep: onStep}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.005, 0.01, 0.00875, 0.0075, 0.00625, 0.005, 0.00375, 0.0025, 0.00125}
	for i := range want {
		if math.Abs(lrs[i]-want[i]) > 1e-12 {
			t.Fatalf("learning rates of train 10 steps: %v, want %v", lrs, want)
		}
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if err := w.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	plan, _ = w.PlanTrain(TrainOptions{Steps: 3})
	if plan.NewSchedule || plan.Schedule.Total != 10 {
		t.Fatalf("plan of continuing: %+v", plan)
	}
	lrs = nil
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3, OnStep: onStep}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lrs, []float64{0, 0, 0}) {
		t.Errorf("learning rates past the 10-step schedule: %v", lrs)
	}
	if _, err := w.PlanTrain(TrainOptions{}); err == nil || !strings.Contains(err.Error(), "the 10-step schedule is complete (step 13 of 10)") {
		t.Errorf("train after the step schedule: %v", err)
	}
	w2 := demoBench(t)
	if err := w2.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if p, _ := w2.PlanTrain(TrainOptions{Steps: 1}); p.Schedule.Total != 10 {
		t.Errorf("schedule after LoadCheckpoint: %+v", p.Schedule)
	}
	mustSet(t, w, "epochs", "5")
	plan, err = w.PlanTrain(TrainOptions{})
	if err != nil || plan.Schedule.Total != 20 || plan.Steps != 7 || plan.ScheduleEpochs != 5 || !plan.RestoreBest {
		t.Errorf("plan after set epochs=5: %+v, %v", plan, err)
	}
	// A whole-epoch run on a fresh run spans its epochs too.
	w3 := demoBench(t)
	mustSet(t, w3, "prefix_len", "2", "train_limit", "64", "epochs", "3")
	if p, _ := w3.PlanTrain(TrainOptions{Epochs: 5}); p.Schedule.Total != 20 || !p.RestoreBest {
		t.Errorf("plan of train 5 epochs: %+v", p)
	}
}

// TestBackboneDropoutSetting: backbone_dropout defaults to the config's rate,
// changes the training steps, keeps trained parameters, and is saved with adapters.
func TestBackboneDropoutSetting(t *testing.T) {
	firstLoss := func(v string) float64 {
		w := demoBench(t)
		mustSet(t, w, "prefix_len", "2", "train_limit", "32", "backbone_dropout", v)
		r, err := w.Step()
		if err != nil {
			t.Fatal(err)
		}
		return r.Loss
	}
	def, off, half, cfg := firstLoss("config"), firstLoss("0"), firstLoss("0.5"), firstLoss("0.1")
	if def != cfg || off == def || half == def || half == off {
		t.Errorf("first losses: config %v, 0 %v, 0.5 %v, 0.1 (the config's rate) %v", def, off, half, cfg)
	}
	w := demoBench(t)
	if v, _ := w.Get("backbone_dropout"); v != "config" {
		t.Errorf("default backbone_dropout %q", v)
	}
	if h, a := w.BackboneDropout(); h != 0.1 || a != 0.1 {
		t.Errorf("effective backbone dropout %v %v", h, a)
	}
	mustSet(t, w, "prefix_len", "2", "train_limit", "32", "backbone_dropout", "0.25")
	if h, a := w.BackboneDropout(); h != 0.25 || a != 0.25 {
		t.Errorf("effective backbone dropout after set 0.25: %v %v", h, a)
	}
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := w.SaveAdapter(path); err != nil {
		t.Fatal(err)
	}
	a, err := adapter.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Meta.Extra["setting.backbone_dropout"]; got != "0.25" {
		t.Errorf("adapter metadata setting.backbone_dropout = %q", got)
	}
}
