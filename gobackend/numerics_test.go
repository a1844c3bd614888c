package gobackend

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Both backends, created once: ours with every product on gemm.
var ours, ref = func() (backends.Backend, backends.Backend) {
	o, err := New("min_dot_flops=0,min_broadcast=0")
	if err != nil {
		panic(err)
	}
	r, err := simplego.New("ops_sequential")
	if err != nil {
		panic(err)
	}
	return o, r
}()

func randTensor(rng *rand.Rand, integer bool, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		if integer {
			data[i] = float32(rng.Intn(7) - 3)
		} else {
			data[i] = float32(rng.NormFloat64())
		}
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func run(t *testing.T, b backends.Backend, fn func([]*Node) []*Node, inputs []*tensors.Tensor) [][]float32 {
	t.Helper()
	exec, err := NewExec(b, fn)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := make([]any, len(inputs))
	for i, in := range inputs {
		c, err := in.LocalClone()
		if err != nil {
			t.Fatal(err)
		}
		args[i] = c
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("%s: %+v", b, err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		res[i] = tensors.MustCopyFlatData[float32](o)
		o.FinalizeAll()
	}
	return res
}

// compare runs fn on both backends and checks the outputs: bit-identical when
// exact, else max|a-b| <= tol * max(1, max|ref|) per output.
func compare(t *testing.T, fn func([]*Node) []*Node, inputs []*tensors.Tensor, exact bool, tol float64) {
	t.Helper()
	got := run(t, ours, fn, inputs)
	want := run(t, ref, fn, inputs)
	if len(got) != len(want) {
		t.Fatalf("got %d outputs, want %d", len(got), len(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("output #%d: %d elements, want %d", i, len(got[i]), len(want[i]))
		}
		var maxRef, maxDiff float64
		for j := range got[i] {
			if exact && math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("output #%d[%d] = %v, simplego %v (want bit-identical)", i, j, got[i][j], want[i][j])
			}
			maxRef = max(maxRef, math.Abs(float64(want[i][j])))
			maxDiff = max(maxDiff, math.Abs(float64(got[i][j]-want[i][j])))
		}
		if math.IsNaN(maxDiff) || maxDiff > tol*max(1, maxRef) {
			t.Fatalf("output #%d: max diff %g (max |ref| %g), tolerance %g relative", i, maxDiff, maxRef, tol)
		}
	}
}

type dotCase struct {
	name           string
	ldims, rdims   []int
	lc, lb, rc, rb []int
	gemm           bool // expected to run on gemm
}

func dotCases() []dotCase {
	B, T, d, f, n, P, dh := 3, 13, 17, 33, 2, 5, 9
	return []dotCase{
		{"BTd x dd'", []int{B, T, d}, []int{d, f}, []int{2}, nil, []int{0}, nil, true},
		{"BTd x d'd (rhs transposed)", []int{B, T, d}, []int{f, d}, []int{2}, nil, []int{1}, nil, true},
		{"dM x dN (lhs transposed)", []int{d, T}, []int{d, f}, []int{0}, nil, []int{0}, nil, true},
		{"both transposed", []int{d, T}, []int{f, d}, []int{0}, nil, []int{1}, nil, true},
		{"weight grad X^T dY", []int{B, T, d}, []int{B, T, f}, []int{0, 1}, nil, []int{0, 1}, nil, true},
		{"input grad dY W^T", []int{B, T, f}, []int{d, f}, []int{2}, nil, []int{1}, nil, true},
		{"attention scores", []int{B, n, T, dh}, []int{B, n, T + P, dh}, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}, true},
		{"attention context", []int{B, n, T, T + P}, []int{B, n, T + P, dh}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}, true},
		{"attention dV = P^T dC", []int{B, n, T, T + P}, []int{B, n, T, dh}, []int{2}, []int{0, 1}, []int{2}, []int{0, 1}, true},
		{"attention dK = dS^T Q", []int{B, n, T, T + P}, []int{B, n, T, dh}, []int{2}, []int{0, 1}, []int{2}, []int{0, 1}, true},
		{"attention dQ = dS K", []int{B, n, T, T + P}, []int{B, n, T + P, dh}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}, true},
		{"1-element axes", []int{1, 1, 1, dh}, []int{1, 1, 7, dh}, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}, true},
		{"K=1", []int{B, T, 1}, []int{1, f}, []int{2}, nil, []int{0}, nil, true},
		{"batch not leading", []int{T, B, d}, []int{B, d, f}, []int{2}, []int{1}, []int{1}, []int{0}, true},
		{"several free axes", []int{2, 3, 4, 5}, []int{5, 6, 2}, []int{3}, nil, []int{0}, nil, true},
		{"big odd", []int{2, 67, 129}, []int{129, 65}, []int{2}, nil, []int{0}, nil, true},
		{"contracting reversed (fallback)", []int{4, 3, 5}, []int{5, 4, 6}, []int{2, 0}, nil, []int{0, 1}, nil, false},
		{"batch permuted (outer loop)", []int{B, n, T, dh}, []int{B, n, P, dh}, []int{3}, []int{1, 0}, []int{3}, []int{1, 0}, true},
		{"batch split by a free axis (outer loop)", []int{B, T, n, dh}, []int{B, P, n, dh}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}, true},
	}
}

func TestDotGeneralForms(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, c := range dotCases() {
		t.Run(c.name, func(t *testing.T) {
			fn := func(x []*Node) []*Node {
				return []*Node{DotGeneral(x[0], c.lc, c.lb, x[1], c.rc, c.rb)}
			}
			before := dotRuns.Load()
			in := []*tensors.Tensor{randTensor(rng, false, c.ldims...), randTensor(rng, false, c.rdims...)}
			compare(t, fn, in, false, 1e-5)
			if ran := dotRuns.Load() > before; ran != c.gemm {
				t.Errorf("ran on gemm: %v, want %v", ran, c.gemm)
			}
			// Integer-valued inputs: every summation order is exact.
			in = []*tensors.Tensor{randTensor(rng, true, c.ldims...), randTensor(rng, true, c.rdims...)}
			compare(t, fn, in, true, 0)
		})
	}
}

func TestDotForms(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for _, dims := range [][2][]int{{{5, 7}, {7, 3}}, {{5, 7}, {7}}, {{7}, {7}}, {{1, 1}, {1, 1}}} {
		before := dotRuns.Load()
		fn := func(x []*Node) []*Node { return []*Node{Dot(x[0], x[1])} }
		compare(t, fn, []*tensors.Tensor{randTensor(rng, false, dims[0]...), randTensor(rng, false, dims[1]...)}, false, 1e-5)
		if dotRuns.Load() == before {
			t.Errorf("Dot %v did not run on gemm", dims)
		}
	}
}

// mixedGraph is a small encoder layer with a loss and its gradients:
// projections, attention with a mask and a prefix, GELU, a LayerNorm-like
// normalisation, a gather, a where, reductions.
func mixedGraph(x []*Node) []*Node {
	emb, ids, wq, wk, wv, w1, w2, prefix := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	g := emb.Graph()
	B, T, d, n := 2, 6, 8, 2
	dh := d / n
	h := Gather(emb, ExpandAxes(ids, -1)) // [B,T,d]
	h = Reshape(h, B, T, d)
	q := Reshape(DotGeneral(h, []int{2}, nil, wq, []int{0}, nil), B, T, n, dh)
	k := Reshape(DotGeneral(h, []int{2}, nil, wk, []int{0}, nil), B, T, n, dh)
	v := Reshape(DotGeneral(h, []int{2}, nil, wv, []int{0}, nil), B, T, n, dh)
	q, k, v = TransposeAllDims(q, 0, 2, 1, 3), TransposeAllDims(k, 0, 2, 1, 3), TransposeAllDims(v, 0, 2, 1, 3)
	pk := BroadcastToDims(Reshape(prefix, 1, n, 3, dh), B, n, 3, dh)
	k = Concatenate([]*Node{pk, k}, 2)
	v = Concatenate([]*Node{pk, v}, 2)
	s := MulScalar(DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}), 1/math.Sqrt(float64(dh)))
	mask := GreaterThan(Iota(g, s.Shape(), 3), Iota(g, s.Shape(), 2))
	s = Where(mask, BroadcastToShape(Scalar(g, s.DType(), -1e4), s.Shape()), s)
	p := Softmax(s, -1)
	c := DotGeneral(p, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B,n,T,dh]
	c = Reshape(TransposeAllDims(c, 0, 2, 1, 3), B, T, d)
	c = Add(c, h)
	mean := ReduceAndKeep(c, ReduceMean, -1)
	cc := Sub(c, mean)
	c = Div(cc, Sqrt(AddScalar(ReduceAndKeep(Square(cc), ReduceMean, -1), 1e-5)))
	f := DotGeneral(c, []int{2}, nil, w1, []int{0}, nil)
	f = MulScalar(Mul(f, AddScalar(Erf(MulScalar(f, 1/math.Sqrt2)), 1)), 0.5)
	o := DotGeneral(f, []int{2}, nil, w2, []int{0}, nil)
	loss := ReduceAllSum(Square(Sub(o, c)))
	grads := Gradient(loss, emb, wq, wk, wv, w1, w2, prefix)
	return append([]*Node{loss, ReduceMax(o, -1)}, grads...)
}

func mixedInputs(rng *rand.Rand, integer bool) []*tensors.Tensor {
	d := 8
	ids := make([]int32, 12)
	for i := range ids {
		ids[i] = int32(rng.Intn(10))
	}
	return []*tensors.Tensor{
		randTensor(rng, integer, 10, d),
		tensors.FromFlatDataAndDimensions(ids, 2, 6),
		randTensor(rng, integer, d, d), randTensor(rng, integer, d, d), randTensor(rng, integer, d, d),
		randTensor(rng, integer, d, 12), randTensor(rng, integer, 12, d),
		randTensor(rng, integer, 2*3*4),
	}
}

func TestMixedGraphWithGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	before := dotRuns.Load()
	compare(t, mixedGraph, mixedInputs(rng, false), false, 1e-4)
	if dotRuns.Load() == before {
		t.Fatal("no product ran on gemm")
	}
}

// TestNoProducts: a graph without products is simplego's own executable.
func TestNoProducts(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	fn := func(x []*Node) []*Node {
		return []*Node{Softmax(Tanh(x[0]), -1), ReduceSum(Exp(x[0]), 0)}
	}
	compare(t, fn, []*tensors.Tensor{randTensor(rng, false, 5, 7)}, true, 0)
}

// TestSegmentsBitIdentical: products of small integers are exact, so the
// whole graph (whose other ops run on simplego itself) must be bit-identical.
func TestSegmentsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	fn := func(x []*Node) []*Node {
		a := DotGeneral(x[0], []int{1}, nil, x[1], []int{0}, nil)
		b := Tanh(MulScalar(a, 0.01))
		c := DotGeneral(b, []int{1}, nil, x[2], []int{0}, nil)
		return []*Node{Add(c, ReduceAndKeep(a, ReduceMax, -1)), Gradient(ReduceAllSum(Square(c)), x[0])[0], x[0], a, a, c}
	}
	in := []*tensors.Tensor{randTensor(rng, true, 9, 11), randTensor(rng, true, 11, 5), randTensor(rng, true, 5, 3)}
	compare(t, fn, in, true, 0)
}

func TestRepeatable(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	in := mixedInputs(rng, false)
	a := run(t, ours, mixedGraph, in)
	for range 3 {
		b := run(t, ours, mixedGraph, in)
		for i := range a {
			for j := range a[i] {
				if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
					t.Fatalf("output #%d[%d] differs between runs", i, j)
				}
			}
		}
	}
}

func TestRegistered(t *testing.T) {
	b, err := backends.NewWithConfig(BackendName)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*Backend); !ok {
		t.Fatalf("%q gives %T", BackendName, b)
	}
	s, err := backends.NewWithConfig(SimplegoName)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*simplego.Backend); !ok {
		t.Fatalf("%q gives %T", SimplegoName, s)
	}
	if numGeneratedOps < 90 {
		t.Fatalf("only %d generated ops", numGeneratedOps)
	}
	_ = fmt.Sprint()
}

// TestOtherOps: ops the encoder graphs rarely use still run (recorded and
// replayed on simplego), around products, bit-identical (integer inputs).
func TestOtherOps(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	fn := func(x []*Node) []*Node {
		a, w, state := x[0], x[1], x[2]
		g := a.Graph()
		p := DotGeneral(a, []int{1}, nil, w, []int{0}, nil) // [6,4]
		newState, u := RandomUniform(state, p.Shape())      // multi-output op
		q := Clamp(Scalar(g, p.DType(), -5), p, Scalar(g, p.DType(), 5))
		q = Transpose(q, 0, 1)
		d := Where(GreaterThan(q, ZerosLike(q)), Exp(MulScalar(q, 0.1)), Neg(q))
		s := Slice(q, AxisRange(1, 3), AxisRange().Stride(2))
		am := ConvertDType(ArgMax(p, 1), dtypes.Float32)
		r := DotGeneral(Concatenate([]*Node{p, p}, 1), []int{1}, nil, Transpose(Concatenate([]*Node{w, w}, 1), 0, 1), []int{0}, nil)
		return []*Node{q, d, s, am, r, ReduceMin(u, 1), ConvertDType(newState, dtypes.Float32)}
	}
	state, err := RNGStateFromSeed(42)
	if err != nil {
		t.Fatal(err)
	}
	in := []*tensors.Tensor{randTensor(rng, true, 6, 5), randTensor(rng, true, 5, 4), state}
	compare(t, fn, in, true, 0)
}

// TestViewsThroughTransposeAndReshape: products read the sources of
// Transpose and Reshape ops through strides (the attention layout
// [B,T,d] -> [B,n,T,dh]), the copies are not made, and results match.
func TestViewsThroughTransposeAndReshape(t *testing.T) {
	b, err := New("profile")
	if err != nil {
		t.Fatal(err)
	}
	B, T, n, dh, P := 2, 5, 3, 4, 2
	fn := func(x []*Node) []*Node {
		q := TransposeAllDims(Reshape(x[0], B, T, n, dh), 0, 2, 1, 3)
		k := TransposeAllDims(Reshape(x[1], B, P+T, n, dh), 0, 2, 1, 3)
		s := DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1})
		wt := DotGeneral(Transpose(x[2], 0, 1), []int{0}, nil, Reshape(x[0], B*T, n*dh), []int{0}, nil)
		return []*Node{s, wt}
	}
	rng := rand.New(rand.NewSource(8))
	in := []*tensors.Tensor{randTensor(rng, false, B, T, n*dh), randTensor(rng, false, B, P+T, n*dh), randTensor(rng, false, 7, B*T)}
	got := run(t, b, fn, in)
	want := run(t, ref, fn, in)
	for i := range got {
		for j := range got[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5*max(1, math.Abs(float64(want[i][j]))) {
				t.Fatalf("output #%d[%d] = %v, simplego %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	_, stats := Profiles()
	s := stats[len(stats)-1]
	if s.Dots != 2 || s.Segments != 0 {
		t.Errorf("stats %+v: want 2 products and no segment (no transposing copy)", s)
	}
}

// TestBroadcastingBinaryOps: Add, Sub, Mul, Div with operands broadcast
// along any axes are bit-identical to simplego.
func TestBroadcastingBinaryOps(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	cases := [][2][]int{
		{{3, 4, 5}, {1, 1, 5}}, // bias add
		{{3, 4, 5}, {3, 4, 1}}, // LayerNorm: x - mean
		{{1, 4, 5}, {3, 4, 5}},
		{{3, 1, 5}, {1, 4, 5}}, // both broadcast
		{{2, 3, 1, 1}, {1, 1, 4, 5}},
		{{2, 1, 3, 7}, {2, 4, 3, 7}}, // attention mask [B,1,T,S]
		{{1}, {6}},
		{{5, 1}, {1, 1}},
	}
	for _, c := range cases {
		for _, op := range []func(a, b *Node) *Node{Add, Sub, Mul, Div} {
			before := binRuns.Load()
			fn := func(x []*Node) []*Node {
				return []*Node{op(x[0], x[1]), op(x[1], x[0])}
			}
			compare(t, fn, []*tensors.Tensor{randTensor(rng, false, c[0]...), randTensor(rng, false, c[1]...)}, true, 0)
			if binRuns.Load() == before {
				t.Errorf("%v with %v: not run as a broadcast step", c[0], c[1])
			}
		}
	}
}

func TestBroadcastInDim(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	cases := []struct {
		in []int
		fn func(x *Node) *Node
	}{
		{[]int{1, 1, 5}, func(x *Node) *Node { return BroadcastToDims(x, 3, 4, 5) }},
		{[]int{3, 1, 5}, func(x *Node) *Node { return BroadcastToDims(x, 3, 4, 5) }},
		{[]int{2, 1, 1, 7}, func(x *Node) *Node { return BroadcastToDims(x, 2, 3, 4, 7) }},
		{[]int{3, 5}, func(x *Node) *Node { return ExpandAndBroadcast(x, []int{3, 4, 5}, []int{1}) }},
		{[]int{4}, func(x *Node) *Node { return ExpandAndBroadcast(x, []int{3, 4, 5}, []int{0, 2}) }},
		{[]int{5}, func(x *Node) *Node { return BroadcastPrefix(x, 3, 4) }},
		{[]int{}, func(x *Node) *Node { return BroadcastToDims(x, 6, 2) }},
	}
	for _, c := range cases {
		before := binRuns.Load()
		fn := func(x []*Node) []*Node { return []*Node{c.fn(x[0])} }
		compare(t, fn, []*tensors.Tensor{randTensor(rng, false, c.in...)}, true, 0)
		if binRuns.Load() == before {
			t.Errorf("%v: not run as a broadcast step", c.in)
		}
	}
}
