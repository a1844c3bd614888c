package aptlib

import (
	gocontext "context"
	"fmt"
	"math"
	"slices"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// methodConfig builds the method configuration from the settings.
func (w *Workbench) methodConfig() (method.Config, error) {
	kind, err := method.ParseKind(w.strParam("method"))
	if err != nil {
		return method.Config{}, err
	}
	L := w.Model.Config.NumHiddenLayers
	c := method.Default(kind, L)
	if kind.HasPrefix() {
		if c.PrefixLens, err = parseLens(w.strParam("prefix_len"), L); err != nil {
			return c, err
		}
	}
	if kind == method.PT {
		c.PromptLen = w.intParam("prompt_len")
	}
	c.GatePooling = w.strParam("gate_pooling")
	c.PrefixDropout = w.floatParam("prefix_dropout")
	c.InitStd = w.floatParam("init_std")
	c.GateBiasInit = w.floatParam("gate_bias_init")
	c.LayerScaleInit = w.floatParam("layer_scale_init")
	return c, c.Validate(L)
}

// Spec returns the model specification for the current model, task and settings.
func (w *Workbench) Spec() (*model.Spec, error) {
	if err := w.needTask(); err != nil {
		return nil, err
	}
	if w.spec != nil {
		return w.spec, nil
	}
	if n, p := w.intParam("max_len"), w.Model.Config.MaxPositionEmbeddings; n > p {
		return nil, fmt.Errorf("max_len: %d exceeds the model's max_position_embeddings %d (set max_len=%d)", n, p, p)
	}
	m, err := w.methodConfig()
	if err != nil {
		return nil, err
	}
	spec := &model.Spec{Bert: w.Model.Config, Method: m, Head: w.Task.Kind,
		NumLabels: len(w.Task.Labels), Dropout: w.floatParam("dropout")}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	w.spec = spec
	return spec, nil
}

// Encoded returns a split encoded with the model's tokenizer at max_len (cached).
// Split names: train, dev, test; with the honest protocol also "heldout" (a part
// of train, which "train" then excludes).
func (w *Workbench) Encoded(split string) (*tasks.Encoded, []model.Example, error) {
	if err := w.needTask(); err != nil {
		return nil, nil, err
	}
	split = canonicalSplit(split)
	if e, ok := w.encoded[split]; ok {
		return e, w.examples[split], nil
	}
	s, err := w.splitExamples(split)
	if err != nil {
		return nil, nil, err
	}
	enc, err := tasks.EncodeExamples(w.Task, s.Examples, w.Model.Tokenizer, w.intParam("max_len"))
	if err != nil {
		return nil, nil, err
	}
	enc.Split = split
	if enc.DroppedWords > 0 {
		fmt.Fprintf(w.log(), "note: %s/%s: %d sentences are longer than max_len %d: their last %d words get no prediction (label O) and count against the scores\n",
			w.Task.Name, split, enc.TruncatedRows, enc.MaxLen, enc.DroppedWords)
	} else if enc.TruncatedRows > 0 {
		fmt.Fprintf(w.log(), "note: %s/%s: %d rows truncated to max_len %d (%d tokens dropped)\n",
			w.Task.Name, split, enc.TruncatedRows, enc.MaxLen, enc.TruncatedTokens)
	}
	exs := toModelExamples(enc)
	w.encoded[split], w.examples[split] = enc, exs
	return enc, exs, nil
}

func canonicalSplit(s string) string {
	switch s {
	case "val", "validation", "valid", "":
		return "dev"
	}
	return s
}

// splitExamples returns a split's examples, applying the honest protocol's
// hold-out and the train_limit / eval_limit settings.
func (w *Workbench) splitExamples(split string) (*tasks.Split, error) {
	s, err := w.rawSplitExamples(split)
	if err != nil {
		return nil, err
	}
	limit := w.intParam("eval_limit")
	if split == "train" {
		limit = w.intParam("train_limit")
	}
	if limit > 0 && limit < len(s.Examples) {
		cut := *s
		cut.Examples = s.Examples[:limit]
		return &cut, nil
	}
	return s, nil
}

func (w *Workbench) rawSplitExamples(split string) (*tasks.Split, error) {
	honest := w.strParam("protocol") == string(tasks.ProtocolHonestHeldOut)
	if honest && (split == "train" || split == "heldout") {
		train, err := w.Task.Split("train")
		if err != nil {
			return nil, err
		}
		part, held, err := tasks.HoldOut(train, w.floatParam("heldout"), int64(w.intParam("seed")))
		if err != nil {
			return nil, err
		}
		if split == "train" {
			return part, nil
		}
		return held, nil
	}
	if split == "heldout" {
		return nil, fmt.Errorf("the heldout split exists with protocol honest-heldout (set protocol=honest-heldout)")
	}
	return w.Task.Split(split)
}

// SelectionSplit is where the best epoch is chosen: dev under P-Tuning v2's
// protocol, the held-out part of train under the honest one.
func (w *Workbench) SelectionSplit() string {
	if w.strParam("protocol") == string(tasks.ProtocolHonestHeldOut) {
		return "heldout"
	}
	return "dev"
}

func toModelExamples(enc *tasks.Encoded) []model.Example {
	n := len(enc.Labels)
	if enc.Kind == tasks.TokenClassification {
		n = len(enc.TokenLabels)
	}
	out := make([]model.Example, n)
	c := enc.NumChoices
	for i := range out {
		ex := model.Example{IDs: enc.IDs[i*c : (i+1)*c], TypeIDs: enc.TypeIDs[i*c : (i+1)*c], Label: -1}
		if i < len(enc.Labels) {
			ex.Label = int(enc.Labels[i])
		}
		if enc.Kind == tasks.TokenClassification {
			ex.TokenLabels = enc.TokenLabels[i]
		}
		out[i] = ex
	}
	return out
}

// trainerOptions builds the trainer's options from the settings.
func (w *Workbench) trainerOptions() trainer.Options {
	warmup := w.floatParam("warmup")
	if warmup == 0 {
		warmup = trainer.NoWarmup // the trainer reads 0 as "the default"
	}
	return trainer.Options{
		BatchSize: w.intParam("batch_size"), MaxLen: w.intParam("max_len"), Bucket: w.intParam("bucket"),
		Epochs: w.intParam("epochs"), LR: w.floatParam("lr"), WeightDecay: w.floatParam("weight_decay"),
		Warmup: warmup, Schedule: w.strParam("schedule"), MaxGradNorm: w.floatParam("max_grad_norm"),
		Seed: uint64(w.intParam("seed")), GateEvery: w.intParam("gate_every"),
		ScheduleSteps: w.scheduleSteps,
	}
}

// prepare (re)creates whatever a setting change invalidated.
func (w *Workbench) prepare() error {
	spec, err := w.Spec()
	if err != nil {
		return err
	}
	if w.fresh {
		if err := w.checkMemory(spec, false); err != nil {
			return err
		}
		seed := uint64(w.intParam("seed"))
		method.Create(w.ctx, &spec.Method, w.Model.Config.HiddenSize, seed)
		model.CreateHead(w.ctx, spec, seed+1)
		if spec.Method.Kind != method.FT {
			// A frozen backbone after FT would keep FT's trained weights: reload them.
			if err := w.reloadBackboneIfTrained(); err != nil {
				return err
			}
		}
		trainer.ResetOptimizer(w.ctx)
		w.trainer = nil
		w.fresh, w.stale = false, true
		w.predictor = nil
		w.LastStep = nil
		w.EvalHistory = nil
		w.scheduleSteps = 0
	}
	return nil
}

// Trainer returns the current trainer, building it if settings changed.
func (w *Workbench) Trainer() (*trainer.Trainer, error) {
	if err := w.checkTrainingMemory(); err != nil {
		return nil, err
	}
	if err := w.prepare(); err != nil {
		return nil, err
	}
	if !w.stale && w.trainer != nil {
		return w.trainer, nil
	}
	_, train, err := w.Encoded("train")
	if err != nil {
		return nil, err
	}
	old := w.trainer
	t, err := trainer.New(w.Backend, w.ctx, w.spec, train, w.trainerOptions())
	if err != nil {
		return nil, err
	}
	if old != nil { // a settings change mid-run: keep the record of the run so far
		t.Losses, t.History, t.StepCount = old.Losses, old.History, old.StepCount
		t.Epoch, t.BatchInEpoch = old.Epoch, old.BatchInEpoch
	}
	if w.spec.Method.Kind == method.FT {
		w.backboneTrained = true
	}
	w.trainer, w.stale = t, false
	return t, nil
}

// Step trains one batch.
func (w *Workbench) Step() (trainer.StepResult, error) {
	t, err := w.Trainer()
	if err != nil {
		return trainer.StepResult{}, err
	}
	r, err := t.Step()
	if err == nil {
		w.LastStep = &r
	}
	return r, err
}

// TrainOptions say how long Train runs.
type TrainOptions struct {
	Steps  int // this many steps; or
	Epochs int // this many epochs; both 0: to the end of the run's schedule
	// OnStep and OnEpoch, when set, see every step and every evaluation.
	OnStep  func(trainer.StepResult)
	OnEpoch func(trainer.EpochReport)
}

// TrainPlan is what Train will do with some TrainOptions (PlanTrain).
type TrainPlan struct {
	Steps    int // steps to run
	FromStep int // the step the run is at
	// ToEnd: no length was given, the run goes to the end of its schedule.
	ToEnd bool
	// Epochs is the number of whole epochs asked for (TrainOptions.Epochs), or 0.
	Epochs int
	// RestoreBest: the run ends on its best-scoring evaluated state (whole-epoch
	// runs and runs to the end of the schedule); a run of n steps ends where it stopped.
	RestoreBest bool
	// NewSchedule: this run starts the schedule, which spans its Steps.
	NewSchedule bool
	// Schedule is the learning-rate schedule the steps follow; ScheduleEpochs
	// is its length in epochs when it is the epochs setting's, else 0.
	Schedule       trainer.Schedule
	ScheduleEpochs int
	StepsPerEpoch  int
}

// PlanTrain says what Train(o) would do, without training. The rules: with no
// length, Train runs to the end of the current schedule and ends on the best
// evaluated state. `n steps` (or `n epochs`) on a fresh run (step 0) makes the
// schedule span those steps, as HF Trainer's max_steps overrides its epochs;
// on a run already under way the schedule stays, and steps past its end run at
// learning rate 0 with the linear schedule (set epochs to span epochs again).
// A run of n epochs ends on its best evaluated state, a run of n steps where
// it stopped.
func (w *Workbench) PlanTrain(o TrainOptions) (TrainPlan, error) {
	if o.Steps < 0 || o.Epochs < 0 || (o.Steps > 0 && o.Epochs > 0) {
		return TrainPlan{}, fmt.Errorf("train: give a number of steps or of epochs (got steps %d, epochs %d)", o.Steps, o.Epochs)
	}
	t, err := w.Trainer()
	if err != nil {
		return TrainPlan{}, err
	}
	per := t.StepsPerEpoch()
	p := TrainPlan{FromStep: t.StepCount, StepsPerEpoch: per, Epochs: o.Epochs}
	scheduleSteps := t.Opts.ScheduleSteps
	switch {
	case o.Steps > 0:
		p.Steps = o.Steps
	case o.Epochs > 0:
		p.Steps, p.RestoreBest = o.Epochs*per, true
	default:
		total := t.TotalSteps()
		if t.StepCount >= total {
			if scheduleSteps > 0 {
				return p, fmt.Errorf("train: the %d-step schedule is complete (step %d of %d); set epochs (the schedule then spans that many epochs), or say train N steps",
					total, t.StepCount, total)
			}
			return p, fmt.Errorf("train: the %d-epoch schedule is complete (step %d of %d); set epochs higher to go on (e.g. set epochs=%d), or say train N steps",
				t.Opts.Epochs, t.StepCount, total, 2*t.Opts.Epochs)
		}
		p.Steps, p.ToEnd, p.RestoreBest = total-t.StepCount, true, true
	}
	if !p.ToEnd && t.StepCount == 0 && p.Steps != per*t.Opts.Epochs {
		scheduleSteps, p.NewSchedule = p.Steps, true
	}
	opts := t.Opts
	opts.ScheduleSteps = scheduleSteps
	p.Schedule = scheduleOf(opts, per)
	if scheduleSteps == 0 {
		p.ScheduleEpochs = t.Opts.Epochs
	}
	return p, nil
}

// scheduleOf is the trainer's Schedule for options o and steps per epoch.
func scheduleOf(o trainer.Options, per int) trainer.Schedule {
	total := per * o.Epochs
	if o.ScheduleSteps > 0 {
		total = o.ScheduleSteps
	}
	return o.ScheduleOver(total)
}

// Train runs steps or epochs (see PlanTrain for what each means), evaluating
// on the selection split at every epoch end and stopping early by `patience`.
// The result says whether the best epoch's state was put back (Restored);
// PlanTrain, called before, says what the run will be.
// Cancelling ctx stops between steps with the state kept. A step whose loss
// is not finite stops the run with the last finite step's state kept.
func (w *Workbench) Train(ctx gocontext.Context, o TrainOptions) (trainer.FitResult, error) {
	plan, err := w.PlanTrain(o)
	if err != nil {
		return trainer.FitResult{}, err
	}
	t, err := w.Trainer()
	if err != nil {
		return trainer.FitResult{}, err
	}
	if plan.NewSchedule {
		w.scheduleSteps = plan.Schedule.Total
		t.Opts.ScheduleSteps = plan.Schedule.Total
	}
	sel := w.SelectionSplit()
	var eval trainer.EvalFunc
	if _, err := w.splitExamples(sel); err == nil {
		eval = func() (float64, map[string]float64, error) {
			scores, err := w.EvalContext(ctx, sel) // Ctrl-C stops an epoch-end evaluation too
			if err != nil {
				return 0, nil, err
			}
			return MainScore(w.Task, scores), scores, nil
		}
	}
	res, err := t.Fit(ctx, trainer.FitOptions{
		Steps: plan.Steps, Eval: eval, Patience: w.intParam("patience"), RestoreBest: plan.RestoreBest,
		OnStep: func(r trainer.StepResult) {
			w.LastStep = &r
			if o.OnStep != nil {
				o.OnStep(r)
			}
		},
		OnEpoch: func(r trainer.EpochReport) {
			w.EvalHistory = append(w.EvalHistory, r)
			if o.OnEpoch != nil {
				o.OnEpoch(r)
			}
		},
		Progress: w.Log,
	})
	return res, err
}

// MainScore is the number model selection maximises: the mean of the task's
// metrics (e.g. CB: accuracy and macro-F1; MultiRC: F1a and EM; NER: F1).
func MainScore(t *tasks.Task, s tasks.Scores) float64 {
	if f, ok := s["f1"]; ok && t.Kind == tasks.TokenClassification {
		return f
	}
	sum, n := 0.0, 0
	for _, m := range t.Metrics {
		if v, ok := s[m]; ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Predictor returns the inference runner for the current state.
func (w *Workbench) Predictor() (*trainer.Predictor, error) {
	if err := w.prepare(); err != nil {
		return nil, err
	}
	if w.predictor == nil {
		if err := w.checkMemory(w.spec, false); err != nil {
			return nil, err
		}
		p, err := trainer.NewPredictor(w.Backend, w.ctx, w.spec, w.intParam("eval_batch_size"), w.intParam("bucket"), w.intParam("max_len"))
		if err != nil {
			return nil, err
		}
		w.predictor = p
	}
	return w.predictor, nil
}

// predictSplit runs the model over a split's examples, stopping between
// batches once ctx is done.
func (w *Workbench) predictSplit(ctx gocontext.Context, split string) (*tasks.Encoded, []model.Example, *trainer.Predictions, error) {
	enc, exs, err := w.Encoded(split)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := w.Predictor()
	if err != nil {
		return nil, nil, nil, err
	}
	preds, err := p.PredictContext(ctx, exs)
	return enc, exs, preds, err
}

// Eval scores a split (train, dev, test or heldout) with the task's metrics.
func (w *Workbench) Eval(split string) (tasks.Scores, error) {
	return w.EvalContext(gocontext.Background(), split)
}

// EvalContext is Eval that stops between inference batches once ctx is done
// and returns ctx's error (nothing in the session changes).
func (w *Workbench) EvalContext(ctx gocontext.Context, split string) (tasks.Scores, error) {
	if err := w.checkFinite("eval"); err != nil {
		return nil, err
	}
	split = canonicalSplit(split)
	enc, _, preds, err := w.predictSplit(ctx, split)
	if err != nil {
		return nil, err
	}
	s, err := w.splitExamples(split)
	if err != nil {
		return nil, err
	}
	if w.Task.Kind == tasks.TokenClassification {
		words, err := wordPredictions(w.Task, enc, preds)
		if err != nil {
			return nil, err
		}
		scores, _, err := tasks.EvaluateWordExamples(w.Task, s.Examples, words)
		return scores, err
	}
	labels := make([]int, len(preds.Examples))
	for i, p := range preds.Examples {
		labels[i] = argmax(p.Logits[0])
	}
	return tasks.EvaluateExamples(w.Task, s.Examples, labels)
}

func wordPredictions(t *tasks.Task, enc *tasks.Encoded, preds *trainer.Predictions) ([][]int, error) {
	fill := slices.Index(t.Labels, "O")
	if fill < 0 {
		fill = 0
	}
	out := make([][]int, len(preds.Examples))
	for i, p := range preds.Examples {
		tok := make([]int, len(p.Logits))
		for j, row := range p.Logits {
			tok[j] = argmax(row)
		}
		words, err := enc.WordPredictions(i, tok, fill)
		if err != nil {
			return nil, err
		}
		out[i] = words
	}
	return out, nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
