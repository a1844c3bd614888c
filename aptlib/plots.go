package aptlib

import (
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/metrics"
	"github.com/aptbench/apt/viz"
)

// LossPlot is the training loss per step, with each epoch's selection score when
// there are evaluations.
func (w *Workbench) LossPlot() viz.LinePlot {
	losses := w.Losses()
	s := viz.Series{Name: "training loss"}
	for i, l := range losses {
		s.X = append(s.X, float64(i+1))
		s.Y = append(s.Y, l)
	}
	p := viz.LinePlot{Title: "training loss", XLabel: "step", YLabel: "loss", Series: []viz.Series{s}}
	if len(w.EvalHistory) > 0 {
		m := viz.Series{Name: "selection score (" + w.SelectionSplit() + ")"}
		for _, e := range w.EvalHistory {
			if !math.IsNaN(e.Score) {
				m.X = append(m.X, float64(e.Step))
				m.Y = append(m.Y, e.Score)
			}
		}
		if len(m.X) > 0 {
			p.Series = append(p.Series, m)
			p.Title = "training loss and selection score"
		}
	}
	return p
}

// LambdaPlot is lambda_i over the training steps, one line per layer with a gate.
func (w *Workbench) LambdaPlot() (viz.LinePlot, error) {
	hist := w.GateHistory()
	if len(hist) == 0 {
		return viz.LinePlot{}, fmt.Errorf("no gate history yet: train first")
	}
	steps, values := make([]float64, len(hist)), make([][]float64, len(hist))
	for i, h := range hist {
		steps[i], values[i] = float64(h.Step), h.Lambda
	}
	return viz.Trajectories("layer scale lambda during training", "lambda", steps, layerLabels(len(hist[0].Lambda)), values), nil
}

// AlphaPlot is each layer's batch-mean alpha (averaged over its slots) over the
// training steps.
func (w *Workbench) AlphaPlot() (viz.LinePlot, error) {
	hist := w.GateHistory()
	if len(hist) == 0 {
		return viz.LinePlot{}, fmt.Errorf("no gate history yet: train first")
	}
	steps, values := make([]float64, len(hist)), make([][]float64, len(hist))
	for i, h := range hist {
		steps[i] = float64(h.Step)
		values[i] = metrics.RowMeans(h.Alpha)
	}
	return viz.Trajectories("mean token gate alpha during training", "alpha", steps, layerLabels(len(hist[0].Alpha)), values), nil
}
