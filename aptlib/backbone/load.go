package backbone

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/boundedread"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// MaxConfigBytes caps the size of config.json (real ones are about a kilobyte).
const MaxConfigBytes = 1 << 20

// DefaultModelType is the family of a config.json without "model_type":
// transformers' BertModel loads such a config, and the Hub's BERT configs that
// have the key say "bert".
const DefaultModelType = "bert"

// ReadModelType returns config.json's "model_type" (DefaultModelType when it
// is absent or empty).
func ReadModelType(path string) (string, error) {
	data, err := boundedread.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return "", fmt.Errorf("reading config: %w", err)
	}
	var head struct {
		ModelType *string `json:"model_type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("%s: not a valid config.json: %w", path, err)
	}
	if head.ModelType == nil || *head.ModelType == "" {
		return DefaultModelType, nil
	}
	return *head.ModelType, nil
}

// LoadConfigDir reads DIR/config.json with the family its model_type names.
// An unregistered model_type is a one-line error naming the file and the
// supported model types.
func LoadConfigDir(dir string) (Config, *Family, error) {
	path := filepath.Join(dir, "config.json")
	mt, err := ReadModelType(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := Lookup(mt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := f.LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

// LoadDir reads a model directory's config.json (LoadConfigDir) and its
// weights (model.safetensors or the sharded index form) into ctx through the
// family, trainable only when trainable is true (full fine-tuning).
func LoadDir(ctx *context.Context, dir string, trainable bool) (Config, *Family, error) {
	c, f, err := LoadConfigDir(dir)
	if err != nil {
		return nil, nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, nil, err
	}
	defer set.Close()
	if err := f.LoadWeights(ctx, c, set, trainable); err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, f, nil
}
