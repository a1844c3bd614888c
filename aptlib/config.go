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

// methodConfig builds the method configuration from the settings.
func (w *Workbench) methodConfig() (method.Config, error) {
	kind, err := method.ParseKind(w.strParam("method"))
	if err != nil {
		return method.Config{}, err
	}
	L := w.Model.Config.NumHiddenLayers
	c := method.Default(kind, L)
	if kind.HasPrefix() {
		if c.PrefixLens, err = parseLens(w.strParam("prefix_len"), L); err != nil {
			return c, err
		}
	}
	if kind == method.PT {
		c.PromptLen = w.intParam("prompt_len")
	}
	c.GatePooling = w.strParam("gate_pooling")
	c.PrefixDropout = w.floatParam("prefix_dropout")
	c.InitStd = w.floatParam("init_std")
	c.GateBiasInit = w.floatParam("gate_bias_init")
	c.LayerScaleInit = w.floatParam("layer_scale_init")
	return c, c.Validate(L)
}

// Spec returns the model specification for the current model, task and settings.
func (w *Workbench) Spec() (*model.Spec, error) {
	if err := w.needTask(); err != nil {
		return nil, err
	}
	if w.spec != nil {
		return w.spec, nil
	}
	if n, p := w.intParam("max_len"), w.Model.Config.MaxPositionEmbeddings; n > p {
		return nil, fmt.Errorf("max_len: %d exceeds the model's max_position_embeddings %d (set max_len=%d)", n, p, p)
	}
	m, err := w.methodConfig()
	if err != nil {
		return nil, err
	}
	spec := &model.Spec{Bert: w.Model.Config, Method: m, Head: model.Head(w.Task.Kind),
		NumLabels: len(w.Task.Labels), Dropout: w.floatParam("dropout")}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	w.spec = spec
	return spec, nil
}

// trainerOptions builds the trainer's options from the settings.
func (w *Workbench) trainerOptions() trainer.Options {
	warmup := w.floatParam("warmup")
	if warmup == 0 {
		warmup = trainer.NoWarmup // the trainer reads 0 as "the default"
	}
	return trainer.Options{
		BatchSize: w.intParam("batch_size"), MaxLen: w.intParam("max_len"), Bucket: w.intParam("bucket"),
		Epochs: w.intParam("epochs"), LR: w.floatParam("lr"), WeightDecay: w.floatParam("weight_decay"),
		Warmup: warmup, Schedule: w.strParam("schedule"), MaxGradNorm: w.floatParam("max_grad_norm"),
		Seed: uint64(w.intParam("seed")), GateEvery: w.intParam("gate_every"),
		ScheduleSteps: w.scheduleSteps,
	}
}
