package adapter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/outguard"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ModelFormat is the value of the "apt_format" metadata key of the
// model.safetensors that SaveModelDir writes. Its "format" key is "pt", as
// HuggingFace transformers writes and requires.
const ModelFormat = "apt-model/1"

const keyModelFormat = "apt_format"

// ExtraVocabDir is the Meta.Extra key that names the directory SaveModelDir
// copies the tokenizer files from. Without it, Meta.BaseModel is used when it
// is a directory.
const ExtraVocabDir = "vocab_dir"

// SaveModelDir writes a fully fine-tuned model (method ft) as a HuggingFace
// model directory dir: config.json (the family's ConfigJSON: for BERT the
// bert.Config with HF's keys, plus architectures, torch_dtype and, for label
// heads, id2label/label2id), model.safetensors (every backbone tensor under
// its canonical name, the family's Tensors, plus "head.weight" [d, n] and
// "head.bias" [n]; metadata as an adapter's, with format "pt" and apt_format
// "apt-model/1") and the family's tokenizer files (BERT: vocab.txt,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json, whichever
// exist) copied from
// meta.Extra["vocab_dir"], or else from meta.BaseModel when it is a directory.
//
// When the backbone's checkpoint had no pooler (spec.CreatesPooler: real
// roberta-base and deberta-v3-base), the pooler created and fine-tuned with
// the head is written as the family's own pooler tensors
// (Family.PoolerTensors, "pooler.dense.weight" [out, in] and
// "pooler.dense.bias"), where the family's Tensors lists them for a
// checkpoint with a pooler: the saved directory is a checkpoint with a
// pooler, and computes what the fine-tuned model did.
//
// The directory is written atomically: into a temporary directory beside it,
// then renamed into place. An existing dir is replaced only when it is empty
// or was itself written by SaveModelDir; on any error it is left as it was
// and no temporary directory remains.
func SaveModelDir(dir string, ctx *context.Context, spec *model.Spec, meta Meta) (err error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("adapter: saving model directory %s: %s", dir, fmt.Sprintf(format, args...))
	}
	if spec == nil || spec.Backbone == nil {
		return fail("no model spec (or no backbone config in it)")
	}
	family, err := spec.Family()
	if err != nil {
		return fail("%v", err)
	}
	if !spec.Method.Kind.TrainsBackbone() {
		return fail("method %s keeps the backbone frozen: save its adapter with adapter.Save", spec.Method.Kind)
	}
	if spec.CreatesPooler() && len(family.PoolerTensors) != 2 {
		return fail("the backbone's checkpoint has no pooler and family %s names no checkpoint tensors for one (backbone.Family.PoolerTensors): the created pooler cannot be saved", family.ModelType)
	}
	if err := spec.Validate(); err != nil {
		return fail("%v", err)
	}
	if meta, err = meta.complete(spec); err != nil {
		return fail("%v", err)
	}
	vocabDir := meta.Extra[ExtraVocabDir]
	if vocabDir == "" {
		if fi, err := os.Stat(meta.BaseModel); err == nil && fi.IsDir() {
			vocabDir = meta.BaseModel
		}
	}
	if vocabDir == "" {
		return fail("no tokenizer to copy: set Meta.Extra[%q] (or Meta.BaseModel) to a directory holding vocab.txt or tokenizer.json", ExtraVocabDir)
	}
	vocab, err := findTokenizer(vocabDir, family.TokenizerFiles)
	if err != nil {
		return fail("%v", err)
	}
	// Never replace the directory the tokenizer comes from (the loaded model),
	// nor one holding it; then only an empty directory or one SaveModelDir wrote.
	var guard outguard.Guard
	guard.Dir("the model the tokenizer is copied from", vocabDir)
	if err := guard.CheckDir("saving model directory", dir); err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	if err := checkReplaceable(dir); err != nil {
		return fail("%v", err)
	}

	// Gather everything before touching the disk.
	var ts []safetensors.Tensor
	for _, bt := range family.Tensors(spec.Backbone) {
		data, err := variableData(ctx, TensorSpec{Name: family.Scope + "." + bt.Name, Shape: bt.Shape})
		if err != nil {
			return fail("%v", err)
		}
		ts = append(ts, safetensors.Tensor{Name: bt.Name, Shape: bt.Shape, Data: data})
	}
	d, n := spec.Backbone.HiddenSize(), spec.HeadOutputs()
	if spec.CreatesPooler() {
		pooler, err := createdPoolerTensors(ctx, family, d)
		if err != nil {
			return fail("%v", err)
		}
		ts = append(ts, pooler...)
	}
	for _, want := range []TensorSpec{{model.ScopeHead + ".weight", []int{d, n}}, {model.ScopeHead + ".bias", []int{n}}} {
		data, err := variableData(ctx, want)
		if err != nil {
			return fail("%v", err)
		}
		ts = append(ts, safetensors.Tensor{Name: want.Name, Shape: want.Shape, Data: data})
	}
	md := meta.metadata(spec)
	for _, k := range []string{KeyPrefixDropout, KeyInitStd, KeyGateBiasInit, KeyLayerScaleInit} {
		delete(md, k) // nothing of a prefix method in a fine-tuned model
	}
	md[KeyFormat] = "pt"
	md[keyModelFormat] = ModelFormat
	config, err := configJSON(family, spec, meta.Labels)
	if err != nil {
		return fail("%v", err)
	}

	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if errors.Is(err, fs.ErrNotExist) {
		return fail("the directory %s does not exist", filepath.Clean(parent))
	}
	if err != nil {
		return fail("%v", hideTemp(err, ""))
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = writeFileSync(filepath.Join(tmp, "config.json"), config); err != nil {
		return fail("%v", hideTemp(err, tmp))
	}
	if err = safetensors.Write(filepath.Join(tmp, safetensors.SingleFileName), ts, md); err != nil {
		return fail("%v", hideTemp(err, tmp))
	}
	for _, name := range vocab {
		if err = copyFileSync(filepath.Join(vocabDir, name), filepath.Join(tmp, name)); err != nil {
			return fail("copying the tokenizer: %v", hideTemp(err, tmp))
		}
	}
	if err = os.Chmod(tmp, 0o755); err != nil {
		return fail("%v", hideTemp(err, tmp))
	}
	if err = swapDir(tmp, dir); err != nil {
		return fail("%v", hideTemp(err, tmp))
	}
	return nil
}

// createdPoolerTensors are the created pooler's variables (PoolerLayout:
// input-major weight, pooled = act(x W + b)) as the checkpoint tensors of the
// family's own pooler (Family.PoolerTensors: torch.nn.Linear's [out, in]
// weight, so W transposed, and the bias), the last of the backbone's tensors
// as the family's Tensors lists them for a checkpoint with a pooler. The
// family's LoadWeights then finds a pooler in the saved directory, and its
// pooler computes act(x W^T' + b) = act(x W + b): the same numbers.
func createdPoolerTensors(ctx *context.Context, family *backbone.Family, d int) ([]safetensors.Tensor, error) {
	layout := PoolerLayout(d)
	w, err := variableData(ctx, layout[0])
	if err != nil {
		return nil, err
	}
	b, err := variableData(ctx, layout[1])
	if err != nil {
		return nil, err
	}
	wt := make([]float32, d*d)
	for i := range d { // input row i
		for o := range d {
			wt[o*d+i] = w[i*d+o]
		}
	}
	return []safetensors.Tensor{
		{Name: family.PoolerTensors[0], Shape: []int{d, d}, Data: wt},
		{Name: family.PoolerTensors[1], Shape: []int{d}, Data: b},
	}, nil
}

// hideTemp drops the temporary directory's name from a file-system error about
// a path inside it (or about creating it, when tmp is ""): the message already
// names the final directory, and the temporary one is gone after a failure.
func hideTemp(err error, tmp string) error {
	inTmp := func(p string) bool {
		return tmp == "" || p == tmp || strings.HasPrefix(p, tmp+string(filepath.Separator))
	}
	var pe *os.PathError
	if errors.As(err, &pe) && inTmp(pe.Path) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) && (inTmp(le.Old) || inTmp(le.New)) {
		return le.Err
	}
	return err
}

// findTokenizer lists the tokenizer files (of the family's list) present in
// dir; one of the first two must be.
func findTokenizer(dir string, tokenizerFiles []string) ([]string, error) {
	var found []string
	for _, name := range tokenizerFiles {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			found = append(found, name)
		}
	}
	if len(tokenizerFiles) >= 2 && !slices.Contains(found, tokenizerFiles[0]) && !slices.Contains(found, tokenizerFiles[1]) {
		return nil, fmt.Errorf("tokenizer directory %s has neither %s nor %s", dir, tokenizerFiles[0], tokenizerFiles[1])
	}
	return found, nil
}

// checkReplaceable allows writing dir when it does not exist, is empty, or is
// a model directory written by SaveModelDir (so that a model directory
// someone downloaded is never replaced by accident).
func checkReplaceable(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return err
	}
	f, err := safetensors.Open(filepath.Join(dir, safetensors.SingleFileName))
	if err == nil {
		defer f.Close()
		if f.Metadata()[keyModelFormat] == ModelFormat {
			return nil
		}
	}
	return fmt.Errorf("%s exists and is not a model directory written by SaveModelDir; remove it or choose another", dir)
}

// swapDir renames the complete directory tmp to dir. An existing dir is first
// moved aside to a fresh unique name beside it, then removed.
func swapDir(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	old, err := os.MkdirTemp(parent, "."+base+".old-*")
	if err != nil {
		return err
	}
	// os.Rename refuses an existing directory as the target: free the name.
	if err := os.Remove(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir) // put the previous directory back
		return err
	}
	syncDir(parent)
	return os.RemoveAll(old)
}

// configJSON is config.json: the family's ConfigJSON (for BERT the
// bert.Config with HF's keys, plus the keys transformers writes for a
// BertModel) and the label names.
func configJSON(family *backbone.Family, spec *model.Spec, labels []string) ([]byte, error) {
	extra := map[string]any{"torch_dtype": "float32"}
	if spec.Head != model.MultipleChoice {
		id2label, label2id := map[string]string{}, map[string]int{}
		for i, l := range labels {
			id2label[strconv.Itoa(i)] = l
			label2id[l] = i
		}
		extra["id2label"], extra["label2id"] = id2label, label2id
	}
	return family.ConfigJSON(spec.Backbone, extra)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
