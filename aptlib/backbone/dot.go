package backbone

import (
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0 differentiates DotGeneral by multiplying the output gradient with
// the broadcast other operand and summing: for a [B, T, d] x [d, d] linear layer
// that materialises a [B, T, d, d] tensor, through the pure-Go backend's slow
// broadcasting path (measured here: over 80% of a training step of the demo
// model). Every matrix product of the workbench is therefore built with DotFast,
// which records its axes, and the DotGeneral gradient is replaced (for those
// nodes only) by the textbook one: two more DotGenerals and a transpose.

type dotKey struct {
	graph GraphId
	node  NodeId
}

type dotAxes struct{ lc, lb, rc, rb []int }

var (
	dotRegistry   sync.Map // dotKey -> dotAxes
	originalDotVJ VJP
)

func init() {
	originalDotVJ = VJPRegistration[NodeTypeDotGeneral]
	VJPRegistration[NodeTypeDotGeneral] = dotGeneralVJP
}

// DotFast is DotGeneral (output axes: batch, lhs free, rhs free) with an efficient gradient.
func DotFast(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) *Node {
	out := DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	dotRegistry.Store(dotKey{out.Graph().GraphId(), out.Id()}, dotAxes{
		lc: slices.Clone(lhsContracting), lb: slices.Clone(lhsBatch),
		rc: slices.Clone(rhsContracting), rb: slices.Clone(rhsBatch)})
	return out
}

// MatMulLast is x [..., k] times w [k, n] -> [..., n].
func MatMulLast(x, w *Node) *Node {
	return DotFast(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
}

func dotGeneralVJP(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
	v, ok := dotRegistry.Load(dotKey{node.Graph().GraphId(), node.Id()})
	if !ok {
		return originalDotVJ(node, vjps, outShape)
	}
	ax := v.(dotAxes)
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	g := vjps[0]
	nb := len(ax.lb)
	lCross := freeAxes(lhs.Rank(), ax.lc, ax.lb)
	rCross := freeAxes(rhs.Rank(), ax.rc, ax.rb)
	vBatch := seq(0, nb)
	vL := seq(nb, nb+len(lCross))
	vR := seq(nb+len(lCross), nb+len(lCross)+len(rCross))

	// d lhs = g . rhs, contracting rhs's free axes: axes [batch, lCross, rc sorted].
	gl := DotGeneral(g, vR, vBatch, rhs, rCross, ax.rb)
	gl = arrange(gl, lhs.Rank(), ax.lb, lCross, ax.lc, ax.rc)
	// d rhs = g . lhs, contracting lhs's free axes: axes [batch, rCross, lc sorted].
	gr := DotGeneral(g, vL, vBatch, lhs, lCross, ax.lb)
	gr = arrange(gr, rhs.Rank(), ax.rb, rCross, ax.rc, ax.lc)
	return []*Node{gl, gr}
}

// arrange transposes a gradient laid out as [batch..., cross..., partner's
// contracting axes in ascending order] into the operand's own axis order.
// mine[i] pairs with partner[i] in the forward contraction.
func arrange(x *Node, rank int, batch, cross, mine, partner []int) *Node {
	perm := make([]int, rank)
	for i, a := range batch {
		perm[a] = i
	}
	for j, a := range cross {
		perm[a] = len(batch) + j
	}
	sorted := slices.Clone(partner)
	slices.Sort(sorted)
	for k, p := range sorted {
		idx := slices.Index(partner, p)
		perm[mine[idx]] = len(batch) + len(cross) + k
	}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if identity {
		return x
	}
	return TransposeAllAxes(x, perm...)
}

func freeAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
