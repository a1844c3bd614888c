package backbone_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	_ "github.com/aptbench/apt/aptlib/bert" // registers model_type "bert"
)

func TestLookupBERT(t *testing.T) {
	f, err := backbone.Lookup("bert")
	if err != nil {
		t.Fatal(err)
	}
	if f.ModelType != "bert" || f.Scope != "bert" || f.Forward == nil || f.LoadConfig == nil || f.LoadWeights == nil ||
		f.InitRandom == nil || f.LoadTokenizer == nil || f.Tensors == nil || f.ConfigJSON == nil || len(f.TokenizerFiles) < 2 {
		t.Errorf("bert family incomplete: %+v", f)
	}
	if got := backbone.ModelTypes(); len(got) == 0 || got[0] != "bert" {
		t.Errorf("ModelTypes() = %v, want bert among them", got)
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := backbone.Lookup("gpt2")
	want := `model_type "gpt2" is not supported (supported: ` + strings.Join(backbone.ModelTypes(), ", ") + ")"
	if err == nil || err.Error() != want {
		t.Errorf("Lookup(gpt2) error %v, want %q", err, want)
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"bert" registered twice`) {
			t.Errorf("recover() = %v, want a duplicate registration panic", r)
		}
	}()
	backbone.Register(backbone.Family{ModelType: "bert"})
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadConfigDirByModelType(t *testing.T) {
	// No model_type: BERT, as transformers' BertModel loads it.
	c, f, err := backbone.LoadConfigDir(writeConfig(t, `{"hidden_size": 64, "num_attention_heads": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.ModelType != "bert" || c.ModelType() != "bert" || c.HiddenSize() != 64 || c.NumHeads() != 4 {
		t.Errorf("family %s, config %s d=%d heads=%d", f.ModelType, c.ModelType(), c.HiddenSize(), c.NumHeads())
	}

	dir := writeConfig(t, `{"model_type": "roberta", "hidden_size": 64}`)
	_, _, err = backbone.LoadConfigDir(dir)
	want := filepath.Join(dir, "config.json") + `: model_type "roberta" is not supported (supported: ` + strings.Join(backbone.ModelTypes(), ", ") + ")"
	if err == nil || err.Error() != want {
		t.Errorf("roberta config: %v, want %q", err, want)
	}

	if _, _, err := backbone.LoadConfigDir(writeConfig(t, `{"model_type": 3}`)); err == nil || !strings.Contains(err.Error(), "not a valid config.json") {
		t.Errorf("bad model_type: %v", err)
	}
}
