package nbutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DemoModelWithVocab returns a model directory with the demo model's shape and
// recipe (4 layers, hidden size 64, 4 heads; RANDOM weights, with the encoder's
// matrices but the query and key projections drawn N(0, 1/fan_in) so that
// information flows through the untrained layers, as data/gen does for the
// demo) and the WordPiece vocabulary vocabFile (lower-cased), e.g. the real
// bert-base-uncased vocab.txt.
//
// The demo model's own vocabulary has 134 pieces, made for the demo task:
// real benchmark text falls apart into single letters with it, four to five
// times as many tokens, most cut off at 128. With a real vocabulary words stay
// words, so inputs are short and token labels fall on real words.
//
// The directory is built once under the user's cache directory, named by a
// hash of the vocabulary, and reused.
func DemoModelWithVocab(vocabFile string) (string, error) {
	vocab, err := os.ReadFile(vocabFile)
	if err != nil {
		return "", fmt.Errorf("demo model with vocabulary: %w", err)
	}
	const recipe = "demo-vocab/1 layers=4 hidden=64 heads=4 ffn=256 pos=128 seed=20230709"
	h := sha256.Sum256(append([]byte(recipe+"\n"), vocab...))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "apt-workbench", "demo-vocab-"+hex.EncodeToString(h[:])[:12])
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".demo-vocab-*")
	if err != nil {
		return "", err
	}
	if err := writeDemoModel(tmp, vocab); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, e := os.Stat(filepath.Join(dir, "model.safetensors")); e == nil { // built meanwhile
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

func writeDemoModel(dir string, vocab []byte) error {
	n := bytes.Count(vocab, []byte("\n"))
	if len(vocab) > 0 && vocab[len(vocab)-1] != '\n' {
		n++
	}
	cfg := bert.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads = n, 64, 4, 4
	cfg.IntermediateSize, cfg.MaxPositionEmbeddings = 256, 128
	cfgJSON, err := cfg.JSON(map[string]any{
		"_comment": "apt-workbench demo-sized model with a real vocabulary: RANDOM weights (not pretrained), written by notebooks/nbutil"})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"config.json":           cfgJSON,
		"vocab.txt":             vocab,
		"tokenizer_config.json": []byte(`{"do_lower_case": true}` + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	ctx := context.New()
	bert.InitRandom(ctx, cfg, 20230709, false)
	rng := rand.New(rand.NewPCG(20230709, 1))
	var list []safetensors.Tensor
	for _, spec := range bert.Tensors(cfg) {
		data := tensors.MustCopyFlatData[float32](bert.Variable(ctx, spec.Name).MustValue())
		isQK := strings.Contains(spec.Name, "attention.self.query") || strings.Contains(spec.Name, "attention.self.key")
		if len(spec.Shape) == 2 && !strings.HasPrefix(spec.Name, "embeddings.") && !isQK {
			std := 1 / math.Sqrt(float64(spec.Shape[1]))
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		}
		list = append(list, safetensors.Tensor{Name: spec.Name, Shape: spec.Shape, Data: data})
	}
	return safetensors.Write(filepath.Join(dir, "model.safetensors"), list, map[string]string{
		"format": "pt", "note": "demo-sized model with a real vocabulary: random weights, not pretrained"})
}
