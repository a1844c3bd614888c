package aptlib

import (
	gocontext "context"
	"math"
	"slices"

	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// Scoring: the inference runner, predictions over a split and the task's
// metrics on them.

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
		p, err := trainer.NewPredictor(w.Backend, w.ctx, w.spec, w.intParam(keyEvalBatchSize), w.intParam(trainer.ParamBucket), w.intParam(trainer.ParamMaxLen))
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
