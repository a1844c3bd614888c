package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aptbench/apt/internal/boundedread"
)

// File names of a HuggingFace model directory, as docs/adapters.md lists them.
const (
	configFile          = "config.json"
	weightsFile         = "model.safetensors"
	weightsIndexFile    = "model.safetensors.index.json"
	vocabFile           = "vocab.txt"
	tokenizerFile       = "tokenizer.json"
	tokenizerConfigFile = "tokenizer_config.json"
)

// TokenizerFiles are the tokenizer files fetched when the repo has them: the
// union of the families' backbone.Family.TokenizerFiles (BERT: vocab.txt;
// RoBERTa and DeBERTa v1: vocab.json + merges.txt; DeBERTa-v2/v3: spm.model;
// all: tokenizer.json and the two configuration files). The files are chosen
// before config.json says the family, so the list is every family's;
// aptlib's tests check it covers every registered family.
var TokenizerFiles = []string{vocabFile, "vocab.json", "merges.txt", "spm.model", tokenizerFile, tokenizerConfigFile, "special_tokens_map.json"}

// vocabularies are the files of which a model directory needs one (with
// vocab.json also merges.txt): a tokenizer every family can be built from.
var vocabularies = []string{vocabFile, tokenizerFile, "vocab.json", "spm.model"}

// hasVocabulary reports whether exists finds one of the vocabularies (for
// vocab.json, together with merges.txt).
func hasVocabulary(exists func(string) bool) bool {
	for _, f := range vocabularies {
		if exists(f) && (f != "vocab.json" || exists("merges.txt")) {
			return true
		}
	}
	return false
}

// otherWeights are weight formats this project cannot read; their presence
// without safetensors gets a conversion hint.
var otherWeights = []string{"pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack"}

// plan is what to fetch from a repo: small files first, then the weights
// (a single file, or the shards named by the index, which is a small file).
type plan struct {
	small   []string // config.json, vocabulary, tokenizer_config.json, the index
	weights []string // model.safetensors, or nil when sharded until the index is read
	sharded bool
}

// planFiles decides which of the repo's files to fetch.
func planFiles(repoID string, has map[string]int64) (*plan, error) {
	p := &plan{}
	if _, ok := has[configFile]; !ok {
		return nil, fmt.Errorf("model %q has no %s: not a transformers model repo", repoID, configFile)
	}
	p.small = append(p.small, configFile)
	for _, f := range TokenizerFiles {
		if _, ok := has[f]; ok {
			p.small = append(p.small, f)
		}
	}
	if !hasVocabulary(func(f string) bool { _, ok := has[f]; return ok }) {
		return nil, fmt.Errorf("model %q has no vocabulary (%s, or vocab.json with merges.txt)", repoID, strings.Join(vocabularies, ", "))
	}

	if _, ok := has[weightsFile]; ok {
		p.weights = []string{weightsFile}
		return p, nil
	}
	if _, ok := has[weightsIndexFile]; ok {
		p.small = append(p.small, weightsIndexFile)
		p.sharded = true
		return p, nil
	}
	var found []string
	for _, f := range otherWeights {
		if _, ok := has[f]; ok {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		return nil, fmt.Errorf("model %q has no %s, only %s: safetensors weights are required. "+
			"Convert them on a machine with Python: `python -c 'import transformers as t; "+
			"t.AutoModel.from_pretrained(\"%s\").save_pretrained(\"DIR\", safe_serialization=True); "+
			"t.AutoTokenizer.from_pretrained(\"%s\").save_pretrained(\"DIR\")'` and pass DIR, "+
			"or look on the Hub for a revision with safetensors (often a refs/pr/N \"Adding safetensors variant\")",
			repoID, weightsFile, strings.Join(found, ", "), repoID, repoID)
	}
	return nil, fmt.Errorf("model %q has no weights (%s or %s)", repoID, weightsFile, weightsIndexFile)
}

// shardsOf reads a model.safetensors.index.json and returns the shard files
// it names, sorted and without duplicates.
func shardsOf(indexPath string) ([]string, error) {
	data, err := boundedread.ReadFile(indexPath, 64<<20)
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("reading %s: %v", weightsIndexFile, err)
	}
	seen := map[string]bool{}
	var shards []string
	for _, f := range index.WeightMap {
		if f == "" || path.IsAbs(f) || strings.Contains(f, "..") || strings.Contains(f, "\\") {
			return nil, fmt.Errorf("%s names an illegal shard file %q", weightsIndexFile, f)
		}
		if !seen[f] {
			seen[f] = true
			shards = append(shards, f)
		}
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("%s names no shard files (empty weight_map)", weightsIndexFile)
	}
	sort.Strings(shards)
	return shards, nil
}

// checkModelDir returns nil when dir holds a complete model directory:
// config.json, the weights (single or all shards) and a vocabulary.
func checkModelDir(dir string) error {
	exists := func(f string) bool {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
		return err == nil && !fi.IsDir()
	}
	if !exists(configFile) {
		return fmt.Errorf("%s has no %s", dir, configFile)
	}
	if !hasVocabulary(exists) {
		return fmt.Errorf("%s has no vocabulary (%s, or vocab.json with merges.txt)", dir, strings.Join(vocabularies, ", "))
	}
	if exists(weightsFile) {
		return nil
	}
	if !exists(weightsIndexFile) {
		return fmt.Errorf("%s has no %s or %s", dir, weightsFile, weightsIndexFile)
	}
	shards, err := shardsOf(filepath.Join(dir, weightsIndexFile))
	if err != nil {
		return err
	}
	for _, s := range shards {
		if !exists(s) {
			return fmt.Errorf("%s lacks the shard %s", dir, s)
		}
	}
	return nil
}

// repoCacheDir is go-huggingface's cache folder of a model repo:
// {cache}/models--{owner}--{name}.
func repoCacheDir(cacheDir, repoID string) string {
	return filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

// cachedSnapshot returns the complete snapshot directory of repoID at revision
// in go-huggingface's cache, read from the repo-info file it saved there, or
// "" when there is none.
func cachedSnapshot(cacheDir, repoID, revision string) string {
	repoDir := repoCacheDir(cacheDir, repoID)
	sha := revision
	if data, err := boundedread.ReadFile(filepath.Join(repoDir, "info", filepath.FromSlash(revision)), 1<<20); err == nil {
		var info repoInfo
		if json.Unmarshal(data, &info) == nil && info.SHA != "" {
			sha = info.SHA
		}
	}
	dir := filepath.Join(repoDir, "snapshots", sha)
	if checkModelDir(dir) != nil {
		return ""
	}
	return dir
}
