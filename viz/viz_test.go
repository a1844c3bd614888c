package viz

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var nan = math.NaN()

// svgOf renders f as SVG and checks that the whole output is well-formed XML with
// no NaN or infinite coordinates.
func svgOf(t *testing.T, f Figure) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSVG(&buf, f); err != nil {
		t.Fatalf("WriteSVG(%T): %v", f, err)
	}
	checkXML(t, buf.String())
	out := buf.String()
	if !strings.HasPrefix(out, "<svg") {
		t.Errorf("SVG of %T does not start with <svg: %.60q", f, out)
	}
	if m := regexp.MustCompile(`="[^"]*(NaN|Inf)[^"]*"`).FindString(out); m != "" {
		t.Errorf("SVG of %T has a non-finite number: %q", f, m)
	}
	return out
}

func checkXML(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	depth, elems := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			elems++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 || elems == 0 {
		t.Fatalf("XML has depth %d at the end, %d elements", depth, elems)
	}
}

// cellTips returns the tooltips of the <rect class="cell"> elements, in order.
func cellTips(t *testing.T, svg string) []string {
	t.Helper()
	re := regexp.MustCompile(`<rect class="cell"[^>]*><title>([^<]*)</title></rect>`)
	var tips []string
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		tips = append(tips, m[1])
	}
	if n := strings.Count(svg, `class="cell"`); n != len(tips) {
		t.Fatalf("%d cell rects but %d with a tooltip", n, len(tips))
	}
	return tips
}

func pngOf(t *testing.T, f Figure) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePNG(&buf, f); err != nil {
		t.Fatalf("WritePNG(%T): %v", f, err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("PNG of %T does not decode: %v", f, err)
	}
	w, h, err := Size(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("PNG of %T is %dx%d, Size says %dx%d", f, b.Dx(), b.Dy(), w, h)
	}
	return img
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int { return abs(int(x) - int(y)) }
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

func distinctColors(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			seen[rgba(img.At(x, y))] = true
		}
	}
	return len(seen)
}

func TestViridis(t *testing.T) {
	if got := Viridis(0); got != (color.RGBA{0x44, 0x01, 0x54, 255}) {
		t.Errorf("Viridis(0) = %v", got)
	}
	if got := Viridis(1); got != (color.RGBA{0xfd, 0xe7, 0x25, 255}) {
		t.Errorf("Viridis(1) = %v", got)
	}
	if got := Viridis(0.5); !near(got, color.RGBA{0x21, 0x91, 0x8c, 255}, 2) {
		t.Errorf("Viridis(0.5) = %v, want about #21918c", got)
	}
	if Viridis(-1) != Viridis(0) || Viridis(2) != Viridis(1) || Viridis(nan) != Viridis(0) {
		t.Error("Viridis does not clamp")
	}
	// Perceptually ordered: lightness grows monotonically.
	prev := -1.0
	for k := 0; k <= 100; k++ {
		c := Viridis(float64(k) / 100)
		l := 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
		if l < prev-0.5 {
			t.Fatalf("lightness drops at %d/100", k)
		}
		prev = l
	}
}

func TestHeatmapSVG(t *testing.T) {
	gm := GateMap{
		Title:     "alpha <gates> & more",
		RowLabels: []string{"layer one", ""},
		Values: [][]float64{
			{0.1, nan, 0.3, 0.4},
			{0.9, 0.8}, // a shorter row: slots 2, 3 do not exist
			{nan, nan, nan, 0.5},
		},
		Min: 0, Max: 1,
	}
	svg := svgOf(t, gm)
	if !strings.Contains(svg, "<title>alpha &lt;gates&gt; &amp; more</title>") ||
		!strings.Contains(svg, ">alpha &lt;gates&gt; &amp; more</text>") {
		t.Error("SVG lacks its title")
	}
	tips := cellTips(t, svg)
	want := []string{
		"layer one, slot 0: 0.1", "layer one, slot 2: 0.3", "layer one, slot 3: 0.4",
		"layer 1, slot 0: 0.9", "layer 1, slot 1: 0.8",
		"layer 2, slot 3: 0.5",
	}
	if strings.Join(tips, "|") != strings.Join(want, "|") {
		t.Errorf("cells:\n got %q\nwant %q", tips, want)
	}
	// Missing cells are hatched (one rect per run of them), never coloured.
	if n := strings.Count(svg, `class="nan"`); n != 3 {
		t.Errorf("%d hatched runs, want 3", n)
	}
	for _, lab := range []string{">layer<", ">prefix slot<", ">no slot<", `class="colorbar"`, ">0.4<", ">1.0<"} {
		if !strings.Contains(svg, lab) {
			t.Errorf("SVG lacks %s", lab)
		}
	}
	// The cell colours follow the scale.
	if !strings.Contains(svg, `fill="`+hexColor(Viridis(0.9))+`"`) {
		t.Error("no cell coloured Viridis(0.9)")
	}
}

func TestHeatmapPNG(t *testing.T) {
	gm := GateMap{Title: "lo hi", Values: [][]float64{{0, 1}, {1, nan}}, Min: 0, Max: 1}
	img := pngOf(t, gm)
	s := heatScene(gm.Title, []GateMap{gm}, 0, 1, false)
	var cells []item
	for _, it := range s.items {
		if it.class == "cell" {
			cells = append(cells, it)
		}
	}
	if len(cells) != 3 {
		t.Fatalf("%d cells, want 3", len(cells))
	}
	at := func(it item) color.RGBA { return rgba(img.At(int(it.x+it.w/2), int(it.y+it.h/2))) }
	lo, hi := at(cells[0]), at(cells[1])
	if !near(lo, Viridis(0), 3) || !near(hi, Viridis(1), 3) {
		t.Errorf("low cell %v, high cell %v; want %v and %v", lo, hi, Viridis(0), Viridis(1))
	}
	if near(lo, hi, 60) {
		t.Error("low and high values look alike")
	}
	if distinctColors(img) < 20 {
		t.Error("PNG has too few colours to be a heat map with a colour bar and text")
	}
}

func TestHeatmapScaleAndEdges(t *testing.T) {
	cases := map[string]GateMap{
		"empty":       {Title: "empty"},
		"empty rows":  {Title: "empty rows", Values: [][]float64{{}, {}}},
		"all NaN":     {Title: "all missing", Values: [][]float64{{nan, nan}, {nan}}},
		"single":      {Title: "single", Values: [][]float64{{0.42}}},
		"constant":    {Title: "constant", Values: [][]float64{{0.7, 0.7}, {0.7, 0.7}}},
		"negative":    {Title: "negative", Values: [][]float64{{-2, -1}, {0, 3}}},
		"infinities":  {Title: "infinite", Values: [][]float64{{math.Inf(1), 0.5}, {math.Inf(-1), 0.2}}},
		"min > max":   {Title: "swapped", Values: [][]float64{{0.2, 0.8}}, Min: 1, Max: 0},
		"many slots":  {Title: "wide", Values: [][]float64{make([]float64, 300)}},
		"long labels": {Title: "", RowLabels: []string{"encoder layer 0 (frozen)"}, Values: [][]float64{{1, 2}}},
	}
	for name, gm := range cases {
		t.Run(name, func(t *testing.T) {
			svg := svgOf(t, gm)
			finiteCells := 0
			for _, row := range gm.Values {
				for _, v := range row {
					if finite(v) {
						finiteCells++
					}
				}
			}
			if got := len(cellTips(t, svg)); got != finiteCells {
				t.Errorf("%d cell rects, want %d", got, finiteCells)
			}
			if gm.Title != "" && !strings.Contains(svg, gm.Title) {
				t.Error("title missing")
			}
			pngOf(t, gm)
			if !strings.Contains(HTML(gm), "<svg") {
				t.Error("HTML has no SVG")
			}
			out := Terminal(gm, TermOptions{})
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("terminal shows a non-finite number:\n%s", out)
			}
		})
	}
	if sc := newScale(0, 0, [][]float64{{0.7, 0.7}}); sc.lo >= sc.hi || sc.norm(0.7) != 0.5 {
		t.Errorf("constant scale %+v", sc)
	}
	if sc := newScale(0, 0); sc != (valueScale{0, 1}) {
		t.Errorf("empty scale %+v", sc)
	}
}

func TestHeatPair(t *testing.T) {
	a := GateMap{Title: "APT", Values: [][]float64{{0.2, 0.4}, {0.6, 0.8}}}
	b := GateMap{Title: "PT-2*", Values: [][]float64{{1.0, nan}, {nan, nan}}}
	p := HeatPair{Title: "two runs", A: a, B: b}
	svg := svgOf(t, p)
	if n := len(cellTips(t, svg)); n != 5 {
		t.Errorf("%d cells, want 5", n)
	}
	for _, s := range []string{">two runs<", ">APT<", ">PT-2*<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("missing %s", s)
		}
	}
	// One colour bar, shared: A's 0.2 is the bottom and B's 1.0 the top of the scale.
	if n := strings.Count(svg, `class="colorbar"`); n != 1 {
		t.Errorf("%d colour bars", n)
	}
	if !strings.Contains(svg, `fill="`+hexColor(Viridis(0))+`"`) || !strings.Contains(svg, `fill="`+hexColor(Viridis(1))+`"`) {
		t.Error("the pair does not share one scale over both maps")
	}
	pngOf(t, p)
	half := HeatPair{Title: "one side empty", A: a}
	if n := len(cellTips(t, svgOf(t, half))); n != 4 {
		t.Errorf("%d cells with an empty B, want 4", n)
	}
	pngOf(t, half)
	if HTML(a) == HTML(GateMap{Title: "APT", Values: [][]float64{{0.2, 0.4}, {0.6, 0.9}}}) {
		t.Error("different maps render the same HTML")
	}
	idA := regexp.MustCompile(`id="([^"]*)-hatch"`).FindStringSubmatch(HTML(a))
	idB := regexp.MustCompile(`id="([^"]*)-hatch"`).FindStringSubmatch(HTML(b))
	if idA == nil || idB == nil || idA[1] == idB[1] {
		t.Errorf("SVG ids must differ between pictures inlined in one page: %v %v", idA, idB)
	}
}

func TestLinePlots(t *testing.T) {
	steps := []float64{1, 2, 3, 4, 5, 6}
	lp := LinePlot{Title: "loss curve", XLabel: "step", YLabel: "loss", LogY: true, Series: []Series{
		{Name: "train", X: steps, Y: []float64{2, 1.5, nan, 0.8, 0.6, 0.5}},
		{Name: "dev", X: steps, Y: []float64{2.1, 0, -1, 0.9, 0.7, 0.65}}, // <= 0 dropped on a log axis
	}}
	svg := svgOf(t, lp)
	for _, s := range []string{"loss curve", ">step<", ">loss<", ">train<", ">dev<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
	img := pngOf(t, lp)
	if w, h, _ := Size(lp); w != int(lineW) || h != int(lineH) {
		t.Errorf("size %dx%d", w, h)
	}
	if !hasColor(img, seriesColor(0, 2), 8) || !hasColor(img, seriesColor(1, 2), 8) {
		t.Error("the series' colours are not in the PNG")
	}

	traj := Trajectories("mean alpha", "alpha", []float64{0, 10, 20}, []string{"L0"},
		[][]float64{{0.5, 0.5, 0.5}, {0.4, 0.6}, {0.3, 0.7, nan}})
	if len(traj.Series) != 3 || traj.Series[0].Name != "L0" || traj.Series[2].Name != "layer 2" ||
		!math.IsNaN(traj.Series[2].Y[1]) || traj.Series[1].Y[2] != 0.7 {
		t.Errorf("Trajectories: %+v", traj.Series)
	}
	svgOf(t, traj)
	pngOf(t, traj)

	// Many layers: the legend still fits, the picture grows.
	big := make([][]float64, 5)
	for k := range big {
		big[k] = make([]float64, 48)
	}
	many := Trajectories("48 layers", "alpha", []float64{1, 2, 3, 4, 5}, nil, big)
	if _, h, _ := Size(many); h <= int(lineH) {
		t.Errorf("a 48-entry legend should make the plot taller, h = %d", h)
	}
	pngOf(t, many)

	edge := map[string]LinePlot{
		"empty":         {Title: "nothing"},
		"empty series":  {Title: "empty series", Series: []Series{{Name: "a"}}},
		"single point":  {Title: "one", Series: []Series{{Name: "a", X: []float64{3}, Y: []float64{0.5}}}},
		"constant":      {Title: "flat", Series: []Series{{Name: "a", X: steps, Y: []float64{1, 1, 1, 1, 1, 1}}}},
		"constant log":  {Title: "flat log", LogY: true, Series: []Series{{Name: "a", X: steps, Y: []float64{1, 1, 1, 1, 1, 1}}}},
		"log all <= 0":  {Title: "neg log", LogY: true, Series: []Series{{Name: "a", X: steps, Y: []float64{0, -1, -2, -3, -4, -5}}}},
		"all NaN":       {Title: "nan", Series: []Series{{Name: "a", X: steps, Y: []float64{nan, nan, nan, nan, nan, nan}}}},
		"short Y":       {Title: "ragged", Series: []Series{{X: steps, Y: []float64{1, 2}}}},
		"unnamed, many": {Title: "unnamed", Series: []Series{{X: steps[:2], Y: []float64{1, 2}}, {X: steps[:2], Y: []float64{2, 1}}}},
	}
	for name, lp := range edge {
		t.Run(name, func(t *testing.T) {
			if svg := svgOf(t, lp); !strings.Contains(svg, lp.Title) {
				t.Error("title missing")
			}
			pngOf(t, lp)
		})
	}
}

func hasColor(img image.Image, c color.RGBA, tol int) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(rgba(img.At(x, y)), c, tol) {
				return true
			}
		}
	}
	return false
}

func TestLineCompare(t *testing.T) {
	x := []float64{1, 2, 3}
	one := LineCompare{Title: "loss, two runs", NameA: "APT", NameB: "PT-2",
		A: LinePlot{XLabel: "step", YLabel: "loss", Series: []Series{{Name: "loss", X: x, Y: []float64{3, 2, 1}}}},
		B: LinePlot{Series: []Series{{Name: "loss", X: x, Y: []float64{3, 2.5, 2}}}}}
	svg := svgOf(t, one)
	for _, s := range []string{"loss, two runs", ">loss, APT<", ">loss, PT-2<", ">step<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
	if !strings.Contains(svg, "stroke-dasharray") {
		t.Error("run B is not dashed")
	}
	pngOf(t, one)

	two := LineCompare{Title: "two metrics", NameA: "APT", NameB: "PT-2",
		A: LinePlot{Series: []Series{{Name: "acc", X: x, Y: []float64{0.5, 0.6, 0.7}}, {Name: "f1", X: x, Y: []float64{0.4, 0.5, 0.6}}}},
		B: LinePlot{Series: []Series{{Name: "f1", X: x, Y: []float64{0.3, 0.4, 0.5}}, {Name: "acc", X: x, Y: []float64{0.5, 0.5, 0.6}}}}}
	svg = svgOf(t, two)
	for _, s := range []string{">acc<", ">f1<", ">APT (solid)<", ">PT-2 (dashed)<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
	pngOf(t, two)
	svgOf(t, LineCompare{Title: "empty"})
	pngOf(t, LineCompare{Title: "empty"})
}

func TestBars(t *testing.T) {
	b := Bars{Title: "lambda per layer", Labels: []string{"0", "1", "2", "3"}, Values: []float64{1.2, -0.4, nan, 0.9}, Ref: 1,
		XLabel: "layer", YLabel: "lambda"}
	svg := svgOf(t, b)
	for _, s := range []string{"lambda per layer", ">1.20<", ">-0.40<", ">none<", ">reference 1<", ">layer<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
	img := pngOf(t, b)
	if !hasColor(img, barColor, 2) || !hasColor(img, refColor, 10) {
		t.Error("bars or reference line missing from the PNG")
	}
	edge := map[string]Bars{
		"empty":      {Title: "no bars", Ref: nan},
		"empty ref":  {Title: "no bars, ref", Ref: 1},
		"all absent": {Title: "absent", Values: []float64{nan, nan}, Ref: nan},
		"single":     {Title: "one", Values: []float64{1}, Ref: 1},
		"zeros":      {Title: "zeros", Values: []float64{0, 0}, Ref: nan},
		"negative":   {Title: "all negative", Values: []float64{-1, -2, -0.5}, Ref: 1},
		"many":       {Title: "48 layers with long labels", Values: make([]float64, 48), Labels: strings.Split(strings.Repeat("layer xx,", 48), ","), Ref: 1},
	}
	for name, b := range edge {
		t.Run(name, func(t *testing.T) {
			if svg := svgOf(t, b); !strings.Contains(svg, b.Title) {
				t.Error("title missing")
			}
			pngOf(t, b)
		})
	}
}

func TestHTML(t *testing.T) {
	for _, f := range []Figure{GateMap{Title: "g", Values: [][]float64{{1}}}, LinePlot{Title: "l"}, Bars{Title: "b", Ref: nan}} {
		h := HTML(f)
		if !strings.HasPrefix(h, `<div class="apt-viz"`) || !strings.HasSuffix(h, "</div>") || strings.Contains(h, "<?xml") {
			t.Errorf("HTML(%T) = %.80q...", f, h)
		}
		checkXML(t, h)
	}
	if h := HTML(nil); !strings.Contains(h, "apt-viz-error") {
		t.Errorf("HTML(nil) = %q", h)
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	gm := GateMap{Title: "saved", Values: [][]float64{{0.1, 0.9}}}
	for _, name := range []string{"g.svg", "g.png", "G.PNG"} {
		if err := Save(filepath.Join(dir, name), gm); err != nil {
			t.Fatalf("Save %s: %v", name, err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "g.svg"))
	checkXML(t, string(data))
	f, _ := os.Open(filepath.Join(dir, "g.png"))
	if _, err := png.Decode(f); err != nil {
		t.Errorf("saved PNG: %v", err)
	}
	f.Close()
	if st, _ := os.Stat(filepath.Join(dir, "g.png")); st.Mode().Perm() != 0o644 {
		t.Errorf("saved file mode %v", st.Mode())
	}
	// Overwriting replaces the file.
	if err := Save(filepath.Join(dir, "g.svg"), GateMap{Title: "second"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "g.svg")); !strings.Contains(string(data), "second") {
		t.Error("Save did not replace the file")
	}

	for _, bad := range []string{"g.jpg", "g", "g.svg.bak", "g.pdf"} {
		if err := Save(filepath.Join(dir, bad), gm); err == nil || !strings.Contains(err.Error(), ".svg or .png") {
			t.Errorf("Save %s: err = %v", bad, err)
		}
	}
	if err := Save(filepath.Join(dir, "missing", "g.png"), gm); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
	if err := Save(filepath.Join(dir, "nil.png"), nil); err == nil {
		t.Error("Save of a nil figure succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "G.PNG g.png g.svg" {
		t.Errorf("directory holds %v: a rejected or failed save left a file behind", names)
	}
}

func TestWritePNGScale(t *testing.T) {
	gm := GateMap{Title: "x2", Values: [][]float64{{0, 1}}}
	w, h, _ := Size(gm)
	var buf bytes.Buffer
	if err := WritePNGScale(&buf, gm, 2); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&buf)
	if err != nil || cfg.Width != 2*w || cfg.Height != 2*h {
		t.Errorf("scale 2: %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, 2*w, 2*h)
	}
	if err := WritePNGScale(&buf, gm, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}
