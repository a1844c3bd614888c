package metrics

import "fmt"

// MultiRCScores are SuperGLUE's two MultiRC scores.
type MultiRCScores struct {
	// F1a is the binary F1 of the "True" class over all answer options of all
	// questions (SuperGLUE's F1a; P-Tuning v2 reports only this one, as "f1").
	F1a float64
	// EM is the fraction of questions whose answer options are all classified
	// correctly.
	EM float64
	// Questions and Answers count what was scored.
	Questions, Answers int
}

// MultiRC scores answer-level predictions. groups[i] names the question of answer
// option i (options of one question share the same group string, in any order),
// gold and pred are 0 (false) or 1 (true).
func MultiRC(groups []string, gold, pred []int) (MultiRCScores, error) {
	if err := checkLens(gold, pred); err != nil {
		return MultiRCScores{}, err
	}
	if len(groups) != len(gold) {
		return MultiRCScores{}, fmt.Errorf("metrics: MultiRC: %d groups but %d labels", len(groups), len(gold))
	}
	for i := range gold {
		if (gold[i] != 0 && gold[i] != 1) || (pred[i] != 0 && pred[i] != 1) {
			return MultiRCScores{}, fmt.Errorf("metrics: MultiRC: answer %d: labels must be 0 or 1, got gold %d pred %d", i, gold[i], pred[i])
		}
	}
	f1a, _ := BinaryF1(gold, pred, 1)
	allRight := map[string]bool{}
	var order []string
	for i, g := range groups {
		ok, seen := allRight[g]
		if !seen {
			order = append(order, g)
			ok = true
		}
		allRight[g] = ok && gold[i] == pred[i]
	}
	n := 0
	for _, g := range order {
		if allRight[g] {
			n++
		}
	}
	return MultiRCScores{F1a: f1a, EM: float64(n) / float64(len(order)), Questions: len(order), Answers: len(gold)}, nil
}
