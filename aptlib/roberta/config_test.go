package roberta

import (
	"os"
	"path/filepath"
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

// TestDefaultsAreRobertaBase: keys absent from config.json take roberta-base's
// values; its parameter count is RobertaModel's (with pooler) 124,645,632 and
// its 514 position rows hold 512 tokens.
func TestDefaultsAreRobertaBase(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `{"model_type": "roberta"}`))
	if err != nil {
		t.Fatal(err)
	}
	b := c.BERT
	if b.PadTokenID != 1 || b.LayerNormEps != 1e-5 || b.TypeVocabSize != 1 || b.MaxPositionEmbeddings != 514 || b.VocabSize != 50265 {
		t.Errorf("defaults: pad %d eps %g types %d positions %d vocab %d; want roberta-base's 1, 1e-5, 1, 514, 50265",
			b.PadTokenID, b.LayerNormEps, b.TypeVocabSize, b.MaxPositionEmbeddings, b.VocabSize)
	}
	if got := c.MaxLen(); got != 512 {
		t.Errorf("MaxLen() = %d, want 512", got)
	}
	if got := c.NumParameters(); got != 124645632 {
		t.Errorf("NumParameters() = %d, want roberta-base's 124645632", got)
	}
	if c.ModelType() != "roberta" || c.NumLayers() != 12 || c.HiddenSize() != 768 || c.NumHeads() != 12 || c.PadID() != 1 {
		t.Errorf("accessors: %q %d %d %d %d", c.ModelType(), c.NumLayers(), c.HiddenSize(), c.NumHeads(), c.PadID())
	}
	if _, known := c.CheckpointHasPooler(); known {
		t.Error("CheckpointHasPooler is known before any checkpoint was loaded")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"model_type": "bert"}`, `model_type "bert" is not RoBERTa`},
		{`{"model_type": "roberta", "pad_token_id": 513}`, "leaves no position"},
		{`{"model_type": "roberta", "pad_token_id": 60000}`, "pad_token_id 60000 is outside the vocabulary"},
		{`{"model_type": "roberta", "pad_token_id": -1}`, "pad_token_id -1"},
		{`{"model_type": "roberta", "hidden_size": 100}`, "not a multiple of num_attention_heads"},
		{`{"model_type": "roberta", "hidden_act": "mish"}`, `hidden_act "mish"`},
		{`{"model_type": "roberta", "position_embedding_type": "relative_key"}`, "position_embedding_type"},
		{`{"model_type": "roberta", "vocab_size": "big"}`, "not a valid config.json"},
	} {
		p := writeConfig(t, tc.body)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: want an error naming %s and containing %q, got %v", tc.body, p, tc.want, err)
		}
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: got %v", err)
	}
}

// TestConfigJSONRoundTrip: the config.json written for a saved model reads
// back the same and says RobertaModel.
func TestConfigJSONRoundTrip(t *testing.T) {
	c, err := LoadConfigDir(filepath.Join("testdata", "tiny-roberta-plain"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.JSON(map[string]any{"torch_dtype": "float32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"RobertaModel"`, `"model_type": "roberta"`, `"pad_token_id": 1`, `"torch_dtype": "float32"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("config.json lacks %s:\n%s", want, data)
		}
	}
	back, err := LoadConfig(writeConfig(t, string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if back.BERT != c.BERT {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", back.BERT, c.BERT)
	}
}
