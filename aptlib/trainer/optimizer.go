package trainer

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ScopeOptimizer holds AdamW's moment estimates: variable v of scope S has its
// first moment in "/optimizer/m" + S and its second in "/optimizer/v" + S.
const ScopeOptimizer = "optimizer"

// Decays reports whether weight decay applies to a trainable variable: only to
// weight matrices (rank >= 2: prefixes, gate weights, head weights, and for FT the
// backbone's matrices and embeddings), never to biases, LayerNorm gains or the
// scalar layer scales lambda_i. This is HF Trainer's rule (no decay for "bias"
// and "LayerNorm.weight"), stated by shape. GoMLX's own Adam decays every
// trainable variable, which is why the workbench has its own AdamW.
func Decays(v *context.Variable) bool { return v.Shape().Rank() >= 2 }

// AdamW hyperparameters, with torch.optim.AdamW's defaults as HF Trainer uses them.
type AdamW struct {
	Beta1, Beta2, Epsilon, WeightDecay float64
}

// momentVar returns (creating at zero) the moment variable for v.
func momentVar(ctx *context.Context, which string, v *context.Variable) *context.Variable {
	scope := "/" + ScopeOptimizer + "/" + which + v.Scope()
	if m := ctx.GetVariableByScopeAndName(scope, v.Name()); m != nil {
		if !m.Shape().Equal(v.Shape()) {
			// v was re-created with another shape (e.g. a new prefix length): restart its moments at zero.
			m.MustSetValue(tensors.FromShape(v.Shape()))
		}
		return m
	}
	zero := tensors.FromShape(v.Shape())
	return ctx.InAbsPath(scope).Checked(false).VariableWithValue(v.Name(), zero).SetTrainable(false)
}

// update builds one AdamW step for vars given their gradients, following
// torch.optim.AdamW (decoupled decay p <- p (1 - lr wd), then
// p <- p - lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) with bc_k = 1 - beta_k^t).
// lr and step (t, counting from 1) are scalar float32 graph inputs so that a
// schedule never recompiles the graph. Gradients are first clipped to a global
// L2 norm of maxNorm (when > 0), as torch.nn.utils.clip_grad_norm_; the
// returned norm is the norm before clipping.
//
// The step commits only when it is finite: the returned ok is true when loss,
// the gradient norm, and every new parameter and moment are finite; otherwise
// every variable keeps its value from before the step (so a diverged step
// leaves the state of the last finite one).
func (o AdamW) update(ctx *context.Context, vars []*context.Variable, grads []*Node, lr, step, loss *Node, maxNorm float64) (norm, ok *Node) {
	g := lr.Graph()
	sumSq := ScalarZero(g, lr.DType())
	for _, gr := range grads {
		sumSq = Add(sumSq, ReduceAllSum(Square(gr)))
	}
	norm = Sqrt(sumSq)
	if maxNorm > 0 {
		// clip_coef = max_norm / (total_norm + 1e-6), clamped to 1.
		coef := Min(DivScalar(Inverse(AddScalar(norm, 1e-6)), 1/maxNorm), ScalarOne(g, lr.DType()))
		for i := range grads {
			grads[i] = Mul(grads[i], coef)
		}
	}
	bc1 := OneMinus(Pow(Scalar(g, lr.DType(), o.Beta1), step))
	bc2 := OneMinus(Pow(Scalar(g, lr.DType(), o.Beta2), step))
	type pending struct {
		v        *context.Variable
		old, new *Node
	}
	var updates []pending
	ok = LogicalAnd(IsFinite(ConvertDType(loss, lr.DType())), IsFinite(norm))
	commit := func(v *context.Variable, old, val *Node) {
		updates = append(updates, pending{v, old, val})
		ok = LogicalAnd(ok, ReduceLogicalAnd(IsFinite(val)))
	}
	for i, v := range vars {
		old := v.ValueGraph(g)
		p := old
		mVar, vVar := momentVar(ctx, "m", v), momentVar(ctx, "v", v)
		mOld, sOld := mVar.ValueGraph(g), vVar.ValueGraph(g)
		m := Add(MulScalar(mOld, o.Beta1), MulScalar(grads[i], 1-o.Beta1))
		s := Add(MulScalar(sOld, o.Beta2), MulScalar(Square(grads[i]), 1-o.Beta2))
		commit(mVar, mOld, m)
		commit(vVar, sOld, s)
		if o.WeightDecay > 0 && Decays(v) {
			p = Mul(p, OneMinus(MulScalar(lr, o.WeightDecay)))
		}
		denom := AddScalar(Div(Sqrt(s), Sqrt(bc2)), o.Epsilon)
		p = Sub(p, Mul(Div(lr, bc1), Div(m, denom)))
		commit(v, old, p)
	}
	for _, u := range updates {
		cond := ok
		if dims := u.new.Shape().Dimensions; len(dims) > 0 {
			cond = BroadcastToDims(ok, dims...)
		}
		u.v.SetValueGraph(Where(cond, u.new, u.old))
	}
	return norm, ok
}

// Schedule gives the learning rate at a step (0-based): linear warm-up over
// warmup steps, then linear decay to 0 at total (HF's get_linear_schedule_with_warmup),
// or constant after warm-up.
type Schedule struct {
	Peak   float64
	Warmup int
	Total  int
	Kind   string // "linear" (default) or "constant"
}

// LR is the learning rate for the update made at step (0-based), as HF's LambdaLR
// with get_linear_schedule_with_warmup: with warm-up, the first update's rate is
// 0 (HF's first optimizer step too).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step) / float64(max(1, s.Warmup))
	}
	if s.Kind == "constant" || s.Total <= 0 {
		return s.Peak
	}
	return s.Peak * math.Max(0, float64(s.Total-step)/float64(max(1, s.Total-s.Warmup)))
}

// ResetOptimizer deletes every AdamW moment from ctx, so that a new run starts
// from zero moments.
func ResetOptimizer(ctx *context.Context) {
	var stale []*context.Variable
	for v := range ctx.IterVariables() {
		if strings.HasPrefix(v.Scope(), "/"+ScopeOptimizer+"/") {
			stale = append(stale, v)
		}
	}
	for _, v := range stale {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			panic(fmt.Errorf("trainer: removing %s/%s: %w", v.Scope(), v.Name(), err))
		}
	}
}
