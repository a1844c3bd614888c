package aptlib

import (
	"fmt"
	"strconv"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// SaveAdapter writes the trained method and head: an adapter file (format in
// docs/adapters.md) for the parameter-efficient methods, a full model directory
// for FT. The settings and the training step are recorded in the metadata.
func (w *Workbench) SaveAdapter(path string) error {
	if err := w.checkFinite("save adapter"); err != nil {
		return err
	}
	path = expandHome(path)
	extra := map[string]string{}
	for k, v := range w.Config() {
		extra[settingPrefix+k] = v
	}
	if w.trainer != nil {
		extra["step"] = strconv.Itoa(w.trainer.StepCount)
	}
	meta := adapter.Meta{Labels: w.Task.Labels, MaxLen: w.intParam(trainer.ParamMaxLen), Task: w.Task.Name,
		BaseModel: w.Model.Name, Extra: extra}
	if w.spec.Method.Kind.TrainsBackbone() {
		if err := w.CheckOutputDir("save adapter", path); err != nil {
			return err
		}
		meta.Extra[adapter.ExtraVocabDir] = w.Model.Dir
		return adapter.SaveModelDir(path, w.ctx, w.spec, meta)
	}
	if err := w.CheckOutput("save adapter", path); err != nil {
		return err
	}
	sha, err := adapter.BaseModelSHA256(w.Model.Dir)
	if err != nil {
		return err
	}
	meta.BaseModelSHA256 = sha
	return adapter.Save(path, w.ctx, w.spec, meta)
}

// LoadAdapter loads an adapter file onto the current backbone: the method, its
// lengths, gate pooling and max_len settings follow the adapter. When a task is
// loaded its labels must match the adapter's; with no task (or only the
// generic classifier an earlier LoadAdapter set up), a generic classifier over
// the adapter's labels is set up (predict then reads {"text", "text_pair"}, or
// {"tokens": [...]} for a token-classification adapter).
//
// A failed load changes nothing: every check (the file, the base model, the
// labels, the settings it implies) runs before the session is touched, and the
// variables are written all or nothing, so the model, task, settings and any
// adapter or training loaded before stay as they were.
func (w *Workbench) LoadAdapter(path string) error {
	if err := w.needModel(); err != nil {
		return err
	}
	path = expandHome(path)
	a, err := adapter.Load(path)
	if err != nil {
		return err
	}
	if a.Meta.BaseModelSHA256 != "" {
		if err := a.CheckBase(w.Model.Dir); err != nil {
			return fmt.Errorf("%w (the adapter was trained on %s; load that model first)", err, a.Meta.BaseModel)
		}
	}
	task := w.Task
	if task != nil && !w.adapterTask {
		if string(task.Kind) != string(a.Head) {
			return fmt.Errorf("adapter %s has a %s head, the loaded task %s needs %s", path, a.Head, task.Name, task.Kind)
		}
		if a.Head != model.MultipleChoice && !equalStrings(a.Meta.Labels, task.Labels) {
			return fmt.Errorf("adapter %s labels %q differ from task %s's %q", path, a.Meta.Labels, task.Name, task.Labels)
		}
	} else {
		if a.Head == model.MultipleChoice {
			return fmt.Errorf("adapter %s is for a multiple-choice task: load that task first (load task ...)", path)
		}
		task = &tasks.Task{Name: "jsonl", Kind: a.Head, Labels: a.Meta.Labels}
	}
	spec, err := a.Spec(w.Model.Config)
	if err != nil {
		return err
	}
	settings := spec.Method.Params() // one prefix_len entry per layer, 0 where none; position_offset
	maxLen := w.intParam(trainer.ParamMaxLen)
	if a.Meta.MaxLen > 0 {
		settings[trainer.ParamMaxLen] = strconv.Itoa(a.Meta.MaxLen)
		maxLen = a.Meta.MaxLen
	}
	if err := checkMaxLen(w.Model.Config, maxLen, &spec.Method); err != nil {
		return fmt.Errorf("adapter %s: %w", path, err)
	}
	values := map[string]any{}
	for _, k := range sortedKeys(settings) {
		v, err := parseSetting(k, settings[k])
		if err == nil {
			err = checkForModel(k, v, w.Model.Config)
		}
		if err != nil {
			return fmt.Errorf("adapter %s: %w", path, err)
		}
		values[k] = v
	}
	// Everything is checked: from here on the session changes.
	if !a.Method.Kind.TrainsBackbone() {
		// An adapter runs on the checkpoint's backbone, not on weights FT trained.
		if err := w.reloadBackboneIfTrained(); err != nil {
			return err
		}
	}
	if spec, err = a.Apply(w.ctx, w.Model.Config); err != nil {
		// Apply put the variables back; graphs built before are rebuilt to be safe.
		w.invalidate(levelTrainer, 0)
		return err
	}
	spec.Dropout = w.floatParam(keyDropout)
	for _, k := range sortedKeys(settings) {
		w.ctx.SetParam(k, values[k])
	}
	w.adapterTask = task != w.Task // a task of the adapter's own, or the one loaded before
	w.Task = task
	w.invalidate(levelParams, dataCache)
	// The parameters are the adapter's: nothing to create, its spec runs them.
	w.spec, w.needParams = spec, false
	w.Adapter = path
	return nil
}

// TaskFromAdapter reports whether the loaded task is the generic classifier
// that LoadAdapter set up because no task was loaded (it has labels but no data).
func (w *Workbench) TaskFromAdapter() bool { return w.Task != nil && w.adapterTask }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
