package bert

import (
	"github.com/aptbench/apt/aptlib/backbone"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// DotFast is backbone.DotFast (DotGeneral with an efficient gradient); kept
// here so that existing callers of package bert compile.
func DotFast(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) *Node {
	return backbone.DotFast(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
}

// MatMulLast is backbone.MatMulLast: x [..., k] times w [k, n] -> [..., n].
func MatMulLast(x, w *Node) *Node { return backbone.MatMulLast(x, w) }

// FirstToken is backbone.FirstToken: x[:, 0, :] of x [B, T, d].
func FirstToken(x *Node) *Node { return backbone.FirstToken(x) }
