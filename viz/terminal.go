package viz

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"
)

// TermOptions says how to draw for a terminal.
type TermOptions struct {
	Color     bool // ANSI colours; without them, plain ASCII with a shading ramp
	TrueColor bool // with Color: 24-bit colours, else the 256-colour palette
	Values    bool // print each cell's value, 2 decimals
	Width     int  // columns available; 0 means 80
	Wrap      bool // wrap a map wider than Width into blocks of slots instead of truncating it
}

// TermOptionsFromEnv returns the options for a terminal of the given width: colour
// only when output is a terminal, NO_COLOR is unset or empty and TERM is not
// "dumb"; 24-bit colour when COLORTERM says "truecolor" or "24bit".
func TermOptionsFromEnv(isTerminal bool, width int) TermOptions {
	o := TermOptions{Width: width}
	o.Color = isTerminal && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	ct := strings.ToLower(os.Getenv("COLORTERM"))
	o.TrueColor = o.Color && (ct == "truecolor" || ct == "24bit")
	return o
}

// Ramp is the plain-text shading ramp, lowest to highest.
const Ramp = " .:-=+*#%@"

const (
	ansiReset = "\x1b[0m"
	ansiDim   = "\x1b[2m"
	nanPlain  = '/' // a cell that does not exist, like the hatching in pictures
)

func (o TermOptions) width() int {
	if o.Width <= 0 {
		return 80
	}
	return o.Width
}

// bg and fg return the ANSI escape that sets the background or foreground colour.
func (o TermOptions) bg(c color.RGBA) string { return o.sgr(48, c) }
func (o TermOptions) fg(c color.RGBA) string { return o.sgr(38, c) }

func (o TermOptions) sgr(base int, c color.RGBA) string {
	if o.TrueColor {
		return fmt.Sprintf("\x1b[%d;2;%d;%d;%dm", base, c.R, c.G, c.B)
	}
	return fmt.Sprintf("\x1b[%d;5;%dm", base, xterm256(c))
}

// xterm256 returns the nearest colour of the xterm 256-colour palette's 6x6x6 cube
// or its grey ramp.
func xterm256(c color.RGBA) int {
	levels := [6]int{0, 95, 135, 175, 215, 255}
	near := func(v uint8) int {
		best := 0
		for i, l := range levels {
			if abs(int(v)-l) < abs(int(v)-levels[best]) {
				best = i
			}
		}
		return best
	}
	r, g, b := near(c.R), near(c.G), near(c.B)
	cube := 16 + 36*r + 6*g + b
	dc := sq(int(c.R)-levels[r]) + sq(int(c.G)-levels[g]) + sq(int(c.B)-levels[b])
	avg := (int(c.R) + int(c.G) + int(c.B)) / 3
	gi := max(0, min(23, (avg-8+5)/10))
	gv := 8 + 10*gi
	dg := sq(int(c.R)-gv) + sq(int(c.G)-gv) + sq(int(c.B)-gv)
	if dg < dc {
		return 232 + gi
	}
	return cube
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sq(x int) int { return x * x }

// rampChar returns the shading character for t in [0, 1].
func rampChar(t float64) byte {
	i := int(t * float64(len(Ramp)))
	return Ramp[max(0, min(len(Ramp)-1, i))]
}

// scaleDecimals returns how many decimals tell a scale's ends apart (at least 2).
func scaleDecimals(sc valueScale) int {
	d := 2
	if span := sc.hi - sc.lo; span > 0 {
		d = max(d, int(math.Ceil(-math.Log10(span)-1e-9)))
	}
	return min(d, 8)
}

// Terminal draws gm as a heat map for a terminal: a line per layer with its label,
// a cell per prefix slot (an ANSI colour block, or a character of [Ramp] when
// opts.Color is off; "/" for a cell that does not exist), then a legend line with
// the scale. opts.Values prints the values too. A map wider than opts.Width is
// truncated with a note, or wrapped into blocks of slots when opts.Wrap is set.
func Terminal(gm GateMap, opts TermOptions) string {
	var b strings.Builder
	if gm.Title != "" {
		b.WriteString(gm.Title + "\n")
	}
	rows, cols := len(gm.Values), mapCols(gm)
	if rows == 0 || cols == 0 {
		b.WriteString("(no gate values)\n")
		return b.String()
	}
	sc := newScale(gm.Min, gm.Max, gm.Values)
	labels := make([]string, rows)
	labW := 0
	for i := range labels {
		labels[i] = "L" + strconv.Itoa(i)
		if i < len(gm.RowLabels) && gm.RowLabels[i] != "" {
			labels[i] = gm.RowLabels[i]
		}
		labW = max(labW, len([]rune(labels[i])))
	}
	cellW := 2
	if opts.Values {
		cellW = 6
		if !opts.Color {
			cellW = 7
		}
	}
	// Rows are: label, space, frame, cells, frame.
	fit := max(1, (opts.width()-labW-3)/cellW)
	anyNaN := false
	for _, row := range gm.Values {
		for j := 0; j < cols; j++ {
			if !finite(cellAt(row, j)) {
				anyNaN = true
			}
		}
	}
	shown := cols
	if cols > fit && !opts.Wrap {
		shown = fit
	}
	for start := 0; start < shown; start += fit {
		end := min(shown, start+fit)
		if start > 0 {
			b.WriteString("\n")
		}
		b.WriteString(slotHeader(labW, start, end, cellW, opts))
		for i, row := range gm.Values {
			b.WriteString(strings.Repeat(" ", labW-len([]rune(labels[i]))) + labels[i] + " ")
			b.WriteString(frame(opts))
			for j := start; j < end; j++ {
				b.WriteString(termCell(cellAt(row, j), sc, opts))
			}
			b.WriteString(frame(opts) + "\n")
		}
	}
	b.WriteString(termLegend(sc, anyNaN, opts) + "\n")
	if shown < cols {
		fmt.Fprintf(&b, "(slots %d-%d of %d not shown: widen the terminal or wrap)\n", shown, cols-1, cols)
	}
	return b.String()
}

func frame(opts TermOptions) string {
	if opts.Color {
		return " "
	}
	return "|"
}

// slotHeader numbers the slots over the cells, from the block's first slot and as
// often as the numbers fit.
func slotHeader(labW, start, end, cellW int, opts TermOptions) string {
	step := 1
	need := len(strconv.Itoa(end-1)) + 1
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		step = s
		if s*cellW >= need {
			break
		}
	}
	line := []byte(strings.Repeat(" ", labW+2+(end-start)*cellW+need))
	for j := start; j < end; j += step {
		lab := strconv.Itoa(j)
		pos := labW + 2 + (j-start)*cellW
		if opts.Values {
			pos += cellW - 2 - len(lab) // right-aligned over the number's last digit
			pos = max(pos, labW+2+(j-start)*cellW)
		}
		copy(line[pos:], lab)
	}
	return strings.TrimRight(string(line), " ") + "\n"
}

// termCell draws one cell.
func termCell(v float64, sc valueScale, opts TermOptions) string {
	if !finite(v) {
		switch {
		case opts.Values && opts.Color:
			return ansiDim + "  --  " + ansiReset
		case opts.Values:
			return "    -- "
		case opts.Color:
			return ansiDim + "//" + ansiReset
		default:
			return string([]byte{nanPlain, nanPlain})
		}
	}
	t := sc.norm(v)
	switch {
	case opts.Values && opts.Color:
		c := Viridis(t)
		return opts.bg(c) + opts.fg(inkOn(c)) + fmt.Sprintf("%5.2f ", v) + ansiReset
	case opts.Values:
		return string(rampChar(t)) + fmt.Sprintf("%5.2f ", v)
	case opts.Color:
		return opts.bg(Viridis(t)) + "  " + ansiReset
	default:
		ch := rampChar(t)
		return string([]byte{ch, ch})
	}
}

// termLegend is the line that explains the scale.
func termLegend(sc valueScale, anyNaN bool, opts TermOptions) string {
	d := scaleDecimals(sc)
	lo, hi := strconv.FormatFloat(sc.lo, 'f', d, 64), strconv.FormatFloat(sc.hi, 'f', d, 64)
	var b strings.Builder
	b.WriteString("scale " + lo + " ")
	if opts.Color {
		for k := 0; k < 16; k++ {
			b.WriteString(opts.bg(Viridis(float64(k)/15)) + " ")
		}
		b.WriteString(ansiReset)
	} else {
		b.WriteString("[" + Ramp + "]")
	}
	b.WriteString(" " + hi)
	if anyNaN {
		b.WriteString("   // no slot")
	}
	return b.String()
}
