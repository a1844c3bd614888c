package nbutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/internal/demomodel"
)

// DemoModelWithVocab returns a model directory with the demo model's shape and
// recipe (internal/demomodel: 4 layers, hidden size 64, 4 heads; RANDOM
// weights, with the encoder's matrices but the query and key projections drawn
// N(0, 1/fan_in) so that information flows through the untrained layers) and
// the WordPiece vocabulary vocabFile (lower-cased), e.g. the real
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

// writeDemoModel is internal/demomodel's recipe over vocab, without the demo
// task's planted sentiment words.
func writeDemoModel(dir string, vocab []byte) error {
	_, err := demomodel.Write(dir, vocab, demomodel.Options{
		Comment: "apt-workbench demo-sized model with a real vocabulary: RANDOM weights (not pretrained), written by notebooks/nbutil",
		Note:    "demo-sized model with a real vocabulary: random weights, not pretrained",
	})
	return err
}
