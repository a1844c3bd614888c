package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkSmall: products with few rows (gates, single examples) through the packed
// path and through the reference loop, to find the crossover.
func BenchmarkSmall(b *testing.B) {
	SetThreads(1)
	defer SetThreads(0)
	for _, s := range []Shape{
		{Count: 1, M: 1, N: 768, K: 768}, {Count: 1, M: 1, N: 16, K: 256}, {Count: 1, M: 4, N: 256, K: 256},
		{Count: 1, M: 16, N: 16, K: 16}, {Count: 1, M: 1, N: 1, K: 256}, {Count: 1, M: 8, N: 8, K: 8},
		{Count: 1, M: 1, N: 768, K: 768, TransB: true}, {Count: 1, M: 32, N: 2, K: 256},
		{Count: 1, M: 4, N: 4, K: 64}, {Count: 1, M: 2, N: 2, K: 512}, {Count: 1, M: 12, N: 12, K: 12},
		{Count: 1, M: 1, N: 32, K: 64}, {Count: 1, M: 1, N: 8, K: 256},
	} {
		for _, path := range []string{"packed", "direct"} {
			b.Run(fmt.Sprintf("%dx%dx%d_tb%v/%s", s.M, s.N, s.K, s.TransB, path), func(b *testing.B) {
				p := NewBenchBatch(s)
				for i := 0; i < b.N; i++ {
					if path == "packed" {
						MulBatch(p)
					} else {
						mulDirect(&p)
					}
				}
				b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkParallelCrossover: one goroutine against two on small square products, for
// parallelFlops.
func BenchmarkParallelCrossover(b *testing.B) {
	defer SetThreads(0)
	for _, n := range []int{64, 128, 192, 256, 384} {
		for _, nt := range []int{1, 2} {
			b.Run(fmt.Sprintf("%d/t%d", n, nt), func(b *testing.B) {
				s := Shape{Count: 1, M: n, N: n, K: n}
				p := NewBenchBatch(s)
				SetThreads(nt)
				j := jobPool.Get().(*job)
				for i := 0; i < b.N; i++ {
					// Force the split past parallelFlops: run the job directly.
					j.p, j.k = p, active.Load()
					j.split(nt)
					j.next.Store(0)
					if nt > 1 {
						startWorkers(nt - 1)
						j.wg.Add(nt - 1)
						for w := 0; w < nt-1; w++ {
							workCh <- j
						}
					}
					j.run()
					j.wg.Wait()
				}
				b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
