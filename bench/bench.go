// Package bench measures the workbench against a PyTorch reference on the same
// machine: training-step and inference throughput, peak memory, compiled graphs
// and first-step (compile) time, for FT, PT-2 and APT, and how the cost grows
// with prefix length, sequence length and batch size, on a random model of any
// registered backbone family (families.go). Each row runs in its own process
// (so peak memory is the row's own), ours and PyTorch's alike.
package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/backend"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Row is one measurement: a backbone family, a model size, a method and a
// batch shape.
type Row struct {
	// Family is the backbone's model_type ("roberta", "deberta-v2", ...);
	// empty means "bert" (ModelType).
	Family  string `json:"family,omitempty"`
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
	// Loss is a train row's loss at its last step; MeanAbsLogit is the mean
	// |logit| of an infer row's batch. Run reports an error when either is
	// not finite, so a row's speed is never that of a broken model.
	Loss         float64 `json:"loss,omitempty"`
	MeanAbsLogit float64 `json:"mean_abs_logit,omitempty"`
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

// Plan lists the rows for the given backbone families (model_type strings;
// nil = BERT), sizes and groups (nil = all groups), family by family. An
// unregistered family is an error naming the registered ones.
func Plan(families, sizes []string, groups map[string]bool, steps int) ([]Row, error) {
	if len(families) == 0 {
		families = []string{backbone.DefaultModelType}
	}
	var rows []Row
	for _, f := range families {
		fam, err := backbone.Lookup(f)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		family := fam.ModelType
		if family == backbone.DefaultModelType {
			family = "" // a BERT row's JSON stays as it was before families
		}
		for _, r := range planSizes(sizes, groups, steps) {
			r.Family = family
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// planSizes lists one family's rows for the given sizes and groups.
func planSizes(sizes []string, groups map[string]bool, steps int) []Row {
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

// Run measures a row on our side (in this process) with the given backend
// flag: a random model of the row's family (Row.Backbone, initBackbone) with
// the row's method and a two-class sequence-classification head.
func Run(r Row, backendFlag string) Result {
	b, choice, err := backend.New(backendFlag)
	if err != nil {
		return Result{Err: err.Error()}
	}
	cfg, fam, err := r.Backbone()
	if err != nil {
		return Result{Err: err.Error()}
	}
	ctx := context.New()
	kind, err := method.ParseKind(r.Method)
	if err != nil {
		return Result{Err: err.Error()}
	}
	if err := initBackbone(ctx, r, cfg, fam, 1, kind.TrainsBackbone()); err != nil {
		return Result{Err: err.Error()}
	}
	m := method.Default(kind, r.Layers)
	if kind.HasPrefix() {
		m.PrefixLens = method.Uniform(r.Layers, r.Prefix)
	}
	spec := &model.Spec{Backbone: cfg, Method: m, Head: model.SequenceClassification, NumLabels: 2, Dropout: 0.1}
	if err := spec.Validate(); err != nil {
		return Result{Err: err.Error()}
	}
	method.Create(ctx, &spec.Method, cfg.HiddenSize(), 2)
	model.CreateHead(ctx, spec, 3)
	vocab := 1000 // a config that does not say its vocabulary
	if d, ok := cfg.(backbone.Detailed); ok {
		vocab = d.VocabEntries()
	}
	rng := rand.New(rand.NewPCG(4, 5))
	data := make([]model.Example, r.Batch*(r.Steps+1))
	for i := range data {
		ids := make([]int32, r.Seq)
		for j := range ids {
			ids[j] = int32(rng.IntN(vocab))
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
		step = func() error {
			preds, err := p.Predict(batch)
			if err != nil {
				return err
			}
			res.MeanAbsLogit = meanAbsLogit(preds)
			if math.IsNaN(res.MeanAbsLogit) || math.IsInf(res.MeanAbsLogit, 0) {
				return fmt.Errorf("bench: %s: the logits are not finite (mean |logit| %v)", r.Describe(), res.MeanAbsLogit)
			}
			return nil
		}
		graphs = p.GraphsCompiled
	} else {
		t, err := trainer.New(b, ctx, spec, data, trainer.Options{BatchSize: r.Batch, MaxLen: r.Seq, Bucket: r.Seq, Epochs: 1000, LR: 1e-3, Warmup: 1})
		if err != nil {
			return Result{Err: err.Error()}
		}
		// Step itself fails on a loss or gradient that is not finite.
		step = func() error { s, err := t.Step(); res.Loss = s.Loss; return err }
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

// meanAbsLogit is the mean |logit| over a batch's predictions.
func meanAbsLogit(p *trainer.Predictions) float64 {
	sum, n := 0.0, 0
	for _, e := range p.Examples {
		for _, row := range e.Logits {
			for _, x := range row {
				sum += math.Abs(float64(x))
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// Describe is a row's label for the table; it starts with the family except
// for BERT (whose labels are as they were before families).
func (r Row) Describe() string {
	label := fmt.Sprintf("%s %s %s L%d d%d B%dxT%d p%d", r.Mode, r.Size, r.Method, r.Layers, r.Hidden, r.Batch, r.Seq, r.Prefix)
	if r.ModelType() != backbone.DefaultModelType {
		label = r.ModelType() + " " + label
	}
	return label
}
