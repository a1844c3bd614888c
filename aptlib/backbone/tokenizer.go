package backbone

// Tokenizer turns text into a family's input ids. Every family's tokenizer
// (WordPiece, byte-level BPE, SentencePiece Unigram) implements it; the tasks
// and the workbench use nothing else.
type Tokenizer interface {
	// EncodePairIDs returns the ids and token type ids of a single text
	// (b == "") or a pair, with the family's special tokens (BERT and
	// DeBERTa: [CLS] a [SEP] b [SEP]; RoBERTa: <s> a </s></s> b </s>),
	// truncated longest-first to maxLen tokens, and the number of tokens
	// dropped by the truncation.
	EncodePairIDs(a, b string, maxLen int) (ids, typeIDs []int32, truncated int)
	// EncodeWordsIDs encodes pre-split words (NER) with the single-text
	// specials, truncated to maxLen tokens. firstSub[i] is the token index of
	// word i's first sub-word, or -1 when the word was truncated away (or
	// yields no sub-word); truncated is the number of sub-word tokens dropped.
	EncodeWordsIDs(words []string, maxLen int) (ids, typeIDs []int32, firstSub []int, truncated int)
	// Tokenize splits text into the vocabulary's pieces (no specials).
	Tokenize(text string) []string
	VocabSize() int
	ID(token string) (int, bool)
	Token(id int) string
	PadID() int // the id padding positions hold
}
