package aptlib

import (
	gocontext "context"
	"fmt"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
)

// Training: creating the method's parameters, the trainer, and runs of steps
// or epochs with their plan (PlanTrain).

// prepare (re)creates whatever a setting change invalidated.
func (w *Workbench) prepare() error {
	spec, err := w.Spec()
	if err != nil {
		return err
	}
	if w.needParams {
		if err := w.checkMemory(spec, false); err != nil {
			return err
		}
		seed := uint64(w.intParam(trainer.ParamSeed))
		method.Create(w.ctx, &spec.Method, w.Model.Config.HiddenSize(), seed)
		model.CreateHead(w.ctx, spec, seed+1)
		if !spec.Method.Kind.TrainsBackbone() {
			// A frozen backbone after FT would keep FT's trained weights: reload them.
			if err := w.reloadBackboneIfTrained(); err != nil {
				return err
			}
		}
		trainer.ResetOptimizer(w.ctx)
		w.invalidate(levelRun, 0) // a new run on the new parameters
		w.needParams = false
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
	if !w.needTrainer && w.trainer != nil {
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
	if w.spec.Method.Kind.TrainsBackbone() {
		w.backboneTrained = true
	}
	w.trainer, w.needTrainer = t, false
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
		Steps: plan.Steps, Eval: eval, Patience: w.intParam(keyPatience), RestoreBest: plan.RestoreBest,
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
