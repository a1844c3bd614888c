package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel runs each micro-kernel alone over packed blocks as the macro-kernel
// does: an mc×kc A block and an kc×nc B block, tiles visited with B panels outer
// (order "jr-ir", B panel reused from L1) or A panels outer ("ir-jr").
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range kernels[:len(kernels)-1] {
		for _, kc := range []int{128, 192, 256, 384} {
			for _, order := range []string{"jr-ir", "ir-jr"} {
				b.Run(fmt.Sprintf("%s/kc%d/%s", k.name, kc, order), func(b *testing.B) {
					mc := k.mc / k.mr * k.mr
					nc := 512 / k.nr * k.nr
					a := make([]float32, mc*kc)
					bp := make([]float32, nc*kc)
					c := make([]float32, mc*nc)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if order == "jr-ir" {
							for jr := 0; jr < nc; jr += k.nr {
								for ir := 0; ir < mc; ir += k.mr {
									k.fn(kc, &a[ir*kc], &bp[jr*kc], &c[ir*nc+jr], nc, 1)
								}
							}
						} else {
							for ir := 0; ir < mc; ir += k.mr {
								for jr := 0; jr < nc; jr += k.nr {
									k.fn(kc, &a[ir*kc], &bp[jr*kc], &c[ir*nc+jr], nc, 1)
								}
							}
						}
					}
					fl := float64(mc) * float64(nc) * float64(kc) * 2
					b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
