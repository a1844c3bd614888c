package viz_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/viz"
)

// The gates of a 4-layer model with 8 prefix slots; layer 3 has a shorter prefix
// (as in a PT-2* built from gates), so its last slots do not exist.
func exampleGates() viz.GateMap {
	nan := math.NaN()
	return viz.GateMap{
		Title: "alpha per prefix slot",
		Values: [][]float64{
			{0.02, 0.05, 0.10, 0.08, 0.04, 0.03, 0.01, 0.02},
			{0.21, 0.35, 0.40, 0.33, 0.28, 0.19, 0.12, 0.15},
			{0.55, 0.62, 0.71, 0.66, 0.59, 0.48, 0.44, 0.52},
			{0.91, 0.97, 0.88, 0.83, nan, nan, nan, nan},
		},
		Min: 0, Max: 1, // gates live in (0, 1): fix the scale
	}
}

// A plain heat map, as the shell prints it when colour is off (NO_COLOR, or output
// that is not a terminal): a line per layer, two characters of the shading ramp
// per slot, "//" where a slot does not exist, and the legend.
func ExampleTerminal() {
	fmt.Print(viz.Terminal(exampleGates(), viz.TermOptions{}))
	// Output:
	// alpha per prefix slot
	//     0 1 2 3 4 5 6 7
	// L0 |    ..          |
	// L1 |::--==--::......|
	// L2 |++**##**++====++|
	// L3 |@@@@%%%%////////|
	// scale 0.00 [ .:-=+*#%@] 1.00   // no slot
}

// With Values the numbers are printed too, each after its shading character.
func ExampleTerminal_values() {
	fmt.Print(viz.Terminal(exampleGates(), viz.TermOptions{Values: true, Width: 100}))
	// Output:
	// alpha per prefix slot
	//         0      1      2      3      4      5      6      7
	// L0 |  0.02   0.05 . 0.10   0.08   0.04   0.03   0.01   0.02 |
	// L1 |: 0.21 - 0.35 = 0.40 - 0.33 : 0.28 . 0.19 . 0.12 . 0.15 |
	// L2 |+ 0.55 * 0.62 # 0.71 * 0.66 + 0.59 = 0.48 = 0.44 + 0.52 |
	// L3 |@ 0.91 @ 0.97 % 0.88 % 0.83     --     --     --     -- |
	// scale 0.00 [ .:-=+*#%@] 1.00   // no slot
}

// Lambda per layer with its reference 1.0: bars from zero, the value in front,
// "|" marking the reference in every track.
func ExampleTerminalBars() {
	lambda := viz.Bars{
		Title:  "lambda per layer",
		Values: []float64{0.82, 1.04, 1.31, math.NaN(), -0.12},
		Ref:    1,
	}
	fmt.Print(viz.TerminalBars(lambda, viz.TermOptions{Width: 60}))
	// Output:
	// lambda per layer
	// L0   0.82     ############################      |
	// L1   1.04     ##################################|#
	// L2   1.31     ##################################|##########
	// L3   none     :                                 |
	// L4  -0.12 ####:                                 |
	//           | reference 1   : zero   scale -0.12 to 1.31
}

// A one-line trend, e.g. mean alpha per layer after a training step; on a fixed
// 0..1 scale successive lines compare.
func ExampleSparkline() {
	meanAlpha := []float64{0.05, 0.12, 0.31, 0.48, 0.62, 0.77, 0.9, 0.97}
	fmt.Println("alpha", viz.Sparkline(meanAlpha))
	fmt.Println("alpha", viz.SparklineRange([]float64{0.5, 0.5, 0.52, 0.55}, 0, 1))
	// Output:
	// alpha ▁▁▃▄▅▇██
	// alpha ▅▅▅▅
}

// Pictures go to files by extension, or to a notebook as HTML (in GoNB:
// gonbui.DisplayHTML(viz.HTML(fig))).
func ExampleSave() {
	dir := os.TempDir()
	gates := exampleGates()
	lambda := viz.Bars{Title: "lambda per layer", Values: []float64{0.82, 1.04, 1.31, 0.95}, Ref: 1,
		XLabel: "layer", YLabel: "lambda"}
	steps := []float64{100, 200, 300}
	loss := viz.LinePlot{Title: "training loss", XLabel: "step", YLabel: "loss", LogY: true,
		Series: []viz.Series{{Name: "train", X: steps, Y: []float64{0.9, 0.5, 0.35}}}}
	for name, fig := range map[string]viz.Figure{"gates.svg": gates, "lambda.png": lambda, "loss.png": loss} {
		if err := viz.Save(filepath.Join(dir, name), fig); err != nil {
			fmt.Println(err)
		}
	}
	html := viz.HTML(viz.HeatPair{Title: "two runs", A: gates, B: gates})
	_ = html
}
