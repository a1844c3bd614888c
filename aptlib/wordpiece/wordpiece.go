// Package wordpiece is the BERT WordPiece tokenizer, exactly as HuggingFace's python
// BertTokenizer (transformers, models/bert/tokenization_bert.py) and, where the two
// agree, BertTokenizerFast (the tokenizers crate: BertNormalizer, BertPreTokenizer,
// WordPiece, BertProcessing): clean text, split CJK ideographs, lower-case and strip
// accents when do_lower_case, split on whitespace and punctuation, greedy
// longest-match-first WordPiece with "##" continuations, [UNK] for words over 100
// characters or with no match; pairs as [CLS] a [SEP] b [SEP] with token types 0/1,
// truncated longest-first. Encodings carry word ids and byte offsets into the
// original text.
//
// Where the python tokenizer and the fast one differ, this package follows python:
//   - NFC is applied when accents are kept (cased models); the fast one has no NFC.
//   - Unassigned code points (category Cn) are dropped as control characters
//     (_is_control); the fast one keeps them (and then gives [UNK]).
//   - Pair truncation when both sequences must lose tokens and the budget is odd:
//     python gives the extra token to the first sequence, the fast one to the
//     longer (the second on a tie).
//
// Character categories come from Go's unicode tables (Unicode 15.0); python's
// unicodedata follows its own version (3.11: 14.0), so code points assigned in
// between can differ. Word ids and offsets follow the fast tokenizer, which has
// them (the python one has not).
package wordpiece

// Tokenizer is a BERT WordPiece tokenizer. It is safe for concurrent use once built;
// the exported option fields may be changed before use.
type Tokenizer struct {
	// DoLowerCase lower-cases the text (do_lower_case / BertNormalizer.lowercase).
	DoLowerCase bool
	// StripAccents removes accents (NFD, then drop category Mn). It is the resolved
	// value of strip_accents, which defaults to do_lower_case when unset.
	StripAccents bool
	// TokenizeChineseChars puts every CJK ideograph in a word of its own
	// (tokenize_chinese_chars / handle_chinese_chars).
	TokenizeChineseChars bool
	// CleanText removes NUL, U+FFFD and control characters and turns whitespace into
	// spaces (always on in python's BasicTokenizer; BertNormalizer.clean_text).
	CleanText bool
	// MaxInputCharsPerWord: a word with more characters (code points) than this
	// becomes [UNK] (WordpieceTokenizer.max_input_chars_per_word, 100).
	MaxInputCharsPerWord int

	vocab  map[string]int // token -> id (for duplicate lines, the last one wins, as load_vocab)
	cont   map[string]int // continuation pieces without their prefix: "ing" -> id of "##ing"
	inv    []string       // id -> token
	prefix string         // continuing_subword_prefix, "##"
	maxLen int            // longest token in vocab, bytes
	maxCnt int            // longest continuation piece (without prefix), bytes

	unk, cls, sep, pad, mask int // ids; mask is -1 when absent

	// added are the tokens never split and never normalised: the special tokens
	// (and tokenizer.json's added_tokens), matched literally in the text, as
	// PreTrainedTokenizer.tokenize (tokens_trie.split) and the fast AddedVocabulary do.
	added      map[string]int
	addedFirst [256]bool // first bytes of added tokens
	addedMax   int       // longest added token, bytes
}

// VocabSize is the number of ids (lines of vocab.txt, or the largest id + 1).
func (t *Tokenizer) VocabSize() int { return len(t.inv) }

// ID returns the id of token, and whether it is in the vocabulary.
func (t *Tokenizer) ID(token string) (int, bool) {
	if id, ok := t.vocab[token]; ok {
		return id, true
	}
	id, ok := t.added[token]
	return id, ok
}

// Token returns the token of id, or "" when id is out of range.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.inv) {
		return ""
	}
	return t.inv[id]
}

// CLS is the id of the classifier token ([CLS]).
func (t *Tokenizer) CLS() int { return t.cls }

// SEP is the id of the separator token ([SEP]).
func (t *Tokenizer) SEP() int { return t.sep }

// PAD is the id of the padding token ([PAD]).
func (t *Tokenizer) PAD() int { return t.pad }

// UNK is the id of the unknown token ([UNK]).
func (t *Tokenizer) UNK() int { return t.unk }

// MASK is the id of the mask token ([MASK]), or -1 when the vocabulary has none.
func (t *Tokenizer) MASK() int { return t.mask }

// Tokenize returns the word pieces of text, without special tokens
// (BertTokenizer.tokenize).
func (t *Tokenizer) Tokenize(text string) []string {
	s := getScratch()
	defer putScratch(s)
	s.toks, _ = t.encodeText(text, s, s.toks[:0])
	out := make([]string, len(s.toks))
	for i, tk := range s.toks {
		out[i] = t.inv[tk.id]
	}
	return out
}

// wpTok is one word piece: its id, the original byte span, and its word index.
type wpTok struct {
	id         int32
	start, end int32
	word       int32
}

// wordpieces runs WordpieceTokenizer.tokenize over the words of p and appends the
// pieces to dst; word indices count from word0.
func (t *Tokenizer) wordpieces(p *pieces, dst []wpTok, word0 int32) []wpTok {
	for wi, w := range p.words {
		dst = t.wordpiece(p, w, dst, word0+int32(wi))
	}
	return dst
}

// wordpiece is WordpieceTokenizer.tokenize for one word: greedy longest-match-first,
// pieces after the first looked up with the "##" prefix; [UNK] for the whole word
// when it has more than MaxInputCharsPerWord characters or some position has no
// match.
func (t *Tokenizer) wordpiece(p *pieces, w piece, dst []wpTok, word int32) []wpTok {
	sp := p.sp
	if w.id >= 0 {
		return append(dst, wpTok{id: w.id, start: sp[w.r0].start, end: sp[w.r1-1].end, word: word})
	}
	unk := wpTok{id: int32(t.unk), start: sp[w.r0].start, end: sp[w.r1-1].end, word: word}
	if int(w.r1-w.r0) > t.MaxInputCharsPerWord {
		return append(dst, unk)
	}
	rs, norm := p.rs, p.norm
	byteAt := func(r int32) int32 {
		if r == w.r1 {
			return w.b1
		}
		return rs[r]
	}
	n0 := len(dst)
	for start := w.r0; start < w.r1; {
		b0 := rs[start]
		m, limit := t.vocab, t.maxLen
		if start > w.r0 {
			m, limit = t.cont, t.maxCnt
		}
		end := w.r1
		for end > start && int(byteAt(end)-b0) > limit {
			end--
		}
		id := -1
		for ; end > start; end-- {
			if v, ok := m[string(norm[b0:byteAt(end)])]; ok {
				id = v
				break
			}
		}
		if id < 0 {
			return append(dst[:n0], unk)
		}
		dst = append(dst, wpTok{id: int32(id), start: sp[start].start, end: sp[end-1].end, word: word})
		start = end
	}
	return dst
}

// split finds the literal added (special) tokens in text and runs the basic
// tokenizer on the text between them, appending the words to p.
func (t *Tokenizer) split(text string, p *pieces) {
	lo := 0
	if t.addedMax > 0 {
		for i := 0; i < len(text); i++ {
			if !t.addedFirst[text[i]] {
				continue
			}
			// Longest added token starting at i (tokens_trie.split takes the longest).
			best, bestID := 0, 0
			for n := min(t.addedMax, len(text)-i); n > 0; n-- {
				if id, ok := t.added[text[i:i+n]]; ok {
					best, bestID = n, id
					break
				}
			}
			if best == 0 {
				continue
			}
			t.basic(text, lo, i, p)
			r := int32(len(p.rs))
			p.rs = append(p.rs, int32(len(p.norm)))
			p.sp = append(p.sp, span{int32(i), int32(i + best)})
			p.norm = append(p.norm, text[i:i+best]...)
			p.words = append(p.words, piece{r0: r, r1: r + 1, b0: p.rs[r], b1: int32(len(p.norm)), id: int32(bestID)})
			i += best - 1
			lo = i + 1
		}
	}
	t.basic(text, lo, len(text), p)
}

// PadID is the id of [PAD], which padding positions hold (backbone.Tokenizer).
func (t *Tokenizer) PadID() int { return t.pad }
