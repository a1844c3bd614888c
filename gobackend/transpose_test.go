package gobackend

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestTransposes: every permutation of random shapes (sizes that are not
// multiples of the tile, axes of size 1, ranks 2 to 5), in dtypes of 1, 2, 4
// and 8 bytes, against simplego: bit-identical, and run as transpose steps.
func TestTransposes(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	dts := []dtypes.DType{dtypes.Float32, dtypes.Int32, dtypes.Float64, dtypes.Int64, dtypes.Uint8, dtypes.BFloat16}
	before := trRuns.Load()
	for rank := 2; rank <= 5; rank++ {
		for trial := 0; trial < 6; trial++ {
			dims := make([]int, rank)
			for i := range dims {
				dims[i] = []int{1, 2, 3, 7, 16, 17, 33}[rng.Intn(7)]
			}
			if trial == 0 && rank == 2 {
				dims = []int{67, 129} // several tiles and ragged edges
			}
			perm := rng.Perm(rank)
			dt := dts[(rank*6+trial)%len(dts)]
			name := fmt.Sprintf("%v_%v_%s", dims, perm, dt)
			t.Run(name, func(t *testing.T) {
				compareFused(t, ref, func(x []*Node) []*Node {
					return []*Node{ConvertDType(TransposeAllAxes(ConvertDType(x[0], dt), perm...), dtypes.Float32)}
				}, []*tensors.Tensor{randTensor(rng, true, dims...)})
			})
		}
	}
	if trRuns.Load() == before {
		t.Errorf("no transpose step ran")
	}
}

// TestTransposeAttentionLayouts: the layout changes of multi-head attention
// ([B,T,n,dh] <-> [B,n,T,dh], and the key transpose [B,n,T,dh] -> [B,n,dh,T])
// on float32, with products around them as in a training graph.
func TestTransposeAttentionLayouts(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for _, perm := range [][]int{{0, 2, 1, 3}, {0, 1, 3, 2}, {0, 2, 3, 1}, {3, 1, 2, 0}} {
		t.Run(fmt.Sprint(perm), func(t *testing.T) {
			compareFused(t, unfused, func(x []*Node) []*Node {
				y := TransposeAllAxes(x[0], perm...)
				return []*Node{y, Mul(y, y)}
			}, []*tensors.Tensor{randTensor(rng, false, 3, 37, 4, 24)})
		})
	}
}

// TestTransposeReadByProductsOnly: a Transpose that only products read is
// read through strides by them; no copy runs.
func TestTransposeReadByProductsOnly(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	before := trRuns.Load()
	B, T, n, dh := 2, 40, 3, 16
	compareFused(t, unfused, func(x []*Node) []*Node {
		q := TransposeAllAxes(Reshape(x[0], B, T, n, dh), 0, 2, 1, 3)
		s := DotGeneral(q, []int{3}, []int{0, 1}, q, []int{3}, []int{0, 1})
		return []*Node{s}
	}, []*tensors.Tensor{randTensor(rng, false, B, T, n*dh)})
	if n := trRuns.Load() - before; n != 0 {
		t.Errorf("%d transpose steps ran, want 0 (the product reads through strides)", n)
	}
}

// TestSlices: Slice boxes of random shapes (strides > 1 on the outer axes,
// full and partial inner axes, axes of size 1), in dtypes of 1 to 8 bytes,
// against simplego bit for bit, run as copy steps; a stride on the last axis
// stays on simplego.
func TestSlices(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	before := trRuns.Load()
	dts := []dtypes.DType{dtypes.Float32, dtypes.Int64, dtypes.Uint8, dtypes.BFloat16}
	for trial := range 24 {
		rank := 1 + trial%4
		dims := make([]int, rank)
		starts, limits, steps := make([]int, rank), make([]int, rank), make([]int, rank)
		for i := range dims {
			dims[i] = []int{1, 3, 17, 40}[rng.Intn(4)]
			starts[i] = rng.Intn(dims[i])
			limits[i] = starts[i] + 1 + rng.Intn(dims[i]-starts[i])
			steps[i] = 1
			if i < rank-1 || trial%6 == 5 {
				steps[i] = 1 + rng.Intn(3)
			}
		}
		if trial == 0 {
			dims, starts, limits, steps = []int{16, 144, 256}, []int{0, 16, 0}, []int{16, 144, 256}, []int{1, 1, 1} // a prefix split off
		}
		dt := dts[trial%len(dts)]
		t.Run(fmt.Sprintf("%v_%v_%v_%v_%s", dims, starts, limits, steps, dt), func(t *testing.T) {
			compareFused(t, ref, func(x []*Node) []*Node {
				specs := make([]SliceAxisSpec, len(dims))
				for i := range specs {
					specs[i] = AxisRange(starts[i], limits[i]).Stride(steps[i])
				}
				return []*Node{ConvertDType(Slice(ConvertDType(x[0], dt), specs...), dtypes.Float32)}
			}, []*tensors.Tensor{randTensor(rng, true, dims...)})
		})
	}
	if trRuns.Load() == before {
		t.Errorf("no slice ran as a copy step")
	}
}
