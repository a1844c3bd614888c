package viz

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"strconv"
)

// Layout of the heat maps, in CSS pixels.
const (
	hmPad       = 16.0
	hmTitleSize = 16.0
	hmSubSize   = 13.0
	hmLabelSize = 11.0
	hmTickSize  = 10.0
	hmAxisSize  = 12.0
	hmGridWidth = 640.0 // the grid's width budget, shared by the panels
)

var (
	inkGrey  = color.RGBA{0x55, 0x55, 0x55, 255}
	lineGrey = color.RGBA{0x99, 0x99, 0x99, 255}
)

func pairScene(p HeatPair) *listScene {
	min, max := p.A.Min, p.A.Max
	if min == 0 && max == 0 {
		min, max = p.B.Min, p.B.Max
	}
	return heatScene(p.Title, []GateMap{p.A, p.B}, min, max, true)
}

// rowLabel is the label of row i: the given one or the row number.
func rowLabel(g GateMap, i int) string {
	if i < len(g.RowLabels) && g.RowLabels[i] != "" {
		return g.RowLabels[i]
	}
	return strconv.Itoa(i)
}

// cellAt returns row i's value at slot j; a short row reads as NaN.
func cellAt(row []float64, j int) float64 {
	if j < len(row) {
		return row[j]
	}
	return math.NaN()
}

func mapCols(g GateMap) int {
	n := 0
	for _, row := range g.Values {
		n = max(n, len(row))
	}
	return n
}

// sceneID derives SVG ids from the content, so that pictures stay deterministic and
// two different pictures inlined in one HTML page do not share ids.
func sceneID(title string, maps []GateMap) string {
	h := fnv.New64a()
	fmt.Fprint(h, title)
	for _, g := range maps {
		fmt.Fprint(h, g.Title, g.RowLabels, g.Min, g.Max)
		for _, row := range g.Values {
			for _, v := range row {
				fmt.Fprint(h, math.Float64bits(v), ",")
			}
			fmt.Fprint(h, ";")
		}
	}
	return fmt.Sprintf("apt%012x", h.Sum64()&0xffffffffffff)
}

// slotStep picks the spacing of the slot numbers under the grid so that they do not
// collide: 1, 2, 5, 10, 20, 50, ...
func slotStep(cols int, cw float64) int {
	need := textWidth(strconv.Itoa(max(cols-1, 0)), hmTickSize, false) + 6
	for _, base := range []int{1, 10, 100, 1000, 10000} {
		for _, m := range []int{1, 2, 5} {
			if float64(base*m)*cw >= need {
				return base * m
			}
		}
	}
	return 100000
}

// heatScene lays out one or more gate maps side by side with one colour bar.
func heatScene(title string, maps []GateMap, lo, hi float64, subtitles bool) *listScene {
	all := make([][][]float64, len(maps))
	maxCols, maxRows := 1, 0
	anyNaN := false
	for k, g := range maps {
		all[k] = g.Values
		maxCols = max(maxCols, mapCols(g))
		maxRows = max(maxRows, len(g.Values))
		cols := mapCols(g)
		for _, row := range g.Values {
			for j := 0; j < cols; j++ {
				if !finite(cellAt(row, j)) {
					anyNaN = true
				}
			}
		}
	}
	sc := newScale(lo, hi, all...)
	s := &listScene{id: sceneID(title, maps), title: title}

	cw := math.Max(3, math.Min(40, math.Floor(hmGridWidth/float64(len(maps))/float64(maxCols))))
	ch := math.Max(14, math.Min(22, cw))
	gap := 0.0
	if cw >= 8 {
		gap = 1
	}

	y := hmPad
	right := hmPad
	if title != "" {
		s.text(hmPad, y+hmTitleSize, title, hmTitleSize, true, anchorStart)
		right = hmPad + textWidth(title, hmTitleSize, true)
		y += hmTitleSize + 12
	}
	if subtitles {
		y += hmSubSize + 8
	}
	top := y
	bottom := top
	x := hmPad
	for _, g := range maps {
		rows, cols := len(g.Values), mapCols(g)
		labW := 0.0
		for i := 0; i < rows; i++ {
			labW = math.Max(labW, textWidth(rowLabel(g, i), hmLabelSize, false))
		}
		gx := x + 18 + labW + 6
		gw, gh := float64(cols)*cw, float64(rows)*ch
		if rows == 0 || cols == 0 {
			note := "(no gate values)"
			s.add(item{kind: kText, x: gx, y: top + 15, text: note, size: hmLabelSize, fill: inkGrey})
			gw, gh = textWidth(note, hmLabelSize, false), 22
		} else {
			s.add(item{kind: kText, x: x + 12, y: top + gh/2, text: "layer", size: hmAxisSize,
				anchor: anchorMiddle, vertical: true, fill: color.RGBA{A: 255}})
			for i, row := range g.Values {
				ry := top + float64(i)*ch
				s.text(gx-6, ry+ch/2+hmLabelSize*0.36, rowLabel(g, i), hmLabelSize, false, anchorEnd)
				for j := 0; j < cols; j++ {
					v := cellAt(row, j)
					if !finite(v) {
						// One hatched rectangle per run of missing cells, none per cell.
						j0 := j
						for j+1 < cols && !finite(cellAt(row, j+1)) {
							j++
						}
						s.add(item{kind: kHatch, class: "nan", x: gx + float64(j0)*cw, y: ry,
							w: float64(j-j0+1)*cw - gap, h: ch - gap})
						continue
					}
					tip := fmt.Sprintf("%s, slot %d: %s", rowLabel(g, i), j, strconv.FormatFloat(v, 'g', 4, 64))
					if i >= len(g.RowLabels) || g.RowLabels[i] == "" {
						tip = "layer " + tip
					}
					s.add(item{kind: kRect, class: "cell", x: gx + float64(j)*cw, y: ry, w: cw - gap, h: ch - gap,
						fill: sc.color(v), tip: tip})
				}
			}
			step := slotStep(cols, cw)
			for j := 0; j < cols; j += step {
				s.add(item{kind: kText, x: gx + (float64(j)+0.5)*cw - gap/2, y: top + gh + 12, text: strconv.Itoa(j),
					size: hmTickSize, anchor: anchorMiddle, fill: inkGrey})
			}
			s.text(gx+gw/2, top+gh+29, "prefix slot", hmAxisSize, false, anchorMiddle)
		}
		panelRight := math.Max(gx+gw, gx+gw/2+textWidth("prefix slot", hmAxisSize, false)/2)
		if subtitles && g.Title != "" {
			s.text(gx+gw/2, top-8, g.Title, hmSubSize, true, anchorMiddle)
			panelRight = math.Max(panelRight, gx+gw/2+textWidth(g.Title, hmSubSize, true)/2)
		}
		bottom = math.Max(bottom, top+gh+36)
		x = panelRight + 24
	}

	// The legend: a colour bar with ticks, and the hatching of missing cells.
	cbX, cbW := x, 14.0
	cbH := math.Max(120, math.Min(360, float64(maxRows)*ch))
	s.add(item{kind: kGradient, class: "colorbar", x: cbX, y: top, w: cbW, h: cbH, stroke: lineGrey, strokeW: 0.5})
	labRight := cbX + cbW
	for _, t := range (niceTicks{}).Ticks(sc.lo, sc.hi) {
		if t.Label == "" || t.Value < sc.lo-1e-12*math.Abs(sc.hi-sc.lo) || t.Value > sc.hi+1e-12*math.Abs(sc.hi-sc.lo) {
			continue
		}
		ty := top + cbH*(1-sc.norm(t.Value))
		s.add(item{kind: kLine, x: cbX + cbW, y: ty, x2: cbX + cbW + 4, y2: ty, stroke: inkGrey, strokeW: 1})
		s.add(item{kind: kText, x: cbX + cbW + 7, y: ty + hmTickSize*0.36, text: t.Label, size: hmTickSize, fill: inkGrey})
		labRight = math.Max(labRight, cbX+cbW+7+textWidth(t.Label, hmTickSize, false))
	}
	cbBottom := top + cbH
	if anyNaN {
		ny := cbBottom + 12
		s.add(item{kind: kHatch, class: "nan-legend", x: cbX, y: ny, w: cbW, h: cbW})
		s.add(item{kind: kText, x: cbX + cbW + 5, y: ny + cbW - 3, text: "no slot", size: hmTickSize, fill: inkGrey})
		labRight = math.Max(labRight, cbX+cbW+5+textWidth("no slot", hmTickSize, false))
		cbBottom = ny + cbW
	}
	s.w = math.Ceil(math.Max(right, labRight) + hmPad)
	s.h = math.Ceil(math.Max(bottom, cbBottom) + hmPad)
	return s
}
