package unigram

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func loadTestTokenizers(f *testing.F) []*Tokenizer {
	var out []*Tokenizer
	for _, p := range []string{"testdata/deberta/tokenizer.json", "testdata/variant/tokenizer.json", "testdata/real/tokenizer.json"} {
		tk, err := FromTokenizerJSON(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, tk)
	}
	tk, err := FromSPMModel("testdata/deberta/spm.model", Options{SplitByPunct: true, DoLowerCase: true})
	if err != nil {
		f.Fatal(err)
	}
	return append(out, tk)
}

// Any text encodes without a panic into ids of the vocabulary, [CLS] first and
// [SEP] last, within maxLen, with one type id per id; pre-split words give one
// first-sub-word position per word, pointing at a token of that word.
func FuzzEncode(f *testing.F) {
	tks := loadTestTokenizers(f)
	for _, s := range []string{"", " ", "hello world", "HELLO ☃☃ [MASK]x", "ｘ\u0301 cafe\u0301", "中文字 😀👍🏽", "\xff\xfe bad utf8", "[CLS][SEP] [PAD]", "\t\n\r\u200b\u00ad"} {
		f.Add(s, "pair "+s, 7)
	}
	f.Fuzz(func(t *testing.T, a, b string, maxLen int) {
		maxLen %= 64
		for _, tk := range tks {
			for _, e := range []Encoding{tk.Encode(a, maxLen), tk.EncodePair(a, b, maxLen)} {
				n := len(e.IDs)
				if n < 2 || e.IDs[0] != int32(tk.CLSID()) || e.IDs[n-1] != int32(tk.SEPID()) || len(e.TypeIDs) != n || len(e.WordIDs) != n {
					t.Fatalf("%q %q: malformed encoding %+v", a, b, e)
				}
				if maxLen > 0 && n > max(maxLen, 3) {
					t.Fatalf("%q %q maxLen %d: %d tokens", a, b, maxLen, n)
				}
				for _, id := range e.IDs {
					if id < 0 || int(id) >= tk.VocabSize() {
						t.Fatalf("%q: id %d outside the vocabulary", a, id)
					}
				}
			}
			words := strings.Fields(a + " " + b)
			e := tk.EncodeWords(words, maxLen)
			first := e.FirstSubwordIndex()
			if len(first) != len(words) {
				t.Fatalf("%q: %d first sub-words for %d words", words, len(first), len(words))
			}
			for w, i := range first {
				if i >= 0 && (i >= len(e.WordIDs) || e.WordIDs[i] != w) {
					t.Fatalf("%q: word %d first sub-word %d is not its token", words, w, i)
				}
			}
			_ = tk.Tokenize(a)
		}
	})
}

// Arbitrary model bytes give an error or a tokenizer that encodes, never a panic.
func FuzzSPMModel(f *testing.F) {
	good := spmModel(testPieces(true), buildCharsmap(testCharsmapRules), true)
	f.Add(good, "hello ☃ world")
	f.Add(good[:len(good)/3], "x")
	f.Add([]byte{0x0a, 0x03, 0x0a, 0x01, 'a'}, "aaa")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		tk, err := fromSPMBytes("fuzz.model", b, Options{})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %v", err)
			}
			return
		}
		tk.Encode(text, 16)
		tk.EncodeWords([]string{text, ""}, 0)
	})
}

// Arbitrary charsmap bytes (a corrupt trie) never make normalisation panic.
func FuzzCharsmap(f *testing.F) {
	good := buildCharsmap(testCharsmapRules)
	f.Add(good, "ｘ\u0301 \t ﬁ")
	f.Add(good[:20], "abc")
	f.Add([]byte{8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x61, 0x01, 0, 0, 'x', 0}, "aaaa")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		c, err := parseCharsmap(b)
		if err != nil {
			return
		}
		_, _ = c.normalize(text)
	})
}

// One tokenizer serves many goroutines at once with the same results.
func TestConcurrentEncode(t *testing.T) {
	tk, err := FromTokenizerJSON("testdata/real/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	text := "Barack Obama visited Zürich in 2023, ｈｅｌｌｏ ½ ㎏ 東京 😀 [MASK] end."
	want := tk.Encode(text, 0).IDs
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got := tk.Encode(text, 0).IDs; !slices.Equal(got, want) {
					errs <- fmt.Sprint(got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Encode gave %s, want %v", e, want)
	}
}
