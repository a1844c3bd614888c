package nbutil

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/viz"
)

// Run is what a training cell keeps for later cells: enough to compare runs
// and redraw their curves without training again.
type Run struct {
	Name       string
	Method     string
	PrefixLen  string
	Trainable  int // the method's parameters plus the head
	Steps      int
	Seconds    float64
	BestEpoch  int                // 0-based
	Dev        map[string]float64 // after training (best state restored)
	Loss       viz.LinePlot       // training loss per step (and the selection score per epoch)
	EpochSteps []float64          // the step at the end of each epoch
	EpochDev   []map[string]float64
}

// Train runs the `epochs` setting on w, printing one line per epoch with the
// dev metrics, and returns the run's record. Interrupting the kernel stops it
// between two steps; the record is then of the run so far.
func Train(w *aptlib.Workbench, name string) *Run {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := w.Train(ctx, aptlib.TrainOptions{
		OnEpoch: func(e trainer.EpochReport) {
			fmt.Printf("%s epoch %d (step %3d): mean loss %.3f, dev %s\n", name, e.Epoch+1, e.Step, e.MeanLoss, FormatScores(e.Metrics))
		},
	})
	if res.Canceled {
		fmt.Printf("%s: interrupted after %d steps; the record below is of the run so far\n", name, res.Steps)
	} else {
		Must(err)
	}
	r := &Run{Name: name, Steps: res.Steps, Seconds: time.Since(start).Seconds(), BestEpoch: res.BestEpoch}
	r.Method, _ = w.Get("method")
	r.PrefixLen, _ = w.Get("prefix_len")
	r.Trainable = Trainable(w)
	r.Dev, err = w.Eval("dev")
	Must(err)
	r.Loss = w.LossPlot()
	for _, e := range w.EvalHistory {
		r.EpochSteps = append(r.EpochSteps, float64(e.Step))
		r.EpochDev = append(r.EpochDev, e.Metrics)
	}
	best := "no epoch finished"
	if r.BestEpoch >= 0 {
		best = fmt.Sprintf("best epoch %d", r.BestEpoch+1)
	}
	fmt.Printf("%s: %d steps in %.0f s, %s, dev %s\n", name, r.Steps, r.Seconds, best, FormatScores(r.Dev))
	return r
}

// Trainable is the number of parameters the current method trains on the
// loaded model (with the current prefix lengths), head included.
func Trainable(w *aptlib.Workbench) int {
	info, err := w.ModelInfo()
	Must(err)
	m, _ := w.Get("method")
	for _, p := range info.Methods {
		if string(p.Method) == m {
			return p.Trainable
		}
	}
	return 0
}

// MetricPlot is metric per epoch (at the epoch's last step) of the run, for
// viz.LineCompare.
func (r *Run) MetricPlot(metric string) viz.LinePlot {
	s := viz.Series{Name: "dev " + metric}
	for i, m := range r.EpochDev {
		v, ok := m[metric]
		if !ok {
			v = math.NaN()
		}
		s.X, s.Y = append(s.X, r.EpochSteps[i]), append(s.Y, v)
	}
	return viz.LinePlot{Title: "dev " + metric + " per epoch", XLabel: "step", YLabel: metric, Series: []viz.Series{s}}
}

// LossOnly is the run's training-loss curve without the selection score (for
// comparing runs on one scale).
func (r *Run) LossOnly() viz.LinePlot {
	p := r.Loss
	p.Title = "training loss"
	p.Series = p.Series[:1]
	return p
}

// FormatScores prints scores as "accuracy 62.5%, macro_f1 43.5%" in a fixed order.
func FormatScores(s map[string]float64) string {
	out := ""
	for _, k := range []string{"accuracy", "macro_f1", "precision", "recall", "f1", "f1a", "em"} {
		if v, ok := s[k]; ok {
			if out != "" {
				out += ", "
			}
			out += k + " " + Percent(v)
		}
	}
	return out
}
