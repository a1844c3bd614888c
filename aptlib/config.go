package aptlib

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
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
	m, err := method.ConfigFromContext(w.ctx, w.Model.Config.NumLayers())
	if err != nil {
		return nil, err
	}
	if err := checkMaxLen(w.Model.Config, w.intParam(trainer.ParamMaxLen), &m); err != nil {
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

// checkMaxLen checks that inputs of maxLen tokens fit c's positions
// (backbone.Config.MaxLen) and that they still fit once shifted by m's
// position offset (position_offset=prefix: layer 0's prefix
// length) on a model with absolute positions: the shifted rows
// offset..offset+max_len-1 must exist in the position table.
func checkMaxLen(c backbone.Config, maxLen int, m *method.Config) error {
	limit := c.MaxLen()
	if maxLen > limit {
		return fmt.Errorf("max_len: %d exceeds %s (set max_len=%d)", maxLen, backbone.DescribeMaxLen(c), limit)
	}
	if !backbone.AbsolutePositions(c) {
		return nil
	}
	off := m.Offset()
	if off == 0 || maxLen+off <= limit {
		return nil
	}
	fix := fmt.Sprintf("set max_len=%d or %s=%s", limit-off, method.ParamPositionOffset, method.OffsetNone)
	if limit-off < 1 {
		fix = fmt.Sprintf("shorten layer 0's prefix or set %s=%s", method.ParamPositionOffset, method.OffsetNone)
	}
	return fmt.Errorf("%s %d with %s=%s (positions shifted by layer 0's prefix length %d) exceeds %s: %s",
		trainer.ParamMaxLen, maxLen, method.ParamPositionOffset, m.PositionOffset, off, backbone.DescribeMaxLen(c), fix)
}

// maxLenAllowed is the largest max_len the model and the current method's
// position offset allow (checkMaxLen's bound).
func (w *Workbench) maxLenAllowed() int {
	n := w.Model.Config.MaxLen()
	if m, err := method.ConfigFromContext(w.ctx, w.Model.Config.NumLayers()); err == nil && backbone.AbsolutePositions(w.Model.Config) {
		n -= m.Offset()
	}
	return n
}
