// Package familydir writes tiny model directories of the registered backbone
// families (roberta, deberta, deberta-v2, bert) in the Hub's layout, for tests:
// config.json, model.safetensors with the family's own tensor names, and the
// tokenizer files the family reads (the byte-level BPE test vocabularies of
// aptlib/bpe/testdata for RoBERTa and DeBERTa v1; none for DeBERTa-v2, whose
// SentencePiece tokenizer is package aptlib/unigram).
//
// The weights are random but scaled so that tokens exchange information, as
// the method suite's BERT checkpoint (aptlib/method/testdata/make_apt_golden.py)
// is: under the families' own N(0, 0.02) initialisation the attention output is
// ~1e-3 of the residual stream and no parameter-efficient method can learn a
// sentence task. Here matrices are N(0, 1/fan_in), word embeddings N(0, 1), the other embedding tables N(0, 0.3),
// biases N(0, 0.1) and LayerNorm gains 1 + N(0, 0.1).
package familydir

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	_ "github.com/aptbench/apt/aptlib/bert"      // model_type "bert"
	_ "github.com/aptbench/apt/aptlib/deberta"   // model_type "deberta"
	_ "github.com/aptbench/apt/aptlib/debertav2" // model_type "deberta-v2"
	_ "github.com/aptbench/apt/aptlib/roberta"   // model_type "roberta"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// ModelTypes are the families Write knows, besides "bert".
var ModelTypes = []string{"roberta", "deberta", "deberta-v2"}

// Options of a model directory.
type Options struct {
	// VocabSize is config.json's vocab_size; 0 means one that fits the
	// family's test tokenizer (690 for the BPE vocabularies of 681 tokens).
	VocabSize int
	// NoPooler leaves the pooler tensors out, like the real roberta-base and
	// deberta-v3-base (saved from their masked-LM models).
	NoPooler bool
	// Seed of the weights.
	Seed uint64
	// NoTokenizer writes no tokenizer files.
	NoTokenizer bool
}

// Config is config.json of a tiny model of the family: 3 layers, d = 32,
// 4 heads, feed-forward 64, at most 64 tokens; the family's own keys set as its
// released checkpoints set them (RoBERTa: pad_token_id 1, one token type;
// DeBERTa v1: relative attention c2p|p2c, no absolute positions; DeBERTa-v2:
// deberta-v3's log buckets, shared keys and relative-embedding LayerNorm).
func Config(modelType string, vocabSize int) (map[string]any, error) {
	c := map[string]any{
		"model_type": modelType, "vocab_size": vocabSize, "hidden_size": 32,
		"num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 64,
		"hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
		"initializer_range": 0.02,
	}
	switch modelType {
	case "bert":
		c["max_position_embeddings"] = 64
		c["type_vocab_size"] = 2
		c["layer_norm_eps"] = 1e-12
		c["pad_token_id"] = 0
	case "roberta":
		c["architectures"] = []string{"RobertaModel"}
		c["max_position_embeddings"] = 66 // pad_token_id + 1 + 64 tokens
		c["type_vocab_size"] = 1
		c["layer_norm_eps"] = 1e-5
		c["pad_token_id"] = 1
		c["bos_token_id"] = 0
		c["eos_token_id"] = 2
	case "deberta":
		c["architectures"] = []string{"DebertaModel"}
		c["max_position_embeddings"] = 64
		c["relative_attention"] = true
		c["pos_att_type"] = "c2p|p2c"
		c["max_relative_positions"] = -1
		c["position_biased_input"] = false
		c["type_vocab_size"] = 0
		c["layer_norm_eps"] = 1e-7
		c["pad_token_id"] = 0
	case "deberta-v2":
		c["architectures"] = []string{"DebertaV2Model"}
		c["max_position_embeddings"] = 64
		c["relative_attention"] = true
		c["pos_att_type"] = "p2c|c2p"
		c["position_buckets"] = 8
		c["max_relative_positions"] = -1
		c["share_att_key"] = true
		c["norm_rel_ebd"] = "layer_norm"
		c["position_biased_input"] = false
		c["type_vocab_size"] = 0
		c["layer_norm_eps"] = 1e-7
		c["pad_token_id"] = 0
	default:
		return nil, fmt.Errorf("familydir: no tiny config for model_type %q", modelType)
	}
	return c, nil
}

// Write creates the model directory dir (which must exist) for modelType.
func Write(dir, modelType string, o Options) error {
	if o.VocabSize == 0 {
		o.VocabSize = 690
		if modelType == "bert" {
			o.VocabSize = 99
		}
	}
	c, err := Config(modelType, o.VocabSize)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fam, err := backbone.Lookup(modelType)
	if err != nil {
		return err
	}
	cfg, err := fam.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xfa51))
	var ts []safetensors.Tensor
	for _, spec := range fam.Tensors(cfg) {
		if o.NoPooler && strings.HasPrefix(spec.Name, "pooler.") {
			continue
		}
		ts = append(ts, safetensors.Tensor{Name: spec.Name, Shape: spec.Shape, Data: weights(rng, spec)})
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if o.NoTokenizer {
		return nil
	}
	return CopyTokenizer(dir, modelType)
}

// weights draws one tensor's scaled random values (see the package doc).
func weights(rng *rand.Rand, spec backbone.TensorSpec) []float32 {
	n := 1
	for _, d := range spec.Shape {
		n *= d
	}
	out := make([]float32, n)
	var mean, std float64
	name := spec.Name
	switch {
	case strings.Contains(name, "LayerNorm.weight"):
		mean, std = 1, 0.1
	case strings.HasSuffix(name, "bias"): // .bias, q_bias, v_bias
		std = 0.1
	case strings.Contains(name, "word_embeddings"):
		std = 1
	case strings.Contains(name, "embeddings.") || strings.Contains(name, "rel_embeddings"):
		std = 0.3
	default:
		fanIn := 1
		for _, d := range spec.Shape[1:] {
			fanIn *= d
		}
		std = 1 / math.Sqrt(float64(fanIn))
	}
	for i := range out {
		out[i] = float32(mean + std*rng.NormFloat64())
	}
	return out
}

// tokenizerDirs are the test vocabularies of each family, relative to the
// repository root.
var tokenizerDirs = map[string]string{
	"roberta": "aptlib/bpe/testdata/roberta",
	"deberta": "aptlib/bpe/testdata/deberta",
	"bert":    "aptlib/method/testdata/tiny-bert-3l",
}

// TokenizerDir is the directory of the family's test vocabulary, or "" when
// the repository has none for it (deberta-v2).
func TokenizerDir(modelType string) string {
	rel, ok := tokenizerDirs[modelType]
	if !ok {
		return ""
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

// CopyTokenizer copies the family's test tokenizer files into dir: those of
// the family's TokenizerFiles that its test vocabulary has. For deberta-v2 it
// writes UnigramTokenizerJSON as tokenizer.json instead.
func CopyTokenizer(dir, modelType string) error {
	if modelType == "deberta-v2" {
		data, err := UnigramTokenizerJSON()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644)
	}
	src := TokenizerDir(modelType)
	if src == "" {
		return fmt.Errorf("familydir: no test tokenizer for model_type %q", modelType)
	}
	fam, err := backbone.Lookup(modelType)
	if err != nil {
		return err
	}
	copied := 0
	for _, name := range fam.TokenizerFiles {
		data, err := os.ReadFile(filepath.Join(src, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
		copied++
	}
	if copied == 0 {
		return fmt.Errorf("familydir: %s has none of %v", src, fam.TokenizerFiles)
	}
	return nil
}

// UnigramTokenizerJSON is a small SentencePiece Unigram tokenizer.json in the
// form HuggingFace tokenizers writes for deberta-v3 (Metaspace pre-tokenizer,
// [CLS] A [SEP] B [SEP] template, the specials [PAD]=0 [CLS]=1 [SEP]=2
// [UNK]=3 and [MASK]=4): 99 entries, the pieces "▁"+letter, the letters and
// a few words with log-probability scores. It is test data for a model
// directory's layout; the tokenizer itself is package aptlib/unigram's.
func UnigramTokenizerJSON() ([]byte, error) {
	specials := []string{"[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"}
	var vocab [][]any
	var added []map[string]any
	for i, sp := range specials {
		vocab = append(vocab, []any{sp, 0.0})
		added = append(added, map[string]any{"id": i, "content": sp, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true})
	}
	vocab = append(vocab, []any{"\u2581", -3.0})
	for c := 'a'; c <= 'z'; c++ {
		vocab = append(vocab, []any{"\u2581" + string(c), -4.0}, []any{string(c), -5.0})
	}
	for _, w := range []string{"the", "cat", "sat", "on", "mat", "dog", "is", "not", "a", "good", "bad",
		"yes", "no", "movie", "great", "it", "was", "and", "of", "to", "in", "that", "this", "he", "she", "they",
		"we", "you", "i", "be", "have", "do", "say", "go", "get", "make", "know", "think", "take", "see", "come"} {
		vocab = append(vocab, []any{"\u2581" + w, -2.0 - float64(len(w))/10})
	}
	template := func(seq ...string) []any {
		var out []any
		for _, s := range seq {
			switch s {
			case "A", "B":
				tid := 0
				if s == "B" {
					tid = 1
				}
				out = append(out, map[string]any{"Sequence": map[string]any{"id": s, "type_id": tid}})
			default:
				out = append(out, map[string]any{"SpecialToken": map[string]any{"id": s[:len(s)-1], "type_id": int(s[len(s)-1] - '0')}})
			}
		}
		return out
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens":  added,
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": template("[CLS]0", "A", "[SEP]0"),
			"pair":   template("[CLS]0", "A", "[SEP]0", "B", "[SEP]1"),
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{1}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{2}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
		"model":   map[string]any{"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": false},
	}
	out, err := json.MarshalIndent(tok, "", "  ")
	return append(out, '\n'), err
}
