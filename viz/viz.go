// Package viz draws the APT workbench's pictures: gate heat maps (layers x prefix
// slots), lambda per layer, gate trajectories over training steps, loss and metric
// curves, and side-by-side comparisons of two runs.
//
// It is a set of pure functions from plain Go values to pictures and depends on
// nothing else in the project. Every picture kind is a [Figure]; each can be written
// as SVG ([WriteSVG]), PNG ([WritePNG]), saved to a file by extension ([Save]), or
// returned as a self-contained HTML <div> for notebooks ([HTML], shown in GoNB with
// gonbui.DisplayHTML). The shell's forms are text: [Terminal] (gate heat map),
// [TerminalBars] (lambda per layer) and [Sparkline] (a one-line trend).
//
// Colours follow the perceptually ordered viridis map ([Viridis]); every picture
// carries a legend (a colour bar for heat maps). Cells that do not exist (NaN: a
// layer with a shorter prefix or none) are drawn hatched, never coloured.
//
// Line plots and bar charts are drawn with gonum.org/v1/plot; heat maps are laid
// out here so that their SVG has one <rect class="cell"> per existing cell with a
// tooltip giving its value.
package viz

import (
	"fmt"
	"math"
)

// GateMap is a heat map of gate values: rows are layers (0-based), columns prefix
// slots. NaN (or an infinity) marks cells that do not exist (layers with a shorter
// or no prefix); rows may also be shorter than the widest row. Min and Max fix the colour scale;
// both 0 means automatic (the finite values' range).
type GateMap struct {
	Title     string
	RowLabels []string // one per row; missing labels default to the row number
	Values    [][]float64
	Min, Max  float64
}

// Series is one named line: Y[i] at X[i]. Non-finite Y values leave a gap.
type Series struct {
	Name string
	X    []float64
	Y    []float64
}

// LinePlot is a set of curves on shared axes, e.g. loss and metric curves or gate
// trajectories (one series per layer, see [Trajectories]). LogY draws the Y axis on
// a log scale (values <= 0 are then left out).
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogY                  bool
}

// Bars is one bar per value, e.g. lambda per layer, named by Labels (missing labels
// default to the index). NaN values are absent (drawn as "none"); negative values
// hang below zero. Ref draws a dashed reference line (1.0 for lambda); NaN for none.
// XLabel and YLabel are optional axis titles.
type Bars struct {
	Title          string
	Labels         []string
	Values         []float64
	Ref            float64
	XLabel, YLabel string
}

// HeatPair shows two gate maps side by side with one shared colour scale, e.g. the
// gates of two runs. A.Title and B.Title name the panels; Min/Max of A (or else B)
// fix the shared scale, otherwise it spans both maps' values.
type HeatPair struct {
	Title string
	A, B  GateMap
}

// LineCompare overlays the curves of two runs on one plot: series with the same
// name share a colour, run A is drawn solid and run B dashed, and the legend names
// both. Axis labels and LogY come from A (or B where A leaves them empty).
type LineCompare struct {
	Title        string
	NameA, NameB string
	A, B         LinePlot
}

// Figure is any picture this package draws: GateMap, HeatPair, LinePlot,
// LineCompare and Bars.
type Figure interface {
	build() (scene, error)
}

// Size returns the figure's size in CSS pixels: the size of its SVG and of its PNG
// at scale 1.
func Size(f Figure) (w, h int, err error) {
	s, err := buildScene(f)
	if err != nil {
		return 0, 0, err
	}
	fw, fh := s.size()
	return int(math.Round(fw)), int(math.Round(fh)), nil
}

// Trajectories builds the gate-trajectory plot: one line per layer, values[k][i]
// being layer i's value (mean alpha, lambda, ...) at steps[k]. NaN values leave a
// gap. Labels name the layers (missing ones default to "layer i").
func Trajectories(title, ylabel string, steps []float64, labels []string, values [][]float64) LinePlot {
	nl := 0
	for _, row := range values {
		nl = max(nl, len(row))
	}
	lp := LinePlot{Title: title, XLabel: "step", YLabel: ylabel}
	for i := 0; i < nl; i++ {
		name := fmt.Sprintf("layer %d", i)
		if i < len(labels) && labels[i] != "" {
			name = labels[i]
		}
		s := Series{Name: name}
		for k, row := range values {
			if k >= len(steps) {
				break
			}
			y := math.NaN()
			if i < len(row) {
				y = row[i]
			}
			s.X = append(s.X, steps[k])
			s.Y = append(s.Y, y)
		}
		lp.Series = append(lp.Series, s)
	}
	return lp
}

func (g GateMap) build() (scene, error) {
	return heatScene(g.Title, []GateMap{g}, g.Min, g.Max, false), nil
}
func (p HeatPair) build() (scene, error)    { return pairScene(p), nil }
func (l LinePlot) build() (scene, error)    { return lineScene(l) }
func (l LineCompare) build() (scene, error) { return compareScene(l) }
func (b Bars) build() (scene, error)        { return barScene(b) }

// buildScene builds f's scene, turning a panic in a drawing library into an error.
func buildScene(f Figure) (s scene, err error) {
	if f == nil {
		return nil, fmt.Errorf("viz: nil figure")
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("viz: drawing %T: %v", f, r)
		}
	}()
	return f.build()
}
