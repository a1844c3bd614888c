package nbutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/familydir"
)

// Families are the backbone families the workbench loads (config.json's
// model_type), sorted: bert, deberta, deberta-v2, roberta.
func Families() []string { return backbone.ModelTypes() }

// TinyFamilyModel returns a tiny model directory of the family modelType in
// the layout the HuggingFace Hub serves (internal/familydir): config.json
// with the family's own keys, model.safetensors with the family's tensor
// names and RANDOM weights (3 layers, hidden size 32, 4 heads), and the
// family's tokenizer files. Like the released roberta-base, deberta-base and
// deberta-v3-base, the RoBERTa and DeBERTa directories have no pooler
// tensors (the workbench then creates one); the BERT one has its pooler.
//
// The tokenizers can split the demo task's text: BERT gets the demo model's
// WordPiece vocabulary (the family's test vocabulary has only placeholder
// words), RoBERTa and DeBERTa v1 the byte-level BPE test vocabularies of
// aptlib/bpe (any text, in small pieces), DeBERTa-v2 a small SentencePiece
// Unigram tokenizer.json (letters and a few common words; punctuation is
// [UNK]).
//
// The directory is built under the user's cache directory, named by the
// family and a hash of its files, so every cell of a notebook gets the same
// directory (and adapters trained on it load again), and a changed recipe
// gets a new one.
func TinyFamilyModel(modelType string) (string, error) {
	if !slices.Contains(Families(), modelType) {
		return "", fmt.Errorf("tiny model: unknown family %q (families: %v)", modelType, Families())
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	parent := filepath.Join(base, "apt-workbench")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, ".tiny-"+modelType+"-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // gone after the rename; else the copy not needed
	if err := writeTinyFamily(tmp, modelType); err != nil {
		return "", fmt.Errorf("tiny %s model: %w", modelType, err)
	}
	sum, err := dirHash(tmp)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(parent, "tiny-"+modelType+"-"+sum)
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return dir, nil
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, e := os.Stat(filepath.Join(dir, "model.safetensors")); e == nil { // built meanwhile
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// writeTinyFamily writes the directory TinyFamilyModel describes into dir.
func writeTinyFamily(dir, modelType string) error {
	if modelType != "bert" {
		return familydir.Write(dir, modelType, familydir.Options{Seed: 7, NoPooler: true})
	}
	demo, err := aptlib.DemoModelDir()
	if err != nil {
		return err
	}
	vocab, err := os.ReadFile(filepath.Join(demo, "vocab.txt"))
	if err != nil {
		return err
	}
	n := len(strings.Split(strings.TrimRight(string(vocab), "\n"), "\n")) // one token a line
	if err := familydir.Write(dir, "bert", familydir.Options{Seed: 7, VocabSize: n, NoTokenizer: true}); err != nil {
		return err
	}
	for _, name := range []string{"vocab.txt", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(demo, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// dirHash is the first 12 hex digits of the SHA-256 over dir's file names
// and contents, in name order.
func dirHash(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
