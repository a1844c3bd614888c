package unigram

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/aptbench/apt/internal/boundedread"
)

// Caps on the tokenizer files, far above real ones (deberta-v3-base: spm.model
// 2.4 MB, tokenizer.json 8.7 MB; multilingual mdeberta: spm.model 4.3 MB).
const (
	MaxModelBytes           = 64 << 20
	MaxTokenizerJSONBytes   = 128 << 20
	MaxTokenizerConfigBytes = 1 << 20
	// MaxPieces bounds the vocabulary (deberta-v3: 128000; mdeberta: 250000).
	MaxPieces = 4 << 20
)

// Options are the tokenizer_config.json settings that shape the pipeline
// built from an spm.model (tokenizer.json carries its own pipeline).
type Options struct {
	DoLowerCase  bool // do_lower_case: Lowercase before Strip (DeBERTa: false)
	SplitByPunct bool // split_by_punct: Punctuation(isolated) before Metaspace (DeBERTa: false)
	// Special token names (DebertaV2Tokenizer's defaults when empty).
	CLS, SEP, PAD, UNK, Mask string
	// Added maps ids to added tokens, from tokenizer_config.json's
	// added_tokens_decoder (ids beyond the pieces included); nil: the specials
	// keep their piece ids, missing ones are appended after the pieces.
	Added map[int]AddedToken
}

// AddedToken is one entry of tokenizer_config.json's added_tokens_decoder
// (or tokenizer.json's added_tokens).
type AddedToken struct {
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

func (o *Options) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.CLS, "[CLS]")
	def(&o.SEP, "[SEP]")
	def(&o.PAD, "[PAD]")
	def(&o.UNK, "[UNK]")
	def(&o.Mask, "[MASK]")
}

// Load reads the tokenizer of a model directory: tokenizer.json when present
// (what AutoTokenizer's fast tokenizer reads), else spm.model with the
// optional tokenizer_config.json (do_lower_case, split_by_punct, special token
// names, added_tokens_decoder), converted as transformers' DebertaV2Converter
// does.
func Load(dir string) (*Tokenizer, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("unigram: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("unigram: %s is not a directory", dir)
	}
	tj := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tj); err == nil {
		return FromTokenizerJSON(tj)
	}
	spm := filepath.Join(dir, "spm.model")
	if _, err := os.Stat(spm); err != nil {
		return nil, fmt.Errorf("unigram: %s has neither tokenizer.json nor spm.model", dir)
	}
	opt, err := ReadTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	return FromSPMModel(spm, opt)
}

// ReadTokenizerConfig reads the settings of a tokenizer_config.json; a missing
// file gives the defaults.
func ReadTokenizerConfig(path string) (Options, error) {
	var opt Options
	b, err := boundedread.ReadFile(path, MaxTokenizerConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return opt, nil
	}
	if err != nil {
		return opt, fmt.Errorf("unigram: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return opt, fmt.Errorf("unigram: %s: %v", path, err)
	}
	boolKey := func(k string, p *bool) error {
		if v, ok := raw[k]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("unigram: %s: %s: %v", path, k, err)
			}
		}
		return nil
	}
	// A special token is a string or an AddedToken object {"content": ...}.
	strKey := func(k string, p *string) error {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			return nil
		}
		if json.Unmarshal(v, p) == nil {
			return nil
		}
		var a AddedToken
		if err := json.Unmarshal(v, &a); err != nil || a.Content == "" {
			return fmt.Errorf("unigram: %s: %s is neither a string nor a token object", path, k)
		}
		*p = a.Content
		return nil
	}
	for _, e := range []error{
		boolKey("do_lower_case", &opt.DoLowerCase), boolKey("split_by_punct", &opt.SplitByPunct),
		strKey("cls_token", &opt.CLS), strKey("sep_token", &opt.SEP), strKey("pad_token", &opt.PAD),
		strKey("unk_token", &opt.UNK), strKey("mask_token", &opt.Mask),
	} {
		if e != nil {
			return opt, e
		}
	}
	if v, ok := raw["added_tokens_decoder"]; ok && string(v) != "null" {
		var m map[string]AddedToken
		if err := json.Unmarshal(v, &m); err != nil {
			return opt, fmt.Errorf("unigram: %s: added_tokens_decoder: %v", path, err)
		}
		opt.Added = make(map[int]AddedToken, len(m))
		for k, a := range m {
			id, err := strconv.Atoi(k)
			if err != nil || id < 0 || id >= MaxPieces {
				return opt, fmt.Errorf("unigram: %s: added_tokens_decoder: bad id %q", path, k)
			}
			if a.Content == "" {
				return opt, fmt.Errorf("unigram: %s: added_tokens_decoder[%s] has no content", path, k)
			}
			opt.Added[id] = a
		}
	}
	return opt, nil
}

// FromSPMModel reads a SentencePiece model (ModelProto, sentencepiece_model.proto)
// and builds the pipeline transformers' DebertaV2Converter makes of it:
// the pieces with their scores in model order, unk_id from the trainer spec,
// no byte fallback (the converter never enables it for DeBERTa, even when the
// trainer spec has byte_fallback: the fast tokenizer then gives [UNK] where
// SentencePiece gives <0xXX> pieces); normalizer [Lowercase if DoLowerCase], Strip, the
// precompiled charsmap when the model has one, Replace(" {2,}", " ");
// pre-tokenizer [Punctuation(isolated) if SplitByPunct], Metaspace("▁",
// prepend always, split); the specials of opt, and the control and
// user-defined pieces, as added tokens.
func FromSPMModel(path string, opt Options) (*Tokenizer, error) {
	b, err := boundedread.ReadFile(path, MaxModelBytes)
	if err != nil {
		return nil, fmt.Errorf("unigram: %w", err)
	}
	return fromSPMBytes(path, b, opt)
}

// fromSPMBytes is FromSPMModel on the file's bytes; path names it in errors.
func fromSPMBytes(path string, b []byte, opt Options) (*Tokenizer, error) {
	m, err := parseModelProto(b)
	if err != nil {
		return nil, fmt.Errorf("unigram: %s: %v", path, err)
	}
	if m.modelType != 1 {
		name := map[int64]string{2: "BPE", 3: "WORD", 4: "CHAR"}[m.modelType]
		if name == "" {
			name = strconv.FormatInt(m.modelType, 10)
		}
		return nil, fmt.Errorf("unigram: %s: the model type is %s, not Unigram (1)", path, name)
	}
	opt.defaults()
	var steps []normStep
	if opt.DoLowerCase {
		steps = append(steps, lowercaseStep())
	}
	steps = append(steps, stripStep(true, true))
	if len(m.charsmap) > 0 {
		c, err := parseCharsmap(m.charsmap)
		if err != nil {
			return nil, fmt.Errorf("unigram: %s: normalizer_spec: %v", path, err)
		}
		steps = append(steps, charsmapStep(c))
	}
	steps = append(steps, replaceStep(regexp.MustCompile(` {2,}`), "", " "))
	var pre preTokenizer
	if opt.SplitByPunct {
		pre.steps = append(pre.steps, preStep{punct: true})
	}
	pre.steps = append(pre.steps, preStep{repl: "▁", prepend: prependAlways, split: true})

	// byte_fallback off whatever the trainer spec says: SpmConverter's
	// handle_byte_fallback is False for DeBERTa (transformers warns that the
	// fast tokenizer gives [UNK] where SentencePiece gives byte pieces).
	t, err := newTokenizer(path, m.pieces, m.scores, m.unk, false)
	if err != nil {
		return nil, err
	}
	t.norm, t.pre = steps, pre
	// The specials as added tokens: added_tokens_decoder when given, else the
	// piece ids, missing ones appended after the pieces in the order
	// transformers adds them (bos [CLS], eos [SEP], unk, sep, pad, cls, mask).
	var added []AddedToken
	var ids []int
	if opt.Added != nil {
		for id := range opt.Added {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			added = append(added, opt.Added[id])
		}
	} else {
		next := len(m.pieces)
		seen := map[string]bool{}
		for _, s := range []string{opt.CLS, opt.SEP, opt.UNK, opt.SEP, opt.PAD, opt.CLS, opt.Mask} {
			if seen[s] {
				continue
			}
			seen[s] = true
			id, ok := t.ids[s]
			if !ok {
				id, next = next, next+1
			}
			added = append(added, AddedToken{Content: s, Special: true})
			ids = append(ids, id)
		}
	}
	// Control and user-defined pieces are added tokens as well (SpmConverter:
	// "both user and control tokens are AddedTokens", normalized false), so
	// that they are never split, as SentencePiece treats user-defined symbols.
	have := map[int]bool{}
	for _, id := range ids {
		have[id] = true
	}
	for id, typ := range m.types {
		if (typ == pieceControl || typ == pieceUserDefined) && !have[id] {
			added = append(added, AddedToken{Content: m.pieces[id], Special: typ == pieceControl})
			ids = append(ids, id)
		}
	}
	if err := t.setAdded(added, ids); err != nil {
		return nil, err
	}
	if err := t.setSpecials(opt.CLS, opt.SEP, opt.PAD, opt.Mask); err != nil {
		return nil, err
	}
	return t, nil
}

// modelProto holds the fields of a ModelProto the tokenizer needs.
type modelProto struct {
	pieces       []string
	scores       []float64
	types        []int64
	modelType    int64
	unk          int
	byteFallback bool // read for the record; the converter ignores it
	charsmap     []byte
}

// newTokenizer builds the model part from the vocabulary.
func newTokenizer(source string, pieces []string, scores []float64, unk int, byteFB bool) (*Tokenizer, error) {
	if len(pieces) == 0 {
		return nil, fmt.Errorf("unigram: %s: the vocabulary is empty", source)
	}
	if unk < 0 || unk >= len(pieces) {
		return nil, fmt.Errorf("unigram: %s: unk_id %d is outside the vocabulary of %d pieces", source, unk, len(pieces))
	}
	t := &Tokenizer{
		pieces: pieces, scores: scores, ids: make(map[string]int, len(pieces)),
		unk: unk, byteFB: byteFB, minScore: math.Inf(1), source: source, vocabSize: len(pieces),
		cls: -1, sep: -1, pad: -1, mask: -1,
	}
	for i := range t.byteIDs {
		t.byteIDs[i] = -1
	}
	for i, p := range pieces {
		if !utf8.ValidString(p) {
			return nil, fmt.Errorf("unigram: %s: piece %d is not valid UTF-8", source, i)
		}
		if math.IsNaN(scores[i]) {
			return nil, fmt.Errorf("unigram: %s: piece %d (%q) has score NaN", source, i, p)
		}
		t.ids[p] = i // a repeated piece keeps its last id, as tokenizers' token_to_ids
		t.minScore = min(t.minScore, scores[i])
	}
	// A repeated piece is scored by its last entry too (Unigram::encode_optimized
	// reads vocab[token_to_ids[piece]]).
	t.trie = newTrie(t.ids)
	if byteFB {
		for b := range 256 {
			if id, ok := t.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
				t.byteIDs[b] = id
			}
		}
	}
	return t, nil
}

// setAdded registers the added tokens (content and id each).
func (t *Tokenizer) setAdded(added []AddedToken, ids []int) error {
	t.addedIDs = make(map[string]int, len(added))
	t.extra = map[int]string{}
	for k, a := range added {
		id := ids[k]
		if a.Content == "" {
			return fmt.Errorf("unigram: %s: added token %d has no content", t.source, id)
		}
		if id < 0 || id >= MaxPieces {
			return fmt.Errorf("unigram: %s: added token %q has id %d, outside [0, %d)", t.source, a.Content, id, MaxPieces)
		}
		if id < len(t.pieces) {
			if t.pieces[id] != a.Content {
				// HF keeps the added token's content for that id; so do we.
				t.extra[id] = a.Content
			}
		} else {
			t.extra[id] = a.Content
			t.vocabSize = max(t.vocabSize, id+1)
		}
		t.addedIDs[a.Content] = id
		t.addedFirst[a.Content[0]] = true
		t.added = append(t.added, addedToken{
			content: a.Content, id: id, lstrip: a.LStrip, rstrip: a.RStrip,
			singleWord: a.SingleWord, normalized: a.Normalized,
		})
	}
	return nil
}

// setSpecials finds the ids of [CLS], [SEP], [PAD] (required) and [MASK].
func (t *Tokenizer) setSpecials(cls, sep, pad, mask string) error {
	var missing []string
	get := func(s string, required bool) int {
		id, ok := t.ID(s)
		if !ok {
			if required {
				missing = append(missing, s)
			}
			return -1
		}
		return id
	}
	if t.cls < 0 {
		t.cls = get(cls, true)
	}
	if t.sep < 0 {
		t.sep = get(sep, true)
	}
	t.pad = get(pad, true)
	t.mask = get(mask, false)
	if len(missing) > 0 {
		return fmt.Errorf("unigram: %s: no %s token in the vocabulary or added tokens", t.source, strings.Join(missing, ", "))
	}
	return nil
}

// FromTokenizerJSON reads a HuggingFace tokenizer.json whose model is Unigram,
// with the normalizers (Sequence, Strip, Precompiled, Replace, Lowercase,
// NFC/NFD/NFKC/NFKD), pre-tokenizers (Sequence, Metaspace, Punctuation) and
// post-processor (TemplateProcessing or BertProcessing in the [CLS] A [SEP]
// B [SEP] layout) that DeBERTa-v2/v3 tokenizers use; anything else is an
// error naming the file and the part.
func FromTokenizerJSON(path string) (*Tokenizer, error) {
	b, err := boundedread.ReadFile(path, MaxTokenizerJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("unigram: %w", err)
	}
	return fromTokenizerJSONBytes(path, b)
}

// fromTokenizerJSONBytes is FromTokenizerJSON on the file's bytes.
func fromTokenizerJSONBytes(path string, b []byte) (*Tokenizer, error) {
	var f struct {
		AddedTokens []struct {
			ID int `json:"id"`
			AddedToken
		} `json:"added_tokens"`
		Normalizer    json.RawMessage `json:"normalizer"`
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Model         struct {
			Type         string       `json:"type"`
			UnkID        *int         `json:"unk_id"`
			Vocab        []vocabEntry `json:"vocab"`
			ByteFallback bool         `json:"byte_fallback"`
		} `json:"model"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("unigram: %s: %v", path, err)
	}
	if f.Model.Type != "Unigram" {
		return nil, fmt.Errorf("unigram: %s: model type is %q, not \"Unigram\"", path, f.Model.Type)
	}
	if f.Model.UnkID == nil {
		return nil, fmt.Errorf("unigram: %s: the Unigram model has no unk_id", path)
	}
	if len(f.Model.Vocab) > MaxPieces {
		return nil, fmt.Errorf("unigram: %s: %d pieces, over the limit of %d", path, len(f.Model.Vocab), MaxPieces)
	}
	pieces := make([]string, len(f.Model.Vocab))
	scores := make([]float64, len(f.Model.Vocab))
	for i, v := range f.Model.Vocab {
		pieces[i], scores[i] = v.piece, v.score
	}
	t, err := newTokenizer(path, pieces, scores, *f.Model.UnkID, f.Model.ByteFallback)
	if err != nil {
		return nil, err
	}
	if t.norm, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("unigram: %s: normalizer: %v", path, err)
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("unigram: %s: pre_tokenizer: %v", path, err)
	}
	added := make([]AddedToken, len(f.AddedTokens))
	ids := make([]int, len(f.AddedTokens))
	for i, a := range f.AddedTokens {
		added[i], ids[i] = a.AddedToken, a.ID
	}
	if err := t.setAdded(added, ids); err != nil {
		return nil, err
	}
	if t.cls, t.sep, err = parsePostProcessor(f.PostProcessor); err != nil {
		return nil, fmt.Errorf("unigram: %s: post_processor: %v", path, err)
	}
	if err := t.setSpecials("[CLS]", "[SEP]", "[PAD]", "[MASK]"); err != nil {
		return nil, err
	}
	for _, id := range []int{t.cls, t.sep} {
		if id >= t.vocabSize {
			return nil, fmt.Errorf("unigram: %s: post_processor: special id %d is outside the vocabulary of %d", path, id, t.vocabSize)
		}
	}
	return t, nil
}

// vocabEntry is one [piece, score] pair of a Unigram vocab.
type vocabEntry struct {
	piece string
	score float64
}

func (v *vocabEntry) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("vocab entry %.40s is not a [piece, score] pair", b)
	}
	if err := json.Unmarshal(pair[0], &v.piece); err != nil {
		return fmt.Errorf("vocab entry %.40s: the piece is not a string", b)
	}
	if err := json.Unmarshal(pair[1], &v.score); err != nil {
		return fmt.Errorf("vocab entry %.40s: the score is not a number", b)
	}
	return nil
}

type typed struct {
	Type string `json:"type"`
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

func parseNormalizer(raw json.RawMessage) ([]normStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var n struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
		StripLeft   *bool             `json:"strip_left"`
		StripRight  *bool             `json:"strip_right"`
		Charsmap    *string           `json:"precompiled_charsmap"`
		Pattern     struct {
			String *string `json:"String"`
			Regex  *string `json:"Regex"`
		} `json:"pattern"`
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	switch n.Type {
	case "Sequence":
		var out []normStep
		for i, r := range n.Normalizers {
			s, err := parseNormalizer(r)
			if err != nil {
				return nil, fmt.Errorf("normalizers[%d]: %v", i, err)
			}
			out = append(out, s...)
		}
		return out, nil
	case "Strip":
		l, r := true, true
		if n.StripLeft != nil {
			l = *n.StripLeft
		}
		if n.StripRight != nil {
			r = *n.StripRight
		}
		return []normStep{stripStep(l, r)}, nil
	case "Precompiled":
		if n.Charsmap == nil {
			return nil, errors.New("Precompiled has no precompiled_charsmap")
		}
		b, err := base64.StdEncoding.DecodeString(*n.Charsmap)
		if err != nil {
			return nil, fmt.Errorf("Precompiled: precompiled_charsmap is not base64: %v", err)
		}
		if len(b) == 0 { // tokenizers accepts an empty map and leaves the text as it is
			return nil, nil
		}
		c, err := parseCharsmap(b)
		if err != nil {
			return nil, err
		}
		return []normStep{charsmapStep(c)}, nil
	case "Replace":
		if n.Content == nil {
			return nil, errors.New("Replace has no content")
		}
		switch {
		case n.Pattern.String != nil:
			return []normStep{replaceStep(nil, *n.Pattern.String, *n.Content)}, nil
		case n.Pattern.Regex != nil:
			re, err := regexp.Compile(*n.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Replace: pattern %q: %v", *n.Pattern.Regex, err)
			}
			return []normStep{replaceStep(re, "", *n.Content)}, nil
		}
		return nil, errors.New("Replace has neither a String nor a Regex pattern")
	case "Lowercase":
		return []normStep{lowercaseStep()}, nil
	case "NFC":
		return []normStep{unicodeStep(norm.NFC)}, nil
	case "NFD":
		return []normStep{unicodeStep(norm.NFD)}, nil
	case "NFKC":
		return []normStep{unicodeStep(norm.NFKC)}, nil
	case "NFKD":
		return []normStep{unicodeStep(norm.NFKD)}, nil
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", n.Type)
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	var p preTokenizer
	if isNull(raw) {
		return p, nil
	}
	err := addPreTokenizer(raw, &p)
	return p, err
}

func addPreTokenizer(raw json.RawMessage, p *preTokenizer) error {
	var x struct {
		Type           string            `json:"type"`
		Pretokenizers  []json.RawMessage `json:"pretokenizers"`
		Replacement    *string           `json:"replacement"`
		PrependScheme  *string           `json:"prepend_scheme"`
		AddPrefixSpace *bool             `json:"add_prefix_space"`
		Split          *bool             `json:"split"`
		Behavior       string            `json:"behavior"`
	}
	if err := json.Unmarshal(raw, &x); err != nil {
		return err
	}
	switch x.Type {
	case "Sequence":
		for i, r := range x.Pretokenizers {
			if err := addPreTokenizer(r, p); err != nil {
				return fmt.Errorf("pretokenizers[%d]: %v", i, err)
			}
		}
		return nil
	case "Metaspace":
		st := preStep{repl: "▁", prepend: prependAlways, split: true}
		if x.Replacement != nil {
			if utf8.RuneCountInString(*x.Replacement) != 1 {
				return fmt.Errorf("Metaspace replacement %q is not one character", *x.Replacement)
			}
			st.repl = *x.Replacement
		}
		// Older files: add_prefix_space true/false (always/never); newer ones
		// prepend_scheme. split defaults to true.
		if x.AddPrefixSpace != nil && !*x.AddPrefixSpace {
			st.prepend = prependNever
		}
		if x.PrependScheme != nil {
			switch *x.PrependScheme {
			case "always":
				st.prepend = prependAlways
			case "first":
				st.prepend = prependFirst
			case "never":
				st.prepend = prependNever
			default:
				return fmt.Errorf("Metaspace prepend_scheme %q is none of always, first, never", *x.PrependScheme)
			}
		}
		if x.Split != nil {
			st.split = *x.Split
		}
		p.steps = append(p.steps, st)
		return nil
	case "Punctuation":
		if x.Behavior != "" && x.Behavior != "Isolated" {
			return fmt.Errorf("Punctuation behavior %q is not supported (only Isolated)", x.Behavior)
		}
		p.steps = append(p.steps, preStep{punct: true})
		return nil
	}
	return fmt.Errorf("unsupported pre_tokenizer type %q", x.Type)
}

// parsePostProcessor returns the ids of the [CLS]-like and [SEP]-like tokens
// of a post-processor in the [CLS] A [SEP] / [CLS] A [SEP] B [SEP] layout
// (-1, -1 when there is none: the specials are then found by name).
func parsePostProcessor(raw json.RawMessage) (cls, sep int, err error) {
	if isNull(raw) {
		return -1, -1, nil
	}
	type piece struct {
		SpecialToken *struct {
			ID     string `json:"id"`
			TypeID int    `json:"type_id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID     string `json:"id"`
			TypeID int    `json:"type_id"`
		} `json:"Sequence"`
	}
	var x struct {
		Type          string  `json:"type"`
		Single        []piece `json:"single"`
		Pair          []piece `json:"pair"`
		SpecialTokens map[string]struct {
			IDs []int `json:"ids"`
		} `json:"special_tokens"`
		CLS []json.RawMessage `json:"cls"`
		SEP []json.RawMessage `json:"sep"`
	}
	if err := json.Unmarshal(raw, &x); err != nil {
		return -1, -1, err
	}
	const layout = "is not the [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1 layout"
	switch x.Type {
	case "BertProcessing":
		id := func(v []json.RawMessage) (int, error) {
			var n int
			if len(v) != 2 || json.Unmarshal(v[1], &n) != nil {
				return -1, errors.New("BertProcessing cls/sep is not a [token, id] pair")
			}
			return n, nil
		}
		if cls, err = id(x.CLS); err != nil {
			return -1, -1, err
		}
		sep, err = id(x.SEP)
		return cls, sep, err
	case "TemplateProcessing":
		special := func(p piece, typ int) (int, bool) {
			if p.SpecialToken == nil || p.SpecialToken.TypeID != typ {
				return -1, false
			}
			st, ok := x.SpecialTokens[p.SpecialToken.ID]
			if !ok || len(st.IDs) != 1 {
				return -1, false
			}
			return st.IDs[0], true
		}
		seq := func(p piece, id string, typ int) bool {
			return p.Sequence != nil && p.Sequence.ID == id && p.Sequence.TypeID == typ
		}
		s, pr := x.Single, x.Pair
		if len(s) != 3 || !seq(s[1], "A", 0) || len(pr) != 5 || !seq(pr[1], "A", 0) || !seq(pr[3], "B", 1) {
			return -1, -1, errors.New("TemplateProcessing " + layout)
		}
		c0, ok0 := special(s[0], 0)
		s0, ok1 := special(s[2], 0)
		c1, ok2 := special(pr[0], 0)
		s1, ok3 := special(pr[2], 0)
		s2, ok4 := special(pr[4], 1)
		if !ok0 || !ok1 || !ok2 || !ok3 || !ok4 || c0 != c1 || s0 != s1 || s0 != s2 {
			return -1, -1, errors.New("TemplateProcessing " + layout)
		}
		return c0, s0, nil
	}
	return -1, -1, fmt.Errorf("unsupported post_processor type %q", x.Type)
}
