package viz

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// sampleFigures returns one figure of every kind, with data shaped like an APT run
// (12 layers, 16 prefix slots, 300 steps).
func sampleFigures() map[string]Figure {
	rng := rand.New(rand.NewSource(1))
	const layers, slots, steps = 12, 16, 300
	gates := func(shift float64) GateMap {
		g := GateMap{Title: "token gate alpha (mean over dev)", Min: 0, Max: 1}
		for i := 0; i < layers; i++ {
			row := make([]float64, slots)
			for j := range row {
				z := 0.45*float64(i-5) - 0.12*float64(j) + shift + 0.4*rng.NormFloat64()
				row[j] = 1 / (1 + math.Exp(-z))
			}
			g.Values = append(g.Values, row)
		}
		return g
	}
	apt := gates(0)
	// PT-2*: per-layer lengths from the gates, layers without prefix.
	varlen := GateMap{Title: "PT-2* gates: variable prefix lengths"}
	for i := 0; i < layers; i++ {
		p := []int{0, 0, 2, 4, 6, 8, 10, 12, 14, 16, 16, 12}[i]
		row := make([]float64, slots)
		for j := range row {
			row[j] = math.NaN()
			if j < p {
				row[j] = 0.3 + 0.05*float64(i) + 0.1*rng.Float64()
			}
		}
		varlen.Values = append(varlen.Values, row)
	}
	lambda := Bars{Title: "layer gate lambda per layer", Ref: 1, XLabel: "layer", YLabel: "lambda"}
	for i := 0; i < layers; i++ {
		lambda.Labels = append(lambda.Labels, fmt.Sprint(i))
		lambda.Values = append(lambda.Values, 1+0.08*float64(i-4)+0.05*rng.NormFloat64())
	}
	lambda.Values[2] = -0.15
	lambda.Values[7] = math.NaN()

	stepsX := make([]float64, steps)
	traj := make([][]float64, steps)
	for k := range stepsX {
		stepsX[k] = float64(k + 1)
		traj[k] = make([]float64, layers)
		for i := range traj[k] {
			target := 0.2 + 0.6*float64(i)/float64(layers-1)
			traj[k][i] = 0.5 + (target-0.5)*(1-math.Exp(-float64(k)/80)) + 0.01*rng.NormFloat64()
		}
	}
	trajectories := Trajectories("mean alpha per layer during training", "mean alpha", stepsX, nil, traj)

	curve := func(scale, noise float64) (loss, acc Series) {
		loss, acc = Series{Name: "train loss"}, Series{Name: "dev accuracy"}
		for k := 0; k < steps; k++ {
			x := float64(k + 1)
			loss.X = append(loss.X, x)
			loss.Y = append(loss.Y, scale*(0.25+0.9*math.Exp(-x/70))*(1+noise*rng.NormFloat64()))
			if k%25 == 24 {
				acc.X = append(acc.X, x)
				acc.Y = append(acc.Y, 0.5+0.3*(1-math.Exp(-x/scale/90)))
			}
		}
		return
	}
	lossA, accA := curve(1, 0.08)
	lossB, accB := curve(1.3, 0.08)
	lossPlot := LinePlot{Title: "training loss (APT)", XLabel: "step", YLabel: "loss", Series: []Series{lossA}, LogY: true}
	metrics := LinePlot{Title: "dev accuracy", XLabel: "step", YLabel: "accuracy", Series: []Series{accA}}
	wide := GateMap{Title: "24 layers x 100 slots"}
	for i := 0; i < 24; i++ {
		row := make([]float64, 100)
		for j := range row {
			row[j] = 1 / (1 + math.Exp(-(0.3*float64(i-12) + 0.5*rng.NormFloat64())))
		}
		wide.Values = append(wide.Values, row)
	}
	return map[string]Figure{
		"gates_wide":   wide,
		"gates":        apt,
		"gates_varlen": varlen,
		"lambda":       lambda,
		"trajectories": trajectories,
		"loss":         lossPlot,
		"metric":       metrics,
		"pair_gates":   HeatPair{Title: "gates: APT seed 1 vs seed 2", A: withTitle(apt, "seed 1"), B: withTitle(gates(0.8), "seed 2")},
		"compare_loss": LineCompare{Title: "loss: APT vs PT-2", NameA: "APT", NameB: "PT-2",
			A: LinePlot{XLabel: "step", YLabel: "loss", Series: []Series{lossA}}, B: LinePlot{Series: []Series{lossB}}},
		"compare_metrics": LineCompare{Title: "APT vs PT-2", NameA: "APT", NameB: "PT-2",
			A: LinePlot{XLabel: "step", YLabel: "value", Series: []Series{{Name: "loss", X: lossA.X, Y: lossA.Y}, accA}},
			B: LinePlot{Series: []Series{{Name: "loss", X: lossB.X, Y: lossB.Y}, accB}}},
	}
}

func withTitle(g GateMap, t string) GateMap { g.Title = t; return g }

// TestWriteSamples writes every sample figure as SVG and PNG, and the terminal forms
// as text, into $VIZ_SAMPLES, for a person to look at.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("VIZ_SAMPLES")
	if dir == "" {
		t.Skip("set VIZ_SAMPLES=DIR to write sample pictures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	figs := sampleFigures()
	for name, f := range figs {
		for _, ext := range []string{".svg", ".png"} {
			if err := Save(filepath.Join(dir, name+ext), f); err != nil {
				t.Errorf("%s%s: %v", name, ext, err)
			}
		}
	}
	var txt string
	for _, name := range []string{"gates", "gates_varlen"} {
		g := figs[name].(GateMap)
		txt += Terminal(g, TermOptions{}) + "\n" + Terminal(g, TermOptions{Values: true, Width: 120}) + "\n" +
			Terminal(g, TermOptions{Color: true, TrueColor: true}) + "\n" + Terminal(g, TermOptions{Color: true, Values: true, Width: 120}) + "\n"
	}
	b := figs["lambda"].(Bars)
	txt += TerminalBars(b, TermOptions{}) + "\n" + TerminalBars(b, TermOptions{Color: true, TrueColor: true}) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "terminal.txt"), []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
}
