package wordpiece

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// realVocab is the bert-base-uncased vocabulary shared by the workbench (never
// copied into the repository).
const realVocab = "../../../shared/models/bert-base-uncased-vocab/vocab.txt"

// goldenFile is written by testdata/gen_golden.mjs from HuggingFace tokenizers
// (Rust) 0.23.2 and checked against transformers.js 4.3.2. Expected values are
// python BertTokenizer's. They differ from the Rust output in two documented ways:
//   - unassigned code points (category Cn) are dropped by python's _is_control and
//     kept by Rust and transformers.js ("unassigned code point");
//   - pair truncation with an odd budget when both sequences are cut: python leaves
//     the extra token to the first sequence, Rust to the longer one ("truncate equal
//     lengths", "truncate second longer by two", "truncate both very long").
//
// transformers.js differs from python (the golden file keeps its tokens under "js"
// with "js_note"): it applies Final_Sigma when lower-casing (whole-string
// toLowerCase, python lower-cases char by char), does not split CJK Extension B+
// ideographs (it tests UTF-16 code units), keeps unassigned code points, treats an
// empty text_pair as no pair, and truncates by cutting the finished sequence.
const goldenFile = "testdata/golden_uncased.json"

type goldenEnc struct {
	IDs         []int32  `json:"ids"`
	Tokens      []string `json:"tokens"`
	TypeIDs     []int32  `json:"type_ids"`
	WordIDs     []int    `json:"word_ids"`
	SequenceIDs []int    `json:"sequence_ids"`
	Offsets     [][2]int `json:"offsets"`
}

type goldenCase struct {
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Text      string    `json:"text"`
	TextPair  string    `json:"text_pair"`
	Words     []string  `json:"words"`
	MaxLen    int       `json:"max_len"`
	Note      string    `json:"note"`
	JSNote    string    `json:"js_note"`
	Expected  goldenEnc `json:"expected"`
	Truncated int       `json:"truncated"`
}

type goldenDoc struct {
	VocabSHA256 string       `json:"vocab_sha256"`
	Cases       []goldenCase `json:"cases"`
}

// loadRealVocab returns the real vocabulary's path, skipping the test when it is
// absent.
func loadRealVocab(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(realVocab); err != nil {
		t.Skipf("bert-base-uncased vocabulary not available at %s (the shared workbench data): %v", realVocab, err)
	}
	return realVocab
}

func readGolden(t *testing.T) goldenDoc {
	t.Helper()
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc goldenDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 80 {
		t.Fatalf("golden file has %d cases", len(doc.Cases))
	}
	vocab, err := os.ReadFile(loadRealVocab(t))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(vocab)
	if got := hex.EncodeToString(sum[:]); got != doc.VocabSHA256 {
		t.Fatalf("%s has sha256 %s, the golden file was made from %s", realVocab, got, doc.VocabSHA256)
	}
	return doc
}

func encodeCase(tk *Tokenizer, c goldenCase) Encoding {
	switch c.Kind {
	case "single":
		return tk.Encode(c.Text, c.MaxLen)
	case "pair":
		return tk.EncodePair(c.Text, c.TextPair, c.MaxLen)
	case "words":
		return tk.EncodeWords(c.Words, c.MaxLen)
	}
	panic("unknown kind " + c.Kind)
}

func checkGolden(t *testing.T, tk *Tokenizer, doc goldenDoc) {
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			e := encodeCase(tk, c)
			got := goldenEnc{e.IDs, e.Tokens, e.TypeIDs, e.WordIDs, e.SequenceIDs, e.Offsets}
			if !reflect.DeepEqual(got, c.Expected) {
				t.Errorf("%s %q %q %q (max_len %d)\n got %+v\nwant %+v\nnote: %s", c.Kind, c.Text, c.TextPair, c.Words, c.MaxLen, got, c.Expected, c.Note)
			}
			if e.Truncated != c.Truncated {
				t.Errorf("Truncated = %d, want %d", e.Truncated, c.Truncated)
			}
			if c.Kind == "single" && c.MaxLen == 0 {
				want := c.Expected.Tokens[1 : len(c.Expected.Tokens)-1]
				if got := tk.Tokenize(c.Text); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("Tokenize = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestGoldenUncased(t *testing.T) {
	doc := readGolden(t)
	tk, err := FromVocabFile(loadRealVocab(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if tk.VocabSize() != 30522 || tk.CLS() != 101 || tk.SEP() != 102 || tk.PAD() != 0 || tk.UNK() != 100 || tk.MASK() != 103 {
		t.Fatalf("vocab %d, CLS %d SEP %d PAD %d UNK %d MASK %d", tk.VocabSize(), tk.CLS(), tk.SEP(), tk.PAD(), tk.UNK(), tk.MASK())
	}
	checkGolden(t, tk, doc)
}

// writeBertTokenizerJSON writes a tokenizer.json in the standard bert-base-uncased
// layout (as gen_golden.mjs builds it) for the given vocabulary.
func writeBertTokenizerJSON(t *testing.T, path string, vocabLines []string, lowercase bool, postProcessor any) {
	t.Helper()
	vocab := map[string]int{}
	for i, tok := range vocabLines {
		vocab[tok] = i
	}
	var added []map[string]any
	for _, s := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		if id, ok := vocab[s]; ok {
			added = append(added, map[string]any{"id": id, "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})
		}
	}
	doc := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens":   added,
		"normalizer":     map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": lowercase},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": postProcessor,
		"decoder":        map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func templateProcessing(cls, sep int) map[string]any {
	return map[string]any{
		"type": "TemplateProcessing",
		"single": []any{
			map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}},
			map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
			map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}},
		},
		"pair": []any{
			map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}},
			map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
			map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}},
			map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}},
			map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 1}},
		},
		"special_tokens": map[string]any{
			"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{cls}, "tokens": []string{"[CLS]"}},
			"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{sep}, "tokens": []string{"[SEP]"}},
		},
	}
}

// TestGoldenUncasedFromTokenizerJSON runs the golden cases through a tokenizer
// loaded from a tokenizer.json (built in a temporary directory from the real
// vocabulary) and through Load on directories holding either file.
func TestGoldenUncasedFromTokenizerJSON(t *testing.T) {
	doc := readGolden(t)
	lines, err := readVocab(loadRealVocab(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeBertTokenizerJSON(t, filepath.Join(dir, "tokenizer.json"), lines, true, templateProcessing(101, 102))
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !tk.DoLowerCase || !tk.StripAccents || !tk.TokenizeChineseChars || !tk.CleanText || tk.MaxInputCharsPerWord != 100 {
		t.Fatalf("options from tokenizer.json: %+v", tk)
	}
	checkGolden(t, tk, doc)

	// A directory with only vocab.txt (no tokenizer_config.json: do_lower_case true).
	dir2 := t.TempDir()
	data, err := os.ReadFile(realVocab)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "vocab.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tk2, err := Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, tk2, doc)
}
