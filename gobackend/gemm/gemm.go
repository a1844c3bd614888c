// This file and MulBatch (driver.go) are the package's contract (Operand, Out, Batch,
// Mul, MulBatch): the backend calls it; the kernels behind it may change. Design: doc.go.

package gemm

// Operand describes a strided matrix view: element (i, j) is
// Data[Offset + i*RowStride + j*ColStride].
type Operand struct {
	Data                 []float32
	Offset               int
	RowStride, ColStride int
}

// At returns element (i, j).
func (o Operand) At(i, j int) float32 { return o.Data[o.Offset+i*o.RowStride+j*o.ColStride] }

// Out is a row-major output view: element (i, j) is Data[Offset + i*Stride + j].
type Out struct {
	Data   []float32
	Offset int
	Stride int
}

// Batch is one batched product: for b in [0, Count), C_b[M×N] = A_b[M×K] · B_b[K×N],
// where A_b is A shifted by b*StrideA elements (likewise B, C).
type Batch struct {
	Count                     int
	M, N, K                   int
	A, B                      Operand
	C                         Out
	StrideA, StrideB, StrideC int
	// Outer, when above 1, repeats the batch on a second batch axis: the
	// products are (o, b) for o in [0, Outer), A shifted by o*OuterA +
	// b*StrideA (B, C likewise). Two batch axes that do not merge into one
	// stride (multi-head attention read through strides: batch and head) are
	// then one call, whose Outer×Count products are shared out together.
	Outer                  int
	OuterA, OuterB, OuterC int
	// Accumulate adds into C instead of overwriting it.
	Accumulate bool
}

// total is the number of products, Outer×Count.
func (p *Batch) total() int { return p.Count * max(1, p.Outer) }

// offsets are the shifts of A, B and C for product t of total().
func (p *Batch) offsets(t int) (a, b, c int) {
	o, i := t/p.Count, t%p.Count
	return o*p.OuterA + i*p.StrideA, o*p.OuterB + i*p.StrideB, o*p.OuterC + i*p.StrideC
}

// inner returns the batch of outer index o alone (Outer 0).
func (p *Batch) inner(o int) Batch {
	q := *p
	q.Outer, q.OuterA, q.OuterB, q.OuterC = 0, 0, 0, 0
	q.A.Offset += o * p.OuterA
	q.B.Offset += o * p.OuterB
	q.C.Offset += o * p.OuterC
	return q
}

// Mul computes C = A·B (C += A·B with accumulate) for one M×K by K×N product.
func Mul(m, n, k int, a, b Operand, c Out, accumulate bool) {
	MulBatch(Batch{Count: 1, M: m, N: n, K: k, A: a, B: b, C: c, Accumulate: accumulate})
}

// mulBatchReference is the plain triple loop: the reference the kernels are tested against.
func mulBatchReference(p Batch) {
	if p.Outer > 1 {
		for o := range p.Outer {
			mulBatchReference(p.inner(o))
		}
		return
	}
	for b := 0; b < p.Count; b++ {
		a, bb, c := p.A, p.B, p.C
		a.Offset += b * p.StrideA
		bb.Offset += b * p.StrideB
		c.Offset += b * p.StrideC
		for i := 0; i < p.M; i++ {
			for j := 0; j < p.N; j++ {
				var s float32
				for l := 0; l < p.K; l++ {
					s += a.At(i, l) * bb.At(l, j)
				}
				idx := c.Offset + i*c.Stride + j
				if p.Accumulate {
					c.Data[idx] += s
				} else {
					c.Data[idx] = s
				}
			}
		}
	}
}
