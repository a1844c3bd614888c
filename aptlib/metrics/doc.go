// Package metrics holds the scores the APT workbench reports: accuracy, macro-F1
// (CB), MultiRC's F1 over all answers and exact match per question, entity-level
// NER precision/recall/F1 with seqeval's default (conlleval-compatible) chunking,
// and the mean and sample standard deviation of a score over seeds.
//
// All functions are pure and take plain slices, so they can be checked by hand.
// Scores are fractions in [0, 1] (not percentages).
package metrics

// Metric names, as used in task descriptions and run reports.
const (
	Accuracy  = "accuracy"
	MacroF1   = "macro_f1"
	F1a       = "f1a" // MultiRC: binary F1 over all answer options
	EM        = "em"  // MultiRC: exact match per question
	Precision = "precision"
	Recall    = "recall"
	F1        = "f1" // NER: entity-level micro F1
)
