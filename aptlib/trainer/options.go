package trainer

import "github.com/gomlx/gomlx/pkg/ml/context"

// Options of a training run. Zero values take the defaults of Defaults.
type Options struct {
	BatchSize int // examples per step (default DefaultBatchSize)
	MaxLen    int // longest sequence; longer ones must be truncated when encoding (default DefaultMaxLen)
	Bucket    int // batch lengths are rounded up to a multiple of this (default DefaultBucket)
	Epochs    int // epochs the schedule spans (default DefaultEpochs)
	// ScheduleSteps, when > 0, is the schedule's length in steps instead of
	// Epochs epochs (a run of n steps whose schedule spans those n steps).
	ScheduleSteps int
	LR            float64 // peak learning rate (default DefaultLR, for prefixes)
	WeightDecay   float64 // AdamW decoupled decay on weight matrices (0 is none; the setting's default is DefaultWeightDecay)
	Warmup        float64 // warm-up: a fraction of all steps when < 1, else a number of steps (default DefaultWarmup; NoWarmup for none)
	Schedule      string  // "linear" (default) or "constant"
	MaxGradNorm   float64 // global-norm clipping (default DefaultMaxGradNorm; < 0 disables)
	Seed          uint64  // seeds batch order and dropout
	Beta1         float64 // AdamW (default 0.9)
	Beta2         float64 // AdamW (default 0.999)
	Epsilon       float64 // AdamW (default 1e-8)
	// GateEvery records a gate snapshot in History every GateEvery steps (default DefaultGateEvery).
	GateEvery int
}

// NoWarmup is the Warmup of a schedule without warm-up (0 takes the default).
const NoWarmup = -1

// Context parameters of a training run, as GoMLX layers name theirs:
// OptionsFromContext reads them. aptlib's settings table lists each of them
// once, with its default (the Default* constants below), its validation, what
// a change resets and its help.
const (
	ParamBatchSize   = "batch_size"
	ParamMaxLen      = "max_len"
	ParamBucket      = "bucket"
	ParamEpochs      = "epochs"
	ParamLR          = "lr"
	ParamWeightDecay = "weight_decay"
	ParamWarmup      = "warmup" // as Options.Warmup, but 0 is no warm-up
	ParamSchedule    = "schedule"
	ParamMaxGradNorm = "max_grad_norm"
	ParamSeed        = "seed" // an int >= 0
	ParamGateEvery   = "gate_every"
)

// Defaults of the Param* keys, following P-Tuning v2's released BERT runs
// where the paper does not say.
const (
	DefaultBatchSize   = 16
	DefaultMaxLen      = 128
	DefaultBucket      = 32
	DefaultEpochs      = 3
	DefaultLR          = 5e-3
	DefaultWeightDecay = 0.01
	DefaultWarmup      = 0.1
	DefaultSchedule    = "linear"
	DefaultMaxGradNorm = 1.0
	DefaultSeed        = 42
	DefaultGateEvery   = 1
)

// OptionsFromContext reads a run's options from ctx's params (the Param* keys;
// an absent key takes its Default*). ScheduleSteps is not a setting: it is 0.
func OptionsFromContext(ctx *context.Context) Options {
	warmup := context.GetParamOr(ctx, ParamWarmup, DefaultWarmup)
	if warmup == 0 {
		warmup = NoWarmup // Options reads 0 as "the default"
	}
	return Options{
		BatchSize:   context.GetParamOr(ctx, ParamBatchSize, DefaultBatchSize),
		MaxLen:      context.GetParamOr(ctx, ParamMaxLen, DefaultMaxLen),
		Bucket:      context.GetParamOr(ctx, ParamBucket, DefaultBucket),
		Epochs:      context.GetParamOr(ctx, ParamEpochs, DefaultEpochs),
		LR:          context.GetParamOr(ctx, ParamLR, DefaultLR),
		WeightDecay: context.GetParamOr(ctx, ParamWeightDecay, DefaultWeightDecay),
		Warmup:      warmup,
		Schedule:    context.GetParamOr(ctx, ParamSchedule, DefaultSchedule),
		MaxGradNorm: context.GetParamOr(ctx, ParamMaxGradNorm, DefaultMaxGradNorm),
		Seed:        uint64(context.GetParamOr(ctx, ParamSeed, DefaultSeed)),
		GateEvery:   context.GetParamOr(ctx, ParamGateEvery, DefaultGateEvery),
	}
}

// Defaults fills zero fields with the Default* values (WeightDecay and Seed
// keep 0: no decay, seed 0) and AdamW's betas and epsilon.
func (o Options) Defaults() Options {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	deff := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.BatchSize, DefaultBatchSize)
	def(&o.MaxLen, DefaultMaxLen)
	def(&o.Bucket, DefaultBucket)
	def(&o.Epochs, DefaultEpochs)
	def(&o.GateEvery, DefaultGateEvery)
	deff(&o.LR, DefaultLR)
	deff(&o.Warmup, DefaultWarmup)
	deff(&o.MaxGradNorm, DefaultMaxGradNorm)
	deff(&o.Beta1, 0.9)
	deff(&o.Beta2, 0.999)
	deff(&o.Epsilon, 1e-8)
	if o.Schedule == "" {
		o.Schedule = DefaultSchedule
	}
	return o
}
