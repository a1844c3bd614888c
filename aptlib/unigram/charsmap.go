package unigram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// charsmap is SentencePiece's precompiled normalisation map (NormalizerSpec
// field precompiled_charsmap; the "Precompiled" normalizer of tokenizer.json
// carries the same bytes in base64). Its layout, as sentencepiece's
// normalizer.cc writes it and HF's spm_precompiled crate reads it:
//
//	uint32 LE   n: the byte size of the trie
//	n bytes     a darts-clone double-array trie of uint32 LE units, keyed by
//	            the UTF-8 bytes of the source text, whose values are offsets
//	            into the blob below
//	rest        the replacement strings, each ended by a NUL byte
//
// A unit holds: bits 0-7 the label (the byte leading to it; a value unit has
// bit 31 set so that it never equals a byte), bit 8 "has a leaf" (the value is
// the unit at the node's own base), bits 10-31 the offset to the children's
// base, shifted left by 8 more when bit 9 is set.
type charsmap struct {
	units  []uint32
	blob   []byte
	maxKey int // longest key probed, in bytes (the trie is walked at most this far)
}

func parseCharsmap(b []byte) (*charsmap, error) {
	if len(b) < 4 {
		return nil, errors.New("precompiled_charsmap is shorter than its 4-byte header")
	}
	n := binary.LittleEndian.Uint32(b)
	if n%4 != 0 || uint64(n) > uint64(len(b)-4) {
		return nil, fmt.Errorf("precompiled_charsmap: trie size %d does not fit the %d bytes that follow the header", n, len(b)-4)
	}
	if n == 0 {
		return nil, errors.New("precompiled_charsmap: empty trie")
	}
	units := make([]uint32, n/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	blob := b[4+n:]
	if !utf8.Valid(blob) {
		return nil, errors.New("precompiled_charsmap: the replacement strings are not valid UTF-8")
	}
	return &charsmap{units: units, blob: blob, maxKey: 64}, nil
}

func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
func unitLabel(u uint32) uint32  { return u & ((1 << 31) | 0xFF) }
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & ((1 << 31) - 1) }

// firstMatch returns the replacement of the SHORTEST key that is a prefix of
// s, as spm_precompiled's transform (common_prefix_search, first result) does;
// ok is false when no key is a prefix of s. A malformed trie (an index out of
// range) reads as "no further match", never a panic.
func (c *charsmap) firstMatch(s string) (repl string, ok bool) {
	pos := uint32(0)
	if len(c.units) == 0 {
		return "", false
	}
	pos ^= unitOffset(c.units[0])
	for i := 0; i < len(s) && i < c.maxKey; i++ {
		b := s[i]
		if b == 0 {
			break
		}
		pos ^= uint32(b)
		if int(pos) >= len(c.units) {
			return "", false
		}
		u := c.units[pos]
		if unitLabel(u) != uint32(b) {
			return "", false
		}
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			if int(pos) >= len(c.units) {
				return "", false
			}
			return c.at(unitValue(c.units[pos])), true
		}
	}
	return "", false
}

// at returns the NUL-terminated replacement starting at offset off of the blob
// ("" past its end).
func (c *charsmap) at(off uint32) string {
	if int64(off) >= int64(len(c.blob)) {
		return ""
	}
	rest := c.blob[off:]
	for i, b := range rest {
		if b == 0 {
			return string(rest[:i])
		}
	}
	return string(rest)
}

// normalize applies the map as HF tokenizers' Precompiled normalizer does
// (tokenizers/src/normalizers/precompiled.rs, the version tokenizers 0.23
// ships): the text is cut into grapheme clusters; a cluster shorter than 6
// bytes that starts with a key is replaced whole by the shortest such key's
// replacement; otherwise each character is replaced by its own key's
// replacement, or kept.
//
// Grapheme clusters: HF uses unicode-segmentation's extended grapheme clusters.
// Go's standard library has no segmenter, so graphemes() approximates them
// (see there). Only clusters under 6 bytes made of several characters are
// treated differently from single characters, so what matters is a base
// character with one combining mark, variation selector or ZWJ, a control
// before a combining mark (a cluster of its own), and CR LF; on those the two
// agree (checked on random texts against tokenizers 0.23.2 and the stock
// nmt_nfkc map).
//
// first is the length of the output of the first unit (grapheme or
// character) that produced any, which tokenizers aligns with the first
// original character (see charsmapStep).
func (c *charsmap) normalize(s string) (out string, first int) {
	if s == "" {
		return s, 0
	}
	b := make([]byte, 0, len(s)+8)
	first = -1
	mark := func() {
		if first < 0 && len(b) > 0 {
			first = len(b)
		}
	}
	for g := range graphemes(s) {
		if len(g) < 6 {
			if r, ok := c.firstMatch(g); ok {
				b = append(b, r...)
				mark()
				continue
			}
		}
		for i := 0; i < len(g); {
			_, n := utf8.DecodeRuneInString(g[i:])
			ch := g[i : i+n]
			if r, ok := c.firstMatch(ch); ok {
				b = append(b, r...)
			} else {
				b = append(b, ch...)
			}
			mark()
			i += n
		}
	}
	return string(b), max(first, 0)
}

// graphemes yields s cut into approximate extended grapheme clusters (UAX #29,
// which unicode-segmentation implements): CR LF is one cluster; a control
// (Cc, Cf other than ZWNJ/ZWJ, Zl, Zp) is a cluster of its own; otherwise a
// character takes the extenders that follow it (combining marks Mn/Mc/Me,
// ZWNJ, ZWJ, variation selectors, emoji modifiers, tag characters), a ZWJ
// followed by an Extended_Pictographic character joins it (emoji ZWJ
// sequences), and two regional indicators pair up. Not modelled: Hangul
// syllable sequences of conjoining jamo, prepended concatenation marks, and
// the Extend/SpacingMark subtleties of a few scripts.
func graphemes(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			j := i + n
			switch {
			case r == '\r':
				if j < len(s) && s[j] == '\n' {
					j++
				}
			case r == '\n' || isControl(r):
			default:
				if isRegional(r) && j < len(s) {
					if r2, n2 := utf8.DecodeRuneInString(s[j:]); isRegional(r2) {
						j += n2
					}
				}
				for j < len(s) {
					r2, n2 := utf8.DecodeRuneInString(s[j:])
					if !isExtender(r2) {
						break
					}
					j += n2
					if r2 == 0x200D && j < len(s) { // ZWJ × Extended_Pictographic
						if r3, n3 := utf8.DecodeRuneInString(s[j:]); isPictographic(r) && isPictographic(r3) {
							j += n3
						}
					}
				}
			}
			if !yield(s[i:j]) {
				return
			}
			i = j
		}
	}
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isControl is Grapheme_Cluster_Break=Control, near enough: Cc, Cf (but ZWNJ
// and ZWJ, which extend), Zl, Zp.
func isControl(r rune) bool {
	if r == 0x200C || r == 0x200D {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

func isExtender(r rune) bool {
	switch {
	case r == 0x200C, r == 0x200D, r >= 0xFE00 && r <= 0xFE0F, r >= 0x1F3FB && r <= 0x1F3FF, r >= 0xE0020 && r <= 0xE007F:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)
}

// isPictographic approximates Extended_Pictographic by the emoji blocks.
func isPictographic(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x1FC00 && r <= 0x1FFFD, r >= 0x2600 && r <= 0x27BF,
		r >= 0x2300 && r <= 0x23FF, r >= 0x2B00 && r <= 0x2BFF, r >= 0x2190 && r <= 0x21FF:
		return true
	}
	switch r {
	case 0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}
