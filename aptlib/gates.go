package aptlib

import (
	gocontext "context"
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/metrics"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/viz"
)

// GateReport is what the gates look like now: lambda_i per layer and alpha_i per
// prefix slot, for the last training batch or averaged over a split (and per
// gold label). NaN marks a layer without a layer gate; a nil row a layer without
// a token gate or prefix.
type GateReport struct {
	Method     method.Kind
	PrefixLens []int
	Source     string // "batch (step N)" or "dev (120 examples)"
	Examples   int
	Lambda     []float64
	Alpha      [][]float64
	// AlphaByLabel averages alpha over the examples of each gold label (split sources only).
	AlphaByLabel map[string][][]float64
	// PerExample holds each example's alpha (split sources only): [example][layer][slot].
	PerExample [][][]float32
}

// Gates reports the gates for source "batch" (the last training step's batch)
// or a split name (train, dev, test, heldout), whose examples are run through
// the model.
func (w *Workbench) Gates(source string) (*GateReport, error) {
	return w.GatesContext(gocontext.Background(), source)
}

// GatesContext is Gates that stops between inference batches once ctx is done
// (for a split source) and returns ctx's error.
func (w *Workbench) GatesContext(ctx gocontext.Context, source string) (*GateReport, error) {
	spec, err := w.Spec()
	if err != nil {
		return nil, err
	}
	if !spec.Method.Kind.HasPrefix() {
		return nil, fmt.Errorf("method %s has no gates (use apt, apt_no_token_gate or apt_no_layer_gate; pt2 has prefixes without gates)", spec.Method.Kind)
	}
	if err := w.checkFinite("gates"); err != nil {
		return nil, err
	}
	r := &GateReport{Method: spec.Method.Kind, PrefixLens: spec.Method.PrefixLens}
	if source == "" || source == "batch" {
		if w.LastStep == nil {
			return nil, fmt.Errorf("no training step yet: run step or train first, or ask for a split (gates dev)")
		}
		s := w.LastStep.Gates
		r.Source = fmt.Sprintf("batch (step %d)", w.LastStep.Step)
		r.Examples = w.LastStep.Examples
		r.Lambda, r.Alpha = s.Lambda, s.Alpha
		return r, nil
	}
	split := canonicalSplit(source)
	_, exs, preds, err := w.predictSplit(ctx, split)
	if err != nil {
		return nil, err
	}
	r.Source = fmt.Sprintf("%s (%d examples)", split, len(exs))
	r.Examples = len(exs)
	r.Lambda = preds.Lambda
	r.Alpha = meanAlpha(preds, nil)
	r.AlphaByLabel = map[string][][]float64{}
	for li, name := range w.Task.Labels {
		var idx []int
		for i, ex := range exs {
			if ex.Label == li {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			r.AlphaByLabel[name] = meanAlpha(preds, idx)
		}
	}
	for _, e := range preds.Examples {
		r.PerExample = append(r.PerExample, e.Alpha)
	}
	return r, nil
}

// meanAlpha averages each layer's alpha over the examples idx (nil = all).
func meanAlpha(p *trainer.Predictions, idx []int) [][]float64 {
	if idx == nil {
		idx = make([]int, len(p.Examples))
		for i := range idx {
			idx[i] = i
		}
	}
	if len(idx) == 0 {
		return nil
	}
	layers := len(p.Examples[idx[0]].Alpha)
	out := make([][]float64, layers)
	for l := range layers {
		if p.Examples[idx[0]].Alpha[l] == nil {
			continue
		}
		row := make([]float64, len(p.Examples[idx[0]].Alpha[l]))
		for _, i := range idx {
			for s, v := range p.Examples[i].Alpha[l] {
				row[s] += float64(v)
			}
		}
		for s := range row {
			row[s] /= float64(len(idx))
		}
		out[l] = row
	}
	return out
}

// Effective returns lambda_i * alpha_i per slot (the factor each prefix slot's
// key and value are scaled by); with no token gate, lambda_i for every slot.
func (r *GateReport) Effective() [][]float64 {
	out := make([][]float64, len(r.PrefixLens))
	for l, p := range r.PrefixLens {
		if p == 0 {
			continue
		}
		lam := 1.0
		if l < len(r.Lambda) && !math.IsNaN(r.Lambda[l]) {
			lam = r.Lambda[l]
		}
		row := make([]float64, p)
		for s := range row {
			a := 1.0
			if l < len(r.Alpha) && r.Alpha[l] != nil {
				a = r.Alpha[l][s]
			}
			row[s] = lam * a
		}
		out[l] = row
	}
	return out
}

// LayerScores is each layer's mean lambda_i * alpha_i (NaN without a prefix): the
// per-layer importance the paper reads the gates as, and PT-2*'s input.
func (r *GateReport) LayerScores() []float64 {
	return metrics.RowMeans(r.Effective())
}

func layerLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("layer %d", i)
	}
	return out
}

// AlphaMap is the token gates as a heat map (layers x slots; 0..1).
func (r *GateReport) AlphaMap() viz.GateMap {
	rows := make([][]float64, len(r.PrefixLens))
	for l := range rows {
		if l < len(r.Alpha) && r.Alpha[l] != nil {
			rows[l] = r.Alpha[l]
		} else {
			rows[l] = nanRow(r.PrefixLens[l])
		}
	}
	return viz.GateMap{Title: fmt.Sprintf("token gate alpha, %s, %s", r.Method, r.Source), RowLabels: layerLabels(len(rows)), Values: rows, Min: 0, Max: 1}
}

// EffectiveMap is lambda_i * alpha_i as a heat map.
func (r *GateReport) EffectiveMap() viz.GateMap {
	rows := r.Effective()
	for l := range rows {
		if rows[l] == nil {
			rows[l] = nanRow(r.PrefixLens[l])
		}
	}
	return viz.GateMap{Title: fmt.Sprintf("lambda x alpha, %s, %s", r.Method, r.Source), RowLabels: layerLabels(len(rows)), Values: rows}
}

// LambdaBars is lambda per layer, with the reference line at its initial 1.0.
func (r *GateReport) LambdaBars() viz.Bars {
	return viz.Bars{Title: fmt.Sprintf("layer scale lambda, %s, %s", r.Method, r.Source), Labels: layerLabels(len(r.Lambda)), Values: r.Lambda, Ref: 1}
}

func nanRow(n int) []float64 {
	row := make([]float64, max(n, 1))
	for i := range row {
		row[i] = math.NaN()
	}
	return row
}

// GateHistory returns the recorded gate snapshots of the current run.
func (w *Workbench) GateHistory() []trainer.GateSnapshot {
	if w.trainer == nil {
		return nil
	}
	return w.trainer.History
}

// Losses returns every training step's loss of the current run.
func (w *Workbench) Losses() []float64 {
	if w.trainer == nil {
		return nil
	}
	return w.trainer.Losses
}
