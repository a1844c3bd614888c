package adapter

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// newFT is a fine-tuned model: the tiny backbone with some weights changed
// (as training would) and a head.
func newFT(t *testing.T, head model.Head) (*context.Context, *model.Spec) {
	t.Helper()
	ctx, spec := newModel(t, method.FT, nil, head)
	for i, name := range []string{"embeddings.LayerNorm.weight", "encoder.layer.1.output.dense.bias", "pooler.dense.bias"} {
		v := bert.Variable(ctx, name)
		data := tensors.MustCopyFlatData[float32](v.MustValue())
		for k := range data {
			data[k] += 0.01 * float32((k+i)%7-3)
		}
		v.MustSetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
	}
	return ctx, spec
}

// TestModelDirRoundTrip: an FT model saved with SaveModelDir and read back with
// LoadModelDir predicts bit-identically; bert.LoadDir reads the directory as
// a plain BertModel (ignoring the head) with the fine-tuned weights.
func TestModelDirRoundTrip(t *testing.T) {
	for _, head := range []model.Head{model.SequenceClassification, model.TokenClassification, model.MultipleChoice} {
		t.Run(string(head), func(t *testing.T) {
			ctx, spec := newFT(t, head)
			data := examples(9, 4, head)
			before := predict(t, ctx, spec, data)
			parent := t.TempDir()
			dir := filepath.Join(parent, "ft-model")
			meta := Meta{Task: "synthetic", MaxLen: 32, BaseModel: tinyModel, Extra: map[string]string{"step": "10"}}
			if err := SaveModelDir(dir, ctx, spec, meta); err != nil {
				t.Fatal(err)
			}
			noLeftovers(t, parent, dir)
			noLeftovers(t, dir, "config.json", "model.safetensors", "vocab.txt")

			ctx2 := context.New()
			spec2, meta2, err := LoadModelDir(ctx2, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec2.Backbone, spec.Backbone) || spec2.Head != spec.Head || spec2.NumLabels != spec.NumLabels ||
				spec2.Method.Kind != method.FT || spec2.Dropout != spec.Dropout {
				t.Errorf("spec %+v, saved %+v", spec2, spec)
			}
			if meta2.Task != "synthetic" || meta2.MaxLen != 32 || meta2.Method != method.FT || meta2.Extra["step"] != "10" {
				t.Errorf("meta %+v", meta2)
			}
			sameBits(t, before, predict(t, ctx2, spec2, data))

			// A plain bert.LoadDir sees the fine-tuned backbone.
			ctx3 := context.New()
			cfg3, err := bert.LoadDir(ctx3, dir, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg3, spec.Backbone) {
				t.Errorf("config %+v, saved %+v", cfg3, spec.Backbone)
			}
			for _, ts := range bert.Tensors(cfg3) {
				a := tensors.MustCopyFlatData[float32](bert.Variable(ctx, ts.Name).MustValue())
				b := tensors.MustCopyFlatData[float32](bert.Variable(ctx3, ts.Name).MustValue())
				for k := range a {
					if math.Float32bits(a[k]) != math.Float32bits(b[k]) {
						t.Fatalf("%s[%d]: %v saved, %v read by bert.LoadDir", ts.Name, k, a[k], b[k])
					}
				}
			}
			f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			md := f.Metadata()
			f.Close()
			if md["format"] != "pt" || md["apt_format"] != ModelFormat || md["method"] != "ft" {
				t.Errorf("metadata %v", md)
			}
			var cfgMap map[string]any
			raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			if err := json.Unmarshal(raw, &cfgMap); err != nil {
				t.Fatal(err)
			}
			if cfgMap["hidden_act"] != "gelu_new" || cfgMap["hidden_size"] != float64(32) || cfgMap["layer_norm_eps"] != 1e-12 {
				t.Errorf("config.json %s", raw)
			}
			vocab, _ := os.ReadFile(filepath.Join(dir, "vocab.txt"))
			orig, _ := os.ReadFile(filepath.Join(tinyModel, "vocab.txt"))
			if !slices.Equal(vocab, orig) {
				t.Error("vocab.txt differs from the source")
			}
		})
	}
}

// TestModelDirAtomic: failed saves leave nothing behind and never replace a
// directory SaveModelDir did not write; a save over an earlier one replaces it.
func TestModelDirAtomic(t *testing.T) {
	ctx, spec := newFT(t, model.SequenceClassification)
	parent := t.TempDir()
	dir := filepath.Join(parent, "m")
	fails := func(what, want string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error mentioning %q", what, err, want)
		}
	}
	fails("no vocab", `Meta.Extra["vocab_dir"]`, SaveModelDir(dir, ctx, spec, Meta{BaseModel: "bert-base-uncased"}))
	fails("vocab dir without vocab", "neither vocab.txt nor tokenizer.json", SaveModelDir(dir, ctx, spec, Meta{Extra: map[string]string{ExtraVocabDir: parent}}))
	apt := *spec
	apt.Method = method.Default(method.APT, 2)
	fails("not ft", "adapter.Save", SaveModelDir(dir, ctx, &apt, Meta{BaseModel: tinyModel}))
	noLeftovers(t, parent)

	// A missing backbone variable (it fails after the checks, while gathering).
	ctxNoBert := context.New()
	model.CreateHead(ctxNoBert, spec, 1)
	fails("no backbone", "embeddings.word_embeddings.weight", SaveModelDir(dir, ctxNoBert, spec, Meta{BaseModel: tinyModel}))
	noLeftovers(t, parent)

	// A directory someone else wrote is not replaced.
	foreign := filepath.Join(parent, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("keep me"), 0o644)
	fails("foreign dir", "not a model directory written by SaveModelDir", SaveModelDir(foreign, ctx, spec, Meta{BaseModel: tinyModel}))
	if b, _ := os.ReadFile(filepath.Join(foreign, "notes.txt")); string(b) != "keep me" {
		t.Error("foreign directory changed")
	}
	noLeftovers(t, parent, "foreign")

	// Save twice: the second replaces the first, nothing else remains.
	if err := SaveModelDir(dir, ctx, spec, Meta{BaseModel: tinyModel, Task: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := SaveModelDir(dir, ctx, spec, Meta{BaseModel: tinyModel, Task: "second"}); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, parent, "foreign", "m")
	if _, meta, err := LoadModelDir(context.New(), dir); err != nil || meta.Task != "second" {
		t.Errorf("after the second save: task %q, err %v", meta.Task, err)
	}

	// The plain tiny checkpoint is not a fine-tuned model directory.
	if _, _, err := LoadModelDir(context.New(), tinyModel); err == nil || !strings.Contains(err.Error(), "bert.LoadDir") {
		t.Errorf("LoadModelDir(plain BertModel): %v", err)
	}
}

// TestModelDirNeverReplacesItsTokenizerSource: a model directory SaveModelDir
// wrote may be replaced, except when it is (or holds) the directory the
// tokenizer is copied from, i.e. the model being fine-tuned.
func TestModelDirNeverReplacesItsTokenizerSource(t *testing.T) {
	ctx, spec := newFT(t, model.SequenceClassification)
	parent := t.TempDir()
	dir := filepath.Join(parent, "ft-model")
	meta := Meta{Task: "synthetic", MaxLen: 32, BaseModel: tinyModel}
	if err := SaveModelDir(dir, ctx, spec, meta); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	for _, target := range []string{dir, parent, filepath.Join(dir, "..", "ft-model")} {
		meta := Meta{Task: "synthetic", MaxLen: 32, BaseModel: tinyModel, Extra: map[string]string{ExtraVocabDir: dir}}
		err := SaveModelDir(target, ctx, spec, meta)
		if err == nil || !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), "the model the tokenizer is copied from") {
			t.Errorf("SaveModelDir(%s) with its own tokenizer directory: %v", target, err)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if string(before) != string(after) {
		t.Error("the model directory was replaced")
	}
	noLeftovers(t, parent, dir)
}

// TestModelDirErrorsNameTheDirectory: a failed save names the directory asked
// for, never the temporary one, and leaves nothing behind.
func TestModelDirErrorsNameTheDirectory(t *testing.T) {
	ctx, spec := newFT(t, model.SequenceClassification)
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	meta := Meta{Task: "synthetic", MaxLen: 32, BaseModel: tinyModel}
	for target, want := range map[string]string{
		filepath.Join(parent, "missing", "ft"): "the directory " + filepath.Join(parent, "missing") + " does not exist",
		filepath.Join(file, "ft"):              "not a directory",
	} {
		err := SaveModelDir(target, ctx, spec, meta)
		if err == nil || !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("SaveModelDir(%s) = %v, want an error naming it and saying %q", target, err, want)
		}
	}
	noLeftovers(t, parent, "file")
}
