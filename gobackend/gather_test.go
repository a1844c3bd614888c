package gobackend

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestRowGather: the embedding lookup (rows of [V, d] by indices [..., 1]),
// in dtypes of 1 to 8 bytes, with int32 and int64 indices, indices out of
// range on both sides (clamped), against simplego bit for bit, run as
// gather steps.
func TestRowGather(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	before := gatherRuns.Load()
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64, dtypes.Int32, dtypes.Uint8, dtypes.BFloat16} {
		for _, idt := range []dtypes.DType{dtypes.Int32, dtypes.Int64} {
			for _, dims := range [][]int{{50, 1}, {3, 17, 1}} {
				n := 1
				for _, d := range dims {
					n *= d
				}
				idx := make([]int32, n)
				for i := range idx {
					idx[i] = int32(rng.Intn(40) - 10) // -10 .. 29 of 23 rows
				}
				t.Run(fmt.Sprintf("%s_%s_%v", dt, idt, dims), func(t *testing.T) {
					compareFused(t, ref, func(x []*Node) []*Node {
						table := ConvertDType(x[0], dt)
						return []*Node{ConvertDType(Gather(table, ConvertDType(x[1], idt)), dtypes.Float32)}
					}, []*tensors.Tensor{randTensor(rng, true, 23, 41), tensors.FromFlatDataAndDimensions(idx, dims...)})
				})
			}
		}
	}
	if gatherRuns.Load() == before {
		t.Errorf("no gather step ran")
	}
}
