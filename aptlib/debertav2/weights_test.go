package debertav2

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// deberta-v3-base's config.json as the Hub serves it.
const v3BaseConfig = `{
  "model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
  "intermediate_size": 3072, "max_position_embeddings": 512, "relative_attention": true,
  "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": true,
  "pos_att_type": "p2c|c2p", "layer_norm_eps": 1e-7, "max_relative_positions": -1,
  "position_biased_input": false, "num_attention_heads": 12, "num_hidden_layers": 12,
  "type_vocab_size": 0, "vocab_size": 128100
}`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigDefaultsAndRealV3(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `{"model_type": "deberta-v2", "hidden_size": 64, "num_attention_heads": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	// DebertaV2Config's defaults and the modules' getattr defaults.
	if c.RelativeAttention || !c.PositionBiasedInput || c.TypeVocabSize != 0 || c.LayerNormEps != 1e-7 ||
		c.MaxRelPositions() != 512 || c.PositionBuckets != -1 || len(c.PosAttType) != 0 || c.ShareAttKey ||
		c.RelEmbeddingLayerNorm() || c.ConvKernelSize != 0 || c.ConvAct != "tanh" || c.ConvGroups != 1 ||
		c.EmbeddingSize != 64 || c.HeadSize() != 16 || c.PoolerHiddenSize != 64 || c.PoolerHiddenAct != "gelu" ||
		c.ScaleFactor() != 1 || c.VocabSize != 128100 || c.NumHiddenLayers != 24 {
		t.Errorf("defaults: %+v", c)
	}

	c, err = LoadConfig(writeConfig(t, v3BaseConfig))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.PosAttType, []string{"p2c", "c2p"}) || c.ScaleFactor() != 3 || c.AttSpan() != 256 || !c.RelEmbeddingLayerNorm() {
		t.Errorf("deberta-v3-base: pos_att_type %q, scale factor %d, att span %d", c.PosAttType, c.ScaleFactor(), c.AttSpan())
	}
	// 98,380,800 word embeddings + 1,536 LayerNorm + 12 x 7,087,872 layers +
	// 393,216 relative embeddings + 1,536 encoder.LayerNorm = 183,831,552 (HF's
	// "184M" for deberta-v3-base, 86M without the word embeddings), plus the
	// ContextPooler's 590,592.
	n := 0
	for _, s := range Tensors(c) {
		k := 1
		for _, d := range s.Shape {
			k *= d
		}
		n += k
	}
	if n != 183_831_552 || c.NumParameters() != 183_831_552+590_592 {
		t.Errorf("deberta-v3-base: %d encoder parameters (want 183831552), NumParameters %d", n, c.NumParameters())
	}
	var b backbone.Config = c
	if b.ModelType() != "deberta-v2" || b.HiddenSize() != 768 || b.NumLayers() != 12 || b.NumHeads() != 12 || b.MaxLen() != 512 {
		t.Errorf("backbone.Config view: %s %d %d %d %d", b.ModelType(), b.HiddenSize(), b.NumLayers(), b.NumHeads(), b.MaxLen())
	}
}

func TestPosAttTypeSpellings(t *testing.T) {
	for _, tc := range []struct {
		json string
		want []string
	}{
		{`" P2C | c2p "`, []string{"p2c", "c2p"}},
		{`["c2p"]`, []string{"c2p"}},
		{`null`, nil},
	} {
		var s StringList
		if err := json.Unmarshal([]byte(tc.json), &s); err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if !slices.Equal(s, tc.want) {
			t.Errorf("%s -> %q, want %q", tc.json, s, tc.want)
		}
	}
	var s StringList
	if err := json.Unmarshal([]byte(`3`), &s); err == nil || !strings.Contains(err.Error(), "pos_att_type") {
		t.Errorf("a number: error %v", err)
	}
}

func TestConfigRejects(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"model_type": "bert"}`, "model_type"},
		{`{"hidden_size": 30, "num_attention_heads": 4}`, "multiple"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "attention_head_size": 8}`, "attention_head_size"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "pos_att_type": "c2p|p2p"}`, `"p2p"`},
		{`{"hidden_size": 64, "num_attention_heads": 4, "norm_rel_ebd": "batch_norm"}`, "norm_rel_ebd"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "conv_kernel_size": 2}`, "odd"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "conv_kernel_size": 3, "conv_groups": 5}`, "conv_groups"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "conv_act": "mish"}`, "conv_act"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "pooler_hidden_size": 32}`, "pooler_hidden_size"},
		{`{"hidden_size": 64, "num_attention_heads": 4, "relative_attention": true, "position_buckets": 256, "max_relative_positions": 64}`, "position_buckets"},
		{`{"hidden_size": 64`, "not a valid config.json"},
	} {
		_, err := LoadConfig(writeConfig(t, tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %s", tc.json, err, tc.want)
		}
	}
}

// mapSource is an in-memory weight source.
type mapSource map[string][]float32

func (m mapSource) shape(name string) []int {
	// Shapes are stored under "name#shape" as float32 dims.
	dims := m[name+"#shape"]
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = int(d)
	}
	return out
}

func (m mapSource) Info(name string) (safetensors.TensorInfo, bool) {
	if _, ok := m[name]; !ok || strings.HasSuffix(name, "#shape") {
		return safetensors.TensorInfo{}, false
	}
	return safetensors.TensorInfo{Name: name, DType: "F32", Shape: m.shape(name)}, true
}

func (m mapSource) Float32(name string) ([]float32, []int, error) { return m[name], m.shape(name), nil }

func (m mapSource) put(name string, shape []int, data []float32) {
	dims := make([]float32, len(shape))
	for i, d := range shape {
		dims[i] = float32(d)
	}
	m[name], m[name+"#shape"] = data, dims
}

func TestLoadWeightsErrorsAndPooler(t *testing.T) {
	c, err := LoadConfigDir(filepath.Join("testdata", "tiny-debertav3"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenDir(filepath.Join("testdata", "tiny-debertav3"))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()

	// A masked-LM checkpoint: no pooler. It loads, says so, and the pooler
	// can then be created.
	ctx := context.New()
	has, err := LoadWeights(ctx, c, hidePooler{set}, false)
	if err != nil || has || HasPooler(ctx) {
		t.Fatalf("without pooler tensors: hasPooler %v, HasPooler %v, err %v", has, HasPooler(ctx), err)
	}
	InitPooler(ctx, c, 7, true)
	if !HasPooler(ctx) || !Variable(ctx, "pooler.dense.weight").Trainable {
		t.Error("InitPooler did not create a trainable pooler")
	}
	if v := Variable(ctx, "encoder.rel_embeddings.weight"); v == nil || v.Trainable {
		t.Error("backbone variables must be loaded frozen")
	}
	// The ignored position table (position_biased_input false) is not loaded.
	if Variable(ctx, "embeddings.position_embeddings.weight") != nil {
		t.Error("embeddings.position_embeddings.weight loaded although position_biased_input is false")
	}

	// Build an in-memory copy of the checkpoint to break.
	good := mapSource{}
	for _, spec := range append(Tensors(c), PoolerTensors(c)...) {
		name := "deberta." + spec.Name
		if strings.HasPrefix(spec.Name, "pooler.") {
			name = spec.Name
		}
		data, shape, err := set.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		good.put(name, shape, data)
	}
	if has, err := LoadWeights(context.New(), c, good, false); err != nil || !has {
		t.Fatalf("in-memory copy: hasPooler %v, err %v", has, err)
	}
	clone := func() mapSource {
		m := mapSource{}
		for k, v := range good {
			m[k] = v
		}
		return m
	}
	missing := clone()
	delete(missing, "deberta.encoder.layer.1.attention.self.key_proj.bias")
	wrongShape := clone()
	wrongShape.put("deberta.encoder.rel_embeddings.weight", []int{8, 32}, make([]float32, 8*32))
	onePooler := clone()
	delete(onePooler, "pooler.dense.bias")
	nan := clone()
	bad := slices.Clone(nan["deberta.encoder.LayerNorm.weight"])
	bad[3] = float32(math.NaN())
	nan["deberta.encoder.LayerNorm.weight"] = bad
	for _, tc := range []struct {
		name string
		src  mapSource
		want string
	}{
		{"missing tensor", missing, `"encoder.layer.1.attention.self.key_proj.bias"`},
		{"wrong shape", wrongShape, "config.json implies [16 32]"},
		{"one pooler tensor", onePooler, "only one of"},
		{"NaN", nan, "encoder.LayerNorm.weight"},
	} {
		_, err := LoadWeights(context.New(), c, tc.src, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %s", tc.name, err, tc.want)
		}
	}
}

// TestFamilyRegistered checks the registry entry and its functions.
func TestFamilyRegistered(t *testing.T) {
	f, err := backbone.Lookup("deberta-v2")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "tiny-debertav2")
	c, err := f.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if err := f.LoadWeights(context.New(), c, set, false); err != nil {
		t.Fatal(err)
	}
	// The family's tokenizer is package unigram's, with [CLS] A [SEP] B [SEP].
	if tok, err := f.LoadTokenizer(filepath.Join("..", "unigram", "testdata", "deberta"), c); err != nil {
		t.Errorf("LoadTokenizer: %v", err)
	} else if cls, ok := tok.ID("[CLS]"); !ok {
		t.Errorf("tokenizer has no [CLS]")
	} else if ids, types, _ := tok.EncodePairIDs("a", "b", 16); len(ids) < 5 || ids[0] != int32(cls) || types[len(types)-1] != 1 {
		t.Errorf("pair ids %v types %v: want [CLS] a [SEP] b [SEP], types 0 then 1", ids, types)
	}
	if err := f.LoadWeights(context.New(), otherConfig{c}, set, false); err == nil || !strings.Contains(err.Error(), "not a DeBERTa-v2 config") {
		t.Errorf("a foreign config: error %v", err)
	}
}

type otherConfig struct{ backbone.Config }

// TestForwardVariants runs randomly initialised encoders of configurations
// the golden checkpoints do not cover (relative attention off, c2p only with
// separate keys, relative attention without any pos_att_type, conv groups 1,
// log buckets with absolute positions) in inference and training mode: the
// graph must build and run on the test backend and give finite outputs of the
// right shapes, and dropout must change the training output.
func TestForwardVariants(t *testing.T) {
	backend := testbackend.New(t)
	base := `"hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 20, "vocab_size": 50, "max_position_embeddings": 32`
	for _, extra := range []string{
		`"relative_attention": false, "pos_att_type": "c2p|p2c"`,
		`"relative_attention": true, "pos_att_type": ["c2p"], "max_relative_positions": 4`,
		`"relative_attention": true, "norm_rel_ebd": "layer_norm"`,
		`"relative_attention": true, "pos_att_type": "p2c", "position_buckets": 4, "max_relative_positions": 8, "conv_kernel_size": 5, "type_vocab_size": 2`,
	} {
		t.Run(extra, func(t *testing.T) {
			c, err := LoadConfig(writeConfig(t, "{"+base+", "+extra+"}"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.New()
			InitRandom(ctx, c, 3, false)
			ids := [][]int32{{1, 5, 6, 7, 2, 0}, {1, 8, 2, 9, 10, 2}}
			mask := [][]int32{{1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1}}
			run := func(training bool) []float32 {
				ctx := ctx.Reuse()
				exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, mask *Node) (*Node, *Node) {
					ctx.SetTraining(ids.Graph(), training)
					out := Forward(ctx, c, backbone.Inputs{IDs: ids, Mask: mask}, nil)
					if got := out.Sequence.Shape().Dimensions; !slices.Equal(got, []int{2, 6, 16}) || len(out.Hidden) != 3 {
						t.Errorf("sequence shape %v, %d hidden states", got, len(out.Hidden))
					}
					return out.Sequence, out.Pooled()
				})
				if err != nil {
					t.Fatal(err)
				}
				res, err := exec.Exec(tensors.FromValue(ids), tensors.FromValue(mask))
				if err != nil {
					t.Fatal(err)
				}
				seq := tensors.MustCopyFlatData[float32](res[0])
				for _, x := range append(slices.Clone(seq), tensors.MustCopyFlatData[float32](res[1])...) {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatal("output not finite")
					}
				}
				return seq
			}
			eval, train := run(false), run(true)
			if slices.Equal(eval, train) {
				t.Error("training mode (dropout 0.1) gave the inference output")
			}
		})
	}
}
