// Package bpe is the byte-level BPE tokenizer of GPT-2, RoBERTa and DeBERTa v1, as
// HuggingFace's RobertaTokenizer / DebertaTokenizer (transformers,
// models/roberta/tokenization_roberta.py, models/deberta/tokenization_deberta.py,
// both GPT-2's tokenizer with other specials) and their fast versions (the
// tokenizers crate: ByteLevel pre-tokenizer, BPE model, RobertaProcessing or
// TemplateProcessing). It implements backbone.Tokenizer.
//
// Encoding a text:
//  1. Added tokens (the special tokens, and any added_tokens) are found first,
//     leftmost-longest, and never split (splitAdded: those with normalized
//     false, then in the text between them the others, as the crate's
//     AddedVocabulary); one with lstrip (rstrip) also takes the whitespace to its
//     left (right), as <mask> does in RoBERTa and [MASK] in DeBERTa v1. The text
//     between them is encoded piece by piece.
//  2. Each piece between added tokens, with a ' ' put in front when AddPrefixSpace
//     is set and it does not start with one (the crate's ByteLevel does this for
//     every piece; the python tokenizer only at the start of the text), is split
//     with GPT-2's pattern (splitGPT2).
//  3. Every UTF-8 byte of a piece is mapped to one of 256 characters
//     (bytes_to_unicode): byte-level BPE has no unknown characters.
//  4. BPE per piece: start from its characters, repeatedly merge the adjacent pair
//     with the lowest rank (its line in merges.txt), all its non-overlapping
//     occurrences left to right, until no pair has a rank (GPT2Tokenizer.bpe).
//  5. A resulting piece not in the vocabulary becomes the unknown token, or is
//     dropped when there is none (the crate's BPE without unk_token); with a
//     byte-level vocabulary (all 256 characters, every merge result) it never
//     happens.
//
// No normalisation: case and accents are kept. The layout of the special tokens is
// the family's (Layout): RoBERTa <s> A </s> and <s> A </s></s> B </s> with all
// token types 0; DeBERTa v1 [CLS] A [SEP] and [CLS] A [SEP] B [SEP] with types 0
// up to the first [SEP] and 1 after. Pairs are truncated longest-first as
// transformers' python truncate_sequences (wordpiece.TruncatePair).
//
// Pre-split words (NER, EncodeWords) are encoded one by one, each with a leading
// space, as HF does with is_split_into_words=True and add_prefix_space=True (which
// the fast RoBERTa/DeBERTa tokenizers require for pre-split input, and which
// P-Tuning v2 sets for these families, tasks/utils.py ADD_PREFIX_SPACE); a word that
// already starts with ' ' gets none (the fast tokenizer's test; python's
// prepare_for_tokenization also spares a word starting with any other whitespace),
// an empty word yields no token.
//
// Where the python and the fast tokenizer differ, this package follows the fast
// one (what P-Tuning v2 and from_pretrained use by default), except for pair
// truncation (python's rule, as the wordpiece package) and the BPE merge order in
// vocabularies whose merges are not in training order (python's, the rule above;
// the crate merges through a priority queue, which differs only when a merge
// involves a token that a later-ranked merge creates).
package bpe

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Layout is a family's special-token layout.
type Layout int

const (
	// RoBERTa: <s> A </s> and <s> A </s></s> B </s> (RobertaProcessing,
	// build_inputs_with_special_tokens of tokenization_roberta.py), token types all
	// 0; default specials <s> </s> <pad> <unk> <mask>.
	RoBERTa Layout = iota + 1
	// DeBERTa is DeBERTa v1 (model_type "deberta"): [CLS] A [SEP] and
	// [CLS] A [SEP] B [SEP] (DebertaConverter's TemplateProcessing,
	// tokenization_deberta.py), token types 0 through the first [SEP], 1 after;
	// default specials [CLS] [SEP] [PAD] [UNK] [MASK].
	DeBERTa
)

func (l Layout) String() string {
	switch l {
	case RoBERTa:
		return "roberta"
	case DeBERTa:
		return "deberta"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// specials returns the number of special tokens the layout adds to one sequence
// and to a pair.
func (l Layout) specials() (single, pair int) {
	if l == RoBERTa {
		return 2, 4
	}
	return 2, 3
}

// addedToken is a token matched in the text before splitting (AddedToken).
type addedToken struct {
	content    string
	id         int
	lstrip     bool // also takes the whitespace on its left
	rstrip     bool // also takes the whitespace on its right
	singleWord bool // only where it is not inside a word
	normalized bool // matched in the second pass (see splitAdded)
	special    bool
}

// addedSet is one pass of added-token matching: the tokens by content.
type addedSet struct {
	byContent map[string]addedToken
	first     [256]bool // first bytes of the tokens
	maxLen    int       // longest token, bytes
}

func (a *addedSet) add(tok addedToken) {
	if a.byContent == nil {
		a.byContent = map[string]addedToken{}
	}
	a.byContent[tok.content] = tok
	a.first[tok.content[0]] = true
	a.maxLen = max(a.maxLen, len(tok.content))
}

// Tokenizer is a byte-level BPE tokenizer. It is safe for concurrent use once
// built; AddPrefixSpace may be changed before use.
type Tokenizer struct {
	// AddPrefixSpace puts a ' ' in front of every text piece that does not start
	// with one (add_prefix_space; false for RoBERTa and DeBERTa v1 texts). Pre-split
	// words always get it.
	AddPrefixSpace bool

	layout       Layout
	useRegex     bool // split with GPT-2's pattern (ByteLevel use_regex; false: a piece is one word)
	vocab        map[string]int
	inv          []string // id -> token ("" for ids without one)
	ranks        map[[2]string]int
	ignoreMerges bool // a piece that is a whole vocabulary token is kept (BPE ignore_merges)

	// The added tokens, in the two passes of the crate's AddedVocabulary: first
	// the tokens with normalized false (RoBERTa's and DeBERTa's specials as
	// from_pretrained makes them, and <mask>), then, in the text between those,
	// the ones with normalized true (real roberta-base's tokenizer.json marks
	// <s> </s> <pad> <unk> so).
	added [2]addedSet

	cls, sep, pad, unk, mask int // ids; unk and mask are -1 when absent

	mu    sync.Mutex
	cache map[string][]int32 // mapped piece -> ids
}

// maxCache bounds the piece cache (entries); it is dropped whole when full.
const maxCache = 1 << 16

// Layout is the special-token layout.
func (t *Tokenizer) Layout() Layout { return t.layout }

// VocabSize is the number of ids (the largest id + 1).
func (t *Tokenizer) VocabSize() int { return len(t.inv) }

// ID returns the id of a token (vocabulary or added token).
func (t *Tokenizer) ID(token string) (int, bool) {
	id, ok := t.vocab[token]
	return id, ok
}

// Token returns the token of id, "" when there is none.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.inv) {
		return ""
	}
	return t.inv[id]
}

// PadID is the id of the padding token (<pad> = 1 for RoBERTa, [PAD] = 0 for
// DeBERTa v1).
func (t *Tokenizer) PadID() int { return t.pad }

// CLS is the id of the token in front of every input (<s> or [CLS]).
func (t *Tokenizer) CLS() int { return t.cls }

// SEP is the id of the separator (</s> or [SEP]).
func (t *Tokenizer) SEP() int { return t.sep }

// UNK is the id of the unknown token, -1 when there is none.
func (t *Tokenizer) UNK() int { return t.unk }

// MASK is the id of the mask token, -1 when there is none.
func (t *Tokenizer) MASK() int { return t.mask }

// piece is one unit of a text after the added tokens are taken out: either an added
// token (id >= 0) or text to pre-tokenize.
type piece struct {
	text string
	id   int
}

// splitAdded cuts s at the added tokens and returns the pieces in order: the
// crate's AddedVocabulary (find_matches, split_with_indices), first with the
// tokens whose normalized flag is false over the whole text, then with the others
// over the text between. In each pass the matches are found leftmost-longest
// (aho-corasick LeftmostLongest, non-overlapping); a single_word token whose match
// has a word character (isWordChar) just before or after it is skipped,
// with the text it covered. A token with lstrip (rstrip) takes the whitespace
// before (after) it, down to the end of the previous match.
func (t *Tokenizer) splitAdded(s string, dst []piece) []piece {
	n0 := len(dst)
	dst = t.added[0].split(s, dst)
	if len(t.added[1].byContent) == 0 {
		return dst
	}
	first := append([]piece(nil), dst[n0:]...)
	dst = dst[:n0]
	for _, p := range first {
		if p.id >= 0 {
			dst = append(dst, p)
		} else {
			dst = t.added[1].split(p.text, dst)
		}
	}
	return dst
}

func (a *addedSet) split(s string, dst []piece) []piece {
	prev := 0
	for i := 0; i < len(s) && a.maxLen > 0; {
		if !a.first[s[i]] {
			i++
			continue
		}
		var tok addedToken
		found := false
		for n := min(a.maxLen, len(s)-i); n > 0; n-- {
			if tok, found = a.byContent[s[i:i+n]]; found {
				break
			}
		}
		if !found {
			i++
			continue
		}
		start, stop := i, i+len(tok.content)
		if tok.singleWord && !(wordBoundaryBefore(s, start) && wordBoundaryAfter(s, stop)) {
			i = stop
			continue
		}
		if tok.lstrip {
			for start > prev {
				r, n := utf8.DecodeLastRuneInString(s[prev:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= n
			}
		}
		if tok.rstrip {
			for stop < len(s) {
				r, n := utf8.DecodeRuneInString(s[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += n
			}
		}
		if start > prev {
			dst = append(dst, piece{s[prev:start], -1})
		}
		dst = append(dst, piece{"", tok.id})
		prev, i = stop, stop
	}
	if prev < len(s) {
		dst = append(dst, piece{s[prev:], -1})
	}
	return dst
}

// isWordChar is \w of Rust's regex crate, which the tokenizers crate tests a
// single_word match's neighbours with: Alphabetic (letters, Nl, Other_Alphabetic),
// marks, decimal digits, connector punctuation ('_') and the joiners (ZWNJ, ZWJ).
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.In(r, unicode.Nd, unicode.Nl, unicode.Pc, unicode.Other_Alphabetic, unicode.Join_Control)
}

func wordBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordChar(r)
}

func wordBoundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordChar(r)
}

// encodeText appends the ids of text (no specials); prefix forces the leading
// space (pre-split words).
func (t *Tokenizer) encodeText(text string, prefix bool, dst []int32) []int32 {
	var buf [8]piece
	var mapped []byte
	for _, p := range t.splitAdded(text, buf[:0]) {
		if p.id >= 0 {
			dst = append(dst, int32(p.id))
			continue
		}
		s := p.text
		if (prefix || t.AddPrefixSpace) && s[0] != ' ' {
			s = " " + s
		}
		word := func(w string) {
			mapped = mapBytes(mapped[:0], w)
			dst = append(dst, t.bpeIDs(mapped)...)
		}
		if t.useRegex {
			splitGPT2(s, word)
		} else {
			word(s)
		}
	}
	return dst
}

// bpeIDs returns the ids of one mapped piece, from the cache when it is there.
func (t *Tokenizer) bpeIDs(mapped []byte) []int32 {
	t.mu.Lock()
	ids, ok := t.cache[string(mapped)]
	t.mu.Unlock()
	if ok {
		return ids
	}
	w := string(mapped)
	for _, tok := range t.bpe(w) {
		if id, ok := t.vocab[tok]; ok {
			ids = append(ids, int32(id))
		} else if t.unk >= 0 {
			ids = append(ids, int32(t.unk))
		}
	}
	t.mu.Lock()
	if len(t.cache) >= maxCache {
		t.cache = make(map[string][]int32)
	}
	t.cache[w] = ids
	t.mu.Unlock()
	return ids
}

// bpe splits a mapped piece into its BPE tokens (GPT2Tokenizer.bpe): from its
// characters, the adjacent pair with the lowest rank is merged, every
// non-overlapping occurrence left to right, until no adjacent pair has a rank.
func (t *Tokenizer) bpe(w string) []string {
	if t.ignoreMerges {
		if _, ok := t.vocab[w]; ok {
			return []string{w}
		}
	}
	syms := make([]string, 0, len(w))
	for i, r := range w {
		syms = append(syms, w[i:i+utf8.RuneLen(r)])
	}
	for len(syms) > 1 {
		best, rank := -1, 0
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := t.ranks[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < rank) {
				best, rank = i, r
			}
		}
		if best < 0 {
			break
		}
		a, b := syms[best], syms[best+1]
		out := syms[:best]
		for i := best; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
				out = append(out, a+b)
				i++
			} else {
				out = append(out, syms[i])
			}
		}
		syms = out
	}
	return syms
}

// Tokenize splits text into its vocabulary tokens, without specials.
func (t *Tokenizer) Tokenize(text string) []string {
	ids := t.encodeText(text, false, nil)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.inv[id]
	}
	return out
}
