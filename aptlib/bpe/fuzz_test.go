package bpe

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadTestdata(t testing.TB, name string, layout Layout) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join("testdata", name), layout)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// checkEncoding checks an encoding's invariants: ids in range, the specials at the
// ends, the type ids, the length bound.
func checkEncoding(t *testing.T, tk *Tokenizer, what string, e Encoding, maxLen, nSpecial int) {
	t.Helper()
	n := len(e.IDs)
	if n < nSpecial || len(e.TypeIDs) != n || (maxLen >= nSpecial && n > maxLen) || e.Truncated < 0 {
		t.Fatalf("%s: %d ids, %d type ids, max_len %d, truncated %d", what, n, len(e.TypeIDs), maxLen, e.Truncated)
	}
	if int(e.IDs[0]) != tk.CLS() || int(e.IDs[n-1]) != tk.SEP() {
		t.Fatalf("%s: ends %d %d", what, e.IDs[0], e.IDs[n-1])
	}
	for i, id := range e.IDs {
		if id < 0 || int(id) >= tk.VocabSize() || tk.Token(int(id)) == "" {
			t.Fatalf("%s: id %d at %d out of the vocabulary", what, id, i)
		}
		if typ := e.TypeIDs[i]; typ != 0 && (tk.Layout() == RoBERTa || typ != 1) {
			t.Fatalf("%s: type id %d", what, typ)
		}
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "The cat sat.", "a  b\t\nc", "don't <mask> [MASK] <ent>", "中文😀", "\xff\xfe", "<s></s><pad>", "  <mask>  "} {
		f.Add(s, 8)
	}
	rt := loadTestdata(f, "roberta", RoBERTa)
	dt := loadTestdata(f, "deberta", DeBERTa)
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen = maxLen % 64
		for _, tk := range []*Tokenizer{rt, dt} {
			_, pair := tk.layout.specials()
			checkEncoding(t, tk, "Encode", tk.Encode(text, maxLen), maxLen, 2)
			checkEncoding(t, tk, "EncodePair", tk.EncodePair(text, strings.ToUpper(text), maxLen), maxLen, pair)
			words := strings.Fields(text)
			e := tk.EncodeWords(words, maxLen)
			checkEncoding(t, tk, "EncodeWords", e, maxLen, 2)
			if len(e.FirstSub) != len(words) {
				t.Fatalf("FirstSub %d for %d words", len(e.FirstSub), len(words))
			}
			prev := 0
			for i, p := range e.FirstSub {
				if p != -1 && (p <= prev || p >= len(e.IDs)-1) {
					t.Fatalf("FirstSub[%d] = %d (%v)", i, p, e.FirstSub)
				}
				if p > 0 {
					prev = p
				}
			}
			// Byte-level: every piece of text is encoded, so without added tokens
			// the tokens map back to the text's bytes.
			if !strings.ContainsAny(text, "<[") {
				var got strings.Builder
				for _, tok := range tk.Tokenize(text) {
					for _, r := range tok {
						got.WriteByte(runeToByte[r])
					}
				}
				if got.String() != text {
					t.Fatalf("Tokenize(%q) decodes to %q", text, got.String())
				}
			}
		}
	})
}

var runeToByte = func() map[rune]byte {
	m := map[rune]byte{}
	for b, r := range byteToRune {
		m[r] = byte(b)
	}
	return m
}()

// FuzzLoad: any bytes as vocab.json, merges.txt or tokenizer.json give a tokenizer
// or an error, never a panic.
func FuzzLoad(f *testing.F) {
	vocab, _ := os.ReadFile(filepath.Join("testdata", "roberta", "vocab.json"))
	merges, _ := os.ReadFile(filepath.Join("testdata", "roberta", "merges.txt"))
	tj, _ := os.ReadFile(filepath.Join("testdata", "deberta", "tokenizer.json"))
	f.Add(vocab[:200], merges[:100], tj[:300])
	f.Add([]byte(`{"<s>":0,"<pad>":1,"</s>":2}`), []byte("#v\na b\n"), []byte(`{"model":{"type":"BPE","vocab":{"[CLS]":0,"[SEP]":1,"[PAD]":2},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"<s>":0,"<pad>":1,"</s>":2,"a":3,"":4}`), []byte("\n\n"), []byte(`{"model":{"type":"BPE","vocab":{"[CLS]":0,"[SEP]":1,"[PAD]":2}},"pre_tokenizer":{"type":"ByteLevel"},"added_tokens":[{"id":7,"content":"x"}]}`))
	f.Fuzz(func(t *testing.T, v, m, j []byte) {
		dir := t.TempDir()
		vp, mp, jp := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"), filepath.Join(dir, "tokenizer.json")
		os.WriteFile(vp, v, 0o644)
		os.WriteFile(mp, m, 0o644)
		os.WriteFile(jp, j, 0o644)
		for layout, tk := range map[string]func() (*Tokenizer, error){
			"vocab roberta": func() (*Tokenizer, error) { return FromVocabMerges(vp, mp, RoBERTa) },
			"json deberta":  func() (*Tokenizer, error) { return FromTokenizerJSON(jp, DeBERTa) },
		} {
			tok, err := tk()
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("%s: error on several lines: %q", layout, err)
				}
				continue
			}
			for _, s := range []string{"", "ab a", "<s> x [CLS]", "\xff"} {
				tok.EncodePair(s, s, 16)
				tok.EncodeWords(strings.Fields(s), 16)
			}
		}
	})
}

// The tokenizer is safe for concurrent use (the piece cache is shared).
func TestConcurrentEncode(t *testing.T) {
	tk := loadTestdata(t, "roberta", RoBERTa)
	texts := []string{"The cat sat on the mat.", "don't <mask> 😀 中文", "the teacher walked", "  a\tb\nc  "}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tk.Encode(s, 0).IDs
	}
	tk.mu.Lock()
	tk.cache = map[string][]int32{}
	tk.mu.Unlock()
	done := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := tk.Encode(texts[i], 0).IDs; !reflect.DeepEqual(got, want[i]) {
					done <- texts[i]
					return
				}
			}
			done <- ""
		}(g)
	}
	for g := 0; g < 8; g++ {
		if s := <-done; s != "" {
			t.Errorf("concurrent Encode(%q) differs", s)
		}
	}
}
