package viz

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// A scene is a laid-out picture, sized in CSS pixels, that can be written as SVG or
// drawn on a gonum vg.Canvas (for PNG).
type scene interface {
	size() (w, h float64)
	svg(w io.Writer) error
	// draw paints the picture on c, which is size()*pxToPt points large, y up.
	draw(c vg.Canvas)
}

// pxToPt converts CSS pixels (1/96 in) to points (1/72 in).
const pxToPt = 0.75

// svgFonts is the font stack of every SVG: Liberation Sans (the font the PNGs are
// drawn with) and its metric-compatible stand-ins.
const svgFonts = "'Liberation Sans', Arial, Helvetica, sans-serif"

var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// face returns the Liberation Sans face for a size in pixels (the gonum plot
// package, imported by this one, registers the Liberation fonts).
func face(sizePx float64, bold bool) font.Face {
	f := sansFont
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return font.DefaultCache.Lookup(f, font.Length(sizePx*pxToPt))
}

// textWidth measures s in pixels.
func textWidth(s string, sizePx float64, bold bool) float64 {
	f := face(sizePx, bold)
	return float64(f.Width(s)) / pxToPt
}

type itemKind int

const (
	kRect     itemKind = iota // filled rectangle, optional outline and tooltip
	kText                     // text with its baseline at y
	kLine                     // line from (x, y) to (x2, y2)
	kHatch                    // hatched rectangle: cells that do not exist
	kGradient                 // vertical colour bar, viridis from bottom (0) to top (1)
)

const (
	anchorStart = iota
	anchorMiddle
	anchorEnd
)

// item is one element of a listScene, in pixels with y down (SVG coordinates).
type item struct {
	kind       itemKind
	x, y, w, h float64
	x2, y2     float64
	fill       color.RGBA
	stroke     color.RGBA // zero alpha: none
	strokeW    float64
	dash       bool
	text       string
	size       float64
	bold       bool
	anchor     int
	vertical   bool // text rotated to read bottom-up
	tip        string
	class      string
}

// listScene is a picture described as a list of items (the heat maps).
type listScene struct {
	w, h  float64
	id    string // prefix of SVG ids, unique per picture content
	title string
	items []item
}

func (s *listScene) size() (float64, float64) { return s.w, s.h }

func (s *listScene) add(it item) { s.items = append(s.items, it) }

func (s *listScene) text(x, y float64, txt string, size float64, bold bool, anchor int) {
	s.add(item{kind: kText, x: x, y: y, text: txt, size: size, bold: bold, anchor: anchor, fill: color.RGBA{A: 255}})
}

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' || r == 0xFFFD || r == 0xFFFE || r == 0xFFFF {
				r = '?' // not allowed in XML
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func num(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

var hatchInk = color.RGBA{0xb4, 0xb4, 0xb4, 255}
var hatchPaper = color.RGBA{0xf6, 0xf6, 0xf6, 255}

func (s *listScene) svg(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" role="img">`+"\n",
		num(s.w), num(s.h), num(s.w), num(s.h), svgFonts)
	if s.title != "" {
		p("<title>%s</title>\n", escape(s.title))
	}
	p("<defs>\n")
	p(`<linearGradient id="%s-cbar" x1="0" y1="1" x2="0" y2="0">`, s.id)
	for k := 0; k <= 32; k++ {
		t := float64(k) / 32
		p(`<stop offset="%s" stop-color="%s"/>`, num(t), hexColor(Viridis(t)))
	}
	p("</linearGradient>\n")
	p(`<pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="6" height="6" fill="%s"/><line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="1.5"/></pattern>`+"\n",
		s.id, hexColor(hatchPaper), hexColor(hatchInk))
	p("</defs>\n")
	p(`<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(s.w), num(s.h))
	for _, it := range s.items {
		switch it.kind {
		case kRect, kHatch, kGradient:
			fill := hexColor(it.fill)
			if it.kind == kHatch {
				fill = "url(#" + s.id + "-hatch)"
			} else if it.kind == kGradient {
				fill = "url(#" + s.id + "-cbar)"
			}
			p(`<rect`)
			if it.class != "" {
				p(` class="%s"`, it.class)
			}
			p(` x="%s" y="%s" width="%s" height="%s" fill="%s"`, num(it.x), num(it.y), num(it.w), num(it.h), fill)
			if it.stroke.A != 0 {
				p(` stroke="%s" stroke-width="%s"`, hexColor(it.stroke), num(it.strokeW))
			}
			if it.tip != "" {
				p("><title>%s</title></rect>\n", escape(it.tip))
			} else {
				p("/>\n")
			}
		case kLine:
			p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"`,
				num(it.x), num(it.y), num(it.x2), num(it.y2), hexColor(it.stroke), num(it.strokeW))
			if it.dash {
				p(` stroke-dasharray="4 3"`)
			}
			p("/>\n")
		case kText:
			anchor := [...]string{"start", "middle", "end"}[it.anchor]
			p(`<text x="%s" y="%s" font-size="%s" text-anchor="%s"`, num(it.x), num(it.y), num(it.size), anchor)
			if it.bold {
				p(` font-weight="bold"`)
			}
			if it.fill != (color.RGBA{A: 255}) {
				p(` fill="%s"`, hexColor(it.fill))
			}
			if it.vertical {
				p(` transform="rotate(-90 %s %s)"`, num(it.x), num(it.y))
			}
			p(">%s</text>\n", escape(it.text))
		}
	}
	p("</svg>\n")
	return bw.Flush()
}

func (s *listScene) draw(c vg.Canvas) {
	pt := func(x, y float64) vg.Point {
		return vg.Point{X: vg.Length(x * pxToPt), Y: vg.Length((s.h - y) * pxToPt)}
	}
	rect := func(x, y, w, h float64) vg.Path {
		var p vg.Path
		p.Move(pt(x, y))
		p.Line(pt(x+w, y))
		p.Line(pt(x+w, y+h))
		p.Line(pt(x, y+h))
		p.Close()
		return p
	}
	// strokeBox outlines a box item (rectangle or gradient) that has a stroke.
	strokeBox := func(it item) {
		if it.stroke.A != 0 {
			c.SetColor(it.stroke)
			c.SetLineWidth(vg.Length(it.strokeW * pxToPt))
			c.SetLineDash(nil, 0)
			c.Stroke(rect(it.x, it.y, it.w, it.h))
		}
	}
	c.SetColor(color.White)
	c.Fill(rect(0, 0, s.w, s.h))
	for _, it := range s.items {
		switch it.kind {
		case kRect:
			c.SetColor(it.fill)
			c.Fill(rect(it.x, it.y, it.w, it.h))
			strokeBox(it)
		case kHatch:
			c.SetColor(hatchPaper)
			c.Fill(rect(it.x, it.y, it.w, it.h))
			c.SetColor(hatchInk)
			c.SetLineWidth(vg.Length(1.2 * pxToPt))
			c.SetLineDash(nil, 0)
			// Lines x + y = k, 6*sqrt(2) px apart like the SVG pattern, clipped to the box.
			step := 6 * math.Sqrt2
			x0, y0, x1, y1 := it.x, it.y, it.x+it.w, it.y+it.h
			for k := math.Ceil((x0+y0)/step) * step; k < x1+y1; k += step {
				ax, bx := math.Max(x0, k-y1), math.Min(x1, k-y0)
				if ax >= bx {
					continue
				}
				var p vg.Path
				p.Move(pt(ax, k-ax))
				p.Line(pt(bx, k-bx))
				c.Stroke(p)
			}
		case kGradient:
			n := int(math.Max(32, math.Ceil(it.h)))
			for k := 0; k < n; k++ {
				// Band k counts from the top; overlap by a hair to avoid seams.
				c.SetColor(Viridis(1 - (float64(k)+0.5)/float64(n)))
				c.Fill(rect(it.x, it.y+it.h*float64(k)/float64(n), it.w, it.h/float64(n)+0.3))
			}
			strokeBox(it)
		case kLine:
			c.SetColor(it.stroke)
			c.SetLineWidth(vg.Length(it.strokeW * pxToPt))
			if it.dash {
				c.SetLineDash([]vg.Length{4 * pxToPt, 3 * pxToPt}, 0)
			} else {
				c.SetLineDash(nil, 0)
			}
			var p vg.Path
			p.Move(pt(it.x, it.y))
			p.Line(pt(it.x2, it.y2))
			c.Stroke(p)
		case kText:
			f := face(it.size, it.bold)
			wid := float64(f.Width(it.text)) / pxToPt
			off := [...]float64{0, -wid / 2, -wid}[it.anchor]
			c.SetColor(it.fill)
			c.Push()
			c.Translate(pt(it.x, it.y))
			if it.vertical {
				c.Rotate(math.Pi / 2)
			}
			c.FillString(f, vg.Point{X: vg.Length(off * pxToPt)}, it.text)
			c.Pop()
		}
	}
}
