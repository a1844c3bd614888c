package aptlib

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/trainer"
)

// MemoryLimitEnv, when set, is the memory budget in bytes (suffixes K, M, G, T,
// KiB, MiB, GiB, TiB are accepted) instead of what /proc/meminfo says is
// available. Tests set it to get the same answer on every machine.
const MemoryLimitEnv = "APT_MEMORY_LIMIT"

// fallbackMemoryBudget is the budget where the available memory cannot be read.
const fallbackMemoryBudget = 24 << 30

// MemoryShape is what the memory of a run depends on.
type MemoryShape struct {
	Backbone  backbone.Config
	Method    method.Config
	NumLabels int
	Batch     int // examples per batch, already capped to the number of examples
	Choices   int // rows per example (multiple choice), 1 otherwise
	MaxLen    int // tokens per row, before a prompt
	Training  bool
}

// MemoryEstimate is an estimate of the peak memory of a run, in bytes.
type MemoryEstimate struct {
	Parameters  int64 // weights, plus gradients and the AdamW moments of trainable ones
	Activations int64 // what the forward (and backward) pass holds
	Rows        int   // batch rows (examples x choices)
	Tokens      int   // tokens per row the attention sees as queries (max_len + prompt)
}

// Total is Parameters + Activations.
func (e MemoryEstimate) Total() int64 { return e.Parameters + e.Activations }

// EstimateMemory estimates the peak memory of training (or of inference) with the
// given shape. It is a rough figure, meant to refuse a configuration that cannot
// run long before the allocation fails, not to plan a tight one: float32 weights;
// for training every trainable weight has a gradient and two AdamW moments (x4 in
// all); the activations of every layer are kept for the backward pass (hidden
// states of the queries and of the prefixed keys and values, the feed-forward's
// intermediate, the attention scores and probabilities [rows, heads, T, T+p]),
// where inference holds about two layers' worth at a time.
func EstimateMemory(s MemoryShape) MemoryEstimate {
	c := s.Backbone
	d, H, L := float64(c.HiddenSize()), float64(c.NumHeads()), c.NumLayers()
	f := 4 * d // the usual feed-forward width, for a config that does not say
	if dc, ok := c.(backbone.Detailed); ok {
		f = float64(dc.FeedForwardSize())
	}
	weights := float64(c.NumParameters())
	adds := float64(s.Method.NumTrainable(c.HiddenSize())) + d*float64(max(s.NumLabels, 1)) + float64(max(s.NumLabels, 1))
	if !backbone.HasPooler(c) {
		adds += d*d + d // the created pooler (model.Spec.CreatesPooler)
	}
	trainable := adds
	if s.Method.Kind.TrainsBackbone() {
		trainable += weights
	}
	params := weights + adds
	if s.Training {
		params += 3 * trainable
	}
	rows := max(s.Batch, 1) * max(s.Choices, 1)
	T := s.MaxLen
	if s.Method.Kind.HasPrompt() {
		T += s.Method.PromptLen
	}
	R, Tf := float64(rows), float64(T)
	attnFactor, hiddenFactor := 2.0, 6.0
	if s.Training {
		attnFactor = 3 // scores, probabilities, dropout mask
	}
	var total, peak float64
	for l := range L {
		p := 0
		if s.Method.Kind.HasPrefix() && l < len(s.Method.PrefixLens) {
			p = s.Method.PrefixLens[l]
		}
		K := Tf + float64(p)
		layer := R*(Tf*(hiddenFactor*d+2*f)+K*2*d) + R*H*Tf*K*attnFactor
		total += layer
		peak = max(peak, layer)
	}
	act := 2 * peak
	if s.Training {
		act = total + 3*R*Tf*d // plus the embeddings
	}
	return MemoryEstimate{Parameters: int64(min(params*4, math.MaxInt64/4)), Activations: int64(min(act*4, math.MaxInt64/4)),
		Rows: rows, Tokens: T}
}

// MemoryBudget is the memory a run may use: $APT_MEMORY_LIMIT when set, else
// MemAvailable from /proc/meminfo, else 24 GiB. from says which.
func MemoryBudget() (budget int64, from string, err error) {
	if v := strings.TrimSpace(os.Getenv(MemoryLimitEnv)); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			return 0, "", fmt.Errorf("%s=%q: %v", MemoryLimitEnv, v, err)
		}
		return n, MemoryLimitEnv, nil
	}
	if n, ok := memAvailable(); ok {
		return n, "available", nil
	}
	return fallbackMemoryBudget, "assumed", nil
}

func memAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb << 10, err == nil && kb > 0
		}
	}
	return 0, false
}

// parseBytes reads "123", "1.5e9", "512M", "8GiB".
func parseBytes(s string) (int64, error) {
	mult := 1.0
	u := strings.ToUpper(s)
	for _, suf := range []struct {
		s string
		m float64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, suf.s) {
			mult, u = suf.m, strings.TrimSpace(strings.TrimSuffix(u, suf.s))
			break
		}
	}
	x, err := strconv.ParseFloat(u, 64)
	if err != nil || !(x > 0) || x*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("not a memory size (want bytes, e.g. 8GiB or 8589934592)")
	}
	return int64(x * mult), nil
}

// formatBytes is a size for messages: "310 GiB", "1.5 GiB", "12 MiB".
func formatBytes(n int64) string {
	x := float64(n)
	for _, u := range []struct {
		s string
		m float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if x >= u.m {
			v := x / u.m
			if v >= 10 {
				return fmt.Sprintf("%.0f %s", v, u.s)
			}
			return fmt.Sprintf("%.1f %s", v, u.s)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// memoryShape is the current configuration's shape: the batch capped to the
// examples it will see (the train split for training, the largest split for
// inference).
func (w *Workbench) memoryShape(spec *model.Spec, training bool) MemoryShape {
	s := MemoryShape{Backbone: spec.Backbone, Method: spec.Method, NumLabels: spec.NumLabels, Choices: 1,
		MaxLen: w.intParam(trainer.ParamMaxLen), Training: training}
	if spec.Head == model.MultipleChoice {
		s.Choices = 2
	}
	n := 0
	if training {
		s.Batch = w.intParam(trainer.ParamBatchSize)
		if sp, err := w.splitExamples("train"); err == nil {
			n = len(sp.Examples)
		}
	} else {
		s.Batch = w.intParam(keyEvalBatchSize)
		for _, sp := range []string{"train", "dev", "test"} {
			if x, err := w.splitExamples(sp); err == nil {
				n = max(n, len(x.Examples))
			}
		}
	}
	if n > 0 {
		s.Batch = min(s.Batch, n)
	}
	return s
}

// checkTrainingMemory checks the memory of training before a trainer is built
// (and before prepare creates the method's parameters for it).
func (w *Workbench) checkTrainingMemory() error {
	if !w.needTrainer && w.trainer != nil {
		return nil
	}
	spec, err := w.Spec()
	if err != nil {
		return nil // prepare reports it
	}
	return w.checkMemory(spec, true)
}

// checkMemory refuses, before anything is allocated, a configuration whose
// estimated memory is over the budget, naming the setting that drives it.
func (w *Workbench) checkMemory(spec *model.Spec, training bool) error {
	s := w.memoryShape(spec, training)
	est := EstimateMemory(s)
	budget, from, err := MemoryBudget()
	if err != nil {
		return err
	}
	if from == "available" {
		budget += 4 * int64(spec.Backbone.NumParameters()) // the loaded backbone is already held
	}
	if est.Total() <= budget {
		return nil
	}
	// Blame the setting whose bringing back to a common value saves the most.
	batchKey := keyEvalBatchSize
	if training {
		batchKey = trainer.ParamBatchSize
	}
	type cand struct {
		key, value string
		shape      MemoryShape
	}
	var cands []cand
	if s.Method.Kind.HasPrefix() && s.Method.TotalPrefix() > 16*len(s.Method.PrefixLens) {
		c := s
		c.Method.PrefixLens = method.Uniform(len(s.Method.PrefixLens), 16)
		cands = append(cands, cand{method.ParamPrefixLen, w.strParam(method.ParamPrefixLen), c})
	}
	if s.Method.Kind.HasPrompt() && s.Method.PromptLen > 16 {
		c := s
		c.Method.PromptLen = 16
		cands = append(cands, cand{"prompt_len", strconv.Itoa(s.Method.PromptLen), c})
	}
	if s.MaxLen > 128 {
		c := s
		c.MaxLen = 128
		cands = append(cands, cand{trainer.ParamMaxLen, strconv.Itoa(s.MaxLen), c})
	}
	if s.Batch > 16 {
		c := s
		c.Batch = 16
		cands = append(cands, cand{batchKey, strconv.Itoa(w.intParam(batchKey)), c})
	}
	key, value := batchKey, strconv.Itoa(w.intParam(batchKey))
	best := est.Total()
	for _, c := range cands {
		if t := EstimateMemory(c.shape).Total(); t < best {
			key, value, best = c.key, c.value, t
		}
	}
	what := "training"
	if !training {
		what = "inference"
	}
	avail := "available"
	if from == MemoryLimitEnv {
		avail = "allowed by " + MemoryLimitEnv
	} else if from == "assumed" {
		avail = "assumed available"
	}
	return fmt.Errorf("%s=%s: %s with this configuration needs about %s (parameters %s, activations %s for batch %d x %d tokens), more than the %s %s; lower %s",
		key, value, what, formatBytes(est.Total()), formatBytes(est.Parameters), formatBytes(est.Activations),
		est.Rows, est.Tokens, formatBytes(budget), avail, key)
}
