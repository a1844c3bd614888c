// Package bench measures the workbench against a PyTorch reference on the same
// machine: training-step and inference throughput, peak memory, compiled graphs
// and first-step (compile) time, for FT, PT-2 and APT, and how the cost grows
// with prefix length, sequence length and batch size. Each row runs in its own
// process (so peak memory is the row's own), ours and PyTorch's alike.
package bench

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/aptbench/apt/aptlib/backend"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Row is one measurement: a model size, a method and a batch shape.
type Row struct {
	Group   string `json:"group"` // "train", "infer", "prefix", "seq", "batch"
	Mode    string `json:"mode"`  // "train" (one optimizer step) or "infer" (forward only)
	Size    string `json:"size"`  // "small" or "base"
	Method  string `json:"method"`
	Layers  int    `json:"layers"`
	Hidden  int    `json:"hidden"`
	Heads   int    `json:"heads"`
	Inter   int    `json:"intermediate"`
	Batch   int    `json:"batch"`
	Seq     int    `json:"seq"`
	Prefix  int    `json:"prefix"`
	Steps   int    `json:"steps"`
	Threads int    `json:"threads"`
}

// Result of running a row.
type Result struct {
	ExamplesPerS float64 `json:"examples_per_s"`
	TokensPerS   float64 `json:"tokens_per_s"`
	StepS        float64 `json:"step_s"`
	FirstStepS   float64 `json:"first_step_s"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
	Graphs       int     `json:"graphs"`
	Trainable    int     `json:"trainable"`
	BlasGFLOPS   float64 `json:"blas_gflops,omitempty"`
	Backend      string  `json:"backend,omitempty"`
	Err          string  `json:"error,omitempty"`
}

// Sizes: "small" is 4 layers, d=256 (batch 16 x 128); "base" is BERT-base
// (12 layers, d=768, batch 8 x 128).
func sized(size string) Row {
	if size == "base" {
		return Row{Size: "base", Layers: 12, Hidden: 768, Heads: 12, Inter: 3072, Batch: 8, Seq: 128}
	}
	return Row{Size: "small", Layers: 4, Hidden: 256, Heads: 4, Inter: 1024, Batch: 16, Seq: 128}
}

// Plan lists the rows for the given sizes and groups (nil = all groups).
func Plan(sizes []string, groups map[string]bool, steps int) []Row {
	want := func(g string) bool { return groups == nil || groups[g] }
	var rows []Row
	add := func(r Row) {
		if r.Steps == 0 {
			r.Steps = steps
		}
		rows = append(rows, r)
	}
	for _, size := range sizes {
		base := sized(size)
		if want("train") {
			for _, m := range []string{"ft", "pt2", "apt"} {
				r := base
				r.Group, r.Mode, r.Method, r.Prefix = "train", "train", m, 16
				add(r)
			}
		}
		if want("infer") {
			for _, m := range []string{"pt2", "apt"} {
				r := base
				r.Group, r.Mode, r.Method, r.Prefix = "infer", "infer", m, 16
				add(r)
			}
		}
		if size != "small" {
			continue // the scaling sweeps run at the small size
		}
		if want("prefix") {
			for _, p := range []int{0, 16, 64, 128} {
				r := base
				r.Group, r.Mode, r.Method, r.Prefix = "prefix", "train", "apt", p
				add(r)
			}
		}
		if want("seq") {
			for _, t := range []int{64, 128, 256} {
				r := base
				r.Group, r.Mode, r.Method, r.Prefix, r.Seq = "seq", "train", "apt", 16, t
				add(r)
			}
		}
		if want("batch") {
			for _, b := range []int{8, 16, 32} {
				r := base
				r.Group, r.Mode, r.Method, r.Prefix, r.Batch = "batch", "train", "apt", 16, b
				add(r)
			}
		}
	}
	return rows
}

// Run measures a row on our side (in this process) with the given backend flag.
func Run(r Row, backendFlag string) Result {
	b, choice, err := backend.New(backendFlag)
	if err != nil {
		return Result{Err: err.Error()}
	}
	cfg := bert.DefaultConfig()
	cfg.NumHiddenLayers, cfg.HiddenDim, cfg.NumAttentionHeads, cfg.IntermediateSize = r.Layers, r.Hidden, r.Heads, r.Inter
	cfg.MaxPositionEmbeddings = max(512, r.Seq)
	ctx := context.New()
	kind, err := method.ParseKind(r.Method)
	if err != nil {
		return Result{Err: err.Error()}
	}
	bert.InitRandom(ctx, cfg, 1, kind.TrainsBackbone())
	m := method.Default(kind, r.Layers)
	if kind.HasPrefix() {
		m.PrefixLens = method.Uniform(r.Layers, r.Prefix)
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	method.Create(ctx, &spec.Method, cfg.HiddenDim, 2)
	model.CreateHead(ctx, spec, 3)
	rng := rand.New(rand.NewPCG(4, 5))
	data := make([]model.Example, r.Batch*(r.Steps+1))
	for i := range data {
		ids := make([]int32, r.Seq)
		for j := range ids {
			ids[j] = int32(rng.IntN(cfg.VocabSize))
		}
		data[i] = model.Example{IDs: [][]int32{ids}, TypeIDs: [][]int32{make([]int32, r.Seq)}, Label: rng.IntN(2)}
	}
	res := Result{Backend: choice.Name}
	var step func() error
	var graphs func() int
	if r.Mode == "infer" {
		p, err := trainer.NewPredictor(b, ctx, spec, r.Batch, r.Seq, r.Seq)
		if err != nil {
			return Result{Err: err.Error()}
		}
		batch := data[:r.Batch]
		step = func() error { _, err := p.Predict(batch); return err }
		graphs = p.GraphsCompiled
	} else {
		t, err := trainer.New(b, ctx, spec, data, trainer.Options{BatchSize: r.Batch, MaxLen: r.Seq, Bucket: r.Seq, Epochs: 1000, LR: 1e-3, Warmup: 1})
		if err != nil {
			return Result{Err: err.Error()}
		}
		step = func() error { _, err := t.Step(); return err }
		graphs = t.GraphsCompiled
		for _, v := range trainer.TrainableVariables(ctx) {
			res.Trainable += v.Shape().Size()
		}
	}
	t0 := time.Now()
	if err := step(); err != nil {
		return Result{Err: err.Error()}
	}
	res.FirstStepS = time.Since(t0).Seconds()
	t0 = time.Now()
	for range r.Steps {
		if err := step(); err != nil {
			return Result{Err: err.Error()}
		}
	}
	res.StepS = time.Since(t0).Seconds() / float64(r.Steps)
	res.ExamplesPerS = float64(r.Batch) / res.StepS
	res.TokensPerS = float64(r.Batch*r.Seq) / res.StepS
	res.Graphs = graphs()
	res.PeakRSSMiB = peakRSSMiB()
	return res
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// Describe is a row's label for the table.
func (r Row) Describe() string {
	return fmt.Sprintf("%s %s %s L%d d%d B%dxT%d p%d", r.Mode, r.Size, r.Method, r.Layers, r.Hidden, r.Batch, r.Seq, r.Prefix)
}
