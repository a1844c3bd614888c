package adapter

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/familydir"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// A model fully fine-tuned on a checkpoint without pooler (each family's tiny
// directory, as real roberta-base and deberta-v3-base have none) is saved
// with its created, trained pooler as the family's own pooler tensors: the
// saved directory loads (LoadModelDir, and the family's own LoadConfig and
// LoadWeights) as a checkpoint with a pooler and predicts bit-identically;
// model.safetensors holds exactly the family's Tensors for a checkpoint with
// a pooler (the names HF writes for the base model: no "roberta."/"deberta."
// prefix, the pooler as pooler.dense.*) plus the head.
func TestModelDirCreatedPooler(t *testing.T) {
	for _, mt := range append([]string{"bert"}, familydir.ModelTypes...) {
		t.Run(mt, func(t *testing.T) {
			src := t.TempDir()
			if err := familydir.Write(src, mt, familydir.Options{Seed: 5, NoPooler: true}); err != nil {
				t.Fatal(err)
			}
			ctx := context.New()
			cfg, fam, err := backbone.LoadDir(ctx, src, true)
			if err != nil {
				t.Fatal(err)
			}
			spec := &model.Spec{Backbone: cfg, Method: method.Default(method.FT, cfg.NumLayers()), Head: model.SequenceClassification,
				NumLabels: 2, Dropout: cfg.HiddenDropout()}
			if err := spec.Validate(); err != nil {
				t.Fatal(err)
			}
			model.CreateHead(ctx, spec, 12)
			if !spec.CreatesPooler() {
				t.Fatal("no pooler created for a checkpoint without one")
			}
			// A pooler far from its N(0, 0.02) start, as training leaves it, so
			// that a transposed or misplaced weight changes the logits.
			d := cfg.HiddenSize()
			w := make([]float32, d*d)
			for i := range w {
				w[i] = float32(math.Sin(float64(i)*0.7)) * 0.4
			}
			method.SetVariable(ctx, "/"+backbone.ScopePooler, "weight", tensors.FromFlatDataAndDimensions(w, d, d))
			data := examples(9, 4, model.SequenceClassification)
			if !backboneHasTypes(cfg) {
				for i := range data {
					for _, row := range data[i].TypeIDs {
						clear(row)
					}
				}
			}
			before := predict(t, ctx, spec, data)

			parent := t.TempDir()
			dir := filepath.Join(parent, "ft")
			if err := SaveModelDir(dir, ctx, spec, Meta{Task: "synthetic", MaxLen: 32, BaseModel: src}); err != nil {
				t.Fatal(err)
			}
			noLeftovers(t, parent, dir)

			ctx2 := context.New()
			spec2, _, err := LoadModelDir(ctx2, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !backbone.HasPooler(spec2.Backbone) || spec2.CreatesPooler() {
				t.Fatalf("the saved directory loads without its pooler (HasPooler %v)", backbone.HasPooler(spec2.Backbone))
			}
			sameBits(t, before, predict(t, ctx2, spec2, data))

			// The family's own loader reads it as a checkpoint with a pooler,
			// and the file holds exactly its tensors (and the head).
			cfg3, err := fam.LoadConfig(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			set, err := safetensors.OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			if err := fam.LoadWeights(context.New(), cfg3, set, false); err != nil {
				t.Fatal(err)
			}
			if !backbone.HasPooler(cfg3) {
				t.Fatal("the family's LoadWeights finds no pooler in the saved directory")
			}
			var want []string
			specs := fam.Tensors(cfg3)
			for _, s := range specs {
				want = append(want, s.Name)
			}
			if n := len(specs); n < 2 || specs[n-2].Name != fam.PoolerTensors[0] || specs[n-1].Name != fam.PoolerTensors[1] ||
				!slices.Equal(specs[n-2].Shape, []int{d, d}) || !slices.Equal(specs[n-1].Shape, []int{d}) {
				t.Errorf("the family's Tensors do not end with its PoolerTensors %v of shapes [d, d], [d]", fam.PoolerTensors)
			}
			want = append(want, "head.bias", "head.weight")
			got := set.Names()
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("model.safetensors holds %v,\nthe family's tensors and the head are %v", got, want)
			}
			// pooler.dense.weight is torch.nn.Linear's [out, in]: the created
			// (input-major) weight transposed.
			saved, _, err := set.Float32(fam.PoolerTensors[0])
			if err != nil {
				t.Fatal(err)
			}
			for i := range d {
				for o := range d {
					if saved[o*d+i] != w[i*d+o] {
						t.Fatalf("%s[%d][%d] = %v, want the created weight's [%d][%d] = %v", fam.PoolerTensors[0], o, i, saved[o*d+i], i, o, w[i*d+o])
					}
				}
			}
		})
	}
}

// backboneHasTypes reports whether the config has more than one token type
// (RoBERTa has one, DeBERTa none): the test ids then keep their type ids.
func backboneHasTypes(c backbone.Config) bool {
	return c.ModelType() == "bert"
}
