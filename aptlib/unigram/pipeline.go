package unigram

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normStep is one normalizer of the pipeline (tokenizer.json "normalizer";
// for spm.model the steps HF's DebertaV2Converter builds, see load.go).
//
// head is the number of leading bytes of s that tokenizers' NormalizedString
// aligns with the first character of the original text (0 when s does not
// begin the text); each step returns it for its output. Only Metaspace's
// prepend_scheme "first" reads it: a split gets its "▁" when its first byte
// is aligned with original offset 0 (offsets_original().0 == 0).
type normStep func(s string, head int) (out string, newHead int)

func clampHead(head, n int) int { return max(0, min(head, n)) }

func stripStep(left, right bool) normStep {
	return func(s string, head int) (string, int) {
		// Rust's char::is_whitespace (White_Space), as tokenizers' Strip uses.
		n := len(s)
		if left {
			s = strings.TrimLeftFunc(s, isSpace)
			if len(s) < n {
				head = 0 // the first original character is gone
			}
		}
		if right {
			s = strings.TrimRightFunc(s, isSpace)
		}
		return s, clampHead(head, len(s))
	}
}

// replaceStep: the content of a match is aligned with the matched text, so a
// match at 0 makes the content the new head.
func replaceStep(re *regexp.Regexp, lit, content string) normStep {
	if re != nil {
		return func(s string, head int) (string, int) {
			if loc := re.FindStringIndex(s); head > 0 && loc != nil && loc[0] == 0 && loc[1] > 0 {
				head = len(content)
			}
			out := re.ReplaceAllLiteralString(s, content)
			return out, clampHead(head, len(out))
		}
	}
	return func(s string, head int) (string, int) {
		if head > 0 && lit != "" && strings.HasPrefix(s, lit) {
			head = len(content)
		}
		out := strings.ReplaceAll(s, lit, content)
		return out, clampHead(head, len(out))
	}
}

// lowercaseStep lower-cases by Go's simple case mapping. Rust's
// str::to_lowercase (tokenizers' Lowercase) uses the full mapping: the two
// differ on U+0130 (İ -> "i̇" in Rust, "i" here) and on a final Greek sigma.
func lowercaseStep() normStep {
	return func(s string, head int) (string, int) {
		return strings.ToLower(s), len(strings.ToLower(s[:clampHead(head, len(s))]))
	}
}

func unicodeStep(f norm.Form) normStep {
	return func(s string, head int) (string, int) {
		out := f.String(s)
		return out, clampHead(len(f.String(s[:clampHead(head, len(s))])), len(out))
	}
}

// charsmapStep: tokenizers' Precompiled normalizer lists no transformation
// for a removed character, so NormalizedString aligns the output of the first
// unit (grapheme or character) that produces any with the first original
// character: that output is the new head, even after removed characters.
func charsmapStep(c *charsmap) normStep {
	return func(s string, head int) (string, int) {
		out, first := c.normalize(s)
		if head == 0 {
			return out, 0
		}
		return out, first
	}
}

// Prepend schemes of the Metaspace pre-tokenizer (tokenizers'
// pre_tokenizers/metaspace.rs): always prepend the replacement to a segment
// that does not start with it, only to the segment at the start of the text,
// or never.
const (
	prependAlways = iota
	prependFirst
	prependNever
)

// preTokenizer is the pre_tokenizer part of the pipeline DeBERTa-v2/v3 uses:
// Metaspace, optionally after a Punctuation(isolated) split (DebertaV2Converter
// puts one first when split_by_punct). steps run in the file's order.
type preTokenizer struct {
	steps []preStep
}

type preStep struct {
	punct   bool   // Punctuation, behaviour "isolated"; else Metaspace:
	repl    string // the replacement ("▁")
	prepend int    // prependAlways, prependFirst, prependNever
	split   bool   // a new word starts at every replacement
}

// span is a split of a segment with its head (see normStep): the number of
// its leading bytes aligned with the text's first character.
type span struct {
	s    string
	head int
}

// sub is the span of s[a:b].
func (x span) sub(a, b int) span {
	return span{x.s[a:b], clampHead(x.head-a, b-a)}
}

// words splits one normalized segment into the pre-tokens the model sees,
// appending them to dst.
func (p *preTokenizer) words(s string, head int, dst []string) []string {
	if s == "" {
		return dst
	}
	spans := []span{{s, head}}
	for _, st := range p.steps {
		var out []span
		for _, x := range spans {
			if st.punct {
				out = punctSplit(x, out)
			} else {
				out = st.metaspace(x, out)
			}
		}
		spans = out
	}
	for _, x := range spans {
		if x.s != "" {
			dst = append(dst, x.s)
		}
	}
	return dst
}

// metaspace is tokenizers' Metaspace pre_tokenize on one split
// (pre_tokenizers/metaspace.rs): every ' ' becomes the replacement; the
// replacement is prepended when the scheme says so (always; first: when the
// split begins at the text's first character) and the split does not already
// start with it; with split, the string is cut before every replacement
// (SplitDelimiterBehavior::MergedWithNext: "▁▁a▁b" -> "▁", "▁a", "▁b").
func (st preStep) metaspace(x span, out []span) []span {
	if x.s == "" {
		return out
	}
	s := strings.ReplaceAll(x.s, " ", st.repl)
	head := len(strings.ReplaceAll(x.s[:x.head], " ", st.repl))
	if !strings.HasPrefix(s, st.repl) && (st.prepend == prependAlways || (st.prepend == prependFirst && head > 0)) {
		s = st.repl + s
		head += len(st.repl)
	}
	y := span{s, head}
	if !st.split {
		return append(out, y)
	}
	start := 0
	for i := 1; i < len(s); {
		k := strings.Index(s[i:], st.repl)
		if k < 0 {
			break
		}
		out = append(out, y.sub(start, i+k))
		start = i + k
		i = start + len(st.repl)
	}
	return append(out, y.sub(start, len(s)))
}

// punctSplit is tokenizers' Punctuation pre-tokenizer with behaviour
// "isolated": every punctuation character (ASCII punctuation or a Unicode
// P* category, tokenizers' is_punc) is a split of its own.
func punctSplit(x span, out []span) []span {
	start := 0
	emit := func(a, b int) {
		if b > a {
			out = append(out, x.sub(a, b))
		}
	}
	for i, r := range x.s {
		if isPunct(r) {
			n := utf8.RuneLen(r)
			emit(start, i)
			emit(i, i+n)
			start = i + n
		}
	}
	emit(start, len(x.s))
	return out
}

func isPunct(r rune) bool {
	if r < 128 {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}
