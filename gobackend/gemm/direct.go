package gemm

// directMaxMN is the largest M·N for which mulDirect is used: a handful of dot products,
// where the fixed costs of packing (zero-padded panels, a full register tile computed for
// one or two elements) outweigh the kernels' speed. BenchmarkSmall measured the crossover
// (1×1×256: direct 0.8 µs, packed 3.9 µs; 2×2×512: 7 µs vs 15 µs; 4×4×64: 4 µs vs 1.4 µs;
// 1×8×256: 5.2 µs vs 4.3 µs).
const directMaxMN = 4

// mulDirect is the plain loop for tiny products: each element is one dot product over k
// in order, with indices advanced by the strides.
func mulDirect(p *Batch) {
	for b := 0; b < p.Count; b++ {
		aOff := p.A.Offset + b*p.StrideA
		bOff := p.B.Offset + b*p.StrideB
		cOff := p.C.Offset + b*p.StrideC
		for i := 0; i < p.M; i++ {
			row := p.C.Data[cOff+i*p.C.Stride : cOff+i*p.C.Stride+p.N]
			for j := range row {
				ai := aOff + i*p.A.RowStride
				bj := bOff + j*p.B.ColStride
				var s float32
				for l := 0; l < p.K; l++ {
					s += p.A.Data[ai] * p.B.Data[bj]
					ai += p.A.ColStride
					bj += p.B.RowStride
				}
				if p.Accumulate {
					row[j] += s
				} else {
					row[j] = s
				}
			}
		}
	}
}
