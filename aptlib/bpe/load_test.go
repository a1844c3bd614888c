package bpe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
)

var _ backbone.Tokenizer = (*Tokenizer)(nil)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyVocab is a hand-made RoBERTa vocabulary: the specials, a few byte characters
// and the merge results.
func tinyVocab(extra ...string) string {
	toks := append([]string{"<s>", "<pad>", "</s>", "<unk>", "a", "b", "c", "Ġ", "ab", "abc", "Ġa"}, extra...)
	m := map[string]int{}
	for i, tok := range toks {
		m[tok] = i
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func tiny(t *testing.T, merges string) *Tokenizer {
	t.Helper()
	dir := t.TempDir()
	tk, err := FromVocabMerges(writeFile(t, dir, "vocab.json", tinyVocab()), writeFile(t, dir, "merges.txt", merges), RoBERTa)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// merges.txt is read as GPT2Tokenizer reads it: line 1 dropped whatever it holds,
// the last element after splitting on "\n" dropped (so a file without a final
// newline loses its last merge), CRLF as LF, blank lines ignored.
func TestMergesTxtAsPython(t *testing.T) {
	for _, c := range []struct {
		name, merges string
		want         []string
	}{
		{"standard", "#version: 0.2\na b\nab c\n", []string{"abc"}},
		{"no final newline drops the last merge", "#version: 0.2\na b\nab c", []string{"ab", "c"}},
		{"first line dropped even without #version", "a b\nab c\n", []string{"a", "b", "c"}},
		{"crlf", "#version: 0.2\r\na b\r\nab c\r\n", []string{"abc"}},
		{"blank line", "#version: 0.2\na b\n\nab c\n", []string{"abc"}},
		{"empty file", "", []string{"a", "b", "c"}},
		{"header only", "#version: 0.2\n", []string{"a", "b", "c"}},
	} {
		tk := tiny(t, c.merges)
		if got := tk.Tokenize("abc"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Tokenize(abc) = %q, want %q", c.name, got, c.want)
		}
	}
}

// BPE merges the lowest-ranked pair everywhere before any other (python's bpe); a
// merge listed twice keeps its last rank.
func TestBPEMergeOrder(t *testing.T) {
	dir := t.TempDir()
	vocab := writeFile(t, dir, "vocab.json", tinyVocab("ba", "aba", "bab"))
	// (ab, a) ranks before (a, b): python still merges a b first, every
	// occurrence, then ab a: "abab" -> ab ab (the crate's queue would give aba b).
	merges := writeFile(t, dir, "merges.txt", "#v\nab a\na b\n")
	tk, err := FromVocabMerges(vocab, merges, RoBERTa)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.Tokenize("abab"); !reflect.DeepEqual(got, []string{"ab", "ab"}) {
		t.Errorf("abab -> %q, want [ab ab]", got)
	}
	if got := tk.Tokenize("aab"); !reflect.DeepEqual(got, []string{"a", "ab"}) {
		t.Errorf("aab -> %q", got)
	}
	// "b a" ranked 0 and again 2 (last wins): "a b" (1) now comes first.
	tk2, err := FromVocabMerges(vocab, writeFile(t, dir, "m2.txt", "#v\nb a\na b\nb a\n"), RoBERTa)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk2.Tokenize("aba"); !reflect.DeepEqual(got, []string{"ab", "a"}) {
		t.Errorf("aba -> %q, want [ab a]", got)
	}
	// A piece whose result is not in the vocabulary becomes <unk>.
	if got := tk.Tokenize("d"); !reflect.DeepEqual(got, []string{"<unk>"}) {
		t.Errorf("d -> %q, want [<unk>]", got)
	}
}

func TestLayoutsAndDefaults(t *testing.T) {
	tk := tiny(t, "#v\na b\n")
	if tk.CLS() != 0 || tk.SEP() != 2 || tk.PadID() != 1 || tk.UNK() != 3 || tk.MASK() != -1 || tk.AddPrefixSpace {
		t.Errorf("specials %d %d %d %d %d prefix %v", tk.CLS(), tk.SEP(), tk.PadID(), tk.UNK(), tk.MASK(), tk.AddPrefixSpace)
	}
	e := tk.EncodePair("ab", "c", 0)
	if !reflect.DeepEqual(e.IDs, []int32{0, 8, 2, 2, 6, 2}) || !reflect.DeepEqual(e.TypeIDs, []int32{0, 0, 0, 0, 0, 0}) {
		t.Errorf("pair %v %v", e.IDs, e.TypeIDs)
	}
	if _, err := newSpec(Layout(0)); err == nil || !strings.Contains(err.Error(), "unknown layout") {
		t.Errorf("layout 0: %v", err)
	}
	if RoBERTa.String() != "roberta" || DeBERTa.String() != "deberta" {
		t.Errorf("names %s %s", RoBERTa, DeBERTa)
	}
	// DeBERTa v1's specials missing from a RoBERTa vocabulary: a clear error.
	dir := t.TempDir()
	_, err := FromVocabMerges(writeFile(t, dir, "vocab.json", tinyVocab()), writeFile(t, dir, "merges.txt", ""), DeBERTa)
	if err == nil || !strings.Contains(err.Error(), `cls_token "[CLS]" is not in the vocabulary`) || !strings.Contains(err.Error(), "vocab.json") {
		t.Errorf("deberta specials: %v", err)
	}
}

// Bad files give one-line errors naming the file (and the line), never a panic.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	goodVocab := writeFile(t, dir, "good-vocab.json", tinyVocab())
	goodMerges := writeFile(t, dir, "good-merges.txt", "#v\na b\n")
	for _, c := range []struct {
		name, vocab, merges string
		want                []string
	}{
		{"vocab syntax", "{\n\"a\": 1,\n\"b\" 2\n}", "", []string{"vocab.json:3:", "invalid character"}},
		{"vocab type", "{\n\"a\": 1,\n\"b\": \"x\"\n}", "", []string{"vocab.json:3:", "cannot unmarshal"}},
		{"vocab list", "[1, 2]", "", []string{"vocab.json:1:"}},
		{"vocab empty", "{}", "", []string{"vocab.json: empty vocabulary"}},
		{"vocab negative", `{"<s>": 0, "x": -4}`, "", []string{"vocab.json", `"x" has the negative id -4`}},
		{"vocab duplicate id", `{"<s>": 0, "x": 1, "y": 1}`, "", []string{"vocab.json", `"x" and "y" have the same id 1`}},
		{"vocab huge id", `{"<s>": 0, "<pad>": 1, "</s>": 2, "x": 99999999}`, "", []string{"vocab.json", "ids up to 99999999"}},
		{"merges three fields", "", "#v\na b\na b c\n", []string{"merges.txt:3:", `"a b c"`}},
		{"merges one field", "", "#v\nab\n", []string{"merges.txt:2:"}},
	} {
		d := t.TempDir()
		vocab, merges := goodVocab, goodMerges
		if c.vocab != "" {
			vocab = writeFile(t, d, "vocab.json", c.vocab)
		}
		if c.merges != "" {
			merges = writeFile(t, d, "merges.txt", c.merges)
		}
		_, err := FromVocabMerges(vocab, merges, RoBERTa)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q, want it to contain %q", c.name, err, w)
			}
		}
	}
}

func TestBadTokenizerJSON(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		data, err := os.ReadFile(filepath.Join("testdata", "roberta", "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	model := func(m map[string]any) map[string]any { return m["model"].(map[string]any) }
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"wordpiece", func(m map[string]any) { model(m)["type"] = "WordPiece" }, `model.type is "WordPiece", want "BPE"`},
		{"dropout", func(m map[string]any) { model(m)["dropout"] = 0.1 }, "model.dropout"},
		{"suffix", func(m map[string]any) { model(m)["end_of_word_suffix"] = "</w>" }, "model.end_of_word_suffix"},
		{"prefix", func(m map[string]any) { model(m)["continuing_subword_prefix"] = "##" }, "model.continuing_subword_prefix"},
		{"byte fallback", func(m map[string]any) { model(m)["byte_fallback"] = true }, "model.byte_fallback"},
		{"empty vocab", func(m map[string]any) { model(m)["vocab"] = map[string]any{} }, "model.vocab is empty"},
		{"normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "NFC"} }, "normalizer is"},
		{"pre-tokenizer", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }, `pre_tokenizer.type is "Whitespace"`},
		{"bad merge string", func(m map[string]any) { model(m)["merges"] = []any{"a"} }, `model.merges[0] is "a"`},
		{"bad merge pair", func(m map[string]any) { model(m)["merges"] = []any{[]any{"a", "b", "c"}} }, "model.merges[0] has 3 tokens"},
		{"merge out of vocab", func(m map[string]any) { model(m)["merges"] = []any{[]any{"a", "zzz"}} }, `"zzz" is not in model.vocab`},
		{"merges number", func(m map[string]any) { model(m)["merges"] = 7 }, "model.merges is neither"},
		{"added token without id", func(m map[string]any) { m["added_tokens"] = []any{map[string]any{"content": "x"}} }, "added_tokens[0] needs"},
		{"post-processor", func(m map[string]any) { m["post_processor"] = map[string]any{"type": "BertProcessing"} }, `post_processor.type is "BertProcessing"`},
		{"roberta processing", func(m map[string]any) {
			m["post_processor"] = map[string]any{"type": "RobertaProcessing", "sep": "x", "cls": []any{"<s>", 0}}
		}, "post_processor.sep"},
		{"template", func(m map[string]any) {
			m["post_processor"] = map[string]any{"type": "TemplateProcessing", "single": []any{}}
		}, "post_processor.single"},
		{"missing sep", func(m map[string]any) {
			m["post_processor"] = map[string]any{"type": "RobertaProcessing", "sep": []any{"</x>", 9}, "cls": []any{"<s>", 0}}
		}, `sep_token "</x>" is not in the vocabulary`},
	} {
		m := base()
		c.edit(m)
		data, _ := json.Marshal(m)
		p := writeFile(t, t.TempDir(), "tokenizer.json", string(data))
		_, err := FromTokenizerJSON(p, RoBERTa)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %s and %q", c.name, err, p, c.want)
		}
	}
	p := writeFile(t, t.TempDir(), "tokenizer.json", "{\n\"model\": {\n\"vocab\": [\n}")
	if _, err := FromTokenizerJSON(p, RoBERTa); err == nil || !strings.Contains(err.Error(), "tokenizer.json:4:") {
		t.Errorf("syntax error: %v", err)
	}
	// Merges as "a b" strings (tokenizers < 0.20) load as the pairs do.
	m := base()
	var strs []any
	for _, mg := range model(m)["merges"].([]any) {
		pair := mg.([]any)
		strs = append(strs, pair[0].(string)+" "+pair[1].(string))
	}
	model(m)["merges"] = strs
	data, _ := json.Marshal(m)
	old, err := FromTokenizerJSON(writeFile(t, t.TempDir(), "tokenizer.json", string(data)), RoBERTa)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := FromTokenizerJSON(filepath.Join("testdata", "roberta", "tokenizer.json"), RoBERTa)
	if err != nil {
		t.Fatal(err)
	}
	text := "the teacher walked to the mountains, don't 😀"
	if a, b := old.Encode(text, 0), cur.Encode(text, 0); !reflect.DeepEqual(a, b) {
		t.Errorf("string merges %v, pair merges %v", a.IDs, b.IDs)
	}
}

func TestBadConfigs(t *testing.T) {
	for _, c := range []struct {
		file, content, want string
	}{
		{"tokenizer_config.json", "{\n\"add_prefix_space\": 3\n}", "tokenizer_config.json:2:"},
		{"tokenizer_config.json", `{"mask_token": 5}`, "mask_token is 5"},
		{"tokenizer_config.json", `{"added_tokens_decoder": {"x": {"content": "a"}}}`, `key "x" is not an id`},
		{"tokenizer_config.json", `{"added_tokens_decoder": {"-1": {"content": "a"}}}`, `key "-1" is not an id`},
		{"tokenizer_config.json", `{"added_tokens_decoder": {"5": {}}}`, "has no content"},
		{"special_tokens_map.json", `{"pad_token": {"content": "<nope>"}}`, `pad_token "<nope>" is not in the vocabulary`},
	} {
		dir := t.TempDir()
		for _, f := range []string{"vocab.json", "merges.txt"} {
			data, _ := os.ReadFile(filepath.Join("testdata", "roberta", f))
			writeFile(t, dir, f, string(data))
		}
		writeFile(t, dir, c.file, c.content)
		_, err := Load(dir, RoBERTa)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want %q", c.file, c.content, err, c.want)
		}
	}
	if _, err := Load(t.TempDir(), RoBERTa); err == nil || !strings.Contains(err.Error(), "neither tokenizer.json nor vocab.json and merges.txt") {
		t.Errorf("empty dir: %v", err)
	}
	f := writeFile(t, t.TempDir(), "x", "")
	if _, err := Load(f, RoBERTa); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("file as dir: %v", err)
	}
}

// Tokenizer files that never end or are far over their cap fail at once, naming
// the file.
func TestFilesBounded(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "vocab.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	merges := writeFile(t, dir, "merges.txt", "#v\n")
	if _, err := FromVocabMerges(zero, merges, RoBERTa); err == nil || !strings.Contains(err.Error(), zero) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("vocab.json -> /dev/zero: %v", err)
	}
	if _, err := Load(dir, RoBERTa); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load with vocab.json -> /dev/zero: %v", err)
	}
	sparse := func(name string, size int64) string {
		p := filepath.Join(t.TempDir(), name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(size)
		f.Close()
		return p
	}
	good := filepath.Join("testdata", "roberta", "vocab.json")
	bigMerges := sparse("merges.txt", MaxMergesBytes+1)
	if _, err := FromVocabMerges(good, bigMerges, RoBERTa); err == nil || !strings.Contains(err.Error(), bigMerges) || !strings.Contains(err.Error(), "larger than 32 MiB") {
		t.Errorf("big merges.txt: %v", err)
	}
	bigJSON := sparse("tokenizer.json", MaxTokenizerJSONBytes+1)
	if _, err := FromTokenizerJSON(bigJSON, RoBERTa); err == nil || !strings.Contains(err.Error(), bigJSON) || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("big tokenizer.json: %v", err)
	}
	cfgDir := t.TempDir()
	for _, f := range []string{"vocab.json", "merges.txt"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "roberta", f))
		writeFile(t, cfgDir, f, string(data))
	}
	if err := os.Symlink("/dev/zero", filepath.Join(cfgDir, "tokenizer_config.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(cfgDir, RoBERTa); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("tokenizer_config.json -> /dev/zero: %v", err)
	}
}
