// Package unigram is the SentencePiece Unigram tokenizer of DeBERTa-v2/v3, as
// HuggingFace's DebertaV2TokenizerFast runs it (the Rust `tokenizers` Unigram
// model behind the pipeline transformers' DebertaV2Converter builds), loaded
// from a model directory's spm.model (SentencePiece's ModelProto) or
// tokenizer.json. It implements backbone.Tokenizer.
//
// The pipeline, per text (docs/families.md, "SentencePiece Unigram"):
//  1. added tokens ([CLS] [SEP] [PAD] [UNK] [MASK] and any other added_tokens)
//     are cut out of the raw text first, leftmost-longest;
//  2. each remaining segment is normalized: [Lowercase if do_lower_case],
//     Strip, the model's precompiled charsmap (nmt_nfkc), Replace(" {2,}", " ");
//  3. Metaspace: spaces become "▁", a "▁" is prepended to a segment that does
//     not start with one, and a new word starts at every "▁";
//  4. each word is cut into pieces by Viterbi over the piece scores; a
//     character that no one-character piece covers is unknown, and consecutive
//     unknowns fuse into one [UNK] (or, with byte fallback, into <0xXX> pieces);
//  5. specials: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], type ids 0 then 1.
package unigram

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aptbench/apt/aptlib/wordpiece"
)

// unkPenalty is subtracted from the lowest piece score to score an unknown
// character (tokenizers' K_UNK_PENALTY, sentencepiece's kUnkPenalty).
const unkPenalty = 10.0

// addedToken is a token matched in the text before normalization (or after it,
// when normalized), never split (tokenizers' AddedToken).
type addedToken struct {
	content    string
	id         int
	lstrip     bool // the match swallows the whitespace before it
	rstrip     bool // ... and after it
	singleWord bool // matches only when not inside a word
	normalized bool // matched in the normalized text instead of the raw one
}

// Tokenizer is a loaded Unigram tokenizer. It is safe for concurrent use.
type Tokenizer struct {
	pieces     []string  // id -> piece (the vocabulary, in model order)
	scores     []float64 // id -> score (log probability)
	ids        map[string]int
	trie       *trie // the pieces, for Viterbi's prefix search
	minScore   float64
	unk        int
	byteFB     bool
	byteIDs    [256]int // <0xXX> piece ids, -1 when absent (byte fallback)
	added      []addedToken
	addedFirst [256]bool // first bytes of the added tokens
	addedIDs   map[string]int
	extra      map[int]string // ids of added tokens beyond the vocabulary
	vocabSize  int

	norm []normStep
	pre  preTokenizer

	cls, sep, pad, mask int // mask: -1 when absent
	source              string
}

// Encoding is one model input: [CLS] a [SEP] or [CLS] a [SEP] b [SEP], unpadded.
type Encoding struct {
	IDs     []int32
	TypeIDs []int32 // 0 for [CLS] a [SEP], 1 for b [SEP]
	// WordIDs: per token, the index of its word (EncodeWords: index into the
	// given words; text: index of the pre-token within its sequence, counting
	// added tokens written in the text, as the fast tokenizer's word_ids), -1
	// for the specials added around the sequences.
	WordIDs []int
	// SequenceIDs: per token, 0 (first text), 1 (second), -1 for added specials.
	SequenceIDs []int
	Truncated   int // pieces dropped by truncation
	NumWords    int // words of the first sequence, counting truncated ones
}

type tok struct {
	id   int32
	word int32
}

// VocabSize is the number of ids: the pieces plus the added tokens beyond them
// (deberta-v3: 128000 pieces + [MASK] = 128001; the checkpoint's embedding
// may be larger).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// ID returns the id of a piece or added token.
func (t *Tokenizer) ID(token string) (int, bool) {
	if id, ok := t.addedIDs[token]; ok {
		return id, true
	}
	id, ok := t.ids[token]
	return id, ok
}

// Token returns the piece or added token of an id ("" when out of range).
func (t *Tokenizer) Token(id int) string {
	if s, ok := t.extra[id]; ok {
		return s
	}
	if id >= 0 && id < len(t.pieces) {
		return t.pieces[id]
	}
	return ""
}

// PadID is the id of [PAD].
func (t *Tokenizer) PadID() int { return t.pad }

// UnkID is the id of the unknown piece.
func (t *Tokenizer) UnkID() int { return t.unk }

// CLSID and SEPID are the ids of the sequence specials.
func (t *Tokenizer) CLSID() int { return t.cls }
func (t *Tokenizer) SEPID() int { return t.sep }

// MaskID is the id of [MASK], -1 when the tokenizer has none.
func (t *Tokenizer) MaskID() int { return t.mask }

// String names the file the tokenizer came from.
func (t *Tokenizer) String() string {
	return fmt.Sprintf("unigram tokenizer (%d pieces, from %s)", len(t.pieces), t.source)
}

// Tokenize returns the pieces of text without specials: for each id its
// vocabulary entry (an unknown run reads as the unknown piece, e.g. "[UNK]").
func (t *Tokenizer) Tokenize(text string) []string {
	toks, _ := t.encodeText(text, nil)
	out := make([]string, len(toks))
	for i, k := range toks {
		out[i] = t.Token(int(k.id))
	}
	return out
}

// encodeText runs the whole pipeline on one sequence; it returns its tokens
// (word = pre-token index) and the number of pre-tokens. Invalid UTF-8 reads
// as U+FFFD (HF's tokenizers take Rust strings, which cannot hold it).
func (t *Tokenizer) encodeText(text string, dst []tok) ([]tok, int) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	word := 0
	var words []string
	var sc viterbiScratch
	for _, seg := range t.splitAdded(text) {
		if seg.id >= 0 {
			dst = append(dst, tok{int32(seg.id), int32(word)})
			word++
			continue
		}
		words = t.pre.words(seg.s, seg.head, words[:0])
		for _, w := range words {
			dst = t.viterbi(w, int32(word), dst, &sc)
			word++
		}
	}
	return dst, word
}

// segment is a part of the text: an added token (id >= 0) or normalized text.
type segment struct {
	s  string
	id int
	// head: the number of leading bytes of s aligned with the text's first
	// character (0 when the segment does not begin the text); see normStep.
	head int
}

// splitAdded cuts the added tokens out of text and normalizes the rest, as
// tokenizers' AddedVocabulary.extract_and_normalize: first the tokens that
// are not normalized are matched in the raw text, then each remaining part is
// normalized and the normalized tokens are matched in it.
func (t *Tokenizer) splitAdded(text string) []segment {
	var out []segment
	_, first := utf8.DecodeRuneInString(text)
	for _, raw := range t.matchAdded(text, false, first) {
		if raw.id >= 0 {
			out = append(out, raw)
			continue
		}
		s, head := raw.s, raw.head
		for _, f := range t.norm {
			s, head = f(s, head)
		}
		out = append(out, t.matchAdded(s, true, head)...)
	}
	return out
}

// matchAdded finds the added tokens (normalized or not, as asked) in s,
// leftmost-longest, honouring lstrip/rstrip/single_word; the parts between
// them are returned as text segments (empty ones dropped). head is s's head
// (see normStep).
func (t *Tokenizer) matchAdded(s string, normalized bool, head int) []segment {
	at := func(k int) int { return max(0, head-k) }
	var out []segment
	last := 0
	for i := 0; i < len(s); {
		if !t.addedFirst[s[i]] {
			i++
			continue
		}
		best := -1
		for k := range t.added {
			a := &t.added[k]
			if a.normalized != normalized || a.content == "" || !strings.HasPrefix(s[i:], a.content) {
				continue
			}
			if a.singleWord && !t.wordBoundaryAt(s, i, i+len(a.content)) {
				continue
			}
			if best < 0 || len(a.content) > len(t.added[best].content) {
				best = k
			}
		}
		if best < 0 {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		a := &t.added[best]
		start, end := i, i+len(a.content)
		if a.lstrip {
			for start > last {
				r, n := utf8.DecodeLastRuneInString(s[last:start])
				if !isSpace(r) {
					break
				}
				start -= n
			}
		}
		if a.rstrip {
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if !isSpace(r) {
					break
				}
				end += n
			}
		}
		if start > last {
			out = append(out, segment{s: s[last:start], id: -1, head: min(at(last), start-last)})
		}
		out = append(out, segment{s: a.content, id: a.id})
		last, i = end, end
	}
	if last < len(s) {
		out = append(out, segment{s: s[last:], id: -1, head: min(at(last), len(s)-last)})
	}
	return out
}

// wordBoundaryAt says whether s[i:j] is not glued to word characters on
// either side (tokenizers' single_word: the match must start and end at word
// boundaries).
func (t *Tokenizer) wordBoundaryAt(s string, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		if isWordChar(r) {
			return false
		}
	}
	if j < len(s) {
		r, _ := utf8.DecodeRuneInString(s[j:])
		if isWordChar(r) {
			return false
		}
	}
	return true
}

// viterbi appends the pieces of one pre-token, as tokenizers' Unigram
// encode_optimized (models/unigram/model.rs) does: best[j] is the best score
// of a segmentation of w[:j]; from each character boundary i the pieces that
// start there are tried in order of increasing length, and a candidate
// replaces best[j] only when it is strictly better (so ties keep the first
// found). When no one-character piece starts at i, an unknown node of score
// minScore-10 covers that character. Backtracking from the end, consecutive
// unknown nodes fuse into one string, which becomes its own piece when the
// vocabulary has it, its <0xXX> bytes under byte fallback when all of them
// exist, else the unknown id.
func (t *Tokenizer) viterbi(w string, word int32, dst []tok, sc *viterbiScratch) []tok {
	n := len(w)
	if n == 0 {
		return dst
	}
	if cap(sc.best) < n+1 {
		sc.best = make([]vnode, n+1)
	}
	best := sc.best[:n+1]
	for i := range best {
		best[i] = vnode{start: -1}
	}
	node := func(score float64, start int, id int32) vnode { return vnode{score, int32(start), id} }
	unkScore := t.minScore - unkPenalty
	for i := 0; i < n; {
		_, mb := utf8.DecodeRuneInString(w[i:])
		base := best[i].score
		single := false
		for j, nd := i, int32(0); j < n; j++ {
			if nd = t.trie.next(nd, w[j]); nd < 0 {
				break
			}
			id := t.trie.id[nd]
			if id < 0 {
				continue
			}
			// Pieces are valid UTF-8, so a piece ends on a character boundary.
			c := base + t.scores[id]
			if b := &best[j+1]; b.start < 0 || c > b.score {
				*b = node(c, i, id)
			}
			if j+1-i == mb {
				single = true
			}
		}
		if !single {
			c := base + unkScore
			if b := &best[i+mb]; b.start < 0 || c > b.score {
				*b = node(c, i, int32(t.unk))
			}
		}
		i += mb
	}
	// Backtrack, then emit in order.
	rev := sc.rev[:0]
	for end := n; end > 0; {
		b := best[end]
		start := int(b.start)
		if int(b.id) == t.unk {
			for start > 0 && int(best[start].id) == t.unk {
				start = int(best[start].start)
			}
			rev = t.unknown(w[start:end], word, rev)
		} else {
			rev = append(rev, tok{b.id, word})
		}
		end = start
	}
	for k := len(rev) - 1; k >= 0; k-- {
		dst = append(dst, rev[k])
	}
	sc.rev = rev
	return dst
}

// vnode is a Viterbi lattice position: the best score of a segmentation of
// the text up to it, where its last piece starts (-1: not reached) and its id.
type vnode struct {
	score float64
	start int32
	id    int32
}

// viterbiScratch holds the buffers viterbi reuses across the words of a text.
type viterbiScratch struct {
	best []vnode
	rev  []tok
}

// unknown appends (in reverse order, for viterbi's backtracking) the ids of a
// fused run of unknown characters (tokenizers' Unigram::tokenize).
func (t *Tokenizer) unknown(s string, word int32, rev []tok) []tok {
	if id, ok := t.ids[s]; ok {
		return append(rev, tok{int32(id), word})
	}
	if t.byteFB {
		all := true
		for k := 0; k < len(s); k++ {
			if t.byteIDs[s[k]] < 0 {
				all = false
				break
			}
		}
		if all {
			for k := len(s) - 1; k >= 0; k-- {
				rev = append(rev, tok{int32(t.byteIDs[s[k]]), word})
			}
			return rev
		}
	}
	return append(rev, tok{int32(t.unk), word})
}

// Encode encodes one text as [CLS] text [SEP], keeping at most maxLen tokens
// (maxLen <= 0: no truncation): the pieces beyond maxLen-2 are dropped;
// [CLS] and [SEP] always stay.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	a, nw := t.encodeText(text, nil)
	cut := 0
	if maxLen > 0 && len(a) > maxLen-2 {
		k := max(0, maxLen-2)
		a, cut = a[:k], len(a)-k
	}
	e := t.build(a, nil)
	e.Truncated, e.NumWords = cut, nw
	return e
}

// EncodePair encodes [CLS] a [SEP] b [SEP] (an empty b keeps its [SEP], as in
// HF), truncated to maxLen tokens longest-first as HF's python
// truncate_sequences does (wordpiece.TruncatePair); the three specials stay.
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	ta, nw := t.encodeText(a, nil)
	tb, _ := t.encodeText(b, nil)
	if tb == nil {
		tb = []tok{}
	}
	cut := 0
	if maxLen > 0 {
		na, nb := wordpiece.TruncatePair(len(ta), len(tb), maxLen-3)
		cut = len(ta) - na + len(tb) - nb
		ta, tb = ta[:na], tb[:nb]
	}
	e := t.build(ta, tb)
	e.Truncated, e.NumWords = cut, nw
	return e
}

// EncodeWords encodes pre-split words (NER) as HF does with
// is_split_into_words=True: each word runs through the whole pipeline on its
// own, so each gets its own "▁" prefix (Metaspace prepend_scheme "always").
// WordIDs index into words; a word that yields no piece (empty, or only
// whitespace) has none. At most maxLen tokens are kept (maxLen <= 0: all).
func (t *Tokenizer) EncodeWords(words []string, maxLen int) Encoding {
	var toks []tok
	for i, w := range words {
		n := len(toks)
		toks, _ = t.encodeText(w, toks)
		for k := n; k < len(toks); k++ {
			toks[k].word = int32(i)
		}
	}
	cut := 0
	if maxLen > 0 && len(toks) > maxLen-2 {
		k := max(0, maxLen-2)
		toks, cut = toks[:k], len(toks)-k
	}
	e := t.build(toks, nil)
	e.Truncated, e.NumWords = cut, len(words)
	return e
}

// build adds the specials: [CLS] a [SEP] (b [SEP]), types 0 then 1
// (DebertaV2Converter's TemplateProcessing).
func (t *Tokenizer) build(a, b []tok) Encoding {
	n := len(a) + 2
	if b != nil {
		n += len(b) + 1
	}
	e := Encoding{
		IDs:         make([]int32, 0, n),
		TypeIDs:     make([]int32, 0, n),
		WordIDs:     make([]int, 0, n),
		SequenceIDs: make([]int, 0, n),
	}
	special := func(id int, typ int32) {
		e.IDs = append(e.IDs, int32(id))
		e.TypeIDs = append(e.TypeIDs, typ)
		e.WordIDs = append(e.WordIDs, -1)
		e.SequenceIDs = append(e.SequenceIDs, -1)
	}
	seq := func(toks []tok, typ int32, sid int) {
		for _, k := range toks {
			e.IDs = append(e.IDs, k.id)
			e.TypeIDs = append(e.TypeIDs, typ)
			e.WordIDs = append(e.WordIDs, int(k.word))
			e.SequenceIDs = append(e.SequenceIDs, sid)
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

// FirstSubwordIndex returns, per word of the first sequence, the position of
// its first token, or -1 when the word has none (truncated away, or empty).
func (e Encoding) FirstSubwordIndex() []int {
	out := make([]int, e.NumWords)
	for i := range out {
		out[i] = -1
	}
	for i, w := range e.WordIDs {
		if w < 0 || w >= len(out) || e.SequenceIDs[i] != 0 {
			continue
		}
		if out[w] < 0 {
			out[w] = i
		}
	}
	return out
}

// EncodePairIDs implements backbone.Tokenizer: b == "" encodes a single text.
func (t *Tokenizer) EncodePairIDs(a, b string, maxLen int) (ids, typeIDs []int32, truncated int) {
	var e Encoding
	if b == "" {
		e = t.Encode(a, maxLen)
	} else {
		e = t.EncodePair(a, b, maxLen)
	}
	return e.IDs, e.TypeIDs, e.Truncated
}

// EncodeWordsIDs implements backbone.Tokenizer for pre-split words (NER).
func (t *Tokenizer) EncodeWordsIDs(words []string, maxLen int) (ids, typeIDs []int32, firstSub []int, truncated int) {
	e := t.EncodeWords(words, maxLen)
	return e.IDs, e.TypeIDs, e.FirstSubwordIndex(), e.Truncated
}

// isSpace is Rust's char::is_whitespace (Unicode White_Space), which
// tokenizers uses for Strip and lstrip/rstrip.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// isWordChar is a character of the regex class \w, which tokenizers'
// single_word test uses (added_vocabulary.rs, `\w$` and `^\w`): Rust regex's
// Unicode \w is Alphabetic, marks, decimal digits, connector punctuation and
// Join_Control (Alphabetic approximated by letters and letter numbers).
func isWordChar(r rune) bool {
	return r == 0x200C || r == 0x200D || unicode.In(r, unicode.L, unicode.Nl, unicode.M, unicode.Nd, unicode.Pc)
}
