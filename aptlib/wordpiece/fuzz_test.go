package wordpiece

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzTokenizerJSON is a small valid tokenizer.json over vocab.
func fuzzTokenizerJSON(vocab []string) []byte {
	ids := map[string]int{}
	for i, tok := range vocab {
		ids[tok] = i
	}
	doc := map[string]any{
		"version":        "1.0",
		"added_tokens":   []any{map[string]any{"id": ids["[CLS]"], "content": "[CLS]", "special": true}, map[string]any{"id": ids["[SEP]"], "content": "[SEP]", "special": true}},
		"normalizer":     map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": templateProcessing(ids["[CLS]"], ids["[SEP]"]),
		"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ids},
	}
	b, _ := json.Marshal(doc)
	return b
}

// checkEncodings encodes text every way and checks the encodings' invariants.
func checkEncodings(t *testing.T, tk *Tokenizer, text string, maxLen int) {
	for what, e := range map[string]Encoding{
		"Encode":      tk.Encode(text, maxLen),
		"EncodePair":  tk.EncodePair(text, strings.ToUpper(text), maxLen),
		"EncodeWords": tk.EncodeWords(strings.Fields(text), maxLen),
	} {
		if len(e.IDs) > maxLen || len(e.IDs) < 2 || len(e.TypeIDs) != len(e.IDs) || len(e.Tokens) != len(e.IDs) {
			t.Fatalf("%s(%q, %d): %d ids, %d type ids, %d tokens", what, text, maxLen, len(e.IDs), len(e.TypeIDs), len(e.Tokens))
		}
		for i, id := range e.IDs {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("%s(%q): id %d at %d outside the vocabulary of %d", what, text, id, i, tk.VocabSize())
			}
		}
	}
	if fs := tk.EncodeWords(strings.Fields(text), maxLen).FirstSubwordIndex(); len(fs) != len(strings.Fields(text)) {
		t.Fatalf("FirstSubwordIndex: %d entries for %d words", len(fs), len(strings.Fields(text)))
	}
}

// FuzzTokenizerFiles loads arbitrary vocab.txt, tokenizer.json and
// tokenizer_config.json files and encodes a string with what loads: no panic,
// one-line errors, and encodings within max_len and the vocabulary.
func FuzzTokenizerFiles(f *testing.F) {
	small, err := os.ReadFile(smallVocab)
	if err != nil {
		f.Fatal(err)
	}
	lines, err := readVocab(smallVocab)
	if err != nil {
		f.Fatal(err)
	}
	tj := fuzzTokenizerJSON(lines)
	f.Add(small, tj, []byte(`{"do_lower_case": false}`), "Hello, World! naïve 東京 [SEP] x", uint8(16))
	f.Add([]byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n##b\n"), []byte(`{}`), []byte(`{"unk_token": {"content": "[UNK]"}}`), "ab a b", uint8(3))
	f.Add([]byte("\r\n\r"), tj, []byte(`not json`), "", uint8(0))
	f.Fuzz(func(t *testing.T, vocab, tokJSON, config []byte, text string, n uint8) {
		maxLen := 3 + int(n)%62
		dir := t.TempDir()
		oneLine := func(err error) {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
		}
		vp := filepath.Join(dir, "vocab.txt")
		os.WriteFile(vp, vocab, 0o644)
		if tk, err := FromVocabFile(vp, true); err != nil {
			oneLine(err)
		} else {
			checkEncodings(t, tk, text, maxLen)
		}
		os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), config, 0o644)
		if tk, err := Load(dir); err != nil {
			oneLine(err)
		} else {
			checkEncodings(t, tk, text, maxLen)
		}
		jp := filepath.Join(dir, "tokenizer.json")
		os.WriteFile(jp, tokJSON, 0o644)
		if tk, err := FromTokenizerJSON(jp); err != nil {
			oneLine(err)
		} else {
			checkEncodings(t, tk, text, maxLen)
		}
	})
}
