package trainer

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestOptionsFromContext: the params are read with their types, an absent one
// takes its default, and warmup 0 (none) becomes NoWarmup, which Defaults keeps.
func TestOptionsFromContext(t *testing.T) {
	ctx := context.New()
	ctx.SetParam(ParamBatchSize, 4)
	ctx.SetParam(ParamLR, 0.25)
	ctx.SetParam(ParamWarmup, 0.0)
	ctx.SetParam(ParamSchedule, "constant")
	ctx.SetParam(ParamSeed, 7)
	o := OptionsFromContext(ctx)
	if o.BatchSize != 4 || o.LR != 0.25 || o.Schedule != "constant" || o.Seed != 7 {
		t.Errorf("options %+v do not hold the context's values", o)
	}
	if o.Epochs != DefaultEpochs || o.MaxGradNorm != DefaultMaxGradNorm || o.WeightDecay != DefaultWeightDecay {
		t.Errorf("options %+v: absent params do not take their defaults", o)
	}
	if o.Warmup != NoWarmup || o.Defaults().Warmup != NoWarmup {
		t.Errorf("warmup 0 reads as %v (after Defaults %v), want NoWarmup", o.Warmup, o.Defaults().Warmup)
	}
	if s := o.ScheduleOver(100); s.Warmup != 0 {
		t.Errorf("warmup 0: the schedule warms up for %d steps", s.Warmup)
	}
}
