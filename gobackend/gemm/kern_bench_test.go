package gemm

import "testing"

// BenchmarkMicroKernel runs each micro-kernel alone on L1/L2-resident panels.
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range kernels {
		b.Run(k.name, func(b *testing.B) {
			kc := k.kc
			a := make([]float32, k.mc*kc)
			bp := make([]float32, k.nr*kc)
			c := make([]float32, k.mc*k.nr)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for ir := 0; ir+k.mr <= k.mc; ir += k.mr {
					k.fn(kc, &a[ir*kc], &bp[0], &c[ir*k.nr], k.nr, 1)
				}
			}
			fl := float64(k.mc/k.mr*k.mr) * float64(k.nr) * float64(kc) * 2
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
