package viz

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// TerminalBars draws b as horizontal bars for a terminal, one line per label with
// its value ("none" where absent), and a legend line; Ref is marked "|" in every
// bar's track, and zero ":" when some values are negative.
func TerminalBars(b Bars, opts TermOptions) string {
	var sb strings.Builder
	if b.Title != "" {
		sb.WriteString(b.Title + "\n")
	}
	n := len(b.Values)
	if n == 0 {
		sb.WriteString("(no values)\n")
		return sb.String()
	}
	labels := make([]string, n)
	labW := 0
	lo, hi := 0.0, 0.0
	for i, v := range b.Values {
		labels[i] = "L" + strconv.Itoa(i)
		if i < len(b.Labels) && b.Labels[i] != "" {
			labels[i] = b.Labels[i]
		}
		labW = max(labW, len([]rune(labels[i])))
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	hasRef := finite(b.Ref)
	if hasRef {
		lo, hi = math.Min(lo, b.Ref), math.Max(hi, b.Ref)
	}
	if hi == lo {
		hi = lo + 1
	}
	track := max(10, min(60, opts.width()-labW-9))
	col := func(v float64) float64 { return (v - lo) / (hi - lo) * float64(track) }
	zero := col(0)
	refAt := -1
	if hasRef {
		refAt = min(track-1, int(col(b.Ref)))
	}
	zeroAt := -1
	if lo < 0 {
		zeroAt = min(track-1, int(math.Round(zero)))
	}
	for i, v := range b.Values {
		sb.WriteString(strings.Repeat(" ", labW-len([]rune(labels[i]))) + labels[i] + " ")
		if !finite(v) {
			sb.WriteString("  none ")
		} else {
			sb.WriteString(fmt.Sprintf("%6.2f ", v))
		}
		cells := make([]string, track)
		for k := range cells {
			cells[k] = " "
		}
		if finite(v) {
			a, e := zero, col(v)
			if e < a {
				a, e = e, a
			}
			full, frac := barSpan(a, e, v >= 0, opts)
			for k := full[0]; k < full[1] && k < track; k++ {
				cells[k] = barGlyph(opts)
			}
			if frac != "" && full[1] < track {
				cells[full[1]] = frac
			}
		}
		if zeroAt >= 0 && cells[zeroAt] == " " {
			cells[zeroAt] = ":"
		}
		if refAt >= 0 {
			cells[refAt] = refGlyph(opts)
		}
		line := strings.TrimRight(strings.Join(cells, ""), " ")
		sb.WriteString(colorBars(line, opts) + "\n")
	}
	var leg []string
	if hasRef {
		leg = append(leg, refGlyph(opts)+" reference "+strconv.FormatFloat(b.Ref, 'g', 4, 64))
	}
	if zeroAt >= 0 {
		leg = append(leg, ": zero")
	}
	leg = append(leg, fmt.Sprintf("scale %s to %s", strconv.FormatFloat(lo, 'g', 3, 64), strconv.FormatFloat(hi, 'g', 3, 64)))
	sb.WriteString(strings.Repeat(" ", labW+8) + strings.Join(leg, "   ") + "\n")
	return sb.String()
}

// barSpan returns the whole cells [from, to) a bar covers between columns a and e,
// and, for a positive bar in colour, the partial block that ends it.
func barSpan(a, e float64, positive bool, opts TermOptions) ([2]int, string) {
	if !opts.Color || !positive {
		return [2]int{int(math.Round(a)), int(math.Round(e))}, ""
	}
	from := int(math.Round(a))
	whole := int(math.Floor(e))
	eighths := int(math.Round((e - float64(whole)) * 8))
	if eighths == 8 {
		whole, eighths = whole+1, 0
	}
	if eighths == 0 || whole < from {
		return [2]int{from, max(from, whole)}, ""
	}
	return [2]int{from, whole}, string([]rune("▏▎▍▌▋▊▉")[eighths-1])
}

func barGlyph(opts TermOptions) string {
	if opts.Color {
		return "█"
	}
	return "#"
}

func refGlyph(opts TermOptions) string {
	if opts.Color {
		return "│"
	}
	return "|"
}

// colorBars colours a bar line: the bar in viridis teal, the reference in red.
func colorBars(line string, opts TermOptions) string {
	if !opts.Color {
		return line
	}
	bar := opts.fg(Viridis(0.45))
	ref := opts.fg(refColor)
	var b strings.Builder
	cur := ""
	for _, r := range line {
		want := ""
		switch {
		case r == '│':
			want = ref
		case r != ' ' && r != ':':
			want = bar
		}
		if want != cur {
			if cur != "" {
				b.WriteString(ansiReset)
			}
			b.WriteString(want)
			cur = want
		}
		b.WriteRune(r)
	}
	if cur != "" {
		b.WriteString(ansiReset)
	}
	return b.String()
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws ys as a one-line trend of block characters scaled to their own
// range (a constant series sits in the middle); NaN is a space.
func Sparkline(ys []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		if finite(y) {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	return SparklineRange(ys, lo, hi)
}

// SparklineRange draws ys like [Sparkline] on a fixed scale lo..hi (e.g. 0..1 for
// gates, so that lines from successive steps compare); values outside are clamped.
func SparklineRange(ys []float64, lo, hi float64) string {
	out := make([]rune, len(ys))
	for i, y := range ys {
		switch {
		case !finite(y):
			out[i] = ' '
		case !(hi > lo):
			out[i] = sparks[len(sparks)/2-1]
		default:
			t := math.Max(0, math.Min(1, (y-lo)/(hi-lo)))
			out[i] = sparks[min(len(sparks)-1, int(t*float64(len(sparks))))]
		}
	}
	return string(out)
}
