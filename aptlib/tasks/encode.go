package tasks

import (
	"fmt"
)

// Tokenizer is what Encode needs from a tokenizer. wordpiece.Tokenizer
// satisfies it through two adapter methods; tests use a whitespace fake.
type Tokenizer interface {
	// EncodePairIDs returns the ids and token type ids of "[CLS] a [SEP] b [SEP]"
	// (b == "": "[CLS] a [SEP]"), truncated longest-first to maxLen tokens, and
	// the number of tokens dropped by the truncation.
	EncodePairIDs(a, b string, maxLen int) (ids, typeIDs []int32, truncated int)
	// EncodeWordsIDs encodes pre-split words as "[CLS] w1 w2 ... [SEP]", truncated
	// to maxLen tokens. firstSub[i] is the token index of word i's first
	// sub-word, or -1 when the word was truncated away (or yields no sub-word);
	// truncated is the number of sub-word tokens dropped.
	EncodeWordsIDs(words []string, maxLen int) (ids, typeIDs []int32, firstSub []int, truncated int)
}

// IgnoreIndex marks token positions that carry no label (special tokens,
// non-first sub-words, padding), as HuggingFace's -100.
const IgnoreIndex = -100

// Encoded is a split (or a list of examples) turned into model inputs. Rows are
// not padded.
type Encoded struct {
	Task  string
	Split string
	Kind  Kind
	// NumChoices is the number of rows per example: the number of choices for
	// multiple choice, else 1. Row r belongs to example r / NumChoices.
	NumChoices int
	// IDs and TypeIDs hold one row per (example, choice).
	IDs, TypeIDs [][]int32
	// Labels has one entry per example: the label index (multiple choice: the
	// right choice), or -1 when unlabeled. Token classification: -1 (see
	// TokenLabels).
	Labels []int32
	// TokenLabels (token classification) has one row per example, as long as
	// its IDs row: the label index at the first sub-word of each word,
	// IgnoreIndex elsewhere — P-Tuning v2's tokenize_and_align_labels
	// (tasks/ner/dataset.py) with label_all_tokens off.
	TokenLabels [][]int32
	// FirstSub (token classification) maps, per example, each word to the token
	// index of its first sub-word, -1 when the word was cut off.
	FirstSub [][]int
	// Groups (MultiRC) is each example's question group; nil elsewhere.
	Groups []string
	// Truncation report: examples (rows, for multiple choice) that lost tokens,
	// tokens dropped in all, and (token classification) words left without a
	// label because they were cut off. P-Tuning v2 truncates the same way and
	// its NER metric silently skips the cut-off words; Evaluate counts them (see
	// WordPredictions).
	TruncatedRows, TruncatedTokens, DroppedWords int
	// MaxLen is the max_len the rows were truncated to.
	MaxLen int
}

// Rows is the number of rows (examples × choices).
func (e *Encoded) Rows() int { return len(e.IDs) }

// Encode encodes one split of a task ("train", "dev" or "test") with tok,
// truncating every row to maxLen tokens.
func Encode(task *Task, split string, tok Tokenizer, maxLen int) (*Encoded, error) {
	s, err := task.Split(split)
	if err != nil {
		return nil, err
	}
	enc, err := EncodeExamples(task, s.Examples, tok, maxLen)
	if err != nil {
		return nil, err
	}
	enc.Split = s.Name
	return enc, nil
}

// EncodeExamples encodes a list of examples of task (e.g. those read by
// ParsePredictLine).
func EncodeExamples(task *Task, exs []Example, tok Tokenizer, maxLen int) (*Encoded, error) {
	if maxLen < 3 {
		return nil, fmt.Errorf("encode %s: max_len %d is too small (need room for [CLS] x [SEP])", task.Name, maxLen)
	}
	if tok == nil {
		return nil, fmt.Errorf("encode %s: no tokenizer", task.Name)
	}
	enc := &Encoded{Task: task.Name, Kind: task.Kind, NumChoices: 1, MaxLen: maxLen}
	if task.Kind == MultipleChoice {
		enc.NumChoices = len(task.Labels)
	}
	for i := range exs {
		ex := &exs[i]
		if task.Kind == TokenClassification {
			if err := encodeWords(task, enc, ex, tok, maxLen); err != nil {
				return nil, err
			}
			continue
		}
		pairs, err := task.Inputs(ex)
		if err != nil {
			return nil, err
		}
		if len(pairs) != enc.NumChoices {
			return nil, fmt.Errorf("encode %s: example %s has %d inputs, want %d", task.Name, ex.ID, len(pairs), enc.NumChoices)
		}
		for _, p := range pairs {
			ids, types, tr := tok.EncodePairIDs(p.A, p.B, maxLen)
			if err := checkRow(task, ex, ids, types, maxLen); err != nil {
				return nil, err
			}
			enc.IDs = append(enc.IDs, ids)
			enc.TypeIDs = append(enc.TypeIDs, types)
			if tr > 0 {
				enc.TruncatedRows++
				enc.TruncatedTokens += tr
			}
		}
		enc.Labels = append(enc.Labels, int32(ex.LabelIndex))
		if ex.Group != "" {
			if enc.Groups == nil {
				enc.Groups = make([]string, i, len(exs))
			}
			enc.Groups = append(enc.Groups, ex.Group)
		} else if enc.Groups != nil {
			enc.Groups = append(enc.Groups, "")
		}
	}
	return enc, nil
}

func checkRow(task *Task, ex *Example, ids, types []int32, maxLen int) error {
	if len(ids) == 0 || len(ids) > maxLen || len(types) != len(ids) {
		return fmt.Errorf("encode %s: example %s: tokenizer returned %d ids and %d type ids for max_len %d",
			task.Name, ex.ID, len(ids), len(types), maxLen)
	}
	return nil
}

func encodeWords(task *Task, enc *Encoded, ex *Example, tok Tokenizer, maxLen int) error {
	if len(ex.Words) == 0 {
		return fmt.Errorf("encode %s: example %s has no words", task.Name, ex.ID)
	}
	ids, types, first, tr := tok.EncodeWordsIDs(ex.Words, maxLen)
	if err := checkRow(task, ex, ids, types, maxLen); err != nil {
		return err
	}
	if len(first) != len(ex.Words) {
		return fmt.Errorf("encode %s: example %s: tokenizer mapped %d of %d words", task.Name, ex.ID, len(first), len(ex.Words))
	}
	labels := make([]int32, len(ids))
	for i := range labels {
		labels[i] = IgnoreIndex
	}
	dropped := 0
	for w, pos := range first {
		if pos < 0 {
			dropped++
			continue
		}
		if pos >= len(ids) {
			return fmt.Errorf("encode %s: example %s: word %d maps to token %d of %d", task.Name, ex.ID, w, pos, len(ids))
		}
		if len(ex.Tags) == len(ex.Words) {
			li := task.LabelIndex(ex.Tags[w])
			if li < 0 {
				return fmt.Errorf("encode %s: example %s: tag %q is not one of %s", task.Name, ex.ID, ex.Tags[w], quoteList(task.Labels))
			}
			labels[pos] = int32(li)
		}
	}
	enc.IDs = append(enc.IDs, ids)
	enc.TypeIDs = append(enc.TypeIDs, types)
	enc.TokenLabels = append(enc.TokenLabels, labels)
	enc.FirstSub = append(enc.FirstSub, first)
	enc.Labels = append(enc.Labels, -1)
	if tr > 0 || dropped > 0 {
		enc.TruncatedRows++
		enc.TruncatedTokens += tr
		enc.DroppedWords += dropped
	}
	return nil
}

// WordPredictions turns one example's per-token predicted label indices (its
// row, at least as long as the IDs row) into one label index per word, read at
// each word's first sub-word. A word that was cut off gets `fill` (use the
// index of "O" so that a truncated entity counts as missed).
func (e *Encoded) WordPredictions(example int, tokenPred []int, fill int) ([]int, error) {
	if example < 0 || example >= len(e.FirstSub) {
		return nil, fmt.Errorf("word predictions: example %d out of range (%d token-classification examples)", example, len(e.FirstSub))
	}
	first := e.FirstSub[example]
	out := make([]int, len(first))
	for w, pos := range first {
		switch {
		case pos < 0:
			out[w] = fill
		case pos >= len(tokenPred):
			return nil, fmt.Errorf("word predictions: example %d: %d token predictions, word %d is at token %d", example, len(tokenPred), w, pos)
		default:
			out[w] = tokenPred[pos]
		}
	}
	return out, nil
}
