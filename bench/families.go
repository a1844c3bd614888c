package bench

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strings"

	_ "github.com/aptbench/apt/aptlib" // registers every backbone family (aptlib/families.go)
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// baseShape is what a row's random model takes from the family's released
// base checkpoint besides the row's four sizes (layers, hidden size, heads,
// feed-forward size): config.json keys, in the names transformers gives them,
// and whether the checkpoint holds pooler tensors.
type baseShape struct {
	keys map[string]any
	// noPooler: the checkpoint has no pooler (it was saved from the
	// masked-LM model), so the workbench creates one and trains it with the
	// head, as P-Tuning v2's DeBERTa heads build a fresh ContextPooler.
	noPooler bool
}

// baseShapes are the families' base checkpoints, from their Hub config.json
// files: bert-base-uncased, roberta-base, microsoft/deberta-base and
// microsoft/deberta-v3-base. roberta-base, deberta-base and deberta-v3-base
// are saved without pooler tensors. A family without an entry gets its own
// config defaults (its LoadConfig of a file holding only the sizes) and a
// pooler.
var baseShapes = map[string]baseShape{
	"bert": {keys: map[string]any{"vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2,
		"layer_norm_eps": 1e-12}},
	"roberta": {noPooler: true, keys: map[string]any{"vocab_size": 50265, "max_position_embeddings": 514,
		"type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}},
	"deberta": {noPooler: true, keys: map[string]any{"vocab_size": 50265, "max_position_embeddings": 512,
		"relative_attention": true, "pos_att_type": "c2p|p2c", "max_relative_positions": -1,
		"position_biased_input": false, "type_vocab_size": 0, "layer_norm_eps": 1e-7, "pad_token_id": 0}},
	"deberta-v2": {noPooler: true, keys: map[string]any{"vocab_size": 128100, "max_position_embeddings": 512,
		"relative_attention": true, "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": true,
		"pos_att_type": "p2c|c2p", "max_relative_positions": -1, "position_biased_input": false,
		"type_vocab_size": 0, "layer_norm_eps": 1e-7, "pad_token_id": 0}},
}

// ModelType is the row's family: Family, or "bert" when it is empty (the rows
// of a BERT-only plan leave it empty, so their JSON is as before).
func (r Row) ModelType() string {
	if r.Family == "" {
		return backbone.DefaultModelType
	}
	return r.Family
}

// CreatesPooler reports whether the row's model has a created pooler (its
// family's base checkpoint has none): it trains with the head, in PyTorch too.
func (r Row) CreatesPooler() bool { return baseShapes[r.ModelType()].noPooler }

// Backbone returns the row's backbone configuration: config.json of the
// family's base checkpoint (baseShapes) at the row's sizes, read by the
// family's own LoadConfig, with max_position_embeddings raised when the row's
// sequence is longer than it allows.
func (r Row) Backbone() (backbone.Config, *backbone.Family, error) {
	fam, err := backbone.Lookup(r.ModelType())
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	keys := map[string]any{}
	for k, v := range baseShapes[fam.ModelType].keys {
		keys[k] = v
	}
	keys["model_type"] = fam.ModelType
	keys["num_hidden_layers"], keys["hidden_size"] = r.Layers, r.Hidden
	keys["num_attention_heads"], keys["intermediate_size"] = r.Heads, r.Inter
	cfg, err := loadConfig(fam, keys)
	if err != nil {
		return nil, nil, err
	}
	if short := r.Seq - cfg.MaxLen(); short > 0 {
		base, ok := keys["max_position_embeddings"].(int)
		if !ok {
			base = cfg.MaxLen()
		}
		keys["max_position_embeddings"] = base + short
		if cfg, err = loadConfig(fam, keys); err != nil {
			return nil, nil, err
		}
	}
	if cfg.MaxLen() < r.Seq {
		return nil, nil, fmt.Errorf("bench: %s at %s allows %d tokens, the row has %d", fam.ModelType, r.Describe(), cfg.MaxLen(), r.Seq)
	}
	return cfg, fam, nil
}

// loadConfig reads keys as a config.json through the family's LoadConfig
// (which takes a path).
func loadConfig(fam *backbone.Family, keys map[string]any) (backbone.Config, error) {
	data, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "apt-bench-config-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return fam.LoadConfig(f.Name())
}

// ConfigJSON is the row's backbone config.json as transformers writes it for
// the family (the PyTorch reference reads it).
func (r Row) ConfigJSON() ([]byte, error) {
	cfg, fam, err := r.Backbone()
	if err != nil {
		return nil, err
	}
	return fam.ConfigJSON(cfg, nil)
}

// initBackbone puts random weights of cfg's shapes into ctx through the
// family's LoadWeights, as a checkpoint of the family's base model would come:
// without the pooler tensors when the row's model creates its pooler, so the
// family's config says so (HasPooler false) and the pooled heads read the
// created one.
func initBackbone(ctx *context.Context, r Row, cfg backbone.Config, fam *backbone.Family, seed uint64, trainable bool) error {
	src := randomCheckpoint{seed: seed, shapes: map[string][]int{}}
	for _, spec := range fam.Tensors(cfg) {
		if r.CreatesPooler() && strings.HasPrefix(spec.Name, "pooler.") {
			continue
		}
		src.shapes[spec.Name] = spec.Shape
	}
	return fam.LoadWeights(ctx, cfg, src, trainable)
}

// randomCheckpoint is a backbone.WeightSource of random tensors, each drawn
// when read (so only one is held at a time besides the context's copy) with
// the families' own initialisation: LayerNorm gains 1, biases 0, the rest
// N(0, 0.02) (initializer_range of every family), from a stream of its own
// per tensor name.
type randomCheckpoint struct {
	seed   uint64
	shapes map[string][]int
}

func (c randomCheckpoint) Info(name string) (safetensors.TensorInfo, bool) {
	s, ok := c.shapes[name]
	return safetensors.TensorInfo{Name: name, DType: "F32", Shape: s}, ok
}

func (c randomCheckpoint) Float32(name string) ([]float32, []int, error) {
	shape, ok := c.shapes[name]
	if !ok {
		return nil, nil, fmt.Errorf("bench: no random tensor %q", name)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	switch {
	case strings.Contains(name, "LayerNorm.weight"):
		for i := range data {
			data[i] = 1
		}
	case strings.HasSuffix(name, "bias"): // .bias, q_bias, v_bias
	default:
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(c.seed, h.Sum64()))
		for i := range data {
			data[i] = float32(rng.NormFloat64() * 0.02)
		}
	}
	return data, shape, nil
}

// TorchArgs are the arguments of the PyTorch reference (bench/torch_ref.py)
// for the row on the given number of threads: its mode, method and shapes, the
// backbone's config.json, and whether the pooler is created.
func TorchArgs(r Row, threads int) ([]string, error) {
	cfg, err := r.ConfigJSON()
	if err != nil {
		return nil, err
	}
	args := []string{"--mode", r.Mode, "--method", r.Method, "--config", string(cfg),
		fmt.Sprint("--batch=", r.Batch), fmt.Sprint("--seq=", r.Seq), fmt.Sprint("--prefix=", r.Prefix),
		fmt.Sprint("--threads=", threads), fmt.Sprint("--steps=", r.Steps)}
	if r.CreatesPooler() {
		args = append(args, "--created-pooler")
	}
	return args, nil
}
