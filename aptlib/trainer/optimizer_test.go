package trainer

import (
	"math"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The reference numbers below come from torch.optim.AdamW (PyTorch 1.13, float64)
// with torch.nn.utils.clip_grad_norm_, by this script:
//
//	import torch
//	torch.set_default_dtype(torch.float64)
//
//	def run(max_norm, lrs):
//	    W = torch.tensor([[0.5, -1.0, 2.0], [0.1, 0.0, -0.3]], requires_grad=True)
//	    b = torch.tensor([0.2, -0.4, 1.0], requires_grad=True)
//	    lam = torch.tensor(1.0, requires_grad=True)
//	    TW = torch.tensor([[1., 1., 1.], [-1., -1., -1.]])
//	    cW = torch.tensor([[1., 2., 3.], [0.5, 0.25, 4.]])
//	    Tb = torch.tensor([0., 1., -1.])
//	    # decay on the matrix only, as HF Trainer groups "bias" / LayerNorm out
//	    opt = torch.optim.AdamW([{"params": [W], "weight_decay": 0.1},
//	                             {"params": [b, lam], "weight_decay": 0.0}],
//	                            lr=lrs[0], betas=(0.9, 0.999), eps=1e-8)
//	    for step, lr in enumerate(lrs):
//	        for g in opt.param_groups:
//	            g["lr"] = lr
//	        opt.zero_grad()
//	        loss = (cW * (W - TW) ** 2).sum() + ((b - Tb) ** 2).sum() + 3 * (lam - 2) ** 2
//	        loss.backward()
//	        if max_norm is not None:
//	            norm = torch.nn.utils.clip_grad_norm_([W, b, lam], max_norm)
//	        else:
//	            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in [W, b, lam]))
//	        opt.step()
//	        print(step + 1, loss.item(), norm.item(), W.flatten().tolist(), b.tolist(), lam.item())
//
//	run(1.0, [0.1, 0.05, 0.02]); run(None, [0.1, 0.05, 0.02])
type optRefStep struct {
	loss, norm float64
	w          []float64 // W [2, 3] after the step, row-major
	b          []float64
	lam        float64
}

var optRefClipped = []optRefStep{
	{23.065, 13.921925154230646,
		[]float64{0.5949999860780758, -0.8900000017402407, 1.880000002320321, -0.0009999873437050721, -0.09999997215615544, -0.39699999751394177},
		[]float64{0.1000000348048033, -0.30000000497211626, 0.9000000034804814}, 1.099999997679679},
	{19.52736161949441, 12.671210589753736,
		[]float64{0.6417889015173521, -0.8355098770385678, 1.8206510111059984, -0.050992112521590825, -0.14948453736574882, -0.44492441222387585},
		[]float64{0.052718302248390726, -0.2499764179669407, 0.8499556578584232}, 1.1499845755383973},
	{17.905635076825185, 12.059239398723518,
		[]float64{0.6603118046589151, -0.8138047332592937, 1.7970521149918612, -0.07088731508890664, -0.1691723455592029, -0.46395995513247007},
		[]float64{0.03529815834902448, -0.22995711499284147, 0.8299178082587875}, 1.1699709096655604},
}

var optRefUnclipped = []optRefStep{
	{23.065, 13.921925154230648,
		[]float64{0.594999999, -0.890000000125, 1.8800000001666666, -0.0009999990909090872, -0.09999999800000003, -0.39699999982142853},
		[]float64{0.10000000249999996, -0.30000000035714286, 0.9000000002499999}, 1.0999999998333334},
	{19.527361508583184, 12.671210560091467,
		[]float64{0.641479609625377, -0.8356436585077264, 1.8208675965150278, -0.05081193105155404, -0.14929388313328573, -0.4446835026412466},
		[]float64{0.053391021850636336, -0.25013073524965285, 0.8500832431828504}, 1.149793885910952},
	{17.9111296262088, 12.061497871155582,
		[]float64{0.6597743780041286, -0.8140445960783773, 1.7974309109582627, -0.07057002772706691, -0.1688374318240352, -0.4635398792101648},
		[]float64{0.036404464640905604, -0.23023158037892255, 0.8301477765771847}, 1.169635341224964},
}

// optVars creates W [2, 3], b [3] and lambda [] as trainable variables of a
// fresh context (in the scopes the method and head use), and a frozen matrix.
func optVars() (ctx *context.Context, w, b, lam, frozen *context.Variable) {
	ctx = context.New()
	w = ctx.InAbsPath("/head").Checked(false).VariableWithValue("weight",
		tensors.FromFlatDataAndDimensions([]float32{0.5, -1, 2, 0.1, 0, -0.3}, 2, 3))
	b = ctx.InAbsPath("/head").Checked(false).VariableWithValue("bias",
		tensors.FromFlatDataAndDimensions([]float32{0.2, -0.4, 1}, 3))
	lam = ctx.InAbsPath("/"+method.ScopeLayerScale).Checked(false).VariableWithValue("0", tensors.FromScalar(float32(1)))
	frozen = ctx.InAbsPath("/bert/pooler/dense").Checked(false).VariableWithValue("weight",
		tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 2, 2))
	frozen.SetTrainable(false)
	return
}

func optClose(t *testing.T, what string, got float32, want, tol float64) {
	t.Helper()
	if d := math.Abs(float64(got) - want); !(d <= tol*max(1, math.Abs(want))) {
		t.Errorf("%s = %.9g, want %.9g (torch.optim.AdamW; diff %.3g)", what, got, want, d)
	}
}

// TestAdamWMatchesTorch runs three AdamW steps (lr 0.1, 0.05, 0.02: a schedule
// fed as the lr input) on a quadratic loss, with and without global-norm
// clipping, and compares loss, gradient norm and parameters with torch.optim.AdamW:
// decoupled weight decay (0.1) on the matrix only, bias correction of both moments,
// clip_grad_norm_'s max_norm / (norm + 1e-6).
func TestAdamWMatchesTorch(t *testing.T) {
	be := testbackend.New(t)
	for _, c := range []struct {
		name    string
		maxNorm float64
		ref     []optRefStep
	}{{"clip 1.0", 1.0, optRefClipped}, {"no clipping", -1, optRefUnclipped}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, w, b, lam, frozen := optVars()
			vars := TrainableVariables(ctx)
			if len(vars) != 3 {
				t.Fatalf("TrainableVariables: %d variables, want 3 (W, b, lambda; not the frozen one)", len(vars))
			}
			opt := AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0.1}
			exec, err := context.NewExec(be, ctx, func(ctx *context.Context, lr, step *Node) []*Node {
				g := lr.Graph()
				W, B, L := w.ValueGraph(g), b.ValueGraph(g), lam.ValueGraph(g)
				TW := Const(g, [][]float32{{1, 1, 1}, {-1, -1, -1}})
				cW := Const(g, [][]float32{{1, 2, 3}, {0.5, 0.25, 4}})
				Tb := Const(g, []float32{0, 1, -1})
				loss := Add(Add(ReduceAllSum(Mul(cW, Square(Sub(W, TW)))), ReduceAllSum(Square(Sub(B, Tb)))),
					MulScalar(Square(AddScalar(L, -2)), 3))
				nodes := make([]*Node, len(vars))
				for i, v := range vars {
					nodes[i] = v.ValueGraph(g)
				}
				norm, _ := opt.update(ctx, vars, Gradient(loss, nodes...), lr, step, loss, c.maxNorm)
				return []*Node{loss, norm}
			})
			if err != nil {
				t.Fatal(err)
			}
			for k, lr := range []float32{0.1, 0.05, 0.02} {
				out, err := exec.Exec(lr, float32(k+1))
				if err != nil {
					t.Fatal(err)
				}
				ref := c.ref[k]
				const tol = 2e-6 // float32 against float64
				optClose(t, "loss", tensors.ToScalar[float32](out[0]), ref.loss, tol)
				optClose(t, "gradient norm", tensors.ToScalar[float32](out[1]), ref.norm, tol)
				for i, x := range tensors.MustCopyFlatData[float32](w.MustValue()) {
					optClose(t, "W", x, ref.w[i], tol)
				}
				for i, x := range tensors.MustCopyFlatData[float32](b.MustValue()) {
					optClose(t, "b", x, ref.b[i], tol)
				}
				optClose(t, "lambda", tensors.ToScalar[float32](lam.MustValue()), ref.lam, tol)
			}
			if got := tensors.MustCopyFlatData[float32](frozen.MustValue()); got[0] != 1 || got[3] != 4 {
				t.Errorf("the frozen variable changed: %v", got)
			}
			// The moments live under /optimizer/{m,v}/<scope>.
			if ctx.GetVariableByScopeAndName("/"+ScopeOptimizer+"/m/head", "weight") == nil ||
				ctx.GetVariableByScopeAndName("/"+ScopeOptimizer+"/v/"+method.ScopeLayerScale, "0") == nil {
				t.Error("no AdamW moment variables under /optimizer/m and /optimizer/v")
			}
		})
	}
}

// TestAdamWDecayOnlyOnMatrices: with a zero gradient, an AdamW step with weight
// decay scales every trainable matrix by exactly (1 - lr*wd) (the Adam term is
// 0 / (0 + eps) = 0) and leaves biases and the layer scale bit-identical; frozen
// variables are not in TrainableVariables, so never reach the optimizer.
func TestAdamWDecayOnlyOnMatrices(t *testing.T) {
	be := testbackend.New(t)
	ctx, w, b, lam, frozen := optVars()
	vars := TrainableVariables(ctx)
	for _, v := range vars {
		if v == frozen {
			t.Fatal("a frozen variable is in TrainableVariables")
		}
	}
	for _, c := range []struct {
		v    *context.Variable
		want bool
	}{{w, true}, {b, false}, {lam, false}, {frozen, true}} {
		if got := Decays(c.v); got != c.want {
			t.Errorf("Decays(%s/%s %v) = %v, want %v", c.v.Scope(), c.v.Name(), c.v.Shape().Dimensions, got, c.want)
		}
	}
	w0 := tensors.MustCopyFlatData[float32](w.MustValue())
	b0 := tensors.MustCopyFlatData[float32](b.MustValue())
	const lr, wd = 0.5, 0.2
	opt := AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: wd}
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, lrNode, step *Node) *Node {
		grads := make([]*Node, len(vars))
		for i, v := range vars {
			grads[i] = ZerosLike(v.ValueGraph(lrNode.Graph()))
		}
		norm, _ := opt.update(ctx, vars, grads, lrNode, step, ScalarZero(lrNode.Graph(), lrNode.DType()), 1.0)
		return norm
	})
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 2; step++ {
		if _, err := exec.Exec(float32(lr), float32(step)); err != nil {
			t.Fatal(err)
		}
	}
	factor := float32(1) - float32(lr)*float32(wd) // 0.9, as the graph computes it in float32
	for i, x := range tensors.MustCopyFlatData[float32](w.MustValue()) {
		if want := w0[i] * factor * factor; x != want {
			t.Errorf("W[%d] = %v after two decayed steps, want %v", i, x, want)
		}
	}
	for i, x := range tensors.MustCopyFlatData[float32](b.MustValue()) {
		if math.Float32bits(x) != math.Float32bits(b0[i]) {
			t.Errorf("bias[%d] changed from %v to %v: decay touched a bias", i, b0[i], x)
		}
	}
	if x := tensors.ToScalar[float32](lam.MustValue()); x != 1 {
		t.Errorf("lambda changed from 1 to %v: decay touched a layer scale", x)
	}
}

// hfLinear is transformers' get_linear_schedule_with_warmup lr_lambda, verbatim:
//
//	def lr_lambda(current_step):
//	    if current_step < num_warmup_steps:
//	        return float(current_step) / float(max(1, num_warmup_steps))
//	    return max(0.0, float(num_training_steps - current_step) /
//	                    float(max(1, num_training_steps - num_warmup_steps)))
//
// and get_constant_schedule_with_warmup's: step / max(1, warmup) during warm-up,
// then 1. HF Trainer calls scheduler.step() after optimizer.step(), so update k
// (0-based) uses lr_lambda(k).
func hfLinear(step, warmup, total int) float64 {
	if step < warmup {
		return float64(step) / float64(max(1, warmup))
	}
	return math.Max(0, float64(total-step)/float64(max(1, total-warmup)))
}

func hfConstant(step, warmup int) float64 {
	if step < warmup {
		return float64(step) / float64(max(1, warmup))
	}
	return 1
}

func TestScheduleMatchesHF(t *testing.T) {
	// Hand values: peak 1e-3, 10 warm-up steps, 100 in all.
	s := Schedule{Peak: 1e-3, Warmup: 10, Total: 100, Kind: "linear"}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0}, {1, 1e-4}, {5, 5e-4}, {10, 1e-3}, {55, 5e-4}, {91, 1e-4}, {100, 0}, {120, 0}} {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("linear LR(%d) = %g, want %g", c.step, got, c.want)
		}
	}
	for _, cfg := range []struct{ warmup, total int }{{10, 100}, {0, 37}, {3, 3}, {1, 2}, {7, 50}} {
		for step := 0; step <= cfg.total+3; step++ {
			lin := Schedule{Peak: 0.02, Warmup: cfg.warmup, Total: cfg.total, Kind: "linear"}
			if got, want := lin.LR(step), 0.02*hfLinear(step, cfg.warmup, cfg.total); math.Abs(got-want) > 1e-15 {
				t.Errorf("linear warmup %d total %d: LR(%d) = %g, HF %g", cfg.warmup, cfg.total, step, got, want)
			}
			con := Schedule{Peak: 0.02, Warmup: cfg.warmup, Total: cfg.total, Kind: "constant"}
			if got, want := con.LR(step), 0.02*hfConstant(step, cfg.warmup); math.Abs(got-want) > 1e-15 {
				t.Errorf("constant warmup %d: LR(%d) = %g, HF %g", cfg.warmup, step, got, want)
			}
		}
	}
}

// TestTrainerWarmupSteps: a fractional warm-up is HF's ceil(ratio * total steps),
// a warm-up >= 1 a number of steps.
func TestTrainerWarmupSteps(t *testing.T) {
	ctx, spec := setup(t, method.PT2, model.SequenceClassification)
	// 10 examples of length <= 16 in batches of 4: 3 steps an epoch, 3 epochs: 9 steps.
	data := synthetic(10, 1, spec.Head)
	for _, c := range []struct {
		warmup float64
		want   int
	}{{0.1, 1}, {0.25, 3}, {2, 2}, {0.5, 5}} {
		tr, err := New(testbackend.New(t), ctx, spec, data, Options{BatchSize: 4, Bucket: 32, MaxLen: 32, Epochs: 3, Warmup: c.warmup})
		if err != nil {
			t.Fatal(err)
		}
		s := tr.Schedule()
		if s.Total != 9 || s.Warmup != c.want {
			t.Errorf("warm-up %g: schedule %+v, want %d warm-up steps of 9", c.warmup, s, c.want)
		}
	}
}
