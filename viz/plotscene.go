package viz

import (
	"bytes"
	"image/color"
	"io"
	"math"
	"regexp"
	"strings"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotScene is a gonum plot with its legend in a column at its right.
type plotScene struct {
	w, h    float64 // CSS pixels
	title   string
	p       *plot.Plot
	legend  *plot.Legend // nil: none
	legendW float64      // points
}

func (s *plotScene) size() (float64, float64) { return s.w, s.h }

const plotMargin = 8 // points around the whole picture

func (s *plotScene) draw(c vg.Canvas) {
	dc := draw.New(sizedCanvas{c, vg.Length(s.w * pxToPt), vg.Length(s.h * pxToPt)})
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc = draw.Crop(dc, plotMargin, -plotMargin, plotMargin, -plotMargin)
	if s.legend == nil {
		s.p.Draw(dc)
		return
	}
	lw := vg.Length(s.legendW)
	s.p.Draw(draw.Crop(dc, 0, -lw-6, 0, 0))
	top := vg.Length(0)
	if s.p.Title.Text != "" {
		top = s.p.Title.TextStyle.Height(s.p.Title.Text) + s.p.Title.Padding
	}
	lc := draw.Crop(dc, dc.Max.X-dc.Min.X-lw, 0, 0, -top-4)
	s.legend.Draw(lc)
}

// sizedCanvas gives a vg.Canvas the size that draw.New asks for.
type sizedCanvas struct {
	vg.Canvas
	w, h vg.Length
}

func (c sizedCanvas) Size() (vg.Length, vg.Length) { return c.w, c.h }

func (s *plotScene) svg(w io.Writer) error {
	c := vgsvg.NewWith(vgsvg.UseWH(vg.Length(s.w*pxToPt), vg.Length(s.h*pxToPt)))
	s.draw(c)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	out := buf.String()
	// Drop the XML prolog and comment so that the SVG can be inlined in HTML, size it
	// in pixels, give the fonts fallbacks and the picture a <title>.
	if i := strings.Index(out, "<svg"); i > 0 {
		out = out[i:]
	}
	if i := strings.Index(out, ">"); i > 0 {
		head := out[:i]
		head = svgSize.ReplaceAllLiteralString(head, `width="`+num(s.w)+`" height="`+num(s.h)+`"`)
		rest := out[i+1:]
		if s.title != "" {
			rest = "\n<title>" + escape(s.title) + "</title>" + rest
		}
		out = head + ` role="img">` + rest
	}
	out = strings.ReplaceAll(out, "font-family:Liberation Sans;", "font-family:"+svgFonts+";")
	_, err := io.WriteString(w, out)
	return err
}

var svgSize = regexp.MustCompile(`width="[^"]*" height="[^"]*"`)

// newPlot returns a gonum plot in this package's style: Liberation Sans, light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	bold := sansFont
	bold.Weight = stdfont.WeightBold
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(bold, 12)
	p.Title.Padding = 8
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sansFont, 10)
		ax.Tick.Label.Font = font.From(sansFont, 8.5)
		ax.Tick.Label.Color = inkGrey
		ax.LineStyle.Color = lineGrey
		ax.Tick.LineStyle.Color = lineGrey
		ax.Padding = 2
		ax.Tick.Marker = niceTicks{}
	}
	p.Legend.TextStyle.Font = font.From(sansFont, 9)
	g := plotter.NewGrid()
	g.Vertical.Color = color.RGBA{0xe6, 0xe6, 0xe6, 255}
	g.Horizontal.Color = g.Vertical.Color
	p.Add(g)
	return p
}

// newLegend returns an empty legend in this package's style.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(sansFont, 9)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = 22
	l.Padding = 3
	return &l
}

// legendSize returns the width of the legend's column and the height its entries
// need, in points.
func legendSize(l *plot.Legend, names []string) (w, h float64) {
	for _, n := range names {
		w = math.Max(w, float64(l.TextStyle.Width(n)))
	}
	em := float64(l.TextStyle.Width(" "))
	eh := float64(l.TextStyle.FontExtents().Height)
	if l.Padding > 0 {
		eh += float64(l.Padding)
	}
	return w + float64(l.ThumbnailWidth) + em + 4, eh * float64(len(names))
}
