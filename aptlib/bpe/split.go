package bpe

import (
	"unicode"
	"unicode/utf8"
)

// byteToRune is GPT-2's bytes_to_unicode (tokenization_gpt2.py; the tokenizers
// crate's ByteLevel): the printable bytes 33-126, 161-172 and 174-255 stand for
// themselves, the other 68 bytes (controls, space, 127-160, 173), in increasing
// order, for U+0100, U+0101, ... So a space is 'Ġ' (U+0120) and '\n' is 'Ċ'
// (U+010A). Every string of bytes maps to a string of these 256 characters.
var byteToRune = func() (m [256]rune) {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174 {
			m[b] = rune(b)
		} else {
			m[b] = 256 + n
			n++
		}
	}
	return m
}()

// mapBytes appends the byte-level characters of s (every byte through byteToRune).
func mapBytes(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = utf8.AppendRune(dst, byteToRune[s[i]])
	}
	return dst
}

// char classes of the GPT-2 pattern.
const (
	clsSpace  = iota // \s: Unicode White_Space
	clsLetter        // \p{L}
	clsNumber        // \p{N}
	clsOther         // [^\s\p{L}\p{N}]
)

// class is the class of r in the GPT-2 pattern. \s is White_Space (Oniguruma's and
// python regex's \s; unicode.IsSpace is exactly that set), \p{L} and \p{N} the
// general categories. An invalid UTF-8 byte (RuneError) falls in the "other" class,
// as U+FFFD does.
func class(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return clsSpace
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	}
	return clsOther
}

// splitGPT2 calls emit with each piece of s that GPT-2's pre-tokenization regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// finds (the pattern of tokenization_gpt2.py and of the tokenizers crate's
// ByteLevel pre-tokenizer, alternatives tried in that order at each position).
// Go's regexp has no lookahead, so the alternatives are written out:
//   - the contractions, case-sensitive: "'" then s, t, m, d, re, ve or ll;
//   - an optional ' ' (U+0020 only) then a run of letters, of numbers, or of other
//     characters (not whitespace, letter or number), the class of the run being
//     that of the first character after the optional space;
//   - whitespace that the above did not take: a run up to the end of s is one
//     piece; a run followed by a non-space gives all but its last character
//     (\s+(?!\S)), so that the last one can lead the next piece ("a  b" -> "a",
//     " ", " b"); a single whitespace character before a non-space is a piece of
//     its own (\s+), e.g. "\t" in "\tx".
//
// Pieces are substrings of s and cover it entirely, in order.
func splitGPT2(s string, emit func(piece string)) {
	for i := 0; i < len(s); {
		r0, n0 := utf8.DecodeRuneInString(s[i:])
		if r0 == '\'' {
			if n := contraction(s[i+1:]); n > 0 {
				emit(s[i : i+1+n])
				i += 1 + n
				continue
			}
		}
		// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`.
		j, c := i, class(r0)
		if r0 == ' ' && i+n0 < len(s) {
			r1, _ := utf8.DecodeRuneInString(s[i+n0:])
			j, c = i+n0, class(r1)
		}
		if c != clsSpace {
			k := j
			for k < len(s) {
				r, n := utf8.DecodeRuneInString(s[k:])
				if class(r) != c {
					break
				}
				k += n
			}
			emit(s[i:k])
			i = k
			continue
		}
		// Whitespace: `\s+(?!\S)`, else `\s+`.
		k, last := i, i
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !unicode.IsSpace(r) {
				break
			}
			last = k
			k += n
		}
		if k < len(s) && last > i {
			k = last
		}
		emit(s[i:k])
		i = k
	}
}

// contraction returns the length of the contraction suffix ('s 't 're 've 'm 'll
// 'd, without the apostrophe) at the start of s, or 0.
func contraction(s string) int {
	if len(s) >= 1 {
		switch s[0] {
		case 's', 't', 'm', 'd':
			return 1
		}
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "re", "ve", "ll":
			return 2
		}
	}
	return 0
}
