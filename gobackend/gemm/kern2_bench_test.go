package gemm

import "testing"

// BenchmarkMicroKernelL1 runs each micro-kernel alone on one A and one B micro-panel.
func BenchmarkMicroKernelL1(b *testing.B) {
	for _, k := range kernels {
		for _, kc := range []int{64, 128, 256} {
			b.Run(k.name+"/"+itoa(kc), func(b *testing.B) {
				a := make([]float32, k.mr*kc)
				bp := make([]float32, k.nr*kc)
				c := make([]float32, k.mr*k.nr)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k.fn(kc, &a[0], &bp[0], &c[0], k.nr, 1)
				}
				fl := float64(k.mr) * float64(k.nr) * float64(kc) * 2
				b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func itoa(i int) string {
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}
