package repl

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/internal/outguard"
	"github.com/aptbench/apt/viz"
)

var gateSources = []string{"batch", "train", "dev", "test"}

// gateSource picks and checks a gates source: the last batch after a training
// step, else dev.
func (s *Shell) gateSource(cmd, arg string) (string, error) {
	if arg == "" {
		if s.w.LastStep != nil {
			return "batch", nil
		}
		return "dev", nil
	}
	src := strings.ToLower(arg)
	switch src {
	case "batch", "train", "dev", "test", "heldout":
		return src, nil
	case "val", "valid", "validation":
		return "dev", nil
	}
	return "", usageError(cmd, "unknown source %s%s: want batch, train, dev or test", printable(arg), didYouMean(src, gateSources))
}

func cmdGates(ctx context.Context, s *Shell, args []string) error {
	var src, jsonFile, csvFile string
	var values, effective, byLabel bool
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch strings.ToLower(a) {
		case "--values", "-v":
			values = true
		case "--effective", "-e":
			effective = true
		case "--by-label":
			byLabel = true
		case "--json", "--csv":
			if i+1 >= len(args) {
				return usageError("gates", "%s needs a file name", a)
			}
			p, err := s.expandPath(args[i+1])
			if err != nil {
				return fmt.Errorf("gates: %w", err)
			}
			if strings.ToLower(a) == "--json" {
				jsonFile = p
			} else {
				csvFile = p
			}
			i++
		default:
			if strings.HasPrefix(a, "-") {
				return usageError("gates", "unknown option %s%s", printable(a), didYouMean(a, []string{"--values", "--effective", "--by-label", "--json", "--csv"}))
			}
			if src != "" {
				return usageError("gates", "give one source (got %s and %s)", src, printable(a))
			}
			var err error
			if src, err = s.gateSource("gates", a); err != nil {
				return err
			}
		}
	}
	if src == "" {
		src, _ = s.gateSource("gates", "")
	}
	// Check the outputs before the (possibly long) gate computation.
	for _, o := range []struct{ op, path string }{{"gates --json", jsonFile}, {"gates --csv", csvFile}} {
		if o.path != "" {
			if err := s.w.CheckOutput(o.op, o.path); err != nil {
				return err
			}
		}
	}
	if jsonFile != "" && csvFile != "" {
		var g outguard.Guard
		g.File("the --json output", jsonFile)
		if err := g.Check("gates --csv", csvFile); err != nil {
			return err
		}
	}
	r, err := s.w.GatesContext(ctx, src)
	if err != nil {
		return s.interrupted(ctx, err)
	}
	if jsonFile != "" {
		if err := s.w.SaveGatesJSON(jsonFile, r); err != nil {
			return err
		}
	}
	if csvFile != "" {
		if err := s.w.SaveGatesCSV(csvFile, r); err != nil {
			return err
		}
	}
	quiet := jsonFile != "" || csvFile != ""
	if !quiet || values || effective || byLabel {
		s.showGates(r, values, effective, byLabel)
	}
	for _, f := range []string{jsonFile, csvFile} {
		if f != "" {
			s.printf("wrote %s (gates of %s)\n", f, sourceText(r.Source))
		}
	}
	return nil
}

// showGates prints the heat map, the lambda bars, the layer scores and a
// legend.
func (s *Shell) showGates(r *aptlib.GateReport, values, effective, byLabel bool) {
	o := s.termOptions()
	o.Values = values
	hasAlpha := r.Method.HasTokenGate()
	hasLambda := r.Method.HasLayerGate()
	if !hasAlpha && !hasLambda {
		s.printf("method %s has prefixes but no gates (every slot is used at weight 1); use apt to learn gates\n", r.Method)
		return
	}
	switch {
	case effective || !hasAlpha:
		s.printf("%s", viz.Terminal(r.EffectiveMap(), o))
	default:
		s.printf("%s", viz.Terminal(r.AlphaMap(), o))
	}
	if byLabel && len(r.AlphaByLabel) > 0 && hasAlpha {
		labels := make([]string, 0, len(r.AlphaByLabel))
		for l := range r.AlphaByLabel {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for _, l := range labels {
			sub := *r
			sub.Alpha = r.AlphaByLabel[l]
			sub.Source = r.Source + ", label " + l
			s.println()
			m := sub.AlphaMap()
			if effective {
				m = sub.EffectiveMap()
			}
			s.printf("%s", viz.Terminal(m, o))
		}
	} else if byLabel {
		s.note("per-label gates need a split source with a token gate (e.g. gates dev --by-label)")
	}
	s.println()
	if hasLambda {
		s.printf("%s", viz.TerminalBars(r.LambdaBars(), o))
	} else {
		s.printf("no layer gate (method %s): lambda is fixed at 1\n", r.Method)
	}
	scores := r.LayerScores()
	parts := make([]string, len(scores))
	for i, v := range scores {
		parts[i] = fmt.Sprintf("L%d %s", i, num2(v))
	}
	s.printf("layer score (mean lambda*alpha): %s\n", strings.Join(parts, "  "))
	var legend []string
	if hasAlpha {
		legend = append(legend, "alpha: token gate per prefix slot, 0 = slot switched off, 1 = fully on")
	}
	if hasLambda {
		legend = append(legend, "lambda: layer scale, starts at 1.0")
	}
	legend = append(legend, "source: "+r.Source)
	if !values {
		legend = append(legend, "gates --values prints the numbers")
	}
	s.printf("%s\n", s.dim(hang(strings.Join(legend, "; "), s.width()-1, "  ")))
}

// sourceText turns "dev (120 examples)" into "dev, 120 examples".
func sourceText(src string) string {
	if i := strings.Index(src, " ("); i >= 0 && strings.HasSuffix(src, ")") {
		return src[:i] + ", " + src[i+2:len(src)-1]
	}
	return src
}

func num2(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	if le, ok := err.(*os.LinkError); ok {
		return le.Err
	}
	return err
}

var plotKinds = []string{"loss", "gates", "lambda", "alpha"}

func cmdPlot(ctx context.Context, s *Shell, args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return usageError("plot", "give what to plot and a file")
	}
	kind := strings.ToLower(args[0])
	if !contains(plotKinds, kind) {
		return usageError("plot", "unknown picture %s%s: want loss, gates, lambda or alpha", printable(args[0]), didYouMean(kind, plotKinds))
	}
	path, err := s.expandPath(args[1])
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".svg" && ext != ".png" {
		return usageError("plot", "%s must end in .svg or .png", printable(args[1]))
	}
	if len(args) == 3 && kind != "gates" {
		return usageError("plot", "only plot gates takes a source")
	}
	if err := s.w.CheckOutput("plot "+kind, path); err != nil {
		return err
	}
	var fig viz.Figure
	switch kind {
	case "loss":
		if len(s.w.Losses()) == 0 {
			return fmt.Errorf("plot loss: no training yet (train or step first)")
		}
		fig = s.w.LossPlot()
	case "lambda", "alpha":
		var lp viz.LinePlot
		var err error
		if kind == "lambda" {
			lp, err = s.w.LambdaPlot()
		} else {
			lp, err = s.w.AlphaPlot()
		}
		if err != nil {
			return fmt.Errorf("plot %s: %w", kind, err)
		}
		fig = lp
	case "gates":
		src := ""
		if len(args) == 3 {
			src = args[2]
		}
		src, err := s.gateSource("plot", src)
		if err != nil {
			return err
		}
		r, err := s.w.GatesContext(ctx, src)
		if err != nil {
			return s.interrupted(ctx, err)
		}
		if r.Method.HasTokenGate() {
			fig = r.AlphaMap()
		} else {
			fig = r.EffectiveMap()
		}
	}
	if err := s.w.SavePlot(path, fig); err != nil {
		return fmt.Errorf("plot %s: %w", kind, err)
	}
	s.printf("wrote %s (%s)\n", path, bytesText(statFile(path)))
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
