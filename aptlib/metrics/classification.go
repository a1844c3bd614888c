package metrics

import (
	"fmt"
	"sort"
)

func checkLens(gold, pred []int) error {
	if len(gold) != len(pred) {
		return fmt.Errorf("metrics: %d gold labels but %d predictions", len(gold), len(pred))
	}
	if len(gold) == 0 {
		return fmt.Errorf("metrics: no examples to score")
	}
	return nil
}

// AccuracyScore is the fraction of positions where pred equals gold.
func AccuracyScore(gold, pred []int) (float64, error) {
	if err := checkLens(gold, pred); err != nil {
		return 0, err
	}
	n := 0
	for i := range gold {
		if gold[i] == pred[i] {
			n++
		}
	}
	return float64(n) / float64(len(gold)), nil
}

// prf returns precision, recall and F1 from counts, 0 where a denominator is 0
// (scikit-learn's zero_division=0 behaviour, which it applies with a warning).
func prf(tp, nPred, nGold int) (p, r, f float64) {
	if nPred > 0 {
		p = float64(tp) / float64(nPred)
	}
	if nGold > 0 {
		r = float64(tp) / float64(nGold)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

// BinaryF1 is the F1 of class `positive` (scikit-learn f1_score with
// average="binary", pos_label=positive): 0 when the class is never predicted and
// never gold.
func BinaryF1(gold, pred []int, positive int) (float64, error) {
	if err := checkLens(gold, pred); err != nil {
		return 0, err
	}
	tp, np, ng := 0, 0, 0
	for i := range gold {
		if pred[i] == positive {
			np++
		}
		if gold[i] == positive {
			ng++
			if pred[i] == positive {
				tp++
			}
		}
	}
	_, _, f := prf(tp, np, ng)
	return f, nil
}

// MacroF1Score is the unweighted mean of the per-class F1 over the classes that
// occur in gold or pred, as scikit-learn's f1_score(average="macro") computes it
// (that is what the HuggingFace super_glue metric reports as CB's "f1"). A class
// that is predicted but never gold (or the reverse) counts with F1 = 0.
func MacroF1Score(gold, pred []int) (float64, error) {
	if err := checkLens(gold, pred); err != nil {
		return 0, err
	}
	classes := map[int]bool{}
	for i := range gold {
		classes[gold[i]] = true
		classes[pred[i]] = true
	}
	keys := make([]int, 0, len(classes))
	for c := range classes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	sum := 0.0
	for _, c := range keys {
		f, _ := BinaryF1(gold, pred, c)
		sum += f
	}
	return sum / float64(len(keys)), nil
}
