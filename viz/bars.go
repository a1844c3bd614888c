package viz

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var (
	barColor = Viridis(0.38)
	refColor = color.RGBA{0xc0, 0x39, 0x2b, 255}
)

func barScene(b Bars) (scene, error) {
	n := len(b.Values)
	ylabel := b.YLabel
	p := newPlot(b.Title, b.XLabel, ylabel)
	// The picture widens with the number of bars, within reason.
	w := math.Max(480, math.Min(1200, 160+float64(n)*34))
	h := 400.0
	leg := newLegend()
	var names []string

	labels := make([]string, n)
	vals := make(plotter.Values, n)
	lo, hi := 0.0, 0.0
	for i, v := range b.Values {
		labels[i] = strconv.Itoa(i)
		if i < len(b.Labels) && b.Labels[i] != "" {
			labels[i] = b.Labels[i]
		}
		if finite(v) {
			vals[i] = v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	hasRef := finite(b.Ref)
	if hasRef {
		lo, hi = math.Min(lo, b.Ref), math.Max(hi, b.Ref)
	}
	span := hi - lo
	if span == 0 {
		span = 1
		hi = lo + 1
	}
	// Room for the value labels above (and below) the bars.
	p.Y.Min, p.Y.Max = lo, hi+0.12*span
	if lo < 0 {
		p.Y.Min = lo - 0.12*span
	}

	if n == 0 {
		p.X.Min, p.X.Max = 0, 1
		finishAxes(p, 0, false, yRange{})
	} else {
		// Bar width: 70% of the slot each bar gets in the plot area (estimated).
		plotW := (w - 110) * pxToPt
		if hasRef {
			plotW -= 90
		}
		bc, err := plotter.NewBarChart(vals, vg.Length(math.Max(2, 0.7*plotW/float64(n))))
		if err != nil {
			return nil, err
		}
		bc.Color = barColor
		bc.LineStyle.Width = 0
		p.Add(bc)
		p.Add(&barLabels{values: b.Values})
		p.X.Min, p.X.Max = -0.6, float64(n)-0.4
		p.NominalX(labels...)
		p.X.Tick.Label.Font = p.Y.Tick.Label.Font
		// Long labels that would collide are turned.
		maxLab := 0.0
		for _, l := range labels {
			maxLab = math.Max(maxLab, float64(p.X.Tick.Label.Width(l)))
		}
		if maxLab > 0.9*plotW/float64(n) {
			p.X.Tick.Label.Rotation = math.Pi / 4
			p.X.Tick.Label.XAlign = draw.XRight
			p.X.Tick.Label.YAlign = draw.YCenter
		}
		name := ylabel
		if name == "" {
			name = "value"
		}
		names = append(names, name)
		leg.Add(name, bc)
		if lo < 0 {
			zero, _ := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}})
			zero.LineStyle = draw.LineStyle{Color: inkGrey, Width: 0.75}
			p.Add(zero)
		}
	}
	if hasRef {
		x0, x1 := -0.6, math.Max(1, float64(n)-0.4)
		ref, _ := plotter.NewLine(plotter.XYs{{X: x0, Y: b.Ref}, {X: x1, Y: b.Ref}})
		ref.LineStyle = draw.LineStyle{Color: refColor, Width: 1.25, Dashes: dashB}
		p.Add(ref)
		name := "reference " + strconv.FormatFloat(b.Ref, 'g', 4, 64)
		names = append(names, name)
		leg.Add(name, ref)
	}
	return newPlotScene(b.Title, p, leg, names, w, h), nil
}

// barLabels writes each bar's value at its end (2 decimals), "none" for an absent
// value, when the bars are wide enough for the text.
type barLabels struct{ values []float64 }

func (bl *barLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(bl.values)
	if n == 0 {
		return
	}
	slot := trX(1) - trX(0)
	sty := text.Style{Color: inkGrey, Font: p.Y.Tick.Label.Font, XAlign: draw.XCenter, Handler: p.Y.Tick.Label.Handler}
	for i, v := range bl.values {
		lab := "none"
		y := 0.0
		if finite(v) {
			lab = strconv.FormatFloat(v, 'f', 2, 64)
			y = v
		}
		if sty.Width(lab) > slot*0.98 {
			continue
		}
		pt := vg.Point{X: trX(float64(i)), Y: trY(y) + 3}
		if finite(v) && v < 0 {
			pt.Y = trY(y) - 3
			sty.YAlign = draw.YTop
		} else {
			sty.YAlign = draw.YBottom
		}
		c.FillText(sty, pt, lab)
	}
}
