package gobackend

import (
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
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

// specialTensor is like randTensor with NaN, ±Inf, ±0, tiny and huge values
// sprinkled in.
func specialTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	t := randTensor(rng, false, dims...)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
		float32(math.Copysign(0, -1)), 1e-40, -1e-38, 3e38, -88.5, 89, 0.5, -0.5, 2.5}
	tensors.MutableFlatData(t, func(flat []float32) {
		for i := range flat {
			if rng.Intn(8) == 0 {
				flat[i] = special[rng.Intn(len(special))]
			}
		}
	})
	return t
}

// fusedShapes are output shapes for the property tests: below and above one
// chunk, odd sizes, 1-element axes, and one large enough to be split over
// threads.
var fusedShapes = [][]int{{7}, {1, 1, 5}, {3, 1, 700}, {1029}, {2, 3, 171}, {65, 1031}}

func TestFusedUnaryOps(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	ops := map[string]func(*Node) *Node{
		"Neg": Neg, "Abs": Abs, "Sign": Sign, "Exp": Exp, "Expm1": Expm1, "Log": Log, "Log1p": Log1p,
		"Floor": Floor, "Ceil": Ceil, "Round": Round, "Rsqrt": Rsqrt, "Sqrt": Sqrt, "Logistic": Logistic,
		"Tanh": Tanh, "Erf": Erf, "Identity": Identity,
	}
	for name, op := range ops {
		for _, dims := range fusedShapes {
			before := fuseRuns.Load()
			// Alone (plus a Neg, so that Identity is not alone), and in a chain.
			fn := func(x []*Node) []*Node {
				return []*Node{Neg(op(x[0])), op(Mul(x[0], x[1]))}
			}
			compareFused(t, ref, fn, []*tensors.Tensor{specialTensor(rng, dims...), specialTensor(rng, dims...)})
			if fuseRuns.Load() == before {
				t.Fatalf("%s %v: no fused step ran", name, dims)
			}
		}
	}
}

func TestFusedBinaryOps(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	ops := map[string]func(a, b *Node) *Node{
		"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div, "Max": Max, "Min": Min, "Pow": Pow,
	}
	// Operand shapes against the output's: same, broadcast along axes, scalar.
	cases := [][2][]int{
		{{3, 5, 700}, {3, 5, 700}}, {{3, 5, 700}, {1, 1, 700}}, {{3, 5, 700}, {3, 5, 1}},
		{{1, 5, 700}, {3, 1, 700}}, {{65, 1031}, {65, 1031}}, {{65, 1031}, {1, 1031}},
		{{1029}, {}}, {{}, {1029}}, {{4, 1, 1}, {1, 3, 1}},
	}
	for _, op := range ops {
		for _, c := range cases {
			fn := func(x []*Node) []*Node {
				// Through an Abs, so that there is always a member of full shape
				// (a lone broadcasting op may be left to the broadcast step).
				return []*Node{Abs(op(x[0], x[1])), op(Neg(x[1]), x[0])}
			}
			in := []*tensors.Tensor{specialTensor(rng, c[0]...), specialTensor(rng, c[1]...)}
			compareFused(t, ref, fn, in)
		}
		// A scalar constant folded into the program.
		fn := func(x []*Node) []*Node {
			g := x[0].Graph()
			return []*Node{op(Exp(x[0]), Scalar(g, x[0].DType(), 0.75)), op(Scalar(g, x[0].DType(), -1.5), Neg(x[0]))}
		}
		compareFused(t, ref, fn, []*tensors.Tensor{specialTensor(rng, 5, 333)})
	}
}

func TestFusedCompareAndWhere(t *testing.T) {
	rng := rand.New(rand.NewSource(24))
	cmps := map[string]func(a, b *Node) *Node{
		"LessThan": LessThan, "LessOrEqual": LessOrEqual, "GreaterThan": GreaterThan,
		"GreaterOrEqual": GreaterOrEqual, "Equal": Equal, "NotEqual": NotEqual,
	}
	for name, cmp := range cmps {
		for _, dims := range fusedShapes {
			fn := func(x []*Node) []*Node {
				g := x[0].Graph()
				zero := ScalarZero(g, x[0].DType())
				m := cmp(x[0], x[1])
				relu := Where(GreaterThan(x[0], zero), x[0], zero) // ReLU
				drop := Where(m, DivScalar(x[0], 0.9), zero)       // dropout
				both := Where(m, Exp(x[0]), Neg(x[1]))
				// Scalar operands on either side, of the comparison and of Where.
				c := Scalar(g, x[0].DType(), 0.5) // also among the special values: equality happens
				ms := Where(cmp(x[0], c), Scalar(g, x[0].DType(), 2.5), x[1])
				sm := Where(cmp(c, x[1]), x[0], Scalar(g, x[0].DType(), -1.5))
				// The mask also leaves the group (a bool export).
				return []*Node{relu, drop, both, ms, sm, ConvertDType(m, x[0].DType())}
			}
			in := []*tensors.Tensor{specialTensor(rng, dims...), specialTensor(rng, dims...)}
			// Equal values sometimes, for Equal and NotEqual.
			tensors.MutableFlatData(in[1], func(b []float32) {
				a := tensors.MustCopyFlatData[float32](in[0])
				for i := range b {
					if i%3 == 0 {
						b[i] = a[i]
					}
				}
			})
			compareFused(t, ref, fn, in)
			_ = name
		}
	}
	// A scalar condition.
	fn := func(x []*Node) []*Node {
		c := GreaterThan(ReduceAllSum(x[0]), ReduceAllSum(x[1]))
		return []*Node{Where(c, Exp(x[0]), Neg(x[1]))}
	}
	compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, 9, 300), randTensor(rng, false, 9, 300)})
}

func TestFusedConvertDType(t *testing.T) {
	rng := rand.New(rand.NewSource(25))
	n := 3000
	u := make([]uint32, n)
	s := make([]int32, n)
	for i := range u {
		u[i] = rng.Uint32()
		s[i] = int32(rng.Uint32())
	}
	fn := func(x []*Node) []*Node {
		dt := x[2].DType()
		a := Mul(ConvertDType(x[0], dt), Scalar(x[0].Graph(), dt, 1.0/(1<<32)))
		b := Add(ConvertDType(x[1], dt), x[2])
		return []*Node{a, Where(LessOrEqual(a, Scalar(x[0].Graph(), dt, 0.1)), x[2], b)}
	}
	compareFused(t, ref, fn, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(u, 3, 1000),
		tensors.FromFlatDataAndDimensions(s, 3, 1000), randTensor(rng, false, 3, 1000)})
}

// TestFusedChains: the chains of a transformer step, alone and with their
// gradients, against simplego.
func TestFusedChains(t *testing.T) {
	rng := rand.New(rand.NewSource(26))
	gelu := func(x *Node) *Node {
		return MulScalar(Mul(x, AddScalar(Erf(MulScalar(x, 1/math.Sqrt2)), 1)), 0.5)
	}
	chains := map[string]func(x []*Node) []*Node{
		"bias+gelu": func(x []*Node) []*Node {
			b := Reshape(Slice(x[1], AxisRange(0, 1), AxisRange(0, 1), AxisRange()), x[1].Shape().Dimensions[2])
			return []*Node{gelu(Add(x[0], ExpandLeftToRank(b, 3)))}
		},
		"softmax": func(x []*Node) []*Node { return []*Node{Softmax(x[0], -1), Softmax(x[0], 1)} },
		"layernorm": func(x []*Node) []*Node {
			mean := ReduceAndKeep(x[0], ReduceMean, -1)
			c := Sub(x[0], mean)
			v := ReduceAndKeep(Square(c), ReduceMean, -1)
			return []*Node{Div(c, Sqrt(AddScalar(v, 1e-12)))}
		},
		"adam": func(x []*Node) []*Node {
			g := x[0].Graph()
			lr := ReduceAllMax(Abs(x[1])) // a scalar computed in the graph
			m := Add(MulScalar(x[1], 0.9), MulScalar(x[0], 0.1))
			v := Add(MulScalar(Square(x[1]), 0.999), MulScalar(Square(x[0]), 0.001))
			upd := Div(m, AddScalar(Sqrt(v), 1e-8))
			w := Sub(x[0], Mul(lr, Add(upd, MulScalar(x[0], 0.01))))
			return []*Node{m, v, w, Where(IsFinite(w), w, ScalarZero(g, w.DType()))}
		},
	}
	for name, fn := range chains {
		for _, dims := range [][]int{{2, 3, 7}, {4, 9, 130}, {3, 5, 2050}} {
			in := []*tensors.Tensor{randTensor(rng, false, dims...), randTensor(rng, false, dims...)}
			compareFused(t, ref, fn, in)
			grad := func(x []*Node) []*Node {
				outs := fn(x)
				var loss *Node
				for _, o := range outs {
					s := ReduceAllSum(Mul(o, x[1]))
					if loss == nil {
						loss = s
					} else {
						loss = Add(loss, s)
					}
				}
				return append(outs, Gradient(loss, x[0])...)
			}
			if name != "adam" { // IsFinite has no gradient
				compareFused(t, ref, grad, in)
			}
		}
	}
}

// TestFusedReusesBuffers: a fused step that is the last reader of an
// intermediate writes its output over it.
func TestFusedReusesBuffers(t *testing.T) {
	rng := rand.New(rand.NewSource(27))
	before := fuseAliases.Load()
	fn := func(x []*Node) []*Node {
		tr := Transpose(x[0], 0, 1) // a simplego op: an owned intermediate
		return []*Node{MulScalar(Exp(tr), 2)}
	}
	compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, 40, 70)})
	if fuseAliases.Load() == before {
		t.Errorf("the fused output did not take over its input's buffer")
	}
}

// TestFusedSplits: a group never contains a path that leaves it and comes
// back (softmax: exp, then its sum, then the division), and the fused steps
// agree with the unfused graph with products.
func TestFusedSplits(t *testing.T) {
	rng := rand.New(rand.NewSource(28))
	fn := func(x []*Node) []*Node {
		e := Exp(x[0])
		s := ReduceAndKeep(e, ReduceSum, -1)
		p := Div(e, s)
		return []*Node{Neg(p), DotGeneral(p, []int{1}, nil, x[1], []int{0}, nil)}
	}
	compareFused(t, unfused, fn, []*tensors.Tensor{randTensor(rng, false, 30, 50), randTensor(rng, false, 50, 20)})
}

// TestFusedRegisterReuse: registers are recycled within a chunk, but not
// those of an operand read twice (x*x) before its last reader, nor those of a
// mask that leaves the group (it is converted at the end of the chunk).
func TestFusedRegisterReuse(t *testing.T) {
	rng := rand.New(rand.NewSource(29))
	fn := func(x []*Node) []*Node {
		a, b := Exp(x[0]), Neg(x[1])
		m := LessOrEqual(a, b)
		e := Where(m, a, b) // the last reader of m, a and b in the group
		e2 := Abs(Neg(e))
		sq := Mul(e, e) // the last reader of e, twice
		c := Add(Tanh(sq), Mul(Exp(sq), e2))
		d := Mul(Sqrt(Abs(c)), Exp(Neg(c)))
		return []*Node{Add(Mul(c, c), Logistic(d)), ConvertDType(m, x[0].DType())}
	}
	for _, dims := range fusedShapes {
		compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, dims...), randTensor(rng, false, dims...)})
	}
}

// TestReductions: ReduceSum, ReduceMax and ReduceMin over consecutive axes
// (the last ones, the leading ones, the middle ones) are bit-identical to
// simplego; other axis sets stay on simplego.
func TestReductions(t *testing.T) {
	rng := rand.New(rand.NewSource(30))
	ops := []func(*Node, ...int) *Node{ReduceSum, ReduceMax, ReduceMin}
	cases := []struct {
		dims []int
		axes []int
		here bool
	}{
		{[]int{3, 4, 144}, []int{2}, true}, // softmax
		{[]int{16, 13, 256}, []int{2}, true},
		{[]int{5, 7, 33}, []int{0, 1}, true}, // bias gradient
		{[]int{130, 300}, []int{0}, true},
		{[]int{4, 9, 5, 6}, []int{1, 2}, true},
		{[]int{1, 1, 7}, []int{0, 1}, true},
		{[]int{6, 1, 5}, []int{1}, true},
		{[]int{2050}, []int{0}, true},
		{[]int{70, 1031}, []int{1}, true}, // split over threads
		{[]int{4, 5, 6}, []int{0, 2}, false},
	}
	for _, c := range cases {
		for _, op := range ops {
			before := redRuns.Load()
			fn := func(x []*Node) []*Node { return []*Node{op(x[0], c.axes...)} }
			compareFused(t, ref, fn, []*tensors.Tensor{specialTensor(rng, c.dims...)})
			compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, c.dims...)})
			if ran := redRuns.Load() > before; ran != c.here {
				t.Errorf("%v over %v: run here %v, want %v", c.dims, c.axes, ran, c.here)
			}
		}
	}
}

// TestFusedBroadcasts: BroadcastInDim inside a group (bias rows, LayerNorm
// columns, a scalar), and a transposed operand, bit-identical.
func TestFusedBroadcasts(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	fn := func(x []*Node) []*Node {
		a := x[0] // [6, 7, 40]
		row := BroadcastToDims(Reshape(x[1], 1, 1, 40), 6, 7, 40)
		col := ExpandAndBroadcast(ReduceSum(a, -1), []int{6, 7, 40}, []int{2})
		sc := BroadcastToDims(ReduceAllMax(x[1]), 6, 7, 40)
		sq := Reshape(Slice(a, AxisRange(), AxisRange(0, 1), AxisRange(0, 6)), 6, 6) // [6, 6]
		tr := Transpose(sq, 0, 1)
		return []*Node{Mul(Add(Exp(a), row), Sub(col, sc)), Mul(Neg(sq), tr)}
	}
	compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, 6, 7, 40), randTensor(rng, false, 40)})
}

// TestFusedReadsThroughBroadcasts: a broadcast that no group takes (its
// reader joined another group first) is read by the group from its operand,
// a scalar Constant folded in, and not materialized: no broadcast step runs,
// results are simplego's bit for bit.
func TestFusedReadsThroughBroadcasts(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	fn := func(x []*Node) []*Node {
		a := x[0] // [6, 7, 400]
		two := BroadcastToDims(Const(a.Graph(), float32(2)), 6, 7, 400)
		row := BroadcastToDims(Reshape(x[1], 1, 1, 400), 6, 7, 400)
		e := Exp(a)
		return []*Node{Mul(e, two), Sub(Neg(a), row), Add(Tanh(a), row)}
	}
	before := binRuns.Load()
	compareFused(t, ref, fn, []*tensors.Tensor{randTensor(rng, false, 6, 7, 400), randTensor(rng, false, 400)})
	if n := binRuns.Load() - before; n != 0 {
		t.Errorf("%d broadcast steps ran, want 0 (the groups read the operands)", n)
	}
}

// TestRNGBitGenerator: the random bits (through RandomUniform and
// RandomNormal: 32 and 64-bit draws) and the new state are simplego's, for
// sizes that are not multiples of 8 bytes too, over two steps.
func TestRNGBitGenerator(t *testing.T) {
	seed, err := RNGStateFromSeed(42)
	if err != nil {
		t.Fatal(err)
	}
	// The last two are drawn by two goroutines (the stream split by pcgAdvance).
	for _, dims := range [][]int{{3, 1001}, {4097}, {1, 2, 3, 211}, {3, 50001}, {7, 20011}} {
		before := rngRuns.Load()
		fn := func(x []*Node) []*Node {
			s1, u := RandomUniform(x[0], shapes.Make(dtypes.Float32, dims...))
			s2, n := RandomNormal(s1, shapes.Make(dtypes.Float32, dims...))
			s3, d := RandomUniform(s2, shapes.Make(dtypes.Float64, dims...))
			// The later draws depend on the whole state the earlier ones left.
			return []*Node{u, n, ConvertDType(d, dtypes.Float32), ConvertDType(s3, dtypes.Float32)}
		}
		compareFused(t, ref, fn, []*tensors.Tensor{seed})
		if rngRuns.Load() == before {
			t.Errorf("%v: not run here", dims)
		}
	}
}

// TestPCGAdvance: the state after n draws, computed by squaring, is the
// state math/rand/v2's PCG reaches by drawing n times.
func TestPCGAdvance(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 4097} {
		p := randv2.NewPCG(0x9e3779b97f4a7c15, 12345)
		for range n {
			p.Uint64()
		}
		m, _ := p.MarshalBinary()
		hi, lo := pcgAdvance(0x9e3779b97f4a7c15, 12345, uint64(n))
		if q := randv2.NewPCG(hi, lo); q.Uint64() != p.Uint64() {
			t.Errorf("n=%d: advanced state %x %x, drawn state %x", n, hi, lo, m[4:])
		}
	}
}
