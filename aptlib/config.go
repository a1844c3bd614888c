package aptlib

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
)

// The session's configuration, read from the settings in the context: the
// model specification (method.ConfigFromContext) and the trainer's options
// (trainer.OptionsFromContext).

// Spec returns the model specification for the current model, task and settings.
func (w *Workbench) Spec() (*model.Spec, error) {
	if err := w.needTask(); err != nil {
		return nil, err
	}
	if w.spec != nil {
		return w.spec, nil
	}
	if n, p := w.intParam(trainer.ParamMaxLen), w.Model.Config.MaxLen(); n > p {
		return nil, fmt.Errorf("max_len: %d exceeds the model's max_position_embeddings %d (set max_len=%d)", n, p, p)
	}
	m, err := method.ConfigFromContext(w.ctx, w.Model.Config.NumLayers())
	if err != nil {
		return nil, err
	}
	spec := &model.Spec{Backbone: w.Model.Config, Method: m, Head: w.Task.Kind,
		NumLabels: len(w.Task.Labels), Dropout: w.floatParam(keyDropout)}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	w.spec = spec
	return spec, nil
}

// trainerOptions builds the trainer's options from the settings and the
// current run's schedule length.
func (w *Workbench) trainerOptions() trainer.Options {
	o := trainer.OptionsFromContext(w.ctx)
	o.ScheduleSteps = w.scheduleSteps
	return o
}
