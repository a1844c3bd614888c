package wordpiece

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aptbench/apt/internal/boundedread"
)

// options are the settings a Tokenizer is built from.
type options struct {
	lower, clean, chinese bool
	strip                 *bool // nil: follow lower
	maxChars              int
	prefix                string
	unk, cls, sep, pad    string
	mask                  string
	added                 map[string]int // extra never-split tokens (tokenizer.json added_tokens)
}

// Caps on the tokenizer files, far above real ones (bert-base-uncased: vocab.txt
// 230 KB, tokenizer.json 470 KB; large multilingual vocabularies a few MB).
const (
	MaxVocabBytes           = 16 << 20
	MaxTokenizerJSONBytes   = 64 << 20
	MaxTokenizerConfigBytes = 1 << 20
)

func defaultOptions(lower bool) options {
	return options{
		lower: lower, clean: true, chinese: true, maxChars: 100, prefix: "##",
		unk: "[UNK]", cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", mask: "[MASK]",
	}
}

// Load reads the tokenizer of a model directory: tokenizer.json when present, else
// vocab.txt (do_lower_case defaults to true, as BertTokenizer). An optional
// tokenizer_config.json overrides do_lower_case, strip_accents,
// tokenize_chinese_chars and the special tokens (unk_token, sep_token, pad_token,
// cls_token, mask_token), as BertTokenizer(Fast).from_pretrained does. Only the
// settings the file states are applied (transformers 4.x BertTokenizerFast also
// forces its do_lower_case default, true, onto a tokenizer.json whose normalizer
// does not lower-case when tokenizer_config.json says nothing).
func Load(dir string) (*Tokenizer, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("wordpiece: %s is not a directory", dir)
	}
	tc, err := readTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	tjPath := filepath.Join(dir, "tokenizer.json")
	vocabPath := filepath.Join(dir, "vocab.txt")
	switch {
	case fileExists(tjPath):
		inv, opt, err := readTokenizerJSON(tjPath)
		if err != nil {
			return nil, err
		}
		tc.apply(&opt)
		return newTokenizer(inv, opt, tjPath)
	case fileExists(vocabPath):
		inv, err := readVocab(vocabPath)
		if err != nil {
			return nil, err
		}
		opt := defaultOptions(true)
		tc.apply(&opt)
		return newTokenizer(inv, opt, vocabPath)
	}
	return nil, fmt.Errorf("wordpiece: %s has neither tokenizer.json nor vocab.txt", dir)
}

// FromVocabFile builds a tokenizer from a vocab.txt (one token per line, the line
// number is the id), with BertTokenizer's defaults otherwise (strip_accents follows
// doLowerCase, Chinese characters split, special tokens [UNK] [CLS] [SEP] [PAD]
// [MASK]).
func FromVocabFile(vocabPath string, doLowerCase bool) (*Tokenizer, error) {
	inv, err := readVocab(vocabPath)
	if err != nil {
		return nil, err
	}
	return newTokenizer(inv, defaultOptions(doLowerCase), vocabPath)
}

// FromTokenizerJSON builds a tokenizer from a HuggingFace tokenizers JSON file
// whose model is WordPiece, normalizer BertNormalizer (or null) and pre_tokenizer
// BertPreTokenizer; anything else is an error naming the field. [CLS] and [SEP]
// come from the post_processor (BertProcessing or TemplateProcessing), [PAD] from
// padding when set. Every entry of added_tokens is matched literally in the
// original text and never split (the fast tokenizer matches normalized=true added
// tokens on the normalised text instead; BERT's special tokens are all
// normalized=false). Tokenization itself follows python BertTokenizer (see the
// package comment).
func FromTokenizerJSON(path string) (*Tokenizer, error) {
	inv, opt, err := readTokenizerJSON(path)
	if err != nil {
		return nil, err
	}
	return newTokenizer(inv, opt, path)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// readVocab is load_vocab (tokenization_bert.py): the file is read in text mode
// (universal newlines: \r\n and \r end lines too), and each line without its
// newline is a token whose id is the line number.
func readVocab(path string) ([]string, error) {
	data, err := boundedread.ReadFile(path, MaxVocabBytes)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: reading vocabulary: %w", err)
	}
	s := string(data)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil, fmt.Errorf("wordpiece: %s: empty vocabulary", path)
	}
	return strings.Split(s, "\n"), nil
}

// newTokenizer builds the lookup tables. inv[id] is the token of id ("" for ids
// without a token).
func newTokenizer(inv []string, opt options, src string) (*Tokenizer, error) {
	t := &Tokenizer{
		DoLowerCase:          opt.lower,
		StripAccents:         opt.lower,
		TokenizeChineseChars: opt.chinese,
		CleanText:            opt.clean,
		MaxInputCharsPerWord: opt.maxChars,
		vocab:                make(map[string]int, len(inv)),
		cont:                 make(map[string]int),
		inv:                  inv,
		prefix:               opt.prefix,
		added:                map[string]int{},
	}
	if opt.strip != nil {
		t.StripAccents = *opt.strip
	}
	for id, tok := range inv {
		if tok == "" { // an id without a token
			continue
		}
		t.vocab[tok] = id
	}
	for tok, id := range t.vocab {
		t.maxLen = max(t.maxLen, len(tok))
		if len(tok) > len(t.prefix) && strings.HasPrefix(tok, t.prefix) {
			t.cont[tok[len(t.prefix):]] = id
			t.maxCnt = max(t.maxCnt, len(tok)-len(t.prefix))
		}
	}
	var err error
	need := func(role, tok string) int {
		id, ok := t.vocab[tok]
		if !ok && err == nil {
			err = fmt.Errorf("wordpiece: %s: %s %q is not in the vocabulary", src, role, tok)
		}
		if ok {
			t.addAdded(tok, id)
		}
		return id
	}
	t.unk = need("unk_token", opt.unk)
	t.cls = need("cls_token", opt.cls)
	t.sep = need("sep_token", opt.sep)
	t.pad = need("pad_token", opt.pad)
	if err != nil {
		return nil, err
	}
	t.mask = -1
	if id, ok := t.vocab[opt.mask]; ok {
		t.mask = id
		t.addAdded(opt.mask, id)
	}
	for tok, id := range opt.added {
		t.addAdded(tok, id)
	}
	return t, nil
}

func (t *Tokenizer) addAdded(tok string, id int) {
	if tok == "" {
		return
	}
	t.added[tok] = id
	t.addedFirst[tok[0]] = true
	t.addedMax = max(t.addedMax, len(tok))
}

// tokenizerConfig is the part of tokenizer_config.json that matters here.
type tokenizerConfig struct {
	DoLowerCase          *bool           `json:"do_lower_case"`
	StripAccents         *bool           `json:"strip_accents"`
	TokenizeChineseChars *bool           `json:"tokenize_chinese_chars"`
	UnkToken             json.RawMessage `json:"unk_token"`
	SepToken             json.RawMessage `json:"sep_token"`
	PadToken             json.RawMessage `json:"pad_token"`
	ClsToken             json.RawMessage `json:"cls_token"`
	MaskToken            json.RawMessage `json:"mask_token"`
}

func readTokenizerConfig(path string) (*tokenizerConfig, error) {
	tc := &tokenizerConfig{}
	data, err := boundedread.ReadFile(path, MaxTokenizerConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return tc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	if err := json.Unmarshal(data, tc); err != nil {
		return nil, fmt.Errorf("wordpiece: %s: %w", path, err)
	}
	return tc, nil
}

// apply overrides opt with the settings the config states explicitly.
func (tc *tokenizerConfig) apply(opt *options) {
	if tc.DoLowerCase != nil {
		opt.lower = *tc.DoLowerCase
	}
	if tc.StripAccents != nil {
		opt.strip = tc.StripAccents
	}
	if tc.TokenizeChineseChars != nil {
		opt.chinese = *tc.TokenizeChineseChars
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
	}{{tc.UnkToken, &opt.unk}, {tc.SepToken, &opt.sep}, {tc.PadToken, &opt.pad}, {tc.ClsToken, &opt.cls}, {tc.MaskToken, &opt.mask}} {
		if s, ok := tokenContent(f.raw); ok {
			*f.dst = s
		}
	}
}

// tokenContent reads a special token given as a string or as an AddedToken object.
func tokenContent(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, s != ""
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Content, o.Content != ""
	}
	return "", false
}

// tokenizerJSON is the part of a tokenizers JSON file that matters here.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
	} `json:"added_tokens"`
	Normalizer    map[string]json.RawMessage `json:"normalizer"`
	PreTokenizer  map[string]json.RawMessage `json:"pre_tokenizer"`
	PostProcessor map[string]json.RawMessage `json:"post_processor"`
	Padding       *struct {
		PadToken string `json:"pad_token"`
	} `json:"padding"`
	Model struct {
		Type                    string         `json:"type"`
		UnkToken                string         `json:"unk_token"`
		ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int           `json:"max_input_chars_per_word"`
		Vocab                   map[string]int `json:"vocab"`
	} `json:"model"`
}

func typeOf(m map[string]json.RawMessage) string {
	var s string
	_ = json.Unmarshal(m["type"], &s)
	return s
}

// jsonField decodes m[key] into dst when present and not null.
func jsonField(m map[string]json.RawMessage, key string, dst any) error {
	raw, ok := m[key]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

func readTokenizerJSON(path string) ([]string, options, error) {
	var tj tokenizerJSON
	opt := defaultOptions(true)
	data, err := boundedread.ReadFile(path, MaxTokenizerJSONBytes)
	if err != nil {
		return nil, opt, fmt.Errorf("wordpiece: %w", err)
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, opt, fmt.Errorf("wordpiece: %s: %w", path, err)
	}
	bad := func(field, got, want string) error {
		return fmt.Errorf("wordpiece: %s: %s is %q, want %s", path, field, got, want)
	}
	if tj.Model.Type != "WordPiece" {
		return nil, opt, bad("model.type", tj.Model.Type, `"WordPiece"`)
	}
	if len(tj.Model.Vocab) == 0 {
		return nil, opt, fmt.Errorf("wordpiece: %s: model.vocab is empty", path)
	}
	if tj.Model.UnkToken != "" {
		opt.unk = tj.Model.UnkToken
	}
	if p := tj.Model.ContinuingSubwordPrefix; p != nil {
		opt.prefix = *p
	}
	if m := tj.Model.MaxInputCharsPerWord; m != nil {
		opt.maxChars = *m
	}

	// BertNormalizer (tokenizers normalizers/bert.rs); null: no normalisation.
	if tj.Normalizer == nil {
		opt.lower, opt.clean, opt.chinese = false, false, false
		f := false
		opt.strip = &f
	} else {
		if ty := typeOf(tj.Normalizer); ty != "BertNormalizer" {
			return nil, opt, bad("normalizer.type", ty, `"BertNormalizer"`)
		}
		for _, f := range []struct {
			key string
			dst *bool
		}{{"lowercase", &opt.lower}, {"clean_text", &opt.clean}, {"handle_chinese_chars", &opt.chinese}} {
			if err := jsonField(tj.Normalizer, f.key, f.dst); err != nil {
				return nil, opt, fmt.Errorf("wordpiece: %s: normalizer.%s: %w", path, f.key, err)
			}
		}
		if err := jsonField(tj.Normalizer, "strip_accents", &opt.strip); err != nil {
			return nil, opt, fmt.Errorf("wordpiece: %s: normalizer.strip_accents: %w", path, err)
		}
	}
	if ty := typeOf(tj.PreTokenizer); ty != "BertPreTokenizer" {
		return nil, opt, bad("pre_tokenizer.type", ty, `"BertPreTokenizer"`)
	}

	// The [CLS] and [SEP] the post-processor adds.
	if tj.PostProcessor != nil {
		switch ty := typeOf(tj.PostProcessor); ty {
		case "BertProcessing":
			var sep, cls []json.RawMessage
			if jsonField(tj.PostProcessor, "sep", &sep) == nil && len(sep) > 0 {
				_ = json.Unmarshal(sep[0], &opt.sep)
			}
			if jsonField(tj.PostProcessor, "cls", &cls) == nil && len(cls) > 0 {
				_ = json.Unmarshal(cls[0], &opt.cls)
			}
		case "TemplateProcessing":
			var single []struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
			}
			if err := jsonField(tj.PostProcessor, "single", &single); err != nil {
				return nil, opt, fmt.Errorf("wordpiece: %s: post_processor.single: %w", path, err)
			}
			if n := len(single); n >= 2 && single[0].SpecialToken != nil && single[n-1].SpecialToken != nil {
				opt.cls, opt.sep = single[0].SpecialToken.ID, single[n-1].SpecialToken.ID
			}
		default:
			return nil, opt, bad("post_processor.type", ty, `"BertProcessing" or "TemplateProcessing"`)
		}
	}
	if tj.Padding != nil && tj.Padding.PadToken != "" {
		opt.pad = tj.Padding.PadToken
	}

	size := 0
	for _, id := range tj.Model.Vocab {
		if id < 0 {
			return nil, opt, fmt.Errorf("wordpiece: %s: model.vocab has negative id %d", path, id)
		}
		size = max(size, id+1)
	}
	opt.added = map[string]int{}
	for _, a := range tj.AddedTokens {
		if a.ID < 0 {
			return nil, opt, fmt.Errorf("wordpiece: %s: added token %q has negative id %d", path, a.Content, a.ID)
		}
		size = max(size, a.ID+1)
		opt.added[a.Content] = a.ID
	}
	if size > 50*(len(tj.Model.Vocab)+len(tj.AddedTokens))+1000 {
		return nil, opt, fmt.Errorf("wordpiece: %s: ids up to %d for %d tokens", path, size-1, len(tj.Model.Vocab))
	}
	inv := make([]string, size)
	for tok, id := range tj.Model.Vocab {
		inv[id] = tok
	}
	for tok, id := range opt.added {
		inv[id] = tok
	}
	return inv, opt, nil
}
