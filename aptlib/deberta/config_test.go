package deberta

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDefaultsAreDebertaConfig: keys absent from config.json take
// DebertaConfig's class defaults (relative attention off, absolute positions
// on, no token types, eps 1e-7, M = max_position_embeddings, gelu pooler).
func TestDefaultsAreDebertaConfig(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `{"model_type": "deberta"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.RelativeAttention || !c.PositionBiasedInput || c.TypeVocabSize != 0 || c.LayerNormEps != 1e-7 ||
		c.MaxRelative() != 512 || c.PoolerHiddenAct != "gelu" || c.PadID() != 0 || len(c.PosAttType) != 0 ||
		c.ScaleFactor() != 1 || c.Embedding() != 768 || c.InitializerRange != 0.02 {
		t.Errorf("defaults: %+v", c)
	}
	if c.ModelType() != "deberta" || c.NumLayers() != 12 || c.HiddenSize() != 768 || c.NumHeads() != 12 || c.MaxLen() != 512 {
		t.Errorf("accessors: %q %d %d %d %d", c.ModelType(), c.NumLayers(), c.HiddenSize(), c.NumHeads(), c.MaxLen())
	}
}

// TestDebertaBaseShape: microsoft/deberta-base's config.json (as on the Hub,
// pos_att_type a string) loads with sf 3 and DebertaModel's 138,601,728
// parameters plus ContextPooler's 590,592; the position table is not counted
// (position_biased_input false), rel_embeddings is 2*512 rows.
func TestDebertaBaseShape(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `{"model_type": "deberta", "attention_probs_dropout_prob": 0.1,
		"hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
		"intermediate_size": 3072, "max_position_embeddings": 512, "relative_attention": true,
		"pos_att_type": "c2p|p2c", "layer_norm_eps": 1e-7, "max_relative_positions": -1,
		"position_biased_input": false, "num_attention_heads": 12, "num_hidden_layers": 12,
		"type_vocab_size": 0, "vocab_size": 50265}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.PosAttType, []string{"c2p", "p2c"}) || c.ScaleFactor() != 3 {
		t.Errorf("pos_att_type %q, sf %d; want [c2p p2c], 3", c.PosAttType, c.ScaleFactor())
	}
	if got, want := c.NumParameters(), 138601728+590592; got != want {
		t.Errorf("NumParameters() = %d, want %d", got, want)
	}
}

// TestPosAttTypeForms: a string is split on "|", lower-cased and stripped; a
// list is kept; null is none.
func TestPosAttTypeForms(t *testing.T) {
	for body, want := range map[string][]string{
		`"p2c|c2p"`:      {"p2c", "c2p"},
		`" C2P | P2C "`:  {"c2p", "p2c"},
		`["c2p", "p2c"]`: {"c2p", "p2c"},
		`"c2p"`:          {"c2p"},
		`null`:           nil,
	} {
		c, err := LoadConfig(writeConfig(t, `{"pos_att_type": `+body+`}`))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if !slices.Equal(c.PosAttType, want) {
			t.Errorf("%s: got %q, want %q", body, c.PosAttType, want)
		}
	}
}

// TestBadConfigs: each bad key is a one-line error naming it.
func TestBadConfigs(t *testing.T) {
	for body, want := range map[string]string{
		`{"model_type": "deberta-v2"}`:                  `model_type "deberta-v2"`,
		`{"hidden_size": 30, "num_attention_heads": 4}`: "not a multiple",
		`{"pos_att_type": "c2p|p2p"}`:                   `pos_att_type "p2p"`,
		`{"pos_att_type": 3}`:                           "pos_att_type",
		`{"hidden_act": "swiglu"}`:                      "hidden_act",
		`{"pooler_hidden_act": "nope"}`:                 "pooler_hidden_act",
		`{"pooler_hidden_size": 1024}`:                  "pooler_hidden_size 1024",
		`{"talking_head": true}`:                        "talking_head",
		`{"initializer_range": -1}`:                     "initializer_range",
		`{"layer_norm_eps": 0}`:                         "layer_norm_eps",
		`{"pad_token_id": 50265}`:                       "pad_token_id",
		`{"type_vocab_size": -1}`:                       "type_vocab_size",
		`{"num_hidden_layers": 0}`:                      "num_hidden_layers",
		`{"vocab_size": "many"}`:                        "not a valid config.json",
	} {
		_, err := LoadConfig(writeConfig(t, body))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want a one-line error containing %q, got %v", body, want, err)
		}
	}
}

// TestJSONRoundTrip: JSON's config.json loads back to the same configuration,
// for each test checkpoint's config.
func TestJSONRoundTrip(t *testing.T) {
	for _, name := range variantNames {
		c, err := LoadConfigDir(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		data, err := c.JSON(map[string]any{"torch_dtype": "float32"})
		if err != nil {
			t.Fatal(err)
		}
		back, err := LoadConfig(writeConfig(t, string(data)))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, data)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s: round trip gives %+v, want %+v", name, back, c)
		}
	}
}
