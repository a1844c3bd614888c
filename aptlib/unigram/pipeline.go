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
// shifted reports that characters were removed from the start of s, so that
// the result no longer begins at the segment's first original character
// (what tokenizers' offsets_original().0 tells Metaspace's prepend_scheme
// "first").
type normStep func(s string) (out string, shifted bool)

func stripStep(left, right bool) normStep {
	return func(s string) (string, bool) {
		// Rust's char::is_whitespace (White_Space), as tokenizers' Strip uses.
		n := len(s)
		if left {
			s = strings.TrimLeftFunc(s, isSpace)
		}
		shifted := len(s) < n
		if right {
			s = strings.TrimRightFunc(s, isSpace)
		}
		return s, shifted && s != ""
	}
}

func replaceStep(re *regexp.Regexp, lit, content string) normStep {
	if re != nil {
		return func(s string) (string, bool) {
			loc := re.FindStringIndex(s)
			shifted := content == "" && loc != nil && loc[0] == 0 && loc[1] > 0
			return re.ReplaceAllLiteralString(s, content), shifted
		}
	}
	return func(s string) (string, bool) {
		shifted := content == "" && lit != "" && strings.HasPrefix(s, lit)
		return strings.ReplaceAll(s, lit, content), shifted
	}
}

// lowercaseStep lower-cases by Go's simple case mapping. Rust's
// str::to_lowercase (tokenizers' Lowercase) uses the full mapping: the two
// differ on U+0130 (İ -> "i̇" in Rust, "i" here) and on a final Greek sigma.
func lowercaseStep() normStep {
	return func(s string) (string, bool) { return strings.ToLower(s), false }
}

func unicodeStep(f norm.Form) normStep {
	return func(s string) (string, bool) { return f.String(s), false }
}

// charsmapStep never reports a shift: tokenizers' Precompiled normalizer
// lists no transformation for a removed character, so NormalizedString
// aligns the next output character with the removed one (offsets_original
// still starts at 0).
func charsmapStep(c *charsmap) normStep {
	return func(s string) (string, bool) { return c.normalize(s), false }
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

// span is a split of a segment; atStart says whether it begins the original
// text (tokenizers: offsets_original().0 == 0), which prependFirst tests.
type span struct {
	s       string
	atStart bool
}

// words splits one normalized segment into the pre-tokens the model sees,
// appending them to dst. atStart says whether the segment begins the text.
func (p *preTokenizer) words(s string, atStart bool, dst []string) []string {
	if s == "" {
		return dst
	}
	spans := []span{{s, atStart}}
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
// replacement is prepended when the scheme says so and the split does not
// already start with it; with split, the string is cut before every
// replacement (SplitDelimiterBehavior::MergedWithNext: "▁▁a▁b" -> "▁", "▁a", "▁b").
func (st preStep) metaspace(x span, out []span) []span {
	if x.s == "" {
		return out
	}
	s := strings.ReplaceAll(x.s, " ", st.repl)
	if !strings.HasPrefix(s, st.repl) && (st.prepend == prependAlways || (st.prepend == prependFirst && x.atStart)) {
		s = st.repl + s
	}
	if !st.split {
		return append(out, span{s, x.atStart})
	}
	start := 0
	for i := 1; i < len(s); {
		k := strings.Index(s[i:], st.repl)
		if k < 0 {
			break
		}
		out = append(out, span{s[start : i+k], x.atStart && start == 0})
		start = i + k
		i = start + len(st.repl)
	}
	return append(out, span{s[start:], x.atStart && start == 0})
}

// punctSplit is tokenizers' Punctuation pre-tokenizer with behaviour
// "isolated": every punctuation character (ASCII punctuation or a Unicode
// P* category, tokenizers' is_punc) is a split of its own.
func punctSplit(x span, out []span) []span {
	{
		start, first := 0, true
		emit := func(w string) {
			if w != "" {
				out = append(out, span{w, x.atStart && first})
				first = false
			}
		}
		for i, r := range x.s {
			if isPunct(r) {
				emit(x.s[start:i])
				n := utf8.RuneLen(r)
				emit(x.s[i : i+n])
				start = i + n
			}
		}
		emit(x.s[start:])
	}
	return out
}

func isPunct(r rune) bool {
	if r < 128 {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}
