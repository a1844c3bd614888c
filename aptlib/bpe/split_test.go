package bpe

import (
	"math/rand"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func split(s string) []string {
	var out []string
	splitGPT2(s, func(p string) { out = append(out, p) })
	return out
}

// Hand-checked pieces of the GPT-2 pattern (the regex's alternatives worked out by
// hand; the Rust pieces of more strings are in the golden files).
func TestSplitGPT2Cases(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"hello world", []string{"hello", " world"}},
		{"a  b", []string{"a", " ", " b"}},           // \s+(?!\S) leaves the last space
		{"a   b", []string{"a", "  ", " b"}},         // two of three spaces, then " b"
		{"a \t b", []string{"a", " \t", " b"}},       // a mixed run, the last char leads
		{"a\tb", []string{"a", "\t", "b"}},           // one non-' ' space: \s+ alone
		{"a \tb", []string{"a", " ", "\t", "b"}},     // " " by \s+(?!\S), "\t" by \s+
		{"end  ", []string{"end", "  "}},             // a run to the end is one piece
		{" ", []string{" "}},                         //
		{"\n\nx", []string{"\n", "\n", "x"}},         //
		{"don't", []string{"don", "'t"}},             // contraction
		{"we'RE", []string{"we", "'", "RE"}},         // case-sensitive
		{"it''s", []string{"it", "''", "s"}},         // no contraction after "'"
		{"'ll've", []string{"'ll", "'ve"}},           //
		{"x 'd", []string{"x", " '", "d"}},           // " '" by ` ?[^\s\p{L}\p{N}]+`
		{"abc123def", []string{"abc", "123", "def"}}, // letters, numbers
		{" 12 ab !!", []string{" 12", " ab", " !!"}}, //
		{"?!'s", []string{"?!'", "s"}},               // "'" inside a punctuation run
		{"日本語 ok", []string{"日本語", " ok"}},           // CJK are letters
		{"x\u00a0y", []string{"x", "\u00a0", "y"}},   // NBSP is \s
		{"x\u200by", []string{"x", "\u200b", "y"}},   // ZWSP is not \s (not White_Space)
		{"e\u0301t", []string{"e", "\u0301", "t"}},   // a combining mark is not \p{L}
		{"½ ٣", []string{"½", " ٣"}},                 // \p{N} beyond digits
		{"a\xffb", []string{"a", "\xff", "b"}},       // an invalid byte is "other"
		{"\xff\xfe x", []string{"\xff\xfe", " x"}},   //
		{"  \u3000x", []string{"  ", "\u3000", "x"}}, //
		{"1 \n 2", []string{"1", " \n", " 2"}},       //
		{"😀😀 😀", []string{"😀😀", " 😀"}},               // emoji are "other"
		{"a'", []string{"a", "'"}},                   //
		{"'", []string{"'"}},                         //
		{"' s", []string{"'", " s"}},                 //
		{"x  ", []string{"x", "  "}},                 //
		{"\t", []string{"\t"}},                       //
		{"  x  y", []string{" ", " x", " ", " y"}},   //
	} {
		if got := split(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// whiteSpace is \s as Oniguruma and python's regex module have it (Unicode
// White_Space), spelt out because Go's \s is ASCII.
const whiteSpace = `\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// nonSpaceAlts are the GPT-2 pattern's alternatives that start with no whitespace
// other than ' ', anchored, in Go's RE2 (leftmost-first alternation, as Perl).
var nonSpaceAlts = regexp.MustCompile(`^(?:'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^` + whiteSpace + `\p{L}\p{N}]+)`)

var wsRun = regexp.MustCompile(`^[` + whiteSpace + `]+`)

// refSplit is a second splitter: at each position RE2 tries the first six
// alternatives; failing them, the position is whitespace and the lookahead rule
// \s+(?!\S) | \s+ is applied to the run. (RE2 reads an invalid byte as U+FFFD,
// an "other" character, as the splitter does.)
func refSplit(s string) []string {
	var out []string
	for len(s) > 0 {
		n := 0
		if m := nonSpaceAlts.FindStringIndex(s); m != nil {
			n = m[1]
		} else {
			run := wsRun.FindString(s)
			n = len(run)
			if n < len(s) { // followed by a non-space: leave the last one
				_, last := utf8.DecodeLastRuneInString(run)
				if n-last > 0 {
					n -= last
				}
			}
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// TestSplitGPT2AgainstRegexp compares the splitter with refSplit on random strings
// over an alphabet of the tricky characters.
func TestSplitGPT2AgainstRegexp(t *testing.T) {
	alphabet := []string{" ", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2003", "\u0085", "\u001c", "\u200b",
		"a", "Z", "é", "e\u0301", "中", "語", "ß", "1", "٣", "½", "'", "s", "t", "re", "ve", "ll", "d", "m", "S",
		"!", ".", ",", "-", "😀", "👍🏽", "\u0000", "_", "$", "\xff"}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := r.Intn(12); n >= 0; n-- {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		s := b.String()
		got, want := split(s), refSplit(s)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split(%q) = %q, regexp gives %q", s, got, want)
		}
		if strings.Join(got, "") != s {
			t.Fatalf("split(%q) pieces do not cover the text: %q", s, got)
		}
	}
}

// The characters the class function calls whitespace are exactly the White_Space
// set the reference regexp spells out.
func TestSplitWhiteSpaceSet(t *testing.T) {
	re := regexp.MustCompile(`^[` + whiteSpace + `]$`)
	for r := rune(0); r <= 0x3100; r++ {
		if (class(r) == clsSpace) != re.MatchString(string(r)) || unicode.Is(unicode.White_Space, r) != re.MatchString(string(r)) {
			t.Errorf("U+%04X: class %d, regexp %v", r, class(r), re.MatchString(string(r)))
		}
	}
}

func TestByteToRune(t *testing.T) {
	seen := map[rune]bool{}
	for b, r := range byteToRune {
		if seen[r] {
			t.Fatalf("byte %d maps to %q twice", b, r)
		}
		seen[r] = true
	}
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 0: 'Ā', 'a': 'a', 0x7f: 'ġ', 0xa0: 'ł', 0xad: 'Ń', 0xff: 'ÿ'} {
		if byteToRune[b] != want {
			t.Errorf("byte %#x -> %q, want %q", b, byteToRune[b], want)
		}
	}
	if got := string(mapBytes(nil, "é 中")); got != "Ã©Ġä¸Ń" {
		t.Errorf("mapBytes = %q", got)
	}
}
