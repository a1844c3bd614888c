package debertav2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/goldentest"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// runOffset loads testdata/<name>, optionally edits its variables, and runs
// Forward with the golden prefixes and the given position offset on the
// golden batch; it returns the flattened sequence output.
func runOffset(t *testing.T, name string, gd *golden, offset int, edit func(*context.Context)) ([]float32, error) {
	t.Helper()
	ctx := context.New()
	cfg, _, err := LoadDir(ctx, filepath.Join("testdata", name), false)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ctx)
	}
	exec, err := context.NewExec(testbackend.New(t), ctx, func(ctx *context.Context, ids, types, mask *Node) *Node {
		in := backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask, PositionOffset: offset}
		return Forward(ctx, cfg, in, prefixHook(gd)).Sequence
	})
	if err != nil {
		return nil, err
	}
	res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask))
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](res[0]), nil
}

// shiftPositions replaces the absolute position table by itself moved up k
// rows (row t becomes row t+k; the last k rows are zero): with it, offset 0
// must compute what offset k computes on the original table.
func shiftPositions(t *testing.T, k int) func(*context.Context) {
	return func(ctx *context.Context) {
		v := Variable(ctx, "embeddings.position_embeddings.weight")
		if v == nil {
			t.Fatal("no absolute position table")
		}
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		dims := val.Shape().Dimensions
		data := tensors.MustCopyFlatData[float32](val)
		shifted := make([]float32, len(data))
		copy(shifted, data[k*dims[1]:])
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(shifted, dims...)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPositionOffset: with position_biased_input (tiny-debertav2) the offset
// k reads position rows k..k+T-1, exactly what offset 0 reads on the table
// shifted by k, and it changes the output; without absolute positions
// (tiny-debertav3) it changes nothing; past the table it is an error naming
// max_position_embeddings.
func TestPositionOffset(t *testing.T) {
	gd := readGolden(t)
	const k = 3
	mustRun := func(name string, offset int, edit func(*context.Context)) []float32 {
		seq, err := runOffset(t, name, gd, offset, edit)
		if err != nil {
			t.Fatalf("%s offset %d: %v", name, offset, err)
		}
		return seq
	}
	shifted := mustRun("tiny-debertav2", k, nil)
	asTable := mustRun("tiny-debertav2", 0, shiftPositions(t, k))
	plain := mustRun("tiny-debertav2", 0, nil)
	want := make([]float64, len(asTable))
	for i, x := range asTable {
		want[i] = float64(x)
	}
	if d := goldentest.MaxAbsDiff(shifted, want); d > 1e-5 {
		t.Errorf("offset %d differs from the table shifted by %d rows by %g", k, k, d)
	}
	if d := goldentest.MaxAbsDiff(plain, want); d < 1e-3 {
		t.Errorf("offset %d changed the output by only %g", k, d)
	}
	v3, v3shifted := mustRun("tiny-debertav3", 0, nil), mustRun("tiny-debertav3", k, nil)
	for i := range v3 {
		if v3[i] != v3shifted[i] {
			t.Fatalf("without absolute positions the offset changed output %d: %g -> %g", i, v3[i], v3shifted[i])
		}
	}
	T := len(gd.InputIDs[0])
	_, err := runOffset(t, "tiny-debertav2", gd, 64-T+1, nil)
	if err == nil || !strings.Contains(err.Error(), "exceeds max_position_embeddings 64") {
		t.Errorf("offset %d with %d tokens on a 64-row table: want an error naming max_position_embeddings 64, got %v", 64-T+1, T, err)
	}
}
