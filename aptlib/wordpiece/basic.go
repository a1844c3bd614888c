package wordpiece

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file is the BasicTokenizer of transformers' models/bert/tokenization_bert.py
// (BasicTokenizer.tokenize, _clean_text, _tokenize_chinese_chars, _run_strip_accents,
// _run_split_on_punc) together with the character predicates of
// tokenization_utils.py (_is_whitespace, _is_control, _is_punctuation), rewritten so
// that every normalised character remembers the byte span of the original text it
// came from (for Encoding.Offsets).
//
// Order of operations in the python slow tokenizer, for one text:
//
//  1. PreTrainedTokenizer.tokenize lower-cases the text one character at a time
//     (re.sub with the pattern "(special tokens)|(.+?)"), so str.lower() never sees
//     a context and Final_Sigma never applies; then it splits the text on the special
//     tokens (tokens_trie.split), which are never normalised or split.
//  2. BasicTokenizer.tokenize: _clean_text, _tokenize_chinese_chars, NFC,
//     whitespace_tokenize (str.split); per token: lower() and _run_strip_accents
//     (NFD, drop Mn) when do_lower_case (unless strip_accents is False), or only
//     _run_strip_accents when strip_accents is True; _run_split_on_punc.
//
// Everything after the cleaning works on one character or one whitespace token at a
// time, so it is done here per token. For the lower-casing the per-character rule of
// step 1 is what counts (the later token.lower() sees only lower-case text). NFC does
// not matter when accents are stripped, since NFD(NFC(x)) = NFD(x); it is applied
// when they are kept (the fast tokenizer and transformers.js have no NFC step).

// Character classes, one bit each.
const (
	cDrop    uint8 = 1 << iota // removed by _clean_text: NUL, U+FFFD, _is_control
	cSpace                     // separates words: _is_whitespace, or str.split / char::is_whitespace
	cPunct                     // _is_punctuation
	cChinese                   // _is_chinese_char
	cMn                        // category Mn, removed by _run_strip_accents
	cDecomp                    // has a canonical decomposition (NFD changes it)
	cUpper                     // lower-casing changes it
	cNonASCII
)

// classify computes the class bits of r. classOf caches them for the BMP.
func classify(r rune) uint8 {
	var c uint8
	if r >= utf8.RuneSelf {
		c |= cNonASCII
	}
	if r == 0 || r == utf8.RuneError || isControl(r) {
		c |= cDrop
	}
	if isWhitespace(r) || unicode.IsSpace(r) {
		c |= cSpace
	}
	if isPunctuation(r) {
		c |= cPunct
	}
	if isChineseChar(r) {
		c |= cChinese
	}
	if unicode.Is(unicode.Mn, r) {
		c |= cMn
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		c |= cDecomp
	} else if r >= utf8.RuneSelf && norm.NFD.PropertiesString(string(r)).Decomposition() != nil {
		c |= cDecomp
	}
	if r == 0x130 || unicode.ToLower(r) != r {
		c |= cUpper
	}
	return c
}

var (
	bmpOnce  sync.Once
	bmpClass []uint8 // class bits of every BMP code point, built on first use
)

// asciiClass is the class table of the ASCII range (built in init: it is the hot path).
var asciiClass [utf8.RuneSelf]uint8

func init() {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		asciiClass[r] = classify(r)
	}
}

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	if r <= 0xFFFF {
		bmpOnce.Do(func() {
			t := make([]uint8, 0x10000)
			for i := range t {
				t[i] = classify(rune(i))
			}
			bmpClass = t
		})
		return bmpClass[r]
	}
	return classify(r)
}

// isWhitespace is _is_whitespace (tokenization_utils.py): space, \t, \n, \r or category Zs.
func isWhitespace(r rune) bool {
	if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// isControl is _is_control (tokenization_utils.py): category C* except \t, \n, \r.
// Python's unicodedata.category returns "Cn" for unassigned code points, which Go's
// tables have no entry for, so "not assigned" counts as a control as well.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isPunctuation is _is_punctuation (tokenization_utils.py): ASCII 33-47, 58-64,
// 91-96, 123-126 (so "$", "+", "^", "`" count although they are not category P),
// or any category P*.
func isPunctuation(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

// isChineseChar is BasicTokenizer._is_chinese_char: the CJK Unified Ideographs
// blocks (and extensions A-E), and the CJK Compatibility Ideographs (and their
// supplement). Hangul, kana and CJK punctuation are not included.
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// Hangul syllables decompose algorithmically (Unicode 3.12); norm's Properties
// does not list their decompositions.
const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoLBase   = 0x1100
	jamoVBase   = 0x1161
	jamoTBase   = 0x11A7
	jamoTCount  = 28
	jamoNCount  = 588
)

// appendNFD appends the canonical decomposition (NFD) of r to dst.
func appendNFD(dst []rune, r rune) []rune {
	if r >= hangulBase && r < hangulBase+hangulCount {
		s := r - hangulBase
		dst = append(dst, jamoLBase+s/jamoNCount, jamoVBase+(s%jamoNCount)/jamoTCount)
		if t := s % jamoTCount; t != 0 {
			dst = append(dst, jamoTBase+t)
		}
		return dst
	}
	d := norm.NFD.PropertiesString(string(r)).Decomposition()
	if d == nil {
		return append(dst, r)
	}
	for len(d) > 0 {
		x, n := utf8.DecodeRune(d)
		dst = append(dst, x)
		d = d[n:]
	}
	return dst
}

// span is a [start, end) byte range of the original text.
type span struct{ start, end int32 }

// piece is one basic-tokenizer word: normalised runes [r0, r1) of pieces.rs/sp,
// normalised bytes [b0, b1) of pieces.norm. id >= 0 marks a literal special (added)
// token found in the text, which is not word-pieced.
type piece struct {
	r0, r1 int32
	b0, b1 int32
	id     int32
}

// pieces accumulates the basic tokenization of a sequence.
type pieces struct {
	norm  []byte  // normalised UTF-8 text of all words, concatenated
	rs    []int32 // byte offset in norm of each normalised rune
	sp    []span  // original span of each normalised rune
	words []piece

	tok   []rune // the current whitespace token, before normalisation
	tokSp []span
	ntok  []rune // scratch for its normalisation
	ntSp  []span
	ubuf  []byte
}

func (p *pieces) reset() {
	p.norm, p.rs, p.sp, p.words = p.norm[:0], p.rs[:0], p.sp[:0], p.words[:0]
	p.tok, p.tokSp = p.tok[:0], p.tokSp[:0]
}

// basic runs the BasicTokenizer over text[lo:hi] and appends its words to p.
// Offsets are byte offsets of text.
func (t *Tokenizer) basic(text string, lo, hi int, p *pieces) {
	for i := lo; i < hi; {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:hi])
		}
		c := classOf(r)
		s := span{int32(i), int32(i + size)}
		i += size
		switch {
		case c&cDrop != 0 && t.CleanText:
			// _clean_text: removed.
		case c&cSpace != 0:
			t.flushToken(p)
		case c&cChinese != 0 && t.TokenizeChineseChars:
			// _tokenize_chinese_chars: " " + char + " ".
			t.flushToken(p)
			p.tok, p.tokSp = append(p.tok, r), append(p.tokSp, s)
			t.flushToken(p)
		default:
			p.tok, p.tokSp = append(p.tok, r), append(p.tokSp, s)
		}
	}
	t.flushToken(p)
}

// flushToken normalises the current whitespace token (lower-case, strip accents or
// NFC), splits it on punctuation (_run_split_on_punc) and appends the words.
func (t *Tokenizer) flushToken(p *pieces) {
	if len(p.tok) == 0 {
		return
	}
	runes, spans := p.tok, p.tokSp
	var all uint8
	for _, r := range runes {
		all |= classOf(r)
	}
	if all&cNonASCII == 0 {
		if t.DoLowerCase && all&cUpper != 0 {
			for k, r := range runes {
				if r >= 'A' && r <= 'Z' {
					runes[k] = r + ('a' - 'A')
				}
			}
		}
	} else {
		runes, spans = t.normalize(p, runes, spans)
	}

	// _run_split_on_punc: every punctuation character is a word of its own.
	start := len(p.rs) // first rune of the word being built
	for k, r := range runes {
		punct := classOf(r)&cPunct != 0
		if punct {
			p.closeWord(start)
		}
		p.rs = append(p.rs, int32(len(p.norm)))
		p.sp = append(p.sp, spans[k])
		if r < utf8.RuneSelf {
			p.norm = append(p.norm, byte(r))
		} else {
			p.norm = utf8.AppendRune(p.norm, r)
		}
		if punct {
			p.closeWord(len(p.rs) - 1)
			start = len(p.rs)
		}
	}
	p.closeWord(start)
	p.tok, p.tokSp = p.tok[:0], p.tokSp[:0]
}

// closeWord ends the word that starts at normalised rune from, if it is not empty.
func (p *pieces) closeWord(from int) {
	if len(p.rs) > from {
		p.words = append(p.words, piece{r0: int32(from), r1: int32(len(p.rs)), b0: p.rs[from], b1: int32(len(p.norm)), id: -1})
	}
}

// normalize lower-cases (when DoLowerCase) and strips accents (when StripAccents)
// or composes (NFC, when accents are kept) one whitespace token. Every output rune
// keeps the span of the input rune it came from; a rune composed by NFC gets the
// span of all its parts.
func (t *Tokenizer) normalize(p *pieces, runes []rune, spans []span) ([]rune, []span) {
	out, osp := p.ntok[:0], p.ntSp[:0]
	strip := t.StripAccents
	for k, r := range runes {
		s := spans[k]
		c := classOf(r)
		if t.DoLowerCase && c&cUpper != 0 {
			if r == 0x130 {
				// str.lower() of U+0130 (capital I with dot) is "i" + U+0307
				// (SpecialCasing.txt); the only unconditional multi-rune lower-case.
				out, osp = append(out, 'i'), append(osp, s)
				if !strip {
					out, osp = append(out, 0x307), append(osp, s)
				}
				continue
			}
			r = unicode.ToLower(r)
			c = classOf(r)
		}
		if strip {
			// _run_strip_accents: NFD, then drop category Mn.
			if c&cDecomp != 0 {
				n := len(out)
				out = appendNFD(out, r)
				j := n
				for _, d := range out[n:] {
					if classOf(d)&cMn == 0 {
						out[j] = d
						j++
					}
				}
				out = out[:j]
				for len(osp) < len(out) {
					osp = append(osp, s)
				}
				continue
			}
			if c&cMn != 0 {
				continue
			}
		}
		out, osp = append(out, r), append(osp, s)
	}
	if !strip {
		out, osp = p.nfc(out, osp)
	}
	p.ntok, p.ntSp = out, osp
	return out, osp
}

// nfc composes runes to NFC (BasicTokenizer.tokenize: unicodedata.normalize("NFC")),
// segment by segment, so that runes of an unchanged segment keep their own spans.
func (p *pieces) nfc(runes []rune, spans []span) ([]rune, []span) {
	b := p.ubuf[:0]
	for _, r := range runes {
		b = utf8.AppendRune(b, r)
	}
	p.ubuf = b
	if norm.NFC.IsNormal(b) {
		return runes, spans
	}
	outR := make([]rune, 0, len(runes))
	outS := make([]span, 0, len(runes))
	ri := 0
	for i := 0; i < len(b); {
		n := norm.NFC.NextBoundary(b[i:], true)
		if n <= 0 {
			n = len(b) - i
		}
		seg := b[i : i+n]
		m := utf8.RuneCount(seg)
		if norm.NFC.IsNormal(seg) {
			outR = append(outR, runes[ri:ri+m]...)
			outS = append(outS, spans[ri:ri+m]...)
		} else {
			u := spans[ri]
			for _, s := range spans[ri : ri+m] {
				u.start = min(u.start, s.start)
				u.end = max(u.end, s.end)
			}
			for _, r := range string(norm.NFC.Bytes(seg)) {
				outR, outS = append(outR, r), append(outS, u)
			}
		}
		i += n
		ri += m
	}
	return outR, outS
}
