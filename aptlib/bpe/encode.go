package bpe

import "github.com/aptbench/apt/aptlib/wordpiece"

// Encoding is one model input with the layout's special tokens, unpadded.
type Encoding struct {
	IDs     []int32
	TypeIDs []int32 // all 0 for RoBERTa; DeBERTa v1: 1 after the first separator
	// FirstSub (EncodeWords only): per word, the position of its first token, or -1
	// when the word yields no token or was truncated away.
	FirstSub []int
	// Truncated is the number of tokens (not specials) dropped by truncation.
	Truncated int
}

// Tokens returns the tokens of e's ids.
func (t *Tokenizer) Tokens(e Encoding) []string {
	out := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		out[i] = t.Token(int(id))
	}
	return out
}

// Encode encodes one text with the single-sequence specials (<s> A </s> or
// [CLS] A [SEP]), keeping at most maxLen tokens (maxLen <= 0: no truncation): the
// tokens beyond maxLen-2 are dropped; the specials always stay.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	a := t.encodeText(text, false, nil)
	return t.single(a, maxLen)
}

func (t *Tokenizer) single(a []int32, maxLen int) Encoding {
	cut := 0
	if n, _ := t.layout.specials(); maxLen > 0 && len(a) > maxLen-n {
		keep := max(0, maxLen-n)
		a, cut = a[:keep], len(a)-keep
	}
	e := t.build(a, nil)
	e.Truncated = cut
	return e
}

// EncodePair encodes a text pair (<s> A </s></s> B </s> or [CLS] A [SEP] B [SEP]),
// keeping at most maxLen tokens (maxLen <= 0: no truncation; the specials always
// stay). An empty b still gets its specials, as in HF. Truncation is HF's
// 'longest_first' as the python tokenizer does it (wordpiece.TruncatePair): tokens
// leave the longer sequence first, the odd one the second sequence.
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	ta := t.encodeText(a, false, nil)
	tb := t.encodeText(b, false, nil)
	cut := 0
	if tb == nil { // b == "" still is a pair
		tb = []int32{}
	}
	if _, n := t.layout.specials(); maxLen > 0 {
		na, nb := wordpiece.TruncatePair(len(ta), len(tb), maxLen-n)
		cut = len(ta) - na + len(tb) - nb
		ta, tb = ta[:na], tb[:nb]
	}
	e := t.build(ta, tb)
	e.Truncated = cut
	return e
}

// EncodeWords encodes pre-split words (NER) with the single-sequence specials, each
// word on its own with a leading space (is_split_into_words with
// add_prefix_space=True). At most maxLen tokens are kept (maxLen <= 0: no
// truncation); FirstSub gives each word's first token.
func (t *Tokenizer) EncodeWords(words []string, maxLen int) Encoding {
	var toks []int32
	first := make([]int, len(words))
	for i, w := range words {
		n := len(toks)
		toks = t.encodeText(w, true, toks)
		first[i] = -1
		if len(toks) > n {
			first[i] = n + 1 // after <s> / [CLS]
		}
	}
	e := t.single(toks, maxLen)
	kept := len(e.IDs) - 1
	for i, p := range first {
		if p >= kept {
			first[i] = -1
		}
	}
	e.FirstSub = first
	return e
}

// build adds the layout's specials around a (and b when not nil).
func (t *Tokenizer) build(a, b []int32) Encoding {
	n := len(a) + 2
	if b != nil {
		n += len(b) + 2
	}
	ids := make([]int32, 0, n)
	types := make([]int32, 0, n)
	push := func(typ int32, xs ...int32) {
		ids = append(ids, xs...)
		for range xs {
			types = append(types, typ)
		}
	}
	cls, sep := int32(t.cls), int32(t.sep)
	push(0, cls)
	push(0, a...)
	push(0, sep)
	if b != nil {
		switch t.layout {
		case RoBERTa:
			push(0, sep)
			push(0, b...)
			push(0, sep)
		default:
			push(1, b...)
			push(1, sep)
		}
	}
	return Encoding{IDs: ids, TypeIDs: types}
}

// EncodePairIDs is backbone.Tokenizer's encoder: b == "" means a single text.
func (t *Tokenizer) EncodePairIDs(a, b string, maxLen int) (ids, typeIDs []int32, truncated int) {
	var e Encoding
	if b == "" {
		e = t.Encode(a, maxLen)
	} else {
		e = t.EncodePair(a, b, maxLen)
	}
	return e.IDs, e.TypeIDs, e.Truncated
}

// EncodeWordsIDs is backbone.Tokenizer's encoder of pre-split words.
func (t *Tokenizer) EncodeWordsIDs(words []string, maxLen int) (ids, typeIDs []int32, firstSub []int, truncated int) {
	e := t.EncodeWords(words, maxLen)
	return e.IDs, e.TypeIDs, e.FirstSub, e.Truncated
}
