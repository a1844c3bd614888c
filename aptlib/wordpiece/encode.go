package wordpiece

import "sync"

// Encoding is one model input: [CLS] a [SEP] or [CLS] a [SEP] b [SEP], unpadded.
type Encoding struct {
	IDs     []int32 // [CLS] a [SEP] (b [SEP]), no padding
	TypeIDs []int32 // 0 for [CLS] a [SEP], 1 for b [SEP]
	Tokens  []string
	// WordIDs: per token, the index of the word it came from (EncodeWords: index
	// into the given words; text input: index of the basic-tokenizer word within its
	// sequence, as the fast tokenizer's word_ids), -1 for the special tokens added
	// around the sequences. A special token written literally in the text is a word
	// of its own.
	WordIDs []int
	// SequenceIDs: per token, 0 (first text), 1 (second), -1 for added specials.
	SequenceIDs []int
	// Offsets: per token, byte offsets [start, end) into the original text of its
	// sequence (for EncodeWords: into its word); [0, 0] for added specials. A piece
	// covers the original characters its normalised characters came from; removed
	// characters (controls, stripped accents) at the edges of a piece are not
	// included, as in the fast tokenizer.
	Offsets [][2]int
	// Truncated is the number of word-piece tokens dropped by truncation.
	Truncated int
	// NumWords is the number of words of the first sequence (len(words) for
	// EncodeWords), counting words that truncation dropped.
	NumWords int
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

type scratch struct {
	pieces
	toks, toks2 []wpTok
}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.norm) > 1<<20 { // do not keep huge buffers around
		return
	}
	scratchPool.Put(s)
}

// encodeText tokenizes one sequence into dst; it returns the pieces and the
// number of words.
func (t *Tokenizer) encodeText(text string, s *scratch, dst []wpTok) ([]wpTok, int) {
	s.reset()
	t.split(text, &s.pieces)
	return t.wordpieces(&s.pieces, dst, 0), len(s.words)
}

// Encode encodes one text as [CLS] text [SEP], keeping at most maxLen tokens
// (maxLen <= 0: no truncation): the word pieces beyond maxLen-2 are dropped. [CLS]
// and [SEP] are always there, even for maxLen < 2.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	s := getScratch()
	defer putScratch(s)
	var nw int
	s.toks, nw = t.encodeText(text, s, s.toks[:0])
	a, cut := s.toks, 0
	if maxLen > 0 && len(a) > maxLen-2 {
		n := max(0, maxLen-2)
		a, cut = a[:n], len(a)-n
	}
	e := t.build(a, nil)
	e.Truncated, e.NumWords = cut, nw
	return e
}

// EncodePair encodes a text pair as [CLS] a [SEP] b [SEP], keeping at most maxLen
// tokens (maxLen <= 0: no truncation; the three special tokens always stay). An
// empty b still gets its [SEP], as in HF. Truncation is HF's 'longest_first'
// (tokenization_utils_base.py, truncate_sequences): tokens are dropped from the end
// of the longer sequence until both are as long, then alternately from b and a
// (b first), so that a keeps the extra token when the budget is odd.
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	s := getScratch()
	defer putScratch(s)
	var nw int
	s.toks, nw = t.encodeText(a, s, s.toks[:0])
	s.toks2, _ = t.encodeText(b, s, s.toks2[:0])
	ta, tb, cut := s.toks, s.toks2, 0
	if maxLen > 0 {
		na, nb := TruncatePair(len(ta), len(tb), maxLen-3)
		cut = len(ta) - na + len(tb) - nb
		ta, tb = ta[:na], tb[:nb]
	}
	e := t.build(ta, tb)
	e.Truncated, e.NumWords = cut, nw
	return e
}

// TruncatePair returns how many tokens of sequences of lengths la and lb HF's
// 'longest_first' truncation keeps for a budget of n tokens (the special tokens
// already taken out). It is truncate_sequences of tokenization_utils_base.py
// (python): first_remove from the longer one to reach equal length, the rest split
// with the odd one taken from the second sequence.
func TruncatePair(la, lb, n int) (na, nb int) {
	n = max(n, 0)
	if la+lb <= n {
		return la, lb
	}
	remove := la + lb - n
	first := min(abs(lb-la), remove)
	second := remove - first
	var ra, rb int
	if la > lb {
		ra, rb = first+second/2, second-second/2
	} else {
		ra, rb = second/2, first+second-second/2
	}
	return max(0, la-ra), max(0, lb-rb)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// EncodeWords encodes pre-split words (NER), each tokenized on its own as HF does
// with is_split_into_words=True; WordIDs index into words and Offsets are byte
// offsets into the word. A word that tokenizes to nothing (empty, or only
// whitespace or control characters) has no tokens. At most maxLen tokens are kept
// (maxLen <= 0: no truncation).
func (t *Tokenizer) EncodeWords(words []string, maxLen int) Encoding {
	s := getScratch()
	defer putScratch(s)
	toks := s.toks[:0]
	for i, w := range words {
		s.reset()
		t.split(w, &s.pieces)
		for _, pc := range s.words {
			toks = t.wordpiece(&s.pieces, pc, toks, int32(i))
		}
	}
	s.toks = toks
	cut := 0
	if maxLen > 0 && len(toks) > maxLen-2 {
		n := max(0, maxLen-2)
		toks, cut = toks[:n], len(toks)-n
	}
	e := t.build(toks, nil)
	e.Truncated, e.NumWords = cut, len(words)
	return e
}

// build adds the special tokens around a (and b) (BertProcessing /
// build_inputs_with_special_tokens, create_token_type_ids_from_sequences).
func (t *Tokenizer) build(a, b []wpTok) Encoding {
	n := len(a) + 2
	if b != nil {
		n += len(b) + 1
	}
	e := Encoding{
		IDs:         make([]int32, 0, n),
		TypeIDs:     make([]int32, 0, n),
		Tokens:      make([]string, 0, n),
		WordIDs:     make([]int, 0, n),
		SequenceIDs: make([]int, 0, n),
		Offsets:     make([][2]int, 0, n),
	}
	special := func(id int, typ int32) {
		e.IDs = append(e.IDs, int32(id))
		e.TypeIDs = append(e.TypeIDs, typ)
		e.Tokens = append(e.Tokens, t.inv[id])
		e.WordIDs = append(e.WordIDs, -1)
		e.SequenceIDs = append(e.SequenceIDs, -1)
		e.Offsets = append(e.Offsets, [2]int{})
	}
	seq := func(toks []wpTok, typ int32, sid int) {
		for _, tk := range toks {
			e.IDs = append(e.IDs, tk.id)
			e.TypeIDs = append(e.TypeIDs, typ)
			e.Tokens = append(e.Tokens, t.inv[tk.id])
			e.WordIDs = append(e.WordIDs, int(tk.word))
			e.SequenceIDs = append(e.SequenceIDs, sid)
			e.Offsets = append(e.Offsets, [2]int{int(tk.start), int(tk.end)})
		}
	}
	special(t.cls, 0)
	seq(a, 0, 0)
	special(t.sep, 0)
	if b != nil {
		seq(b, 1, 1)
		special(t.sep, 1)
	}
	return e
}

// FirstSubwordIndex returns, per word of the first sequence, the position of its
// first token, or -1 when the word has no token (truncated away, or empty).
func (e Encoding) FirstSubwordIndex() []int {
	n := e.NumWords
	for i, w := range e.WordIDs {
		if w >= n && (i >= len(e.SequenceIDs) || e.SequenceIDs[i] == 0) {
			n = w + 1
		}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	for i, w := range e.WordIDs {
		if w < 0 || (i < len(e.SequenceIDs) && e.SequenceIDs[i] != 0) {
			continue
		}
		if out[w] < 0 {
			out[w] = i
		}
	}
	return out
}
