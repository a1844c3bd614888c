package tasks

import (
	"strings"
)

// fakeTok is a whitespace tokenizer for tests: words are split on spaces, and
// each word into pieces of at most 4 runes ("Amsterdam" -> "Amst", "##erda",
// "##m"), so that first-sub-word labeling can be checked. Ids are assigned in
// order of first appearance; [CLS] = 1, [SEP] = 2.
type fakeTok struct {
	vocab map[string]int32
	rev   []string
}

func newFakeTok() *fakeTok {
	return &fakeTok{vocab: map[string]int32{"[PAD]": 0, "[CLS]": 1, "[SEP]": 2}, rev: []string{"[PAD]", "[CLS]", "[SEP]"}}
}

func (f *fakeTok) id(tok string) int32 {
	if id, ok := f.vocab[tok]; ok {
		return id
	}
	id := int32(len(f.rev))
	f.vocab[tok] = id
	f.rev = append(f.rev, tok)
	return id
}

func (f *fakeTok) pieces(word string) []string {
	r := []rune(word)
	var out []string
	for i := 0; i < len(r); i += 4 {
		j := min(i+4, len(r))
		p := string(r[i:j])
		if i > 0 {
			p = "##" + p
		}
		out = append(out, p)
	}
	return out
}

func (f *fakeTok) tokens(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		out = append(out, f.pieces(w)...)
	}
	return out
}

func (f *fakeTok) ids(toks []string) []int32 {
	out := make([]int32, len(toks))
	for i, t := range toks {
		out[i] = f.id(t)
	}
	return out
}

// decode turns ids back into space-joined tokens.
func (f *fakeTok) decode(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = f.rev[id]
	}
	return strings.Join(s, " ")
}

func (f *fakeTok) EncodePairIDs(a, b string, maxLen int) ([]int32, []int32, int) {
	ta, tb := f.tokens(a), f.tokens(b)
	special := 2
	if b != "" {
		special = 3
	}
	truncated := 0
	for len(ta)+len(tb)+special > maxLen { // longest first; ties cut b (as HF)
		if len(ta) > len(tb) {
			ta = ta[:len(ta)-1]
		} else {
			tb = tb[:len(tb)-1]
		}
		truncated++
	}
	toks := append([]string{"[CLS]"}, ta...)
	toks = append(toks, "[SEP]")
	types := make([]int32, len(toks))
	if b != "" {
		toks = append(toks, tb...)
		toks = append(toks, "[SEP]")
		for len(types) < len(toks) {
			types = append(types, 1)
		}
	}
	return f.ids(toks), types, truncated
}

func (f *fakeTok) EncodeWordsIDs(words []string, maxLen int) ([]int32, []int32, []int, int) {
	toks := []string{"[CLS]"}
	first := make([]int, len(words))
	truncated := 0
	for i, w := range words {
		ps := f.pieces(w)
		first[i] = -1
		for k, p := range ps {
			if len(toks) >= maxLen-1 {
				truncated++
				continue
			}
			if k == 0 {
				first[i] = len(toks)
			}
			toks = append(toks, p)
		}
	}
	toks = append(toks, "[SEP]")
	return f.ids(toks), make([]int32, len(toks)), first, truncated
}
