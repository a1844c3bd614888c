package repl

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/metrics"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/viz"
)

// parseCount reads a positive integer argument.
func parseCount(cmd, arg string) (int, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		return 0, usageError(cmd, "%s is not a positive number", printable(arg))
	}
	return n, nil
}

func cmdTrain(ctx context.Context, s *Shell, args []string) error {
	var o aptlib.TrainOptions
	switch len(args) {
	case 0:
	case 1:
		if _, err := strconv.Atoi(args[0]); err == nil {
			return usageError("train", "say %s steps or %s epochs", args[0], args[0])
		}
		return usageError("train", "unexpected %s", printable(args[0]))
	case 2:
		n, err := parseCount("train", args[0])
		if err != nil {
			return err
		}
		switch strings.ToLower(args[1]) {
		case "step", "steps":
			o.Steps = n
		case "epoch", "epochs":
			o.Epochs = n
		default:
			return usageError("train", "%s: say steps or epochs%s", printable(args[1]), didYouMean(args[1], []string{"steps", "epochs"}))
		}
	default:
		return usageError("train", "too many arguments")
	}
	// aptlib decides what the run is (its length, its schedule, whether it ends
	// on the best epoch's state); the shell says it.
	plan, err := s.w.PlanTrain(o)
	if err != nil {
		return err
	}
	steps := plan.Steps
	var what string
	switch {
	case plan.ToEnd && plan.FromStep == 0 && plan.ScheduleEpochs > 0:
		what = fmt.Sprintf("%d epoch%s = %d steps", plan.ScheduleEpochs, plural(plan.ScheduleEpochs), steps)
	case plan.ToEnd && plan.ScheduleEpochs > 0:
		what = fmt.Sprintf("%d steps to the end of the %d-epoch schedule", steps, plan.ScheduleEpochs)
	case plan.ToEnd:
		what = fmt.Sprintf("%d steps to the end of the %d-step schedule", steps, plan.Schedule.Total)
	case plan.Epochs > 0:
		what = fmt.Sprintf("%d epoch%s = %d steps", plan.Epochs, plural(plan.Epochs), steps)
	default:
		what = fmt.Sprintf("%d steps", steps)
	}
	if plan.NewSchedule {
		what += ", the learning-rate schedule spanning them"
	}
	m, pl, lr, bs := mustGet(s.w, method.ParamMethod), mustGet(s.w, method.ParamPrefixLen), mustGet(s.w, trainer.ParamLR), mustGet(s.w, trainer.ParamBatchSize)
	methodText := m
	if method.Kind(m).HasPrefix() {
		methodText += " (prefix_len " + pl + ")"
	}
	from := ""
	if plan.FromStep > 0 {
		from = fmt.Sprintf(", from step %d", plan.FromStep)
	}
	s.printf("training %s on %s: %s, batches of %s, lr %s%s\n", s.bold(methodText), s.taskName(), what, bs, lr, from)
	if sc := plan.Schedule; sc.Kind != "constant" && plan.FromStep+steps > sc.Total {
		spans := fmt.Sprintf("epochs=%s", mustGet(s.w, trainer.ParamEpochs))
		if plan.ScheduleEpochs == 0 {
			spans = fmt.Sprintf("it spans the %d steps the run began with", sc.Total)
		}
		if plan.FromStep >= sc.Total {
			s.note("the linear schedule ended at step %d (%s), so these steps run at lr 0: set epochs higher (or schedule=constant) to train on", sc.Total, spans)
		} else {
			s.note("the linear schedule ends at step %d (%s); steps after it run at lr 0", sc.Total, spans)
		}
	}
	sel := s.w.SelectionSplit()
	o.OnEpoch = func(r trainer.EpochReport) {
		line := fmt.Sprintf("epoch %d  step %d  loss %.4f", r.Epoch+1, r.Step, r.MeanLoss)
		if len(r.Metrics) > 0 {
			line += "  " + sel + " " + s.metricsInline(r.Metrics)
		}
		if r.Best {
			line += "  " + s.green("best")
		}
		line += s.dim(fmt.Sprintf("  (%.1fs)", r.Elapsed.Seconds()))
		if r.Stopped {
			line += "  early stop (patience)"
		}
		s.println(line)
	}
	before := plan.FromStep
	start := time.Now()
	res, err := s.w.Train(ctx, o)
	elapsed := time.Since(start)
	t, terr := s.w.Trainer()
	if err != nil {
		if ctx.Err() != nil && terr == nil {
			s.printf("interrupted at step %d (%d steps this run); the trained state is kept: train or step go on from here\n",
				t.StepCount, t.StepCount-before)
			return ErrInterrupted
		}
		return err
	}
	if terr != nil {
		return terr
	}
	rate := float64(res.Steps) / math.Max(elapsed.Seconds(), 1e-9)
	summary := fmt.Sprintf("done: %d steps in %s (%.1f steps/s), now at step %d", res.Steps, elapsed.Round(100*time.Millisecond), rate, t.StepCount)
	if res.BestEpoch >= 0 && !math.IsInf(res.BestScore, 0) {
		summary += fmt.Sprintf("; best epoch %d, %s score %.4f", res.BestEpoch+1, sel, res.BestScore)
		switch {
		case res.Restored:
			summary += fmt.Sprintf(" (its state was restored: the parameters are those of step %d)", res.BestStep)
		case res.BestStep != t.StepCount:
			summary += fmt.Sprintf(" (not restored: a run of n steps keeps the state of its last step, %d)", t.StepCount)
		}
	}
	g := t.GraphsCompiled()
	summary += fmt.Sprintf("; %d training graph%s compiled", g, plural(g))
	s.println(summary)
	if len(res.Epochs) == 0 {
		s.printf("%s\n", s.dim("no epoch ended, so nothing was evaluated: eval dev scores the current state"))
	}
	if s.w.LastStep != nil {
		if gs := s.gateSummary(s.w.LastStep.Gates); gs != "" {
			s.printf("gates at step %d: %s\n", s.w.LastStep.Step, gs)
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func cmdStep(ctx context.Context, s *Shell, args []string) error {
	n := 1
	if len(args) > 1 {
		return usageError("step", "too many arguments")
	}
	if len(args) == 1 {
		var err error
		if n, err = parseCount("step", args[0]); err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			s.printf("interrupted after %d of %d steps; the trained state is kept\n", i, n)
			return ErrInterrupted
		}
		r, err := s.w.Step()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("step %d  epoch %d  loss %.4f  lr %.3g", r.Step, r.Epoch+1, r.Loss, r.LR)
		if gs := s.gateSummary(r.Gates); gs != "" {
			line += "  " + gs
		}
		s.println(line)
	}
	return nil
}

// gateSummary is the one-line gate view: lambda per layer, and each layer's
// mean alpha as a sparkline on the 0..1 scale. "" for methods without gates.
func (s *Shell) gateSummary(g trainer.GateSnapshot) string {
	kind := method.Kind(mustGet(s.w, method.ParamMethod))
	var parts []string
	if kind.HasLayerGate() && len(g.Lambda) > 0 {
		vals := make([]string, len(g.Lambda))
		for i, v := range g.Lambda {
			vals[i] = "-"
			if !math.IsNaN(v) {
				vals[i] = fmt.Sprintf("%.2f", v)
			}
		}
		parts = append(parts, "lambda "+strings.Join(vals, " "))
	}
	if kind.HasTokenGate() && len(g.Alpha) > 0 {
		means := metrics.RowMeans(g.Alpha)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, row := range g.Alpha {
			if len(row) > 0 {
				lo, hi = math.Min(lo, means[i]), math.Max(hi, means[i])
			}
		}
		a := "alpha " + viz.SparklineRange(means, 0, 1)
		if !math.IsInf(lo, 0) {
			a += s.dim(fmt.Sprintf(" (layer means %.2f..%.2f)", lo, hi))
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, "  ")
}

// metricsInline renders metrics as "accuracy 0.9750 macro_f1 0.9749", the
// task's metrics first.
func (s *Shell) metricsInline(m map[string]float64) string {
	var parts []string
	for _, k := range s.metricOrder(m) {
		parts = append(parts, fmt.Sprintf("%s %.4f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func (s *Shell) metricOrder(m map[string]float64) []string {
	var keys []string
	seen := map[string]bool{}
	if s.w.Task != nil {
		for _, k := range s.w.Task.Metrics {
			if _, ok := m[k]; ok {
				keys = append(keys, k)
				seen[k] = true
			}
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

func cmdEval(ctx context.Context, s *Shell, args []string) error {
	split := "dev"
	if len(args) > 1 {
		return usageError("eval", "give one split")
	}
	if len(args) == 1 {
		split = strings.ToLower(args[0])
		switch split {
		case "train", "dev", "test", "heldout":
		case "val", "valid", "validation":
			split = "dev"
		default:
			return usageError("eval", "unknown split %s%s", printable(args[0]), didYouMean(split, splitNames))
		}
	}
	start := time.Now()
	scores, err := s.w.EvalContext(ctx, split)
	if err != nil {
		return s.interrupted(ctx, err)
	}
	_, exs, _ := s.w.Encoded(split)
	state := fmt.Sprintf("step %d", s.steps())
	if s.steps() == 0 && s.w.Adapter != "" {
		state = "adapter " + filepath.Base(s.w.Adapter)
	} else if s.steps() == 0 {
		state = "untrained"
	}
	s.printf("%s: %d examples, %s %s\n", s.bold(split), len(exs), state, s.dim(fmt.Sprintf("(%.1fs)", time.Since(start).Seconds())))
	t := &table{header: true, right: []bool{false, true}, indent: "  "}
	t.add("metric", "value")
	for _, k := range s.metricOrder(scores) {
		t.add(k, num(scores[k]))
	}
	s.printf("%s", t)
	return nil
}
