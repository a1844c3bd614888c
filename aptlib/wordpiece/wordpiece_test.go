package wordpiece

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// smallVocab is a hand-made cased vocabulary (ids: [PAD] 0, [UNK] 1, [CLS] 2,
// [SEP] 3, [MASK] 4).
const smallVocab = "testdata/vocab_cased_small.txt"

func small(t *testing.T, lower bool) *Tokenizer {
	t.Helper()
	tk, err := FromVocabFile(smallVocab, lower)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSmallVocabSpecials(t *testing.T) {
	tk := small(t, false)
	if tk.PAD() != 0 || tk.UNK() != 1 || tk.CLS() != 2 || tk.SEP() != 3 || tk.MASK() != 4 || tk.VocabSize() != 40 {
		t.Fatalf("PAD %d UNK %d CLS %d SEP %d MASK %d size %d", tk.PAD(), tk.UNK(), tk.CLS(), tk.SEP(), tk.MASK(), tk.VocabSize())
	}
	if id, ok := tk.ID("Wörld"); !ok || tk.Token(id) != "Wörld" {
		t.Errorf("ID(Wörld) = %d, %v", id, ok)
	}
	if _, ok := tk.ID("nope"); ok {
		t.Error("ID(nope) found")
	}
	if tk.Token(-1) != "" || tk.Token(40) != "" {
		t.Error("Token out of range should be empty")
	}
}

type tokCase struct {
	text string
	want []string
}

func runTokCases(t *testing.T, tk *Tokenizer, cases []tokCase) {
	t.Helper()
	for _, c := range cases {
		got := tk.Tokenize(c.text)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// TestCased: do_lower_case=false keeps case and accents (strip_accents defaults to
// do_lower_case); python's BasicTokenizer composes to NFC, so decomposed accents and
// singleton code points (Ohm, Angstrom, Kelvin signs) match the composed vocabulary
// entries. (BertTokenizerFast has no NFC step and gives [UNK] for those.)
func TestCased(t *testing.T) {
	tk := small(t, false)
	if tk.DoLowerCase || tk.StripAccents {
		t.Fatal("cased tokenizer lower-cases or strips accents")
	}
	runTokCases(t, tk, []tokCase{
		{"Hello Wörld café Café!", []string{"Hello", "Wörld", "café", "Café", "!"}},
		{"Wo\u0308rld Cafe\u0301", []string{"Wörld", "Café"}},
		{"hello World", []string{"hello", "World"}},
		{"HELLO", []string{"[UNK]"}},
		{"[MASK] [mask] [MASK]s", []string{"[MASK]", "[", "mask", "]", "[MASK]", "[UNK]"}}, // "s" is a word of its own
		{"\u2126 \u212b \u212a", []string{"Ω", "Å", "K"}},
		{"unaffable", []string{"un", "##aff", "##able"}},
		{"中文", []string{"中", "文"}},
	})
	e := tk.Encode("Wo\u0308rld Cafe\u0301", 0)
	want := [][2]int{{0, 0}, {0, 7}, {8, 14}, {0, 0}}
	if !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
	e = tk.Encode("\u2126 \u212b", 0)
	if want := [][2]int{{0, 0}, {0, 3}, {4, 7}, {0, 0}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
}

func TestCasedStripAccents(t *testing.T) {
	tk := small(t, false)
	tk.StripAccents = true
	runTokCases(t, tk, []tokCase{
		{"Wörld Café Wo\u0308rld", []string{"World", "Cafe", "World"}},
	})
}

// TestLowerCaseKeepAccents: do_lower_case with strip_accents=False lower-cases only;
// U+0130 lower-cases to "i" + U+0307 (python str.lower).
func TestLowerCaseKeepAccents(t *testing.T) {
	tk := small(t, true)
	tk.StripAccents = false
	runTokCases(t, tk, []tokCase{
		{"WÖRLD CAFÉ Cafe\u0301", []string{"wörld", "café", "café"}},
		{"İ", []string{"i", "##\u0307"}},
	})
	e := tk.Encode("xİ", 0)
	_ = e
	e = tk.Encode("İ", 0)
	if want := [][2]int{{0, 0}, {0, 2}, {0, 2}, {0, 0}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
	tk.StripAccents = true
	runTokCases(t, tk, []tokCase{{"WÖRLD İ", []string{"world", "i"}}})
}

// TestGreedyLongestMatch: WordpieceTokenizer takes the longest prefix and never
// backtracks; a position with no match makes the whole word [UNK].
func TestGreedyLongestMatch(t *testing.T) {
	tk := small(t, true)
	runTokCases(t, tk, []tokCase{
		{"abb", []string{"ab", "##b"}},
		{"abd", []string{"[UNK]"}}, // "a" + "##bd" would match, but "ab" is taken first
		{"xy ab", []string{"x", "##y", "ab"}},
		{"xyz ab", []string{"[UNK]", "ab"}},
	})
	tk.MaxInputCharsPerWord = 2
	runTokCases(t, tk, []tokCase{{"ab abb", []string{"ab", "[UNK]"}}})
	e := tk.Encode("ab abb", 0)
	if want := [][2]int{{0, 0}, {0, 2}, {3, 6}, {0, 0}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
}

func TestChineseCharsOption(t *testing.T) {
	tk := small(t, false)
	tk.TokenizeChineseChars = false
	runTokCases(t, tk, []tokCase{{"中文", []string{"中", "##文"}}})
}

func TestCleanTextOff(t *testing.T) {
	tk := small(t, false)
	tk.CleanText = false
	// Without cleaning a control character stays in its word.
	runTokCases(t, tk, []tokCase{{"a\x01b ab", []string{"[UNK]", "ab"}}})
	tk.CleanText = true
	runTokCases(t, tk, []tokCase{{"a\x01b ab", []string{"ab", "ab"}}})
}

// TestTruncatePair checks the closed form against the loop of older transformers
// versions: drop from a while it is longer than b, else from b.
func TestTruncatePair(t *testing.T) {
	for la := 0; la <= 20; la++ {
		for lb := 0; lb <= 20; lb++ {
			for n := -2; n <= 42; n++ {
				a, b := la, lb
				for a+b > max(n, 0) {
					if a > b {
						a--
					} else {
						b--
					}
				}
				na, nb := TruncatePair(la, lb, n)
				if na != a || nb != b {
					t.Fatalf("TruncatePair(%d, %d, %d) = %d, %d; want %d, %d", la, lb, n, na, nb, a, b)
				}
			}
		}
	}
}

func TestEncodeTruncationEdges(t *testing.T) {
	tk := small(t, true)
	e := tk.Encode("ab ab ab", 1)
	if !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "[SEP]"}) || e.Truncated != 3 {
		t.Errorf("maxLen 1: %q truncated %d", e.Tokens, e.Truncated)
	}
	e = tk.EncodePair("ab ab", "x x x", 4)
	if !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "ab", "[SEP]", "[SEP]"}) || e.Truncated != 4 {
		t.Errorf("pair maxLen 4: %q truncated %d", e.Tokens, e.Truncated)
	}
	if !reflect.DeepEqual(e.TypeIDs, []int32{0, 0, 0, 1}) || !reflect.DeepEqual(e.SequenceIDs, []int{-1, 0, -1, -1}) {
		t.Errorf("pair maxLen 4: types %v seqs %v", e.TypeIDs, e.SequenceIDs)
	}
	e = tk.EncodePair("ab", "x", 0)
	if len(e.IDs) != 5 || e.Truncated != 0 {
		t.Errorf("no truncation: %q", e.Tokens)
	}
}

func TestFirstSubwordIndex(t *testing.T) {
	tk := small(t, true)
	words := []string{"Hello", "", "unaffable", "\u200b", "world", "ab"}
	e := tk.EncodeWords(words, 0)
	wantTok := []string{"[CLS]", "hello", "un", "##aff", "##able", "world", "ab", "[SEP]"}
	if !reflect.DeepEqual(e.Tokens, wantTok) {
		t.Fatalf("tokens %q", e.Tokens)
	}
	if want := []int{-1, 0, 2, 2, 2, 4, 5, -1}; !reflect.DeepEqual(e.WordIDs, want) {
		t.Errorf("word ids %v, want %v", e.WordIDs, want)
	}
	if want := []int{1, -1, 2, -1, 5, 6}; !reflect.DeepEqual(e.FirstSubwordIndex(), want) {
		t.Errorf("FirstSubwordIndex %v, want %v", e.FirstSubwordIndex(), want)
	}
	e = tk.EncodeWords(words, 5) // keeps hello un ##aff
	if want := []int{1, -1, 2, -1, -1, -1}; !reflect.DeepEqual(e.FirstSubwordIndex(), want) || e.Truncated != 3 {
		t.Errorf("truncated: FirstSubwordIndex %v, want %v (truncated %d)", e.FirstSubwordIndex(), want, e.Truncated)
	}
	// Text input: words are the basic-tokenizer words.
	e = tk.Encode("hello, world", 0)
	if want := []int{1, 2, 3}; !reflect.DeepEqual(e.FirstSubwordIndex(), want) || e.NumWords != 3 {
		t.Errorf("text: FirstSubwordIndex %v (NumWords %d), want %v", e.FirstSubwordIndex(), e.NumWords, want)
	}
	// Pair: only the first sequence's words.
	e = tk.EncodePair("hello", "world ab", 0)
	if want := []int{1}; !reflect.DeepEqual(e.FirstSubwordIndex(), want) {
		t.Errorf("pair: FirstSubwordIndex %v, want %v", e.FirstSubwordIndex(), want)
	}
}

// TestOffsetsInvariants: on the golden texts and on benchmark sentences, offsets
// lie on rune boundaries, increase, and an ASCII piece's original text lower-cased
// is the piece.
func TestOffsetsInvariants(t *testing.T) {
	tk, err := FromVocabFile(loadRealVocab(t), true)
	if err != nil {
		t.Fatal(err)
	}
	texts := benchSentences(t, 500, false)
	doc := readGolden(t)
	for _, c := range doc.Cases {
		texts = append(texts, c.Text, c.TextPair)
	}
	for _, text := range texts {
		e := tk.Encode(text, 0)
		prev := 0
		for i, off := range e.Offsets {
			if e.SequenceIDs[i] < 0 {
				continue
			}
			s, en := off[0], off[1]
			if s < prev || s >= en || en > len(text) || !utf8.RuneStart(text[s]) || (en < len(text) && !utf8.RuneStart(text[en])) {
				t.Fatalf("%q: token %d %q has offsets %v (previous start %d)", text, i, e.Tokens[i], off, prev)
			}
			prev = s
			orig := text[s:en]
			piece := strings.TrimPrefix(e.Tokens[i], "##")
			if e.IDs[i] != int32(tk.UNK()) && isPrintableASCII(orig) && strings.ToLower(orig) != piece && orig != piece {
				t.Errorf("%q: token %q covers %q", text, e.Tokens[i], orig)
			}
		}
	}
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// TestDecompositions checks appendNFD (norm's per-rune decompositions plus the
// Hangul algorithm) against norm.NFD for every code point of the planes that have
// decompositions (0-3; none above U+2FA1D).
func TestDecompositions(t *testing.T) {
	var buf []rune
	for r := rune(0); r <= 0x3FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		buf = appendNFD(buf[:0], r)
		if got, want := string(buf), norm.NFD.String(string(r)); got != want {
			t.Fatalf("NFD(%U) = %+q, want %+q", r, got, want)
		}
		if c := classOf(r); (c&cDecomp != 0) != (len(buf) != 1 || buf[0] != r) {
			t.Fatalf("%U: decomposition flag %v, decomposition %+q", r, c&cDecomp != 0, string(buf))
		}
	}
}

func TestPredicates(t *testing.T) {
	for _, c := range []struct {
		r                           rune
		punct, space, drop, chinese bool
	}{
		{'a', false, false, false, false},
		{'$', true, false, false, false}, // ASCII symbol counted as punctuation
		{'^', true, false, false, false},
		{'`', true, false, false, false},
		{'¿', true, false, false, false},
		{'¥', false, false, false, false}, // Sc, not ASCII
		{'§', true, false, false, false},
		{'\t', false, true, false, false},
		{'\u00a0', false, true, false, false},
		{'\u3000', false, true, false, false},
		{'\u2028', false, true, false, false},
		{'\u0085', false, true, true, false}, // Cc: dropped by cleaning first
		{'\x0b', false, true, true, false},
		{'\u200b', false, false, true, false},
		{'\u00ad', false, false, true, false},
		{'\ue000', false, false, true, false},
		{'\u0378', false, false, true, false}, // unassigned
		{0, false, false, true, false},
		{0xfffd, false, false, true, false},
		{'中', false, false, false, true},
		{'\uf900', false, false, false, true},
		{0x20000, false, false, false, true},
		{0x2f800, false, false, false, true},
		{'あ', false, false, false, false},
		{'한', false, false, false, false},
		{'。', true, false, false, false},
	} {
		k := classOf(c.r)
		if (k&cPunct != 0) != c.punct || (k&cSpace != 0) != c.space || (k&cDrop != 0) != c.drop || (k&cChinese != 0) != c.chinese {
			t.Errorf("%U: class %08b, want punct %v space %v drop %v chinese %v", c.r, k, c.punct, c.space, c.drop, c.chinese)
		}
	}
	for r := rune(0); r < 0x10000; r += 7 {
		if classOf(r) != classify(r) {
			t.Fatalf("%U: table %08b, classify %08b", r, classOf(r), classify(r))
		}
	}
}

func TestVocabFileQuirks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vocab.txt")
	// CRLF endings (python reads in text mode), a duplicate (last id wins in the
	// token->id map), no final newline.
	if err := os.WriteFile(path, []byte("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nab\r\nab\r\n##c"), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := FromVocabFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if tk.VocabSize() != 7 || tk.MASK() != -1 {
		t.Fatalf("size %d mask %d", tk.VocabSize(), tk.MASK())
	}
	if id, _ := tk.ID("ab"); id != 5 {
		t.Errorf("ID(ab) = %d, want 5", id)
	}
	e := tk.Encode("abc", 0)
	if !reflect.DeepEqual(e.IDs, []int32{2, 5, 6, 3}) {
		t.Errorf("ids %v", e.IDs)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func smallLines(t *testing.T) []string {
	lines, err := readVocab(smallVocab)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestLoadTokenizerConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "vocab.txt"), strings.Join(smallLines(t), "\n")+"\n")
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !tk.DoLowerCase || !tk.StripAccents {
		t.Error("vocab.txt alone should default to do_lower_case")
	}
	writeFile(t, filepath.Join(dir, "tokenizer_config.json"),
		`{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false, "mask_token": {"content": "[MASK]", "lstrip": true}, "unk_token": "[UNK]", "model_max_length": 512}`)
	tk, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tk.DoLowerCase || !tk.StripAccents || tk.TokenizeChineseChars || tk.MASK() != 4 {
		t.Errorf("config not applied: lower %v strip %v chinese %v mask %d", tk.DoLowerCase, tk.StripAccents, tk.TokenizeChineseChars, tk.MASK())
	}
	runTokCases(t, tk, []tokCase{{"Wörld 中文", []string{"World", "中", "##文"}}})

	// tokenizer.json wins over vocab.txt; tokenizer_config.json still overrides
	// what it states.
	writeBertTokenizerJSON(t, filepath.Join(dir, "tokenizer.json"), smallLines(t), true, templateProcessing(2, 3))
	writeFile(t, filepath.Join(dir, "tokenizer_config.json"), `{"do_lower_case": false}`)
	tk, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tk.DoLowerCase || tk.StripAccents {
		t.Errorf("tokenizer_config.json do_lower_case=false not applied over tokenizer.json: lower %v strip %v", tk.DoLowerCase, tk.StripAccents)
	}
}

func TestFromTokenizerJSONSmall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	lines := smallLines(t)
	writeBertTokenizerJSON(t, path, lines, false, map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", 3}, "cls": []any{"[CLS]", 2}})
	// Add a token outside the model vocabulary, as tokenizer.add_tokens does.
	var doc map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["added_tokens"] = append(doc["added_tokens"].([]any), map[string]any{"id": 40, "content": "<new>", "special": false, "normalized": false})
	data, _ = json.Marshal(doc)
	writeFile(t, path, string(data))

	tk, err := FromTokenizerJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if tk.DoLowerCase || tk.StripAccents || tk.CLS() != 2 || tk.SEP() != 3 || tk.VocabSize() != 41 {
		t.Fatalf("lower %v strip %v cls %d sep %d size %d", tk.DoLowerCase, tk.StripAccents, tk.CLS(), tk.SEP(), tk.VocabSize())
	}
	e := tk.EncodePair("Hello<new>Wörld", "ab", 0)
	if want := []string{"[CLS]", "Hello", "<new>", "Wörld", "[SEP]", "ab", "[SEP]"}; !reflect.DeepEqual(e.Tokens, want) {
		t.Errorf("tokens %q, want %q", e.Tokens, want)
	}
	if want := []int32{2, 5, 40, 7, 3, 17, 3}; !reflect.DeepEqual(e.IDs, want) {
		t.Errorf("ids %v, want %v", e.IDs, want)
	}
	if want := [][2]int{{0, 0}, {0, 5}, {5, 10}, {10, 16}, {0, 0}, {0, 2}, {0, 0}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
	if want := []int{-1, 0, 1, 2, -1, 0, -1}; !reflect.DeepEqual(e.WordIDs, want) {
		t.Errorf("word ids %v, want %v", e.WordIDs, want)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "vocab.txt") {
		t.Errorf("Load of an empty directory: %v", err)
	}
	if _, err := FromVocabFile(filepath.Join(dir, "vocab.txt"), true); err == nil || !strings.Contains(err.Error(), "vocab.txt") {
		t.Errorf("FromVocabFile of a missing file: %v", err)
	}

	noUnk := filepath.Join(dir, "nounk.txt")
	writeFile(t, noUnk, "[PAD]\n[CLS]\n[SEP]\nab\n")
	if _, err := FromVocabFile(noUnk, true); err == nil || !strings.Contains(err.Error(), "[UNK]") {
		t.Errorf("vocab without [UNK]: %v", err)
	}
	writeFile(t, filepath.Join(dir, "empty.txt"), "")
	if _, err := FromVocabFile(filepath.Join(dir, "empty.txt"), true); err == nil {
		t.Error("empty vocab accepted")
	}

	good := filepath.Join(dir, "good.json")
	writeBertTokenizerJSON(t, good, smallLines(t), true, templateProcessing(2, 3))
	data, _ := os.ReadFile(good)
	for _, c := range []struct{ field, value, want string }{
		{"model", `{"type": "BPE", "vocab": {"a": 0}, "merges": []}`, "model.type"},
		{"normalizer", `{"type": "Sequence", "normalizers": []}`, "normalizer.type"},
		{"pre_tokenizer", `{"type": "Whitespace"}`, "pre_tokenizer.type"},
		{"pre_tokenizer", `null`, "pre_tokenizer.type"},
		{"post_processor", `{"type": "RobertaProcessing"}`, "post_processor.type"},
		{"normalizer", `{"type": "BertNormalizer", "lowercase": "yes"}`, "normalizer.lowercase"},
	} {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		doc[c.field] = json.RawMessage(c.value)
		out, _ := json.Marshal(doc)
		p := filepath.Join(dir, "bad.json")
		writeFile(t, p, string(out))
		if _, err := FromTokenizerJSON(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %s: error %v, want one naming %s", c.field, c.value, err, c.want)
		}
	}
	writeFile(t, filepath.Join(dir, "broken.json"), "{")
	if _, err := FromTokenizerJSON(filepath.Join(dir, "broken.json")); err == nil {
		t.Error("broken JSON accepted")
	}

	// tokenizer.json whose vocabulary lacks the unk token.
	var doc map[string]any
	_ = json.Unmarshal(data, &doc)
	doc["model"].(map[string]any)["unk_token"] = "<unk>"
	out, _ := json.Marshal(doc)
	writeFile(t, filepath.Join(dir, "unk.json"), string(out))
	if _, err := FromTokenizerJSON(filepath.Join(dir, "unk.json")); err == nil || !strings.Contains(err.Error(), "<unk>") {
		t.Errorf("tokenizer.json without its unk token: %v", err)
	}

	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
	writeFile(t, filepath.Join(bad, "tokenizer_config.json"), "{")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("broken tokenizer_config.json: %v", err)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tk := small(t, true)
	texts := []string{"Hello, world!", "Café 中文 wörld", "한국어 ab", "unaffable [SEP] x", "İ Ω"}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tk.Encode(s, 0).IDs
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := tk.Encode(texts[i], 0).IDs; !reflect.DeepEqual(got, want[i]) {
					t.Errorf("concurrent Encode(%q) = %v, want %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// benchSentences returns up to n texts from the shared benchmark data (RTE and
// BoolQ). When the data is absent it skips the test if skip is set, else returns
// nothing.
func benchSentences(t testing.TB, n int, skip bool) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"../../../shared/data/RTE/train.jsonl", "../../../shared/data/BoolQ/val.jsonl"} {
		data, err := os.ReadFile(f)
		if err != nil {
			if skip {
				t.Skipf("benchmark data not available (%v); it lives in the shared workbench data", err)
			}
			return nil
		}
		for _, line := range strings.Split(string(data), "\n") {
			var ex map[string]any
			if json.Unmarshal([]byte(line), &ex) != nil {
				continue
			}
			for _, k := range []string{"premise", "hypothesis", "question", "passage"} {
				if s, ok := ex[k].(string); ok {
					out = append(out, s)
				}
			}
			if len(out) >= n {
				return out[:n]
			}
		}
	}
	return out
}

// BenchmarkEncode tokenizes a few thousand RTE and BoolQ texts per iteration with
// the bert-base-uncased vocabulary and reports word pieces per second.
func BenchmarkEncode(b *testing.B) {
	tk, err := FromVocabFile(loadRealVocab(b), true)
	if err != nil {
		b.Fatal(err)
	}
	texts := benchSentences(b, 4000, true)
	bytes, tokens := 0, 0
	for _, s := range texts {
		bytes += len(s)
		tokens += len(tk.Encode(s, 0).IDs) - 2
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range texts {
			tk.Encode(s, 0)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(len(texts)), "texts/op")
}

// FuzzEncode checks invariants on arbitrary input (including invalid UTF-8): no
// panic, ids in range, offsets on rune boundaries inside the text, the special
// tokens in place, and EncodeWords of one word equal to Encode of it.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "Café 中文 한국어", "a\xffb\xe4\xb8", "[SEP]x[MASK", "İ\u0301\u302c\u302f", strings.Repeat("ab", 80)} {
		f.Add(s, 8)
	}
	tk, err := FromVocabFile(smallVocab, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen %= 64
		// Rune boundaries as Go decodes the text (an invalid byte is a rune).
		boundary := map[int]bool{len(text): true}
		for i := range text {
			boundary[i] = true
		}
		for _, e := range []Encoding{tk.Encode(text, maxLen), tk.EncodePair(text, text, maxLen), tk.EncodeWords([]string{text}, maxLen)} {
			n := len(e.IDs)
			if len(e.TypeIDs) != n || len(e.Tokens) != n || len(e.WordIDs) != n || len(e.SequenceIDs) != n || len(e.Offsets) != n {
				t.Fatalf("lengths differ: %+v", e)
			}
			if n < 2 || e.IDs[0] != int32(tk.CLS()) || e.IDs[n-1] != int32(tk.SEP()) || e.Truncated < 0 {
				t.Fatalf("bad frame: %+v", e)
			}
			if maxLen >= 3 && n > maxLen {
				t.Fatalf("%d tokens for maxLen %d", n, maxLen)
			}
			for i, off := range e.Offsets {
				if e.IDs[i] < 0 || int(e.IDs[i]) >= tk.VocabSize() || tk.Token(int(e.IDs[i])) != e.Tokens[i] {
					t.Fatalf("token %d: id %d %q", i, e.IDs[i], e.Tokens[i])
				}
				if e.SequenceIDs[i] < 0 {
					continue
				}
				s, en := off[0], off[1]
				if s < 0 || s >= en || en > len(text) || !boundary[s] || !boundary[en] {
					t.Fatalf("token %d %q: offsets %v in %q", i, e.Tokens[i], off, text)
				}
			}
		}
		a, b := tk.Encode(text, maxLen), tk.EncodeWords([]string{text}, maxLen)
		for i := range b.WordIDs {
			if b.WordIDs[i] > 0 {
				t.Fatalf("word id %d for a single word", b.WordIDs[i])
			}
		}
		if !reflect.DeepEqual(a.IDs, b.IDs) || !reflect.DeepEqual(a.Offsets, b.Offsets) {
			t.Fatalf("Encode %v %v, EncodeWords %v %v", a.IDs, a.Offsets, b.IDs, b.Offsets)
		}
	})
}

func TestNullNormalizer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	writeBertTokenizerJSON(t, path, smallLines(t), true, nil)
	data, _ := os.ReadFile(path)
	var doc map[string]any
	_ = json.Unmarshal(data, &doc)
	doc["normalizer"] = nil
	data, _ = json.Marshal(doc)
	writeFile(t, path, string(data))
	tk, err := FromTokenizerJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if tk.DoLowerCase || tk.StripAccents || tk.CleanText || tk.TokenizeChineseChars {
		t.Errorf("null normalizer: lower %v strip %v clean %v chinese %v", tk.DoLowerCase, tk.StripAccents, tk.CleanText, tk.TokenizeChineseChars)
	}
	if tk.CLS() != 2 || tk.SEP() != 3 {
		t.Errorf("null post_processor: CLS %d SEP %d", tk.CLS(), tk.SEP())
	}
}

// An empty (or blank) text encodes as [CLS] [SEP], as HuggingFace does.
func TestEncodeEmptyText(t *testing.T) {
	tk := small(t, false)
	for _, text := range []string{"", "   ", "\t\n"} {
		ids, types, tr := tk.EncodePairIDs(text, "", 16)
		if !slices.Equal(ids, []int32{2, 3}) || !slices.Equal(types, []int32{0, 0}) || tr != 0 {
			t.Errorf("%q: ids %v types %v truncated %d, want [2 3] [0 0] 0", text, ids, types, tr)
		}
	}
}
