package aptlib

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// MethodParams is one method's parameter count on the loaded backbone.
type MethodParams struct {
	Method    method.Kind
	Trainable int // the method's own parameters plus the head (FT: plus the backbone)
	Percent   float64
}

// ModelInfo describes the loaded backbone and what each method would train on it
// with the current prefix / prompt lengths.
type ModelInfo struct {
	Name, Dir            string
	ModelType, FamilyDoc string // the family: config.json's model_type and its one-line description
	// Pooler says where the pooled output's weights come from: the
	// checkpoint's pooler (frozen with the backbone), or, for a checkpoint
	// without one, a pooler created and trained with the head.
	Pooler                              string
	PoolerParams                        int // the created pooler's parameters (0 with the checkpoint's pooler), trained by every method
	Layers, Hidden, Heads, Intermediate int
	VocabSize, MaxPositions             int
	Activation                          string
	BackboneParams                      int
	HeadParams                          int
	Methods                             []MethodParams
	Backend, BackendReason              string
}

// ModelInfo reports the backbone and per-method trainable parameter counts
// (analytic, method.Config.NumTrainable plus the head).
func (w *Workbench) ModelInfo() (*ModelInfo, error) {
	if err := w.needModel(); err != nil {
		return nil, err
	}
	c := w.Model.Config
	info := &ModelInfo{Name: w.Model.Name, Dir: w.Model.Dir, Layers: c.NumLayers(), Hidden: c.HiddenSize(),
		ModelType: w.Model.Family.ModelType, FamilyDoc: w.Model.Family.Doc,
		Heads: c.NumHeads(), MaxPositions: c.MaxLen(), BackboneParams: c.NumParameters(),
		Backend: w.Choice.Name, BackendReason: w.Choice.Reason}
	if dc, ok := c.(backbone.Detailed); ok { // 0 and "" where the family does not say
		info.Intermediate, info.VocabSize, info.Activation = dc.FeedForwardSize(), dc.VocabEntries(), dc.Activation()
	}
	outputs := 2
	if w.Task != nil {
		outputs = len(w.Task.Labels)
		if w.Task.Kind == tasks.MultipleChoice {
			outputs = 1
		}
	}
	info.HeadParams = c.HiddenSize()*outputs + outputs
	info.Pooler = "from the checkpoint (part of the backbone)"
	if !backbone.HasPooler(c) {
		d := c.HiddenSize()
		info.Pooler = "none in the checkpoint: created (N(0, 0.02), zero bias), trained with the head, saved in the adapter"
		if w.Task != nil && w.Task.Kind == tasks.TokenClassification {
			info.Pooler = "none in the checkpoint (token classification does not pool)"
		} else {
			info.PoolerParams = d*d + d
		}
	}
	for _, k := range method.Kinds {
		m, err := method.KindConfigFromContext(w.ctx, k, c.NumLayers())
		if err != nil {
			return nil, err
		}
		n := m.NumTrainable(c.HiddenSize()) + info.HeadParams + info.PoolerParams
		if k.TrainsBackbone() {
			n += info.BackboneParams
		}
		info.Methods = append(info.Methods, MethodParams{Method: k, Trainable: n,
			Percent: 100 * float64(n) / float64(info.BackboneParams)})
	}
	return info, nil
}

// SplitInfo is one split of the loaded task.
type SplitInfo struct {
	Name            string
	Examples        int
	Labeled         bool
	TruncatedRows   int // after encoding at max_len (-1: not encoded yet)
	TruncatedTokens int
}

// TaskInfo describes the loaded task.
type TaskInfo struct {
	Name, Dir string
	Kind      tasks.Kind
	Labels    []string
	Metrics   []string
	Splits    []SplitInfo
	MaxLen    int
	Warnings  []string
}

// TaskInfo reports split sizes, labels and (encoding each split) how many rows
// max_len truncates.
func (w *Workbench) TaskInfo() (*TaskInfo, error) {
	if w.Task == nil {
		return nil, fmt.Errorf("no task loaded (load task demo, or e.g. load task rte DIR)")
	}
	t := w.Task
	info := &TaskInfo{Name: t.Name, Dir: t.Dir, Kind: t.Kind, Labels: t.Labels, Metrics: t.Metrics,
		MaxLen: w.intParam(trainer.ParamMaxLen), Warnings: t.Warnings}
	for _, name := range []string{"train", "dev", "test"} {
		s, err := t.Split(name)
		if err != nil || s == nil {
			continue
		}
		si := SplitInfo{Name: name, Examples: len(s.Examples), Labeled: s.Labeled, TruncatedRows: -1}
		if w.Model != nil {
			if enc, _, err := w.Encoded(name); err == nil {
				si.TruncatedRows, si.TruncatedTokens = enc.TruncatedRows, enc.TruncatedTokens
				if name == "train" {
					si.Examples = len(w.examples["train"])
				}
			}
		}
		info.Splits = append(info.Splits, si)
	}
	return info, nil
}
