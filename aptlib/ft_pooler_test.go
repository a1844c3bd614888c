package aptlib

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/familydir"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// FT on a RoBERTa checkpoint without pooler trains the created pooler with
// the backbone; `save adapter` writes the model directory with it as
// RobertaModel's pooler.dense.*, so that loading the saved directory finds a
// checkpoint pooler (show model says so) holding the trained values.
func TestFTSavesCreatedPooler(t *testing.T) {
	src := t.TempDir()
	if err := familydir.Write(src, "roberta", familydir.Options{Seed: 2, NoPooler: true}); err != nil {
		t.Fatal(err)
	}
	w := benchOn(t, src)
	mustSet(t, w, "method", "ft", "max_len", "32", "lr", "1e-3")
	pooler := func(w *Workbench, scope, name string) []float32 {
		t.Helper()
		v := w.Context().GetVariableByScopeAndName(scope, name)
		if v == nil {
			t.Fatalf("no variable %s/%s", scope, name)
		}
		return tensors.MustCopyFlatData[float32](v.MustValue())
	}
	if _, err := w.Eval("dev"); err != nil { // creates the head and the pooler
		t.Fatal(err)
	}
	created := pooler(w, "/"+backbone.ScopePooler, "weight")
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	trained := pooler(w, "/"+backbone.ScopePooler, "weight")
	if slices.Equal(created, trained) {
		t.Error("FT left the created pooler as it was created")
	}
	dir := filepath.Join(t.TempDir(), "ft")
	if err := w.SaveAdapter(dir); err != nil {
		t.Fatal(err)
	}

	w2 := benchOn(t, dir)
	info, err := w2.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Pooler, "from the checkpoint") || info.PoolerParams != 0 {
		t.Errorf("the saved FT model's pooler: %q (%d created parameters)", info.Pooler, info.PoolerParams)
	}
	// pooler.dense.weight is [out, in]: the trained input-major weight transposed.
	d := w.Model.Config.HiddenSize()
	loaded := pooler(w2, "/"+w2.Model.Family.Scope+"/pooler/dense", "weight")
	for i := range d {
		for o := range d {
			if loaded[o*d+i] != trained[i*d+o] {
				t.Fatalf("pooler.dense.weight[%d][%d] = %v, the trained pooler's [%d][%d] is %v", o, i, loaded[o*d+i], i, o, trained[i*d+o])
			}
		}
	}
}
