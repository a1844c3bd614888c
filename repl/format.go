package repl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aptbench/apt/viz"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

func (s *Shell) paint(code, text string) string {
	if !s.opts.Color || text == "" {
		return text
	}
	return code + text + ansiReset
}

func (s *Shell) bold(t string) string  { return s.paint(ansiBold, t) }
func (s *Shell) dim(t string) string   { return s.paint(ansiDim, t) }
func (s *Shell) red(t string) string   { return s.paint(ansiRed, t) }
func (s *Shell) green(t string) string { return s.paint(ansiGreen, t) }
func (s *Shell) cyan(t string) string  { return s.paint(ansiCyan, t) }

// ErrorText is how an error line looks on this shell's output (red in colour).
func (s *Shell) ErrorText(msg string) string { return s.red(msg) }

// termOptions are the viz options for this shell's output.
func (s *Shell) termOptions() viz.TermOptions {
	return viz.TermOptions{Color: s.opts.Color, TrueColor: s.opts.TrueColor, Width: s.width(), Wrap: true}
}

func (s *Shell) width() int {
	if s.opts.Width <= 0 {
		return 80
	}
	return s.opts.Width
}

// table prints rows as left-aligned columns (right-aligned where right[i]);
// the first row is a header when header is true.
type table struct {
	rows   [][]string
	right  []bool
	header bool
	indent string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], visibleLen(c))
		}
	}
	var b strings.Builder
	for ri, r := range t.rows {
		var line strings.Builder
		line.WriteString(t.indent)
		for i, c := range r {
			pad := widths[i] - visibleLen(c)
			if i > 0 {
				line.WriteString("  ")
			}
			if i < len(t.right) && t.right[i] {
				line.WriteString(strings.Repeat(" ", pad) + c)
			} else if i < len(r)-1 {
				line.WriteString(c + strings.Repeat(" ", pad))
			} else {
				line.WriteString(c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		if ri == 0 && t.header {
			var rule strings.Builder
			rule.WriteString(t.indent)
			for i, w := range widths {
				if i > 0 {
					rule.WriteString("  ")
				}
				rule.WriteString(strings.Repeat("-", w))
			}
			b.WriteString(rule.String() + "\n")
		}
	}
	return b.String()
}

// visibleLen is the printed width of s, not counting ANSI escapes.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			if r == 'm' {
				esc = false
			}
		case r == '\x1b':
			esc = true
		default:
			n++
		}
	}
	return n
}

// count renders an integer with thousands separators: 1,234,567.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// short renders a large count compactly: 110M, 1.2M, 27.9k, 950.
func short(n int) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return trimZero(fmt.Sprintf("%.1f", f/1e9)) + "B"
	case f >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", f/1e6)) + "M"
	case f >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", f/1e3)) + "k"
	}
	return strconv.Itoa(n)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// bytesText renders a file size: 27.9 kB.
func bytesText(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.1f GB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.1f MB", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1f kB", f/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// num renders a float for tables: 4 decimals, "-" for NaN.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
