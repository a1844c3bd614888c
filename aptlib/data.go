package aptlib

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// The task's splits as the settings cut them (limits, the honest protocol's
// hold-out) and their encoding at max_len, cached until a setting that feeds
// them changes.

// Encoded returns a split encoded with the model's tokenizer at max_len (cached).
// Split names: train, dev, test; with the honest protocol also "heldout" (a part
// of train, which "train" then excludes).
func (w *Workbench) Encoded(split string) (*tasks.Encoded, []model.Example, error) {
	if err := w.needTask(); err != nil {
		return nil, nil, err
	}
	split = canonicalSplit(split)
	if e, ok := w.encoded[split]; ok {
		return e, w.examples[split], nil
	}
	s, err := w.splitExamples(split)
	if err != nil {
		return nil, nil, err
	}
	enc, err := tasks.EncodeExamples(w.Task, s.Examples, w.Model.Tokenizer, w.intParam(trainer.ParamMaxLen))
	if err != nil {
		return nil, nil, err
	}
	enc.Split = split
	if enc.DroppedWords > 0 {
		fmt.Fprintf(w.log(), "note: %s/%s: %d sentences are longer than max_len %d: their last %d words get no prediction (label O) and count against the scores\n",
			w.Task.Name, split, enc.TruncatedRows, enc.MaxLen, enc.DroppedWords)
	} else if enc.TruncatedRows > 0 {
		fmt.Fprintf(w.log(), "note: %s/%s: %d rows truncated to max_len %d (%d tokens dropped)\n",
			w.Task.Name, split, enc.TruncatedRows, enc.MaxLen, enc.TruncatedTokens)
	}
	exs := toModelExamples(enc)
	w.encoded[split], w.examples[split] = enc, exs
	return enc, exs, nil
}

func canonicalSplit(s string) string {
	switch s {
	case "val", "validation", "valid", "":
		return "dev"
	}
	return s
}

// splitExamples returns a split's examples, applying the honest protocol's
// hold-out and the train_limit / eval_limit settings.
func (w *Workbench) splitExamples(split string) (*tasks.Split, error) {
	s, err := w.rawSplitExamples(split)
	if err != nil {
		return nil, err
	}
	limit := w.intParam(keyEvalLimit)
	if split == "train" {
		limit = w.intParam(keyTrainLimit)
	}
	if limit > 0 && limit < len(s.Examples) {
		cut := *s
		cut.Examples = s.Examples[:limit]
		return &cut, nil
	}
	return s, nil
}

func (w *Workbench) rawSplitExamples(split string) (*tasks.Split, error) {
	honest := w.strParam(keyProtocol) == string(tasks.ProtocolHonestHeldOut)
	if honest && (split == "train" || split == "heldout") {
		train, err := w.Task.Split("train")
		if err != nil {
			return nil, err
		}
		part, held, err := tasks.HoldOut(train, w.floatParam(keyHeldout), int64(w.intParam(trainer.ParamSeed)))
		if err != nil {
			return nil, err
		}
		if split == "train" {
			return part, nil
		}
		return held, nil
	}
	if split == "heldout" {
		return nil, fmt.Errorf("the heldout split exists with protocol honest-heldout (set protocol=honest-heldout)")
	}
	return w.Task.Split(split)
}

// SelectionSplit is where the best epoch is chosen: dev under P-Tuning v2's
// protocol, the held-out part of train under the honest one.
func (w *Workbench) SelectionSplit() string {
	if w.strParam(keyProtocol) == string(tasks.ProtocolHonestHeldOut) {
		return "heldout"
	}
	return "dev"
}

func toModelExamples(enc *tasks.Encoded) []model.Example {
	n := len(enc.Labels)
	if enc.Kind == tasks.TokenClassification {
		n = len(enc.TokenLabels)
	}
	out := make([]model.Example, n)
	c := enc.NumChoices
	for i := range out {
		ex := model.Example{IDs: enc.IDs[i*c : (i+1)*c], TypeIDs: enc.TypeIDs[i*c : (i+1)*c], Label: -1}
		if i < len(enc.Labels) {
			ex.Label = int(enc.Labels[i])
		}
		if enc.Kind == tasks.TokenClassification {
			ex.TokenLabels = enc.TokenLabels[i]
		}
		out[i] = ex
	}
	return out
}
