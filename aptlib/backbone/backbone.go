// Package backbone is the contract between a pretrained encoder family (BERT,
// RoBERTa, DeBERTa, ...) and the rest of the workbench: the methods put their
// prefixes and prompts into a backbone only through Hooks, the heads read only
// Output, and the workbench loads a model directory only through the Family
// registered for its config.json's "model_type".
//
// A family is one package (bert, roberta, deberta, debertav2) that registers a
// Family value in an init function; adding a family is that package plus a
// blank import in the list of families (families.go of package aptlib).
package backbone

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aptbench/apt/aptlib/safetensors"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Inputs of an encoder: int32 tensors of shape [B, T].
type Inputs struct {
	IDs     *Node // token ids
	TypeIDs *Node // token type (segment) ids; nil means all 0
	Mask    *Node // 1 for real tokens, 0 for padding; nil means no padding

	// PositionOffset (>= 0) shifts the absolute positions of the real tokens:
	// they start there instead of at the family's first position (BERT:
	// offset..offset+T-1; RoBERTa: pad+1+offset, ...). It is HF's
	// past_key_values_length, by which BertModel and RobertaModel shift the
	// positions when P-Tuning v2 hands its prefixes in as past_key_values
	// (the workbench's position_offset=prefix: layer 0's prefix length).
	// Families, or configs, without absolute position embeddings ignore it
	// (DeBERTa with position_biased_input false).
	PositionOffset int
}

// Hooks let a parameter-efficient method change the computation without a copy
// of the encoder. A nil hook, or a hook returning nil, costs nothing.
type Hooks struct {
	// Prefix is called for each layer i (0-based) with prev, that layer's input
	// [B, T, d] (the embedding output for i = 0), and the padding mask [B, T]
	// (bool). It returns key and value slots [B, p_i, d] that are split into
	// heads and put in front of the layer's projected keys and values (they do
	// not pass through the key/value projections), or nil, nil for p_i = 0.
	// Every query attends to every slot. How a family scores the slots (for
	// example DeBERTa: content scores only, no relative-position terms) is the
	// family's doc comment.
	Prefix func(layer int, prev, mask *Node) (key, value *Node)

	// Prompt, for prompt tuning, returns p embeddings [B, p, d] put in front of
	// the embedding output (after its LayerNorm). They take part in every layer
	// and are dropped from Output.Sequence; the pooler still reads the first
	// real token.
	Prompt func(embeddings *Node) *Node
}

// Output of an encoder.
type Output struct {
	Sequence *Node   // [B, T, d]: the last layer's output for the real input positions
	Hidden   []*Node // L+1 entries [B, T', d]: embedding output, then each layer's output (T' includes prompt slots)
	Mask     *Node   // [B, T] bool padding mask

	// Pool builds the family's pooled output [B, d] from Sequence (BERT's
	// pooler: dense + tanh on the first token; DeBERTa's ContextPooler). It is
	// called at most once, by Pooled.
	Pool   func(sequence *Node) *Node
	pooled *Node
}

// Pooled is the pooled first-token output [B, d]. It is built on first use: in
// GoMLX v0.26.0 the pure-Go backends fail at run time when a graph holds
// variables that no output uses, so token-level heads must not build the
// pooler at all.
func (o *Output) Pooled() *Node {
	if o.pooled == nil {
		if o.Pool == nil {
			panic("backbone: this family's Output has no pooler")
		}
		o.pooled = o.Pool(o.Sequence)
	}
	return o.pooled
}

// Config is a loaded config.json of some family. The methods, heads, trainer
// and workbench read only these; the family's own code reads its concrete type.
type Config interface {
	ModelType() string // the family's model_type
	NumLayers() int
	HiddenSize() int
	NumHeads() int
	// MaxLen is the longest input (in tokens, specials included) the
	// encoder's position table allows.
	MaxLen() int
	// HiddenDropout and AttentionDropout are the config's own dropout rates
	// (hidden_dropout_prob, attention_probs_dropout_prob).
	HiddenDropout() float64
	AttentionDropout() float64
	// NumParameters counts the backbone's weights (the pooler included when
	// the family has one).
	NumParameters() int
	Validate() error
}

// WeightSource is a set of checkpoint tensors by name: a safetensors.Set (a
// model directory) satisfies it.
type WeightSource interface {
	Info(name string) (safetensors.TensorInfo, bool)
	// Float32 returns the tensor's data converted to float32 and its shape.
	Float32(name string) ([]float32, []int, error)
}

// Family is one encoder architecture, registered by its model_type.
type Family struct {
	ModelType string   // config.json's "model_type" ("bert", "roberta", ...)
	Aliases   []string // other model_type strings that load the same way
	Doc       string   // one line for `show model` and the README's table

	// LoadConfig reads config.json (path) and applies the family's defaults.
	LoadConfig func(path string) (Config, error)
	// Forward computes the encoder, reading its variables from ctx.
	Forward func(ctx *context.Context, c Config, in Inputs, hooks *Hooks) *Output
	// LoadWeights puts the checkpoint's tensors into ctx under the family's
	// canonical names (trainable: FT), checking every name and shape.
	LoadWeights func(ctx *context.Context, c Config, src WeightSource, trainable bool) error
	// InitRandom fills ctx with random weights of c's shapes (tests, demo).
	InitRandom func(ctx *context.Context, c Config, seed uint64, trainable bool)
	// LoadTokenizer reads the directory's tokenizer files.
	LoadTokenizer func(dir string, c Config) (Tokenizer, error)

	// Scope is the context scope under which the backbone's variables live
	// (see VarPath): "bert" for BERT.
	Scope string
	// Tensors lists every backbone tensor of c under its canonical name, in
	// the order of the family's modeling code: the whole name mapping between
	// checkpoints and the graph code. It is what full fine-tuning trains,
	// saves (adapter.SaveModelDir) and fingerprints (trainer checkpoints).
	Tensors func(c Config) []TensorSpec
	// ConfigJSON returns a config.json for c as transformers writes it for
	// the family's base model, plus the extra keys (which win).
	ConfigJSON func(c Config, extra map[string]any) ([]byte, error)
	// PoolerTensors are the canonical names of the pooler's dense layer in a
	// checkpoint that has one: its weight [d, d] (PyTorch's [out, in]) and
	// its bias [d], which Tensors lists last when the checkpoint brought
	// them. A model fully fine-tuned on a checkpoint without pooler is saved
	// with its created pooler (ScopePooler) under these names
	// (adapter.SaveModelDir), so that the saved directory loads as a
	// checkpoint with its own pooler. Empty: the family cannot save one.
	PoolerTensors []string
	// TokenizerFiles are the tokenizer files of a model directory that a
	// saved fine-tuned model copies, when present; at least one of the
	// first two must be.
	TokenizerFiles []string
}

var (
	mu       sync.RWMutex
	families = map[string]*Family{}
)

// Register adds a family. It panics on a duplicate model_type (a programming
// error of the family packages).
func Register(f Family) {
	mu.Lock()
	defer mu.Unlock()
	for _, t := range append([]string{f.ModelType}, f.Aliases...) {
		if _, dup := families[t]; dup {
			panic(fmt.Sprintf("backbone: model_type %q registered twice", t))
		}
		families[t] = &f
	}
}

// Lookup returns the family of a model_type.
func Lookup(modelType string) (*Family, error) {
	mu.RLock()
	defer mu.RUnlock()
	if f, ok := families[modelType]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("model_type %q is not supported (supported: %s)", modelType, strings.Join(ModelTypes(), ", "))
}

// ModelTypes lists the registered families' model_type strings, sorted.
// Families register in init functions, so reading without the lock is safe
// after package initialisation (Lookup calls it holding the lock).
func ModelTypes() []string {
	var out []string
	for _, f := range families {
		if !slices.Contains(out, f.ModelType) {
			out = append(out, f.ModelType)
		}
	}
	sort.Strings(out)
	return out
}
