// Package trainer trains a model (package model) one step at a time: AdamW with
// decay only on weight matrices, a linear (or constant) schedule with warm-up,
// global-norm gradient clipping, length-bucketed batches, seeded runs that repeat
// exactly on the pure-Go backend, gate snapshots at every step, evaluation with
// the best state kept, early stopping, cancellation between steps and resumable
// checkpoints.
package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/model"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// GateSnapshot is the gates' state at one step: Lambda[i] is lambda_i (NaN
// without a layer gate or a prefix at layer i); Alpha[i] the mean over the
// batch's examples of alpha_i, p_i values (nil without a token gate or prefix).
type GateSnapshot struct {
	Step   int
	Lambda []float64
	Alpha  [][]float64
}

// StepResult is what one Step returns.
type StepResult struct {
	Step     int     // 1-based number of the update just made
	Epoch    int     // 0-based epoch it belongs to
	Loss     float64 // the batch's mean loss before the update
	GradNorm float64 // global gradient norm before clipping
	LR       float64 // learning rate used
	Examples int     // real examples in the batch
	Gates    GateSnapshot
}

// Trainer holds a run's state. Its exported fields are read-only for callers.
type Trainer struct {
	Backend backends.Backend
	Ctx     *context.Context
	Spec    *model.Spec
	Opts    Options

	train     []model.Example
	exec      *context.Exec
	vars      []*context.Variable
	shapes    map[string]bool
	plan      model.Plan
	planEpoch int

	stepsPerEpoch int // cached by StepsPerEpoch

	// Position: the next batch is plan.Batches[BatchInEpoch] of epoch Epoch.
	StepCount    int
	Epoch        int
	BatchInEpoch int

	Losses  []float64      // every step's loss
	History []GateSnapshot // gate snapshots every Opts.GateEvery steps
}

// New prepares a trainer: the backbone, method and head variables must already be
// in ctx (the family's LoadWeights / InitRandom, method.Create, model.CreateHead). The
// backbone is frozen unless the method is FT.
func New(backend backends.Backend, ctx *context.Context, spec *model.Spec, train []model.Example, opts Options) (*Trainer, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, errors.New("trainer: no training examples")
	}
	opts = opts.Defaults()
	family, err := spec.Family()
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	family.SetTrainable(ctx, spec.Backbone, spec.Method.Kind.TrainsBackbone())
	if err := ctx.SetRNGStateFromSeed(int64(opts.Seed)); err != nil {
		return nil, err
	}
	t := &Trainer{Backend: backend, Ctx: ctx, Spec: spec, Opts: opts, train: train, shapes: map[string]bool{}, planEpoch: -1}
	t.vars = TrainableVariables(ctx)
	if len(t.vars) == 0 {
		return nil, errors.New("trainer: no trainable variables (did you create the method and head?)")
	}
	exec, err := context.NewExec(backend, ctx, t.trainGraph)
	if err != nil {
		return nil, err
	}
	exec.SetMaxCache(256)
	t.exec = exec
	return t, nil
}

// TrainableVariables lists the context's trainable variables (sorted by scope and
// name, as the context enumerates them), leaving out optimizer state.
func TrainableVariables(ctx *context.Context) []*context.Variable {
	var vars []*context.Variable
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Trainable && !strings.HasPrefix(v.Scope(), "/"+ScopeOptimizer) {
			vars = append(vars, v)
		}
	})
	return vars
}

// StepsPerEpoch is the number of batches of one epoch.
// It is computed once (Step asks for the schedule at every step).
func (t *Trainer) StepsPerEpoch() int {
	if t.stepsPerEpoch == 0 {
		t.stepsPerEpoch = len(model.PlanEpoch(t.train, t.Opts.BatchSize, t.Opts.Bucket, t.Opts.MaxLen, nil).Batches)
	}
	return t.stepsPerEpoch
}

// TotalSteps is the length of the schedule: Opts.ScheduleSteps, or Epochs epochs.
func (t *Trainer) TotalSteps() int {
	if t.Opts.ScheduleSteps > 0 {
		return t.Opts.ScheduleSteps
	}
	return t.StepsPerEpoch() * t.Opts.Epochs
}

// Schedule is the run's learning-rate schedule.
func (t *Trainer) Schedule() Schedule {
	return t.Opts.ScheduleOver(t.TotalSteps())
}

// ScheduleOver is the learning-rate schedule of these options over total steps.
func (o Options) ScheduleOver(total int) Schedule {
	warm := 0
	switch {
	case o.Warmup >= 1:
		warm = int(o.Warmup)
	case o.Warmup > 0:
		warm = int(math.Ceil(o.Warmup * float64(total)))
	}
	return Schedule{Peak: o.LR, Warmup: warm, Total: total, Kind: o.Schedule}
}

// GraphsCompiled is the number of distinct training-graph shapes built so far.
func (t *Trainer) GraphsCompiled() int { return len(t.shapes) }

// planFor returns epoch e's batch order, derived from (Seed, e) alone so that a
// resumed run sees the same batches.
func (t *Trainer) planFor(e int) model.Plan {
	if t.planEpoch != e {
		rng := rand.New(rand.NewPCG(t.Opts.Seed, uint64(e)+1))
		t.plan = model.PlanEpoch(t.train, t.Opts.BatchSize, t.Opts.Bucket, t.Opts.MaxLen, rng)
		t.planEpoch = e
	}
	return t.plan
}

// Step trains on the next batch and returns its loss and a gate snapshot.
func (t *Trainer) Step() (StepResult, error) {
	plan := t.planFor(t.Epoch)
	if t.BatchInEpoch >= len(plan.Batches) {
		t.Epoch++
		t.BatchInEpoch = 0
		plan = t.planFor(t.Epoch)
	}
	idx, seqLen := plan.Batches[t.BatchInEpoch], plan.SeqLens[t.BatchInEpoch]
	// A batch is padded to the batch size, but never to more rows than there are
	// examples: batch_size=1e8 on a small set must not allocate 1e8 rows.
	batch, err := model.MakeBatch(t.Spec.Head, t.train, idx, min(t.Opts.BatchSize, len(t.train)), seqLen)
	if err != nil {
		return StepResult{}, err
	}
	lr := t.Schedule().LR(t.StepCount)
	t.shapes[fmt.Sprint(batch.IDs.Shape().Dimensions)] = true
	outs, err := t.exec.Exec(batch.IDs, batch.TypeIDs, batch.Mask, batch.Labels, batch.Weights,
		tensors.FromScalar(float32(lr)), tensors.FromScalar(float32(t.StepCount+1)))
	if err != nil {
		return StepResult{}, fmt.Errorf("trainer: step %d: %w", t.StepCount+1, err)
	}
	res := StepResult{
		Step: t.StepCount + 1, Epoch: t.Epoch, LR: lr, Examples: len(idx),
		Loss:     float64(tensors.ToScalar[float32](outs[0])),
		GradNorm: float64(tensors.ToScalar[float32](outs[1])),
	}
	res.Gates = t.decodeGates(outs[3:], res.Step)
	if committed := tensors.ToScalar[bool](outs[2]); !committed || !finite(res.Loss) || !finite(res.GradNorm) {
		return res, t.divergedError(res)
	}
	t.StepCount++
	t.BatchInEpoch++
	t.Losses = append(t.Losses, res.Loss)
	if t.StepCount%t.Opts.GateEvery == 0 {
		t.History = append(t.History, res.Gates)
	}
	return res, nil
}

func (t *Trainer) decodeGates(outs []*tensors.Tensor, step int) GateSnapshot {
	alpha, lambda := t.Spec.Method.GateLayout()
	snap := GateSnapshot{Step: step, Lambda: make([]float64, len(lambda)), Alpha: make([][]float64, len(alpha))}
	k := 0
	for i := range alpha {
		if alpha[i] {
			snap.Alpha[i] = toFloat64(tensors.MustCopyFlatData[float32](outs[k]))
			k++
		}
	}
	for i := range lambda {
		snap.Lambda[i] = math.NaN()
		if lambda[i] {
			snap.Lambda[i] = float64(tensors.ToScalar[float32](outs[k]))
			k++
		}
	}
	return snap
}

func toFloat64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// trainGraph: inputs ids, types, mask, labels, weights, lr, step; outputs loss,
// gradient norm, whether the update was committed (all finite), then the batch-mean alpha_i of each gated layer, then each lambda_i.
func (t *Trainer) trainGraph(ctx *context.Context, in []*Node) []*Node {
	g := in[0].Graph()
	ctx.SetTraining(g, true)
	ids, types, mask, labels, weights, lr, step := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
	numChoices := 1
	if t.Spec.Head == model.MultipleChoice {
		numChoices = ids.Shape().Dimensions[0] / weights.Shape().Dimensions[0]
	}
	// The random-number state before the step: a refused (non-finite) step puts it back too.
	rngVar := ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
	var rngBefore *Node
	if rngVar != nil {
		rngBefore = rngVar.ValueGraph(g)
	}
	logits, gates := model.Forward(ctx, t.Spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask, NumChoices: numChoices})
	loss := model.Loss(t.Spec, logits, labels, weights)
	nodes := make([]*Node, len(t.vars))
	for i, v := range t.vars {
		nodes[i] = v.ValueGraph(g)
	}
	grads := Gradient(loss, nodes...)
	opt := AdamW{Beta1: t.Opts.Beta1, Beta2: t.Opts.Beta2, Epsilon: t.Opts.Epsilon, WeightDecay: t.Opts.WeightDecay}
	norm, ok := opt.update(ctx, t.vars, grads, lr, step, loss, t.Opts.MaxGradNorm)
	if rngVar != nil {
		if after := rngVar.ValueGraph(g); after != rngBefore {
			rngVar.SetValueGraph(Where(BroadcastToDims(ok, after.Shape().Dimensions...), after, rngBefore))
		}
	}
	outs := []*Node{loss, norm, ok}
	// alpha has one row per encoder row: numChoices rows per example for
	// multiple choice. Weigh each row by its example's weight.
	rowWeights := weights
	if numChoices > 1 {
		b := weights.Shape().Dimensions[0]
		rowWeights = Reshape(BroadcastToDims(InsertAxes(weights, -1), b, numChoices), b*numChoices)
	}
	count := Max(ReduceAllSum(rowWeights), ScalarOne(g, weights.DType()))
	for _, a := range gates.Alpha {
		if a != nil {
			outs = append(outs, Div(ReduceSum(Mul(a, InsertAxes(rowWeights, -1)), 0), count))
		}
	}
	for _, l := range gates.Lambda {
		if l != nil {
			outs = append(outs, l)
		}
	}
	return outs
}

func nan() float64 { return math.NaN() }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// DivergedError is Step's error for a step whose loss, gradient norm or
// update is not finite. The step was not applied: the parameters, the AdamW
// moments and the position in the data are those after the previous step, so
// the run continues (e.g. after lowering the learning rate) from there.
type DivergedError struct {
	Step     int     // the step that was refused (1-based)
	Loss     float64 // its loss
	GradNorm float64 // its gradient norm
	LR       float64 // the peak learning rate of the run
}

func (e *DivergedError) Error() string {
	what := fmt.Sprintf("loss is %v", e.Loss)
	switch {
	case finite(e.Loss) && !finite(e.GradNorm):
		what = fmt.Sprintf("the gradient norm is %v", e.GradNorm)
	case finite(e.Loss):
		what = "the update makes the parameters non-finite"
	}
	kept := fmt.Sprintf("the parameters of step %d are kept", e.Step-1)
	if e.Step == 1 {
		kept = "the initial parameters are kept"
	}
	return fmt.Sprintf("trainer: step %d: %s (lr %s: try a lower lr); %s",
		e.Step, what, strconv.FormatFloat(e.LR, 'g', -1, 64), kept)
}

func (t *Trainer) divergedError(r StepResult) error {
	return &DivergedError{Step: r.Step, Loss: r.Loss, GradNorm: r.GradNorm, LR: t.Opts.LR}
}
