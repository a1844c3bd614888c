package aptlib

import (
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
)

// level orders what a change invalidates in the session's derived state.
// invalidate(l, ...) drops level l and every level below it, so each change
// names only the highest thing it breaks: a setting through its row's Resets
// kind (ResetKind.invalidates), LoadModel, LoadTask, LoadAdapter and
// LoadCheckpoint directly. What is dropped is rebuilt lazily on the next
// command that needs it (prepare, Trainer, Predictor, Spec, Encoded).
type level int

const (
	levelNone level = iota
	// levelGraphs: the compiled inference graphs (the predictor).
	levelGraphs
	// levelTrainer: the trainer built from the settings. It is rebuilt on its
	// next use from the current settings (new options, recompiled graphs, its
	// random state reseeded) and continues the run: same position, losses,
	// gate history and optimizer moments.
	levelTrainer
	// levelRun: the run on the current parameters: the trainer with its
	// position and losses, the last step, the evaluations and the schedule's
	// length. The parameters stay.
	levelRun
	// levelParams: the method's parameters and head, re-created at random on
	// the next command (prepare, which also resets the optimizer's moments);
	// the adapter they were loaded from is forgotten.
	levelParams
	// levelBackbone: a new backbone: the backbone's weights count as the
	// checkpoint's again (no FT training to undo).
	levelBackbone
)

// cache names the derived values that follow particular settings rather than
// the levels: a change drops those its settings feed (levelParams implies the
// spec, levelBackbone both).
type cache int

const (
	// specCache: the model spec, derived from the method and graph settings.
	specCache cache = 1 << iota
	// dataCache: the encoded splits, derived from the task, the tokenizer and
	// the data settings (max_len, limits, protocol, heldout, seed).
	dataCache
)

// invalidates is what a change of a setting of this kind invalidates. Two
// refinements are Workbench.SetWithNote's: trained or loaded parameters are
// kept through a ResetInit change (the level drops to levelGraphs), and a
// ResetParams setting the current method does not use (prompt_len under apt)
// only drops the graphs.
func (k ResetKind) invalidates() (level, cache) {
	switch k {
	case ResetParams:
		return levelParams, 0
	case ResetInit:
		return levelParams, specCache
	case ResetData:
		return levelTrainer, dataCache
	case ResetGraph:
		return levelTrainer, specCache
	case ResetTrainer:
		return levelTrainer, 0
	}
	return levelGraphs, 0
}

// invalidate drops the state of level l and of every level below it, and the
// caches c; it is the only place that marks derived state out of date.
func (w *Workbench) invalidate(l level, c cache) {
	if l >= levelParams {
		c |= specCache
	}
	if l >= levelBackbone {
		c |= dataCache
	}
	if c&specCache != 0 {
		w.spec = nil
	}
	if c&dataCache != 0 {
		w.encoded, w.examples = map[string]*tasks.Encoded{}, map[string][]model.Example{}
	}
	if l >= levelGraphs {
		w.predictor = nil
	}
	if l >= levelTrainer {
		w.needTrainer = true
	}
	if l >= levelRun {
		w.trainer, w.LastStep = nil, nil
		w.EvalHistory = nil
		w.scheduleSteps = 0
	}
	if l >= levelParams {
		w.needParams = true
		w.Adapter = ""
	}
	if l >= levelBackbone {
		w.backboneTrained = false
	}
}
