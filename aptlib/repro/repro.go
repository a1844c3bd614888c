// Package repro runs the paper's comparison: FT, PT-2, APT and its two ablations,
// PT-2* (prefix lengths read from a trained APT's gates) and PT-2+ (a PT-2 with
// APT's parameter count), over SuperGLUE and NER tasks with several seeds, and
// writes a results table (mean and standard deviation, and which evaluation
// protocol produced it).
package repro

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/metrics"
	"github.com/aptbench/apt/aptlib/tasks"
)

// Config of a reproduction run.
type Config struct {
	Model    string            // model directory, Hub id or "demo"
	DataDir  string            // folder holding the task folders (RTE/, CB/, CoNLL04/, ...)
	Tasks    []string          // task names (rte, cb, copa, conll04, ...)
	Methods  []string          // ft, pt2, apt, apt_no_token_gate, apt_no_layer_gate, pt2*, pt2+
	Seeds    []int             // one run per seed
	Protocol string            // tasks.ProtocolBestDevEpoch or tasks.ProtocolHonestHeldOut
	Settings map[string]string // workbench settings for every run (epochs, lr, ...); "ft.lr" applies to one method
	Backend  string            // backend flag
	Log      io.Writer         // progress (nil: none)
}

// AllMethods is the paper's comparison, in its table order.
var AllMethods = []string{"ft", "pt2", "pt2*", "pt2+", "apt_no_token_gate", "apt_no_layer_gate", "apt"}

// TaskDirs maps task names to their folder names in the benchmark data (see
// ../shared/data/SOURCES.md and the SuperGLUE archives).
var TaskDirs = map[string]string{
	"boolq": "BoolQ", "cb": "CB", "copa": "COPA", "rte": "RTE", "wic": "WiC", "wsc": "WSC", "multirc": "MultiRC",
	"conll03": "CoNLL2003", "conll04": "CoNLL04", "wnut17": "WNUT17", "wikiann": "WikiANN-en",
}

// Run is one (task, method, seed) result.
type Run struct {
	Task, Method string
	Seed         int
	ModelType    string       // the backbone's family (config.json's model_type), once the model loaded
	Scores       tasks.Scores // the reported split's metrics
	Main         float64      // the task's main score (mean of its metrics; NER: F1)
	PrefixLens   []int
	Trainable    int
	Steps        int
	Seconds      float64
	Err          error
}

// Execute runs every (task, seed, method). A failing run is recorded with its
// error and the others go on; cancelling ctx stops between runs.
func Execute(ctx context.Context, c Config) ([]Run, error) {
	if c.Log == nil {
		c.Log = io.Discard
	}
	var runs []Run
	for _, task := range c.Tasks {
		for _, seed := range c.Seeds {
			var apt *aptResult
			for _, m := range orderForProbe(c.Methods) {
				if err := ctx.Err(); err != nil {
					return runs, err
				}
				fmt.Fprintf(c.Log, "%s seed %d %s ...\n", task, seed, m)
				r, res := runOne(ctx, c, task, m, seed, apt)
				if res != nil {
					apt = res
				}
				if r.Err != nil {
					fmt.Fprintf(c.Log, "  error: %v\n", r.Err)
				} else {
					fmt.Fprintf(c.Log, "  %s = %.4f (%d steps, %.0f s)\n", mainName(r.Scores), r.Main, r.Steps, r.Seconds)
				}
				runs = append(runs, r)
			}
		}
	}
	return runs, nil
}

// orderForProbe runs APT before PT-2* and PT-2+, which are built from it.
func orderForProbe(methods []string) []string {
	out := slices.Clone(methods)
	needsAPT := slices.Contains(out, "pt2*") || slices.Contains(out, "pt2+")
	if !needsAPT {
		return out
	}
	out = slices.DeleteFunc(out, func(m string) bool { return m == "apt" })
	first := slices.IndexFunc(out, func(m string) bool { return m == "pt2*" || m == "pt2+" })
	return slices.Insert(out, first, "apt")
}

type aptResult struct {
	config      method.Config
	layerScores []float64
	hidden      int
}

func runOne(ctx context.Context, c Config, task, m string, seed int, apt *aptResult) (Run, *aptResult) {
	run := Run{Task: task, Method: m, Seed: seed}
	start := time.Now()
	w, err := aptlib.New(c.Backend)
	if err != nil {
		run.Err = err
		return run, nil
	}
	fail := func(err error) (Run, *aptResult) { run.Err = err; return run, nil }
	if err := w.LoadModel(c.Model); err != nil {
		return fail(err)
	}
	run.ModelType = w.Model.Config.ModelType()
	dir := filepath.Join(c.DataDir, TaskDirs[task])
	if err := w.LoadTask(task, dir); err != nil {
		return fail(err)
	}
	settings := map[string]string{"seed": strconv.Itoa(seed), "protocol": c.Protocol}
	for k, v := range c.Settings {
		if !strings.Contains(k, ".") {
			settings[k] = v
		}
	}
	switch m {
	case "pt2*", "pt2+":
		if apt == nil {
			return fail(fmt.Errorf("%s needs a trained APT run of the same task and seed (add apt to the methods)", m))
		}
		lens := probeLengths(m, apt)
		settings["method"] = "pt2"
		settings["prefix_len"] = joinInts(lens)
	default:
		settings["method"] = m
	}
	// Method-specific settings ("ft.lr=2e-5") override the shared ones.
	for k, v := range c.Settings {
		if meth, key, ok := strings.Cut(k, "."); ok && meth == m {
			settings[key] = v
		}
	}
	for _, k := range sortedKeys(settings) {
		if err := w.Set(k, settings[k]); err != nil {
			return fail(err)
		}
	}
	res, err := w.Train(ctx, aptlib.TrainOptions{})
	if err != nil {
		return fail(err)
	}
	run.Steps = res.Steps
	spec, _ := w.Spec()
	run.PrefixLens = spec.Method.PrefixLens
	if info, err := w.ModelInfo(); err == nil {
		for _, mp := range info.Methods {
			if string(mp.Method) == settings["method"] {
				run.Trainable = mp.Trainable
			}
		}
	}
	// Report: P-Tuning v2 reports the best dev epoch's scores; the honest
	// protocol selected on held-out train data and reports dev once, now.
	if c.Protocol == string(tasks.ProtocolHonestHeldOut) {
		run.Scores, err = w.Eval("dev")
		if err != nil {
			return fail(err)
		}
	} else {
		for _, e := range w.EvalHistory {
			if e.Best {
				run.Scores = e.Metrics
			}
		}
		if run.Scores == nil {
			return fail(fmt.Errorf("no dev evaluation happened"))
		}
	}
	run.Main = aptlib.MainScore(w.Task, run.Scores)
	run.Seconds = time.Since(start).Seconds()
	var out *aptResult
	if m == "apt" {
		g, err := w.Gates(w.SelectionSplit())
		if err != nil {
			return fail(err)
		}
		out = &aptResult{config: spec.Method, layerScores: g.LayerScores(), hidden: w.Model.Config.HiddenSize()}
	}
	return run, out
}

// probeLengths: PT-2* spends APT's total prefix budget in proportion to each
// layer's mean lambda*alpha; PT-2+ matches APT's parameter count.
func probeLengths(m string, apt *aptResult) []int {
	if m == "pt2+" {
		return method.MatchParameters(apt.config, apt.hidden).PrefixLens
	}
	scores := slices.Clone(apt.layerScores)
	for i, s := range scores {
		if math.IsNaN(s) || s < 0 {
			scores[i] = 0
		}
	}
	return method.ProbeLengths(scores, apt.config.TotalPrefix(), 0)
}

// modelTypes lists the families the runs loaded ("unknown" when no model
// loaded): one, unless the model directory changed between runs.
func modelTypes(runs []Run) string {
	var types []string
	for _, r := range runs {
		if r.ModelType != "" && !slices.Contains(types, r.ModelType) {
			types = append(types, r.ModelType)
		}
	}
	if len(types) == 0 {
		return "unknown (no model loaded)"
	}
	return strings.Join(types, ", ")
}

func mainName(s tasks.Scores) string {
	return "score(" + strings.Join(sortedKeys(toStrings(s)), "+") + ")"
}

func toStrings(s tasks.Scores) map[string]string {
	out := map[string]string{}
	for k := range s {
		out[k] = ""
	}
	return out
}

func joinInts(x []int) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Table renders the runs as markdown: one row per method, one column per task,
// mean ± sample std of the main score (x100) over seeds, and the average. Its
// header names the backbone and its family (the model_type the runs loaded).
func Table(runs []Run, c Config, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Backbone: `%s`. Family: `%s`. Protocol: `%s`. Seeds: %v. Settings: %v.\n\n",
		c.Model, modelTypes(runs), c.Protocol, c.Seeds, c.Settings)
	fmt.Fprintf(&b, "Command: `%s`\n\n", command)
	fmt.Fprintf(&b, "| method | %s | avg |\n|---|%s---|\n", strings.Join(c.Tasks, " | "), strings.Repeat("---|", len(c.Tasks)))
	for _, m := range c.Methods {
		fmt.Fprintf(&b, "| %s |", m)
		var means []float64
		for _, t := range c.Tasks {
			var xs []float64
			errs := 0
			for _, r := range runs {
				if r.Task == t && r.Method == m {
					if r.Err != nil {
						errs++
						continue
					}
					xs = append(xs, 100*r.Main)
				}
			}
			if len(xs) == 0 {
				fmt.Fprintf(&b, " n/a (%d failed) |", errs)
				continue
			}
			s := metrics.Summarize(xs)
			means = append(means, s.Mean)
			if len(xs) > 1 {
				fmt.Fprintf(&b, " %.1f ± %.1f |", s.Mean, s.Std)
			} else {
				fmt.Fprintf(&b, " %.1f |", s.Mean)
			}
		}
		if len(means) == len(c.Tasks) {
			fmt.Fprintf(&b, " %.1f |\n", metrics.Summarize(means).Mean)
		} else {
			b.WriteString(" |\n")
		}
	}
	b.WriteString("\nScores x100: the mean of each task's metrics (CB: accuracy and macro-F1; MultiRC: F1a and EM; NER: entity F1), mean ± sample std over seeds.\n")
	return b.String()
}
