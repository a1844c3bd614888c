package aptlib

import (
	"fmt"
	"strings"

	"github.com/aptbench/apt/aptlib/trainer"
)

// settingPrefix marks the workbench settings inside a checkpoint's metadata.
const settingPrefix = "setting."

// SaveCheckpoint writes the training state (trainable values, optimizer moments,
// random state, position in the data, losses, gate history) and every setting,
// atomically, so that LoadCheckpoint continues the run exactly.
func (w *Workbench) SaveCheckpoint(path string) error {
	t, err := w.Trainer()
	if err != nil {
		return err
	}
	if err := w.checkFinite("save checkpoint"); err != nil {
		return err
	}
	extra := map[string]string{"task": w.Task.Name, "model": w.Model.Name}
	for k, v := range w.Config() {
		extra[settingPrefix+k] = v
	}
	path = expandHome(path)
	if err := w.CheckOutput("save checkpoint", path); err != nil {
		return err
	}
	return t.SaveCheckpointMeta(path, extra)
}

// LoadCheckpoint restores the settings saved in a checkpoint, rebuilds the
// method and trainer on the loaded model and task, and loads the training state.
// The model and task must be the ones the checkpoint was made with (the
// trainer checks the backbone and data fingerprints).
func (w *Workbench) LoadCheckpoint(path string) error {
	if err := w.needTask(); err != nil {
		return err
	}
	path = expandHome(path)
	md, err := trainer.CheckpointMetadata(path)
	if err != nil {
		return err
	}
	for k, v := range md {
		if key, ok := strings.CutPrefix(k, settingPrefix); ok {
			if _, known := findSetting(key); !known {
				continue
			}
			// The checkpoint replaces the parameters: SetWithNote's notes do not apply.
			if _, err := w.SetWithNote(key, v); err != nil {
				return fmt.Errorf("checkpoint %s: setting %s: %w", path, key, err)
			}
		}
	}
	w.invalidate(levelParams, dataCache) // the checkpoint's values replace them
	t, err := w.Trainer()
	if err != nil {
		return err
	}
	if err := t.LoadCheckpoint(path); err != nil {
		return err
	}
	w.scheduleSteps = t.Opts.ScheduleSteps
	w.invalidate(levelGraphs, 0) // graphs built on the values before the restore
	return nil
}
