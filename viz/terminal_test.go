package viz

import (
	"image/color"
	"math"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

// rowsOf returns the lines of a terminal heat map that start with one of labels,
// keyed by label, in order.
func rowsOf(out string, labels []string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		plain := strings.TrimLeft(ansiRE.ReplaceAllString(line, ""), " ")
		for _, l := range labels {
			if strings.HasPrefix(plain, l+" ") {
				rows[l] = append(rows[l], plain)
			}
		}
	}
	return rows
}

func gateRows(n, cols int) GateMap {
	g := GateMap{Title: "gates"}
	for i := 0; i < n; i++ {
		row := make([]float64, cols)
		for j := range row {
			row[j] = float64(i*cols+j) / float64(n*cols-1)
		}
		g.Values = append(g.Values, row)
	}
	return g
}

func TestTerminalPlain(t *testing.T) {
	g := gateRows(3, 5)
	g.Values[1][2] = math.NaN()
	g.Values[2] = g.Values[2][:3] // shorter prefix
	g.Min, g.Max = 0, 1
	out := Terminal(g, TermOptions{})
	if strings.Contains(out, "\x1b") {
		t.Fatalf("ANSI codes without Color:\n%q", out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if lines[0] != "gates" {
		t.Errorf("first line %q, want the title", lines[0])
	}
	rows := rowsOf(out, []string{"L0", "L1", "L2"})
	for _, l := range []string{"L0", "L1", "L2"} {
		if len(rows[l]) != 1 {
			t.Fatalf("%s appears on %d lines:\n%s", l, len(rows[l]), out)
		}
		cells := rows[l][0][strings.Index(rows[l][0], "|")+1 : strings.LastIndex(rows[l][0], "|")]
		if len(cells) != 2*5 {
			t.Errorf("%s: %d characters of cells, want 10 (5 slots x 2)", l, len(cells))
		}
		for _, c := range cells {
			if !strings.ContainsRune(Ramp+"/", c) {
				t.Errorf("%s: %q is neither a ramp character nor the missing mark", l, c)
			}
		}
	}
	if got := rows["L0"][0]; got != "L0 |    ..::::|" {
		t.Errorf("L0 = %q", got)
	}
	if got := rows["L1"][0]; got != "L1 |--==//++**|" {
		t.Errorf("L1 = %q (slot 2 is missing)", got)
	}
	if got := rows["L2"][0]; got != "L2 |####%%////|" {
		t.Errorf("L2 = %q (slots 3, 4 do not exist)", got)
	}
	legend := lines[len(lines)-1]
	if legend != "scale 0.00 [ .:-=+*#%@] 1.00   // no slot" {
		t.Errorf("legend = %q", legend)
	}
}

func TestTerminalValues(t *testing.T) {
	g := GateMap{Values: [][]float64{{0.123, 0.5, math.NaN()}, {-0.25, 1}}, RowLabels: []string{"first", "second"}}
	for _, opts := range []TermOptions{{Values: true}, {Values: true, Color: true}, {Values: true, Color: true, TrueColor: true}} {
		out := Terminal(g, opts)
		rows := rowsOf(out, []string{"first", "second"})
		if len(rows["first"]) != 1 || len(rows["second"]) != 1 {
			t.Fatalf("%+v: rows %v in\n%s", opts, rows, out)
		}
		nums := regexp.MustCompile(`-?\d+\.\d\d\b`)
		if got := nums.FindAllString(rows["first"][0], -1); strings.Join(got, " ") != "0.12 0.50" {
			t.Errorf("%+v: first row numbers %v", opts, got)
		}
		if got := nums.FindAllString(rows["second"][0], -1); strings.Join(got, " ") != "-0.25 1.00" {
			t.Errorf("%+v: second row numbers %v", opts, got)
		}
		if !strings.Contains(rows["first"][0], "--") {
			t.Errorf("%+v: missing cell not marked: %q", opts, rows["first"][0])
		}
		if opts.Color != strings.Contains(out, "\x1b[") {
			t.Errorf("%+v: ANSI presence wrong", opts)
		}
	}
}

func TestTerminalColor(t *testing.T) {
	g := gateRows(2, 4)
	tc := Terminal(g, TermOptions{Color: true, TrueColor: true})
	if n := strings.Count(tc, "\x1b[48;2;"); n != 8+16 { // cells + legend gradient
		t.Errorf("%d 24-bit backgrounds, want 24", n)
	}
	lo, hi := Viridis(0), Viridis(1)
	for _, c := range []string{
		"\x1b[48;2;68;1;84m", // Viridis(0): the lowest cell
		"\x1b[48;2;253;231;37m",
	} {
		if !strings.Contains(tc, c) {
			t.Errorf("missing %q (viridis ends %v %v)", c, lo, hi)
		}
	}
	c256 := Terminal(g, TermOptions{Color: true})
	if strings.Contains(c256, "48;2;") || strings.Count(c256, "\x1b[48;5;") != 8+16 {
		t.Errorf("256-colour output wrong:\n%q", c256)
	}
	rows := rowsOf(c256, []string{"L0", "L1"})
	if len(rows["L0"]) != 1 || len(rows["L1"]) != 1 {
		t.Fatalf("rows %v", rows)
	}
	// Each row: label, space, space, 4 cells of 2 blanks, space.
	if got := utf8.RuneCountInString(rows["L0"][0]); got != 2+2+8+1 {
		t.Errorf("visible row width %d", got)
	}
	if !strings.Contains(c256, "scale 0.00 ") || !strings.Contains(c256, " 1.00") {
		t.Error("legend missing")
	}
	if xterm256(Viridis(0)) == xterm256(Viridis(1)) {
		t.Error("256-colour palette merges the ends of the scale")
	}
	if xterm256(colorRGBA(0, 0, 0)) != 16 || xterm256(colorRGBA(255, 255, 255)) != 231 || xterm256(colorRGBA(128, 128, 128)) != 244 {
		t.Error("xterm256 maps black, white or grey wrongly")
	}
}

func TestTerminalWide(t *testing.T) {
	g := gateRows(2, 60)
	out := Terminal(g, TermOptions{Width: 40})
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 40 && !strings.HasPrefix(line, "(slots") {
			t.Errorf("line wider than 40: %q", line)
		}
	}
	if !strings.Contains(out, "(slots 17-59 of 60 not shown: widen the terminal or wrap)") {
		t.Errorf("no truncation note:\n%s", out)
	}
	if rows := rowsOf(out, []string{"L0", "L1"}); len(rows["L0"]) != 1 || len(rows["L1"]) != 1 {
		t.Errorf("truncated map: rows %v", rows)
	}

	wrapped := Terminal(g, TermOptions{Width: 40, Wrap: true})
	rows := rowsOf(wrapped, []string{"L0", "L1"})
	if len(rows["L0"]) != 4 || len(rows["L1"]) != 4 { // 17 slots per block: 17+17+17+9
		t.Errorf("wrapped map: rows %v\n%s", rows, wrapped)
	}
	total := 0
	for _, r := range rows["L0"] {
		total += len(r[strings.Index(r, "|")+1:strings.LastIndex(r, "|")]) / 2
	}
	if total != 60 || strings.Contains(wrapped, "not shown") {
		t.Errorf("wrapped map shows %d slots", total)
	}
	if !strings.Contains(wrapped, "\n    17  19 ") || !strings.Contains(wrapped, "\n    51  53 ") {
		t.Errorf("later blocks are not numbered from their first slot:\n%s", wrapped)
	}
}

func TestTerminalEdges(t *testing.T) {
	if out := Terminal(GateMap{Title: "none"}, TermOptions{}); out != "none\n(no gate values)\n" {
		t.Errorf("empty map: %q", out)
	}
	if out := Terminal(GateMap{Values: [][]float64{{}}}, TermOptions{Color: true}); out != "(no gate values)\n" {
		t.Errorf("empty rows: %q", out)
	}
	allNaN := Terminal(GateMap{Values: [][]float64{{math.NaN(), math.NaN()}}}, TermOptions{})
	if !strings.Contains(allNaN, "L0 |////|") || !strings.Contains(allNaN, "no slot") {
		t.Errorf("all NaN:\n%s", allNaN)
	}
	single := Terminal(GateMap{Values: [][]float64{{0.3}}}, TermOptions{Values: true})
	if !strings.Contains(single, "0.30") || !strings.Contains(single, "scale -0.20") {
		t.Errorf("single value:\n%s", single)
	}
	constant := Terminal(GateMap{Values: [][]float64{{2, 2}, {2, 2}}}, TermOptions{})
	if !strings.Contains(constant, "L0 |++++|") || !strings.Contains(constant, "scale 1.50") {
		t.Errorf("constant map should sit mid-ramp:\n%s", constant)
	}
	narrow := Terminal(gateRows(1, 3), TermOptions{Width: 1})
	if !strings.Contains(narrow, "not shown") {
		t.Errorf("a 1-column terminal still shows one slot and a note:\n%s", narrow)
	}
	fine := Terminal(GateMap{Values: [][]float64{{0.5001, 0.5003}}}, TermOptions{})
	if !strings.Contains(fine, "scale 0.5001 ") || !strings.Contains(fine, " 0.5003") {
		t.Errorf("a narrow range needs more decimals in the legend:\n%s", fine)
	}
}

func TestTerminalBars(t *testing.T) {
	b := Bars{Title: "lambda", Values: []float64{1.25, 0.5, math.NaN(), -0.25}, Ref: 1}
	out := TerminalBars(b, TermOptions{Width: 60})
	if strings.Contains(out, "\x1b") {
		t.Fatal("ANSI codes without Color")
	}
	rows := rowsOf(out, []string{"L0", "L1", "L2", "L3"})
	for _, l := range []string{"L0", "L1", "L2", "L3"} {
		if len(rows[l]) != 1 {
			t.Fatalf("%s on %d lines:\n%s", l, len(rows[l]), out)
		}
	}
	if !strings.Contains(rows["L0"][0], "  1.25 ") || !strings.Contains(rows["L3"][0], " -0.25 ") || !strings.Contains(rows["L2"][0], "none") {
		t.Errorf("values not shown:\n%s", out)
	}
	// The reference mark sits in the same column on every line, and bars past it
	// continue beyond it.
	col := strings.Index(rows["L1"][0], "|")
	for _, l := range []string{"L0", "L2", "L3"} {
		if strings.Index(rows[l][0], "|") != col {
			t.Errorf("reference column differs on %s:\n%s", l, out)
		}
	}
	want := "lambda\n" +
		"L0   1.25         ################################|########\n" +
		"L1   0.50         #################               |\n" +
		"L2   none         :                               |\n" +
		"L3  -0.25 ########:                               |\n" +
		"          | reference 1   : zero   scale -0.25 to 1.25\n"
	if out != want {
		t.Errorf("bars:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(out, "| reference 1") || !strings.Contains(out, ": zero") {
		t.Errorf("legend:\n%s", out)
	}
	color := TerminalBars(b, TermOptions{Color: true, TrueColor: true})
	if !strings.Contains(color, "\x1b[38;2;") || !strings.Contains(color, "│") {
		t.Errorf("colour bars:\n%q", color)
	}
	if got := TerminalBars(Bars{Title: "x"}, TermOptions{}); got != "x\n(no values)\n" {
		t.Errorf("empty bars: %q", got)
	}
	flat := TerminalBars(Bars{Values: []float64{0, 0}, Ref: math.NaN()}, TermOptions{})
	if strings.Count(flat, "\n") != 3 {
		t.Errorf("zero bars:\n%s", flat)
	}
}

func TestSparkline(t *testing.T) {
	if got := Sparkline(nil); got != "" {
		t.Errorf("empty: %q", got)
	}
	if got := Sparkline([]float64{0, 1, 2, 3, 4, 5, 6, 7}); got != "▁▂▃▄▅▆▇█" {
		t.Errorf("ramp: %q", got)
	}
	if got := Sparkline([]float64{3, 3, 3}); got != "▄▄▄" {
		t.Errorf("constant: %q", got)
	}
	if got := Sparkline([]float64{1, math.NaN(), 2}); got != "▁ █" {
		t.Errorf("NaN: %q", got)
	}
	if got := Sparkline([]float64{-5}); got != "▄" {
		t.Errorf("single: %q", got)
	}
	if got := SparklineRange([]float64{-1, 0.5, 2}, 0, 1); got != "▁▅█" {
		t.Errorf("fixed range: %q", got)
	}
}

func TestTermOptionsFromEnv(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("COLORTERM", "truecolor")
	if o := TermOptionsFromEnv(true, 100); !o.Color || !o.TrueColor || o.Width != 100 {
		t.Errorf("terminal: %+v", o)
	}
	if o := TermOptionsFromEnv(false, 0); o.Color || o.TrueColor {
		t.Errorf("not a terminal: %+v", o)
	}
	t.Setenv("NO_COLOR", "1")
	if o := TermOptionsFromEnv(true, 0); o.Color {
		t.Errorf("NO_COLOR: %+v", o)
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("COLORTERM", "")
	if o := TermOptionsFromEnv(true, 0); !o.Color || o.TrueColor {
		t.Errorf("256 colours: %+v", o)
	}
	t.Setenv("TERM", "dumb")
	if o := TermOptionsFromEnv(true, 0); o.Color {
		t.Errorf("dumb terminal: %+v", o)
	}
}

func colorRGBA(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }
