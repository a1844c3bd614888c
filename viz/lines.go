package viz

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

const (
	lineW, lineH = 720.0, 440.0 // default size of line plots, CSS pixels
	lineWidth    = 1.5          // points
)

var dashB = []vg.Length{5, 3}

// lineStyle is how one series is drawn.
type lineStyle struct {
	color  color.RGBA
	dashed bool
}

func (st lineStyle) draw() draw.LineStyle {
	ls := draw.LineStyle{Color: st.color, Width: lineWidth}
	if st.dashed {
		ls.Dashes = dashB
	}
	return ls
}

// thumb is a legend thumbnail for a line style.
func (st lineStyle) thumb() plot.Thumbnailer {
	return &plotter.Line{LineStyle: st.draw()}
}

// yRange tracks the finite (for log axes: positive) Y values drawn.
type yRange struct{ lo, hi float64 }

func newYRange() yRange { return yRange{math.Inf(1), math.Inf(-1)} }

// addSeries draws s on p in style st: one line per run of usable points, a dot for
// a lone point. It returns the number of points drawn.
func addSeries(p *plot.Plot, s Series, st lineStyle, logY bool, yr *yRange) int {
	n := min(len(s.X), len(s.Y))
	drawn := 0
	var seg plotter.XYs
	flush := func() {
		switch {
		case len(seg) >= 2:
			l, err := plotter.NewLine(seg)
			if err == nil {
				l.LineStyle = st.draw()
				p.Add(l)
			}
		case len(seg) == 1:
			sc, err := plotter.NewScatter(seg)
			if err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Color: st.color, Radius: 2.5, Shape: draw.CircleGlyph{}}
				p.Add(sc)
			}
		}
		drawn += len(seg)
		seg = nil
	}
	for i := 0; i < n; i++ {
		x, y := s.X[i], s.Y[i]
		if !finite(x) || !finite(y) || logY && y <= 0 {
			flush()
			continue
		}
		yr.lo, yr.hi = math.Min(yr.lo, y), math.Max(yr.hi, y)
		seg = append(seg, plotter.XY{X: x, Y: y})
	}
	flush()
	return drawn
}

// hasPositive reports whether any series has a finite Y > 0 (a log axis can show it).
func hasPositive(ss ...[]Series) bool {
	for _, list := range ss {
		for _, s := range list {
			for i, y := range s.Y {
				if i < len(s.X) && finite(s.X[i]) && finite(y) && y > 0 {
					return true
				}
			}
		}
	}
	return false
}

// finishAxes sets a log Y axis up, and gives an empty plot a "no data" note.
func finishAxes(p *plot.Plot, drawn int, logY bool, yr yRange) {
	if drawn == 0 {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{"no data"}})
		if err == nil {
			lab.TextStyle[0].Font = p.X.Label.TextStyle.Font
			lab.TextStyle[0].Color = inkGrey
			lab.TextStyle[0].XAlign = draw.XCenter
			p.Add(lab)
		}
		return
	}
	if logY {
		lo, hi := yr.lo, yr.hi
		if lo == hi {
			lo, hi = lo/2, hi*2
		}
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Min, p.Y.Max = lo, hi
	}
}

// seriesName names series i when its Name is empty.
func seriesName(s Series, i int) string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("series %d", i)
}

func lineScene(lp LinePlot) (scene, error) {
	p := newPlot(lp.Title, lp.XLabel, lp.YLabel)
	logY := lp.LogY && hasPositive(lp.Series)
	yr := newYRange()
	leg := newLegend()
	var names []string
	drawn := 0
	for i, s := range lp.Series {
		st := lineStyle{color: seriesColor(i, len(lp.Series))}
		drawn += addSeries(p, s, st, logY, &yr)
		names = append(names, seriesName(s, i))
		leg.Add(names[i], st.thumb())
	}
	finishAxes(p, drawn, logY, yr)
	return newPlotScene(lp.Title, p, leg, names, lineW, lineH), nil
}

func compareScene(lc LineCompare) (scene, error) {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	nameA, nameB := pick(lc.NameA, "A"), pick(lc.NameB, "B")
	p := newPlot(lc.Title, pick(lc.A.XLabel, lc.B.XLabel), pick(lc.A.YLabel, lc.B.YLabel))
	logY := (lc.A.LogY || lc.B.LogY) && hasPositive(lc.A.Series, lc.B.Series)
	yr := newYRange()

	// Series are matched by name across the runs.
	var order []string
	index := map[string]int{}
	for _, list := range [][]Series{lc.A.Series, lc.B.Series} {
		for i, s := range list {
			n := seriesName(s, i)
			if _, ok := index[n]; !ok {
				index[n] = len(order)
				order = append(order, n)
			}
		}
	}
	leg := newLegend()
	var names []string
	drawn := 0
	if len(order) <= 1 {
		// One quantity (e.g. the loss): tell the runs apart by colour as well.
		stA := lineStyle{color: Viridis(0.12)}
		stB := lineStyle{color: Viridis(0.62), dashed: true}
		for _, s := range lc.A.Series {
			drawn += addSeries(p, s, stA, logY, &yr)
		}
		for _, s := range lc.B.Series {
			drawn += addSeries(p, s, stB, logY, &yr)
		}
		prefix := ""
		if len(order) == 1 {
			prefix = order[0] + ", "
		}
		names = []string{prefix + nameA, prefix + nameB}
		leg.Add(names[0], stA.thumb())
		leg.Add(names[1], stB.thumb())
	} else {
		for run, list := range [][]Series{lc.A.Series, lc.B.Series} {
			for i, s := range list {
				st := lineStyle{color: seriesColor(index[seriesName(s, i)], len(order)), dashed: run == 1}
				drawn += addSeries(p, s, st, logY, &yr)
			}
		}
		for k, n := range order {
			names = append(names, n)
			leg.Add(n, lineStyle{color: seriesColor(k, len(order))}.thumb())
		}
		grey := color.RGBA{0x44, 0x44, 0x44, 255}
		names = append(names, nameA+" (solid)", nameB+" (dashed)")
		leg.Add(names[len(names)-2], lineStyle{color: grey}.thumb())
		leg.Add(names[len(names)-1], lineStyle{color: grey, dashed: true}.thumb())
	}
	finishAxes(p, drawn, logY, yr)
	return newPlotScene(lc.Title, p, leg, names, lineW, lineH), nil
}

// newPlotScene sizes a plot with its legend column: the picture grows taller when
// the legend's entries need it.
func newPlotScene(title string, p *plot.Plot, leg *plot.Legend, names []string, w, h float64) *plotScene {
	s := &plotScene{w: w, h: h, title: title, p: p}
	if len(names) == 0 {
		return s
	}
	lw, lh := legendSize(leg, names)
	s.legend, s.legendW = leg, lw
	top := 0.0
	if title != "" {
		top = float64(p.Title.TextStyle.Height(title) + p.Title.Padding)
	}
	need := (lh + top + 2*plotMargin + 12) / pxToPt
	s.h = math.Max(h, math.Ceil(need))
	return s
}
