package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aptbench/apt/internal/boundedread"
)

// Caps on the tokenizer files, far above real ones (roberta-base: vocab.json 900 KB,
// merges.txt 450 KB, tokenizer.json 1.4 MB).
const (
	MaxVocabBytes         = 32 << 20
	MaxMergesBytes        = 32 << 20
	MaxTokenizerJSONBytes = 64 << 20
	MaxConfigBytes        = 1 << 20
)

// role is one special token of the layout: its name and, when the configuration
// gave it as an AddedToken object, its flags.
type role struct {
	name  string
	flags *addedToken
}

// spec is what a Tokenizer is built from.
type spec struct {
	layout                  Layout
	vocab                   map[string]int
	merges                  [][2]string
	added                   []addedToken // tokenizer.json added_tokens, added_tokens_decoder
	cls, sep, pad, unk, msk role
	prefixSpace             bool
	useRegex                bool
	ignoreMerges            bool
	src                     string // the file the vocabulary came from, for errors
}

func newSpec(layout Layout) (*spec, error) {
	s := &spec{layout: layout, useRegex: true}
	switch layout {
	case RoBERTa:
		s.cls, s.sep, s.pad, s.unk, s.msk = role{name: "<s>"}, role{name: "</s>"}, role{name: "<pad>"}, role{name: "<unk>"}, role{name: "<mask>"}
	case DeBERTa:
		s.cls, s.sep, s.pad, s.unk, s.msk = role{name: "[CLS]"}, role{name: "[SEP]"}, role{name: "[PAD]"}, role{name: "[UNK]"}, role{name: "[MASK]"}
	default:
		return nil, fmt.Errorf("bpe: unknown layout %v (want bpe.RoBERTa or bpe.DeBERTa)", layout)
	}
	return s, nil
}

// Load reads the tokenizer of a model directory for the given layout:
// tokenizer.json when present, else vocab.json + merges.txt. The optional
// tokenizer_config.json (add_prefix_space, the special tokens, added_tokens_decoder)
// and special_tokens_map.json (the special tokens; it wins over
// tokenizer_config.json, as from_pretrained applies it last) are applied to either.
func Load(dir string, layout Layout) (*Tokenizer, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("bpe: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("bpe: %s is not a directory", dir)
	}
	var s *spec
	tj := filepath.Join(dir, "tokenizer.json")
	vocab, merges := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	switch {
	case fileExists(tj):
		s, err = readTokenizerJSON(tj, layout)
	case fileExists(vocab) && fileExists(merges):
		s, err = readVocabMerges(vocab, merges, layout)
	default:
		return nil, fmt.Errorf("bpe: %s has neither tokenizer.json nor vocab.json and merges.txt", dir)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"tokenizer_config.json", "special_tokens_map.json"} {
		if err := applyConfig(filepath.Join(dir, name), s); err != nil {
			return nil, err
		}
	}
	return s.build()
}

// FromVocabMerges builds a tokenizer from a vocab.json and a merges.txt with the
// layout's default special tokens (RobertaTokenizer / DebertaTokenizer defaults:
// add_prefix_space false, the mask token with lstrip).
func FromVocabMerges(vocabPath, mergesPath string, layout Layout) (*Tokenizer, error) {
	s, err := readVocabMerges(vocabPath, mergesPath, layout)
	if err != nil {
		return nil, err
	}
	return s.build()
}

// FromTokenizerJSON builds a tokenizer from a HuggingFace tokenizers JSON file whose
// model is BPE (no dropout, no subword prefix or suffix, no byte fallback),
// normalizer null and pre_tokenizer ByteLevel; anything else is an error naming the
// field. Its added_tokens are matched before splitting with their lstrip, rstrip
// and single_word flags; the separator and the first token come from the
// post_processor (RobertaProcessing or TemplateProcessing), else the layout's
// defaults.
func FromTokenizerJSON(path string, layout Layout) (*Tokenizer, error) {
	s, err := readTokenizerJSON(path, layout)
	if err != nil {
		return nil, err
	}
	return s.build()
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// jsonError names the file and the line of a JSON decoding error.
func jsonError(path string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off >= 0 && off <= int64(len(data)) {
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return fmt.Errorf("bpe: %s:%d: %w", path, line, err)
	}
	return fmt.Errorf("bpe: %s: %w", path, err)
}

// readVocab reads vocab.json: one JSON object, token -> id.
func readVocab(path string) (map[string]int, error) {
	data, err := boundedread.ReadFile(path, MaxVocabBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: reading vocabulary: %w", err)
	}
	var v map[string]int
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonError(path, data, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("bpe: %s: empty vocabulary", path)
	}
	return v, nil
}

// readMerges reads merges.txt as GPT2Tokenizer does: the file in text mode
// (universal newlines), split on "\n", the first line (the "#version" header) and
// the last element (empty after the final newline) dropped whatever they hold;
// each other line is two tokens separated by whitespace, rank = order. Blank lines
// are skipped; a line with one or three or more fields is an error naming it.
func readMerges(path string) ([][2]string, error) {
	data, err := boundedread.ReadFile(path, MaxMergesBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: reading merges: %w", err)
	}
	s := string(data)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return nil, nil
	}
	lines = lines[1 : len(lines)-1]
	merges := make([][2]string, 0, len(lines))
	for i, line := range lines {
		f := strings.Fields(line)
		switch len(f) {
		case 0:
			continue
		case 2:
			merges = append(merges, [2]string{f[0], f[1]})
		default:
			return nil, fmt.Errorf("bpe: %s:%d: a merge is two tokens separated by a space, got %q", path, i+2, line)
		}
	}
	return merges, nil
}

func readVocabMerges(vocabPath, mergesPath string, layout Layout) (*spec, error) {
	s, err := newSpec(layout)
	if err != nil {
		return nil, err
	}
	if s.vocab, err = readVocab(vocabPath); err != nil {
		return nil, err
	}
	if s.merges, err = readMerges(mergesPath); err != nil {
		return nil, err
	}
	s.src = vocabPath
	return s, nil
}

// tokenFlags is an AddedToken as tokenizer.json and the configuration files write
// it.
type tokenFlags struct {
	ID         *int   `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

// token is the AddedToken; normalized defaults to !special, as the crate's
// AddedToken::from does (and from_pretrained gives special tokens normalized false).
func (f tokenFlags) token(id int) addedToken {
	norm := !f.Special
	if f.Normalized != nil {
		norm = *f.Normalized
	}
	return addedToken{content: f.Content, id: id, lstrip: f.Lstrip, rstrip: f.Rstrip, singleWord: f.SingleWord, normalized: norm, special: f.Special}
}

type tokenizerJSON struct {
	AddedTokens   []tokenFlags               `json:"added_tokens"`
	Normalizer    json.RawMessage            `json:"normalizer"`
	PreTokenizer  map[string]json.RawMessage `json:"pre_tokenizer"`
	PostProcessor map[string]json.RawMessage `json:"post_processor"`
	Model         struct {
		Type                    string          `json:"type"`
		Dropout                 *float64        `json:"dropout"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
	} `json:"model"`
}

func typeOf(m map[string]json.RawMessage) string {
	var s string
	_ = json.Unmarshal(m["type"], &s)
	return s
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func readTokenizerJSON(path string, layout Layout) (*spec, error) {
	s, err := newSpec(layout)
	if err != nil {
		return nil, err
	}
	s.src = path
	data, err := boundedread.ReadFile(path, MaxTokenizerJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("bpe: %w", err)
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, jsonError(path, data, err)
	}
	bad := func(field, got, want string) error {
		return fmt.Errorf("bpe: %s: %s is %s, want %s", path, field, got, want)
	}
	m := &tj.Model
	switch {
	case m.Type != "BPE":
		return nil, bad("model.type", fmt.Sprintf("%q", m.Type), `"BPE"`)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, bad("model.dropout", fmt.Sprint(*m.Dropout), "null (BPE dropout is for training)")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, bad("model.continuing_subword_prefix", fmt.Sprintf("%q", *m.ContinuingSubwordPrefix), "empty (byte-level BPE)")
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, bad("model.end_of_word_suffix", fmt.Sprintf("%q", *m.EndOfWordSuffix), "empty (byte-level BPE)")
	case m.ByteFallback:
		return nil, bad("model.byte_fallback", "true", "false (byte-level BPE)")
	case len(m.Vocab) == 0:
		return nil, fmt.Errorf("bpe: %s: model.vocab is empty", path)
	case !isNull(tj.Normalizer):
		return nil, bad("normalizer", string(tj.Normalizer), "null (RoBERTa and DeBERTa v1 do not normalise)")
	}
	s.vocab, s.ignoreMerges = m.Vocab, m.IgnoreMerges
	if m.UnkToken != nil {
		s.unk = role{name: *m.UnkToken}
	} else {
		s.unk = role{} // the crate drops pieces it cannot find
	}

	// Merges: "a b" strings (tokenizers < 0.20) or [a, b] pairs.
	var asStrings []string
	var asPairs [][]string
	switch {
	case isNull(m.Merges):
	case json.Unmarshal(m.Merges, &asStrings) == nil:
		for i, ln := range asStrings {
			a, b, ok := strings.Cut(ln, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, fmt.Errorf("bpe: %s: model.merges[%d] is %q, want two tokens separated by one space", path, i, ln)
			}
			s.merges = append(s.merges, [2]string{a, b})
		}
	case json.Unmarshal(m.Merges, &asPairs) == nil:
		for i, p := range asPairs {
			if len(p) != 2 {
				return nil, fmt.Errorf("bpe: %s: model.merges[%d] has %d tokens, want 2", path, i, len(p))
			}
			s.merges = append(s.merges, [2]string{p[0], p[1]})
		}
	default:
		return nil, bad("model.merges", "neither a list of strings nor a list of pairs", `["a b", ...] or [["a", "b"], ...]`)
	}
	// As the crate's BPE builder: every merge's tokens and result are in the vocabulary.
	for i, mg := range s.merges {
		for _, tok := range []string{mg[0], mg[1], mg[0] + mg[1]} {
			if _, ok := s.vocab[tok]; !ok {
				return nil, fmt.Errorf("bpe: %s: model.merges[%d] (%q %q): %q is not in model.vocab", path, i, mg[0], mg[1], tok)
			}
		}
	}

	if ty := typeOf(tj.PreTokenizer); ty != "ByteLevel" {
		return nil, bad("pre_tokenizer.type", fmt.Sprintf("%q", ty), `"ByteLevel"`)
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"add_prefix_space", &s.prefixSpace}, {"use_regex", &s.useRegex}} {
		if raw, ok := tj.PreTokenizer[f.key]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return nil, fmt.Errorf("bpe: %s: pre_tokenizer.%s: %w", path, f.key, err)
			}
		}
	}

	for i, a := range tj.AddedTokens {
		if a.ID == nil || *a.ID < 0 || a.Content == "" {
			return nil, fmt.Errorf("bpe: %s: added_tokens[%d] needs a content and an id >= 0", path, i)
		}
		s.added = append(s.added, a.token(*a.ID))
	}

	if tj.PostProcessor != nil {
		switch ty := typeOf(tj.PostProcessor); ty {
		case "RobertaProcessing":
			for _, f := range []struct {
				key string
				dst *role
			}{{"sep", &s.sep}, {"cls", &s.cls}} {
				var pair []json.RawMessage
				var name string
				if json.Unmarshal(tj.PostProcessor[f.key], &pair) != nil || len(pair) != 2 || json.Unmarshal(pair[0], &name) != nil || name == "" {
					return nil, fmt.Errorf("bpe: %s: post_processor.%s is %s, want [token, id]", path, f.key, tj.PostProcessor[f.key])
				}
				f.dst.name = name
			}
		case "TemplateProcessing":
			var single []struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
			}
			if err := json.Unmarshal(tj.PostProcessor["single"], &single); err != nil {
				return nil, fmt.Errorf("bpe: %s: post_processor.single: %w", path, err)
			}
			if n := len(single); n != 3 || single[0].SpecialToken == nil || single[2].SpecialToken == nil {
				return nil, fmt.Errorf("bpe: %s: post_processor.single is not a special token, $A, a special token", path)
			}
			s.cls.name, s.sep.name = single[0].SpecialToken.ID, single[2].SpecialToken.ID
		case "ByteLevel":
		default:
			return nil, bad("post_processor.type", fmt.Sprintf("%q", ty), `"RobertaProcessing", "TemplateProcessing", "ByteLevel" or null`)
		}
	}
	return s, nil
}

// tokenizerConfig is the part of tokenizer_config.json and special_tokens_map.json
// that matters here.
type tokenizerConfig struct {
	AddPrefixSpace     *bool                 `json:"add_prefix_space"`
	ClsToken           json.RawMessage       `json:"cls_token"`
	SepToken           json.RawMessage       `json:"sep_token"`
	PadToken           json.RawMessage       `json:"pad_token"`
	UnkToken           json.RawMessage       `json:"unk_token"`
	MaskToken          json.RawMessage       `json:"mask_token"`
	AddedTokensDecoder map[string]tokenFlags `json:"added_tokens_decoder"`
}

// applyConfig applies an optional tokenizer_config.json or special_tokens_map.json.
func applyConfig(path string, s *spec) error {
	data, err := boundedread.ReadFile(path, MaxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bpe: %w", err)
	}
	var tc tokenizerConfig
	if err := json.Unmarshal(data, &tc); err != nil {
		return jsonError(path, data, err)
	}
	if tc.AddPrefixSpace != nil {
		s.prefixSpace = *tc.AddPrefixSpace
	}
	for _, f := range []struct {
		key string
		raw json.RawMessage
		dst *role
	}{{"cls_token", tc.ClsToken, &s.cls}, {"sep_token", tc.SepToken, &s.sep}, {"pad_token", tc.PadToken, &s.pad}, {"unk_token", tc.UnkToken, &s.unk}, {"mask_token", tc.MaskToken, &s.msk}} {
		if isNull(f.raw) {
			continue
		}
		var name string
		if json.Unmarshal(f.raw, &name) == nil {
			if name != "" {
				*f.dst = role{name: name}
			}
			continue
		}
		var o tokenFlags
		if err := json.Unmarshal(f.raw, &o); err != nil || o.Content == "" {
			return fmt.Errorf("bpe: %s: %s is %s, want a string or {\"content\": ...}", path, f.key, f.raw)
		}
		tok := o.token(-1)
		tok.special = true
		if o.Normalized == nil {
			tok.normalized = false // a special token is not normalised unless it says so
		}
		*f.dst = role{name: o.Content, flags: &tok}
	}
	keys := make([]string, 0, len(tc.AddedTokensDecoder))
	for k := range tc.AddedTokensDecoder {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var id int
		if _, err := fmt.Sscan(k, &id); err != nil || id < 0 || fmt.Sprint(id) != k {
			return fmt.Errorf("bpe: %s: added_tokens_decoder key %q is not an id", path, k)
		}
		a := tc.AddedTokensDecoder[k]
		if a.Content == "" {
			return fmt.Errorf("bpe: %s: added_tokens_decoder[%q] has no content", path, k)
		}
		s.added = append(s.added, a.token(id))
	}
	return nil
}

// build makes the Tokenizer: the vocabulary with the added tokens, the merge ranks
// (a merge listed twice keeps its last rank, as dict(zip(merges, range)) does), and
// the specials.
func (s *spec) build() (*Tokenizer, error) {
	t := &Tokenizer{
		AddPrefixSpace: s.prefixSpace,
		layout:         s.layout,
		useRegex:       s.useRegex,
		ignoreMerges:   s.ignoreMerges,
		vocab:          make(map[string]int, len(s.vocab)+len(s.added)),
		ranks:          make(map[[2]string]int, len(s.merges)),
		cache:          map[string][]int32{},
	}
	size := 0
	byID := map[int]string{}
	for tok, id := range s.vocab {
		if id < 0 {
			return nil, fmt.Errorf("bpe: %s: token %q has the negative id %d", s.src, tok, id)
		}
		if other, dup := byID[id]; dup {
			a, b := min(other, tok), max(other, tok)
			return nil, fmt.Errorf("bpe: %s: tokens %q and %q have the same id %d", s.src, a, b, id)
		}
		byID[id] = tok
		t.vocab[tok] = id
		size = max(size, id+1)
	}
	// The added tokens by content (a later entry for the same content wins), then
	// split by pass.
	added := map[string]addedToken{}
	addTok := func(a addedToken) {
		if id, ok := t.vocab[a.content]; ok {
			a.id = id // a token of the vocabulary keeps its id
		} else {
			t.vocab[a.content] = a.id
			size = max(size, a.id+1)
		}
		added[a.content] = a
	}
	for _, a := range s.added {
		addTok(a)
	}
	var err error
	special := func(what string, r role, required, lstrip bool) int {
		if r.name == "" {
			if required && err == nil {
				err = fmt.Errorf("bpe: %s: no %s", s.src, what)
			}
			return -1
		}
		id, ok := t.vocab[r.name]
		if !ok {
			if required && err == nil {
				err = fmt.Errorf("bpe: %s: %s %q is not in the vocabulary", s.src, what, r.name)
			}
			return -1
		}
		switch {
		case r.flags != nil:
			a := *r.flags
			a.id = id
			addTok(a)
		default:
			if _, done := added[r.name]; !done {
				addTok(addedToken{content: r.name, id: id, lstrip: lstrip, special: true})
			}
		}
		return id
	}
	t.cls = special("cls_token", s.cls, true, false)
	t.sep = special("sep_token", s.sep, true, false)
	t.pad = special("pad_token", s.pad, true, false)
	t.unk = special("unk_token", s.unk, false, false)
	t.mask = special("mask_token", s.msk, false, true)
	if err != nil {
		return nil, err
	}
	for _, a := range added {
		if a.normalized {
			t.added[1].add(a)
		} else {
			t.added[0].add(a)
		}
	}
	if n := len(t.vocab); size > 50*n+1000 {
		return nil, fmt.Errorf("bpe: %s: ids up to %d for %d tokens", s.src, size-1, n)
	}
	t.inv = make([]string, size)
	for tok, id := range t.vocab {
		t.inv[id] = tok
	}
	for i, m := range s.merges {
		t.ranks[m] = i
	}
	return t, nil
}
