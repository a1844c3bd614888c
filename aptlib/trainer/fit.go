package trainer

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	gocontext "github.com/gomlx/gomlx/pkg/ml/context"
)

// Snapshot is a copy of the values of the trainable variables (the state kept
// for the best dev score).
type Snapshot map[*gocontext.Variable]*tensors.Tensor

// TakeSnapshot copies the current values of the trainable variables.
func (t *Trainer) TakeSnapshot() Snapshot {
	s := Snapshot{}
	for _, v := range t.vars {
		s[v] = cloneTensor(v.MustValue())
	}
	return s
}

// Restore sets the trainable variables back to a snapshot.
func (t *Trainer) Restore(s Snapshot) {
	for v, val := range s {
		v.MustSetValue(cloneTensor(val))
	}
}

// EvalFunc evaluates the current model and returns the selection score (higher
// is better) and the metrics to report.
type EvalFunc func() (score float64, metrics map[string]float64, err error)

// EpochReport is what Fit reports after each epoch's evaluation.
type EpochReport struct {
	Epoch    int
	Step     int
	MeanLoss float64
	Score    float64
	Metrics  map[string]float64
	Best     bool // this epoch's score is the best so far (its state is kept)
	Elapsed  time.Duration
	Graphs   int
	Stopped  bool // early stopping triggered after this epoch
}

// FitOptions configure Fit.
type FitOptions struct {
	Steps    int      // stop after this many steps (0 = until the end of Trainer.Opts.Epochs)
	Eval     EvalFunc // evaluated at the end of every epoch (nil = no evaluation, no best-state)
	Patience int      // stop after this many epochs without improvement (0 = never)
	// RestoreBest puts the best-scoring state back when Fit returns (when Eval is set).
	RestoreBest bool
	OnStep      func(StepResult)
	OnEpoch     func(EpochReport)
	// Progress, when non-nil, receives a progress line (rewritten in place with \r)
	// with step, loss, examples/s and time left.
	Progress io.Writer
}

// FitResult summarises a Fit call.
type FitResult struct {
	Steps     int
	BestScore float64
	BestEpoch int
	BestStep  int // the step at the end of the best epoch (0 when none)
	// Restored is true when Fit put the best epoch's state back and that state
	// differs from the one the run ended on (later steps were made after it).
	Restored bool
	Epochs   []EpochReport
	Canceled bool
}

// Fit trains until the step budget or the schedule's epochs are done, evaluating
// at every epoch end, keeping the best state and stopping early by patience.
// Cancelling ctx stops between steps; the trainer keeps all its state (a later
// Fit or Step continues where it stopped) and Fit returns ctx's error with the
// result so far.
func (t *Trainer) Fit(ctx context.Context, o FitOptions) (FitResult, error) {
	res := FitResult{BestScore: math.Inf(-1), BestEpoch: -1}
	total := t.TotalSteps()
	target := total
	if o.Steps > 0 {
		target = t.StepCount + o.Steps
	}
	var best Snapshot
	bad := 0
	start := time.Now()
	startStep := t.StepCount
	examples := 0
	epochLoss, epochSteps := 0.0, 0
	for t.StepCount < target {
		if err := ctx.Err(); err != nil {
			res.Canceled = true
			t.finishProgress(o.Progress)
			return res, err
		}
		r, err := t.Step()
		if err != nil {
			t.finishProgress(o.Progress)
			return res, err
		}
		res.Steps++
		examples += r.Examples
		epochLoss += r.Loss
		epochSteps++
		if o.OnStep != nil {
			o.OnStep(r)
		}
		if o.Progress != nil {
			elapsed := time.Since(start).Seconds()
			done := t.StepCount - startStep
			left := time.Duration(float64(target-t.StepCount) * elapsed / float64(done) * float64(time.Second))
			fmt.Fprintf(o.Progress, "\rstep %d/%d  epoch %d  loss %.4f  %.1f ex/s  %s left   ",
				t.StepCount, target, r.Epoch+1, r.Loss, float64(examples)/elapsed, left.Round(time.Second))
		}
		epochEnd := t.BatchInEpoch >= len(t.planFor(t.Epoch).Batches)
		if !epochEnd {
			continue
		}
		rep := EpochReport{Epoch: t.Epoch, Step: t.StepCount, MeanLoss: epochLoss / float64(epochSteps),
			Elapsed: time.Since(start), Graphs: t.GraphsCompiled(), Score: math.NaN()}
		epochLoss, epochSteps = 0, 0
		if o.Eval != nil {
			t.finishProgress(o.Progress)
			score, metrics, err := o.Eval()
			if err != nil {
				return res, err
			}
			rep.Score, rep.Metrics = score, metrics
			if score > res.BestScore {
				res.BestScore, res.BestEpoch, res.BestStep = score, t.Epoch, t.StepCount
				rep.Best = true
				best = t.TakeSnapshot()
				bad = 0
			} else {
				bad++
			}
			rep.Stopped = o.Patience > 0 && bad >= o.Patience
		}
		res.Epochs = append(res.Epochs, rep)
		if o.OnEpoch != nil {
			o.OnEpoch(rep)
		}
		if rep.Stopped {
			break
		}
	}
	t.finishProgress(o.Progress)
	if o.RestoreBest && best != nil {
		t.Restore(best)
		res.Restored = res.BestStep != t.StepCount
	}
	return res, nil
}

func (t *Trainer) finishProgress(w io.Writer) {
	if w != nil {
		fmt.Fprint(w, "\r"+strings.Repeat(" ", 79)+"\r")
	}
}

func cloneTensor(t *tensors.Tensor) *tensors.Tensor {
	c, err := t.LocalClone()
	if err != nil {
		panic(err)
	}
	return c
}
