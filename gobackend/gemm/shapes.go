package gemm

// Shape is a benchmark product: Count products of M×K by K×N, with A or B transposed
// in memory (TransA: A is stored K×M; TransB: B is stored N×K), as the backward
// products of a linear layer read them.
type Shape struct {
	Name           string
	Count, M, N, K int
	TransA, TransB bool
}

// Flops is the number of floating-point operations of the product (2·Count·M·N·K).
func (s Shape) Flops() float64 {
	return 2 * float64(s.Count) * float64(s.M) * float64(s.N) * float64(s.K)
}

// BenchShapes are the benchmark products: a BERT-base layer on 1024 tokens and the
// perf configuration (d256, ff1024, 16×128 = 2048 tokens), forward (X·W), the weight
// gradient (dW = Xᵀ·dY) and the input gradient (dX = dY·Wᵀ), and the attention products
// of the perf configuration (B·heads = 64, T = 128, dh = 64, T+p = 144).
var BenchShapes = []Shape{
	{Name: "bert qkv/out fwd", Count: 1, M: 1024, N: 768, K: 768},
	{Name: "bert ff1 fwd", Count: 1, M: 1024, N: 3072, K: 768},
	{Name: "bert ff2 fwd", Count: 1, M: 1024, N: 768, K: 3072},
	{Name: "bert qkv/out dW", Count: 1, M: 768, N: 768, K: 1024, TransA: true},
	{Name: "bert ff1 dW", Count: 1, M: 768, N: 3072, K: 1024, TransA: true},
	{Name: "bert ff1 dX", Count: 1, M: 1024, N: 768, K: 3072, TransB: true},
	{Name: "bert qkv/out dX", Count: 1, M: 1024, N: 768, K: 768, TransB: true},
	{Name: "perf d fwd", Count: 1, M: 2048, N: 256, K: 256},
	{Name: "perf ff1 fwd", Count: 1, M: 2048, N: 1024, K: 256},
	{Name: "perf ff2 fwd", Count: 1, M: 2048, N: 256, K: 1024},
	{Name: "perf d dW", Count: 1, M: 256, N: 256, K: 2048, TransA: true},
	{Name: "perf ff1 dW", Count: 1, M: 256, N: 1024, K: 2048, TransA: true},
	{Name: "perf ff2 dW", Count: 1, M: 1024, N: 256, K: 2048, TransA: true},
	{Name: "perf d dX", Count: 1, M: 2048, N: 256, K: 256, TransB: true},
	{Name: "perf ff1 dX", Count: 1, M: 2048, N: 256, K: 1024, TransB: true},
	{Name: "perf ff2 dX", Count: 1, M: 2048, N: 1024, K: 256, TransB: true},
	{Name: "attn scores QKᵀ", Count: 64, M: 128, N: 144, K: 64, TransB: true},
	{Name: "attn context PV", Count: 64, M: 128, N: 64, K: 144},
	{Name: "attn dP = dC·Vᵀ", Count: 64, M: 128, N: 144, K: 64, TransB: true},
	{Name: "attn dV = Pᵀ·dC", Count: 64, M: 144, N: 64, K: 128, TransA: true},
	{Name: "square 1024", Count: 1, M: 1024, N: 1024, K: 1024},
}

// NewBenchBatch allocates the operands of s (filled with a fixed pattern) as a Batch.
func NewBenchBatch(s Shape) Batch {
	fill := func(n int) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i%17)*0.01 - 0.08
		}
		return d
	}
	p := Batch{Count: s.Count, M: s.M, N: s.N, K: s.K,
		StrideA: s.M * s.K, StrideB: s.K * s.N, StrideC: s.M * s.N}
	p.A = Operand{Data: fill(s.Count * s.M * s.K), RowStride: s.K, ColStride: 1}
	if s.TransA {
		p.A.RowStride, p.A.ColStride = 1, s.M
	}
	p.B = Operand{Data: fill(s.Count * s.K * s.N), RowStride: s.N, ColStride: 1}
	if s.TransB {
		p.B.RowStride, p.B.ColStride = 1, s.K
	}
	p.C = Out{Data: make([]float32, s.Count*s.M*s.N), Stride: s.N}
	return p
}
