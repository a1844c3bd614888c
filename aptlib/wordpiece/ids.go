package wordpiece

// EncodePairIDs is EncodePair reduced to plain ids, for aptlib/tasks: b == ""
// means a single sequence ("[CLS] a [SEP]"), as the task encoders use it.
func (t *Tokenizer) EncodePairIDs(a, b string, maxLen int) (ids, typeIDs []int32, truncated int) {
	var e Encoding
	if b == "" {
		e = t.Encode(a, maxLen)
	} else {
		e = t.EncodePair(a, b, maxLen)
	}
	return e.IDs, e.TypeIDs, e.Truncated
}

// EncodeWordsIDs is EncodeWords reduced to plain ids and each word's first
// sub-word position (-1 when truncated away), for aptlib/tasks.
func (t *Tokenizer) EncodeWordsIDs(words []string, maxLen int) (ids, typeIDs []int32, firstSub []int, truncated int) {
	e := t.EncodeWords(words, maxLen)
	return e.IDs, e.TypeIDs, e.FirstSubwordIndex(), e.Truncated
}
