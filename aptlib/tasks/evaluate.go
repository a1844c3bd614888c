package tasks

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/metrics"
)

// Scores maps metric names (package metrics) to values in [0, 1].
type Scores map[string]float64

// Evaluate scores predictions on a split of a sequence-classification or
// multiple-choice task: pred[i] is the predicted label index of example i (for
// multiple choice, the chosen choice). It reports t.Metrics.
func Evaluate(t *Task, split string, pred []int) (Scores, error) {
	s, err := t.Split(split)
	if err != nil {
		return nil, err
	}
	return EvaluateExamples(t, s.Examples, pred)
}

// EvaluateExamples is Evaluate on a list of examples (e.g. a HoldOut part).
func EvaluateExamples(t *Task, exs []Example, pred []int) (Scores, error) {
	if t.Kind == TokenClassification {
		return nil, fmt.Errorf("%s: token classification is scored with EvaluateWords", t.Name)
	}
	if len(pred) != len(exs) {
		return nil, fmt.Errorf("%s: %d predictions for %d examples", t.Name, len(pred), len(exs))
	}
	gold := make([]int, len(exs))
	for i, ex := range exs {
		if ex.LabelIndex < 0 {
			return nil, fmt.Errorf("%s: example %s (line %d) has no label: an unlabeled split cannot be scored", t.Name, ex.ID, ex.Line)
		}
		if pred[i] < 0 || pred[i] >= len(t.Labels) {
			return nil, fmt.Errorf("%s: prediction %d for example %s is not a label index (0..%d)", t.Name, pred[i], ex.ID, len(t.Labels)-1)
		}
		gold[i] = ex.LabelIndex
	}
	out := Scores{}
	for _, m := range t.Metrics {
		switch m {
		case metrics.Accuracy:
			v, err := metrics.AccuracyScore(gold, pred)
			if err != nil {
				return nil, err
			}
			out[m] = v
		case metrics.MacroF1:
			v, err := metrics.MacroF1Score(gold, pred)
			if err != nil {
				return nil, err
			}
			out[m] = v
		case metrics.F1a, metrics.EM:
			if _, done := out[m]; done {
				continue
			}
			groups := make([]string, len(exs))
			for i, ex := range exs {
				groups[i] = ex.Group
			}
			// MultiRC labels are ["False", "True"]: index 1 is the positive class.
			r, err := metrics.MultiRC(groups, gold, pred)
			if err != nil {
				return nil, err
			}
			out[metrics.F1a], out[metrics.EM] = r.F1a, r.EM
		default:
			return nil, fmt.Errorf("%s: metric %q is not for classification", t.Name, m)
		}
	}
	return out, nil
}

// EvaluateWords scores a token-classification split: pred[i][w] is the
// predicted label index of word w of example i (Encoded.WordPredictions gives
// it; cut-off words should be predicted "O"). Scores are seqeval's entity-level
// micro precision, recall and F1 over all words of the split.
func EvaluateWords(t *Task, split string, pred [][]int) (Scores, metrics.NERScores, error) {
	s, err := t.Split(split)
	if err != nil {
		return nil, metrics.NERScores{}, err
	}
	return EvaluateWordExamples(t, s.Examples, pred)
}

// EvaluateWordExamples is EvaluateWords on a list of examples.
func EvaluateWordExamples(t *Task, exs []Example, pred [][]int) (Scores, metrics.NERScores, error) {
	if t.Kind != TokenClassification {
		return nil, metrics.NERScores{}, fmt.Errorf("%s: not a token classification task; use Evaluate", t.Name)
	}
	if len(pred) != len(exs) {
		return nil, metrics.NERScores{}, fmt.Errorf("%s: %d predicted sentences for %d examples", t.Name, len(pred), len(exs))
	}
	gold := make([][]string, len(exs))
	ptags := make([][]string, len(exs))
	for i, ex := range exs {
		if len(pred[i]) != len(ex.Words) {
			return nil, metrics.NERScores{}, fmt.Errorf("%s: example %s: %d predictions for %d words", t.Name, ex.ID, len(pred[i]), len(ex.Words))
		}
		if len(ex.Tags) != len(ex.Words) {
			return nil, metrics.NERScores{}, fmt.Errorf("%s: example %s has no tags: an unlabeled set cannot be scored", t.Name, ex.ID)
		}
		gold[i] = ex.Tags
		ptags[i] = make([]string, len(pred[i]))
		for w, p := range pred[i] {
			if p < 0 || p >= len(t.Labels) {
				return nil, metrics.NERScores{}, fmt.Errorf("%s: example %s word %d: prediction %d is not a label index", t.Name, ex.ID, w, p)
			}
			ptags[i][w] = t.Labels[p]
		}
	}
	r, err := metrics.NER(gold, ptags)
	if err != nil {
		return nil, r, err
	}
	return Scores{metrics.F1: r.F1, metrics.Precision: r.Precision, metrics.Recall: r.Recall}, r, nil
}
