package gobackend

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// fused is our backend with every element-wise group fused, whatever its
// size; unfused the same without fusion (its products are fused's, so the two
// agree bit for bit when fusion is exact).
var fused, unfused = func() (backends.Backend, backends.Backend) {
	b, err := New("min_dot_flops=0,min_broadcast=0,min_fuse=0")
	if err != nil {
		panic(err)
	}
	u, err := New("min_dot_flops=0,min_broadcast=0,min_fuse=-1")
	if err != nil {
		panic(err)
	}
	return b, u
}()

// compareFused runs fn on the fused backend and on want (simplego, or
// unfused for graphs with products): bit-identical outputs (NaN matches NaN).
func compareFused(t *testing.T, want backends.Backend, fn func([]*Node) []*Node, inputs []*tensors.Tensor) {
	t.Helper()
	got := run(t, fused, fn, inputs)
	exp := run(t, want, fn, inputs)
	if len(got) != len(exp) {
		t.Fatalf("got %d outputs, want %d", len(got), len(exp))
	}
	for i := range got {
		if len(got[i]) != len(exp[i]) {
			t.Fatalf("output #%d: %d elements, want %d", i, len(got[i]), len(exp[i]))
		}
		for j := range got[i] {
			g, w := got[i][j], exp[i][j]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("output #%d[%d] = %v, %s %v (want bit-identical)", i, j, g, want, w)
			}
		}
	}
}

func TestFusedMixedGraph(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	before := fuseRuns.Load()
	compareFused(t, unfused, mixedGraph, mixedInputs(rng, false))
	if fuseRuns.Load() == before {
		t.Errorf("no fused step ran")
	}
}
