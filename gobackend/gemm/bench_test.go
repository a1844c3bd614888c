package gemm

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkShapes: go test -bench Shapes -run XXX ./gobackend/gemm/ (GFLOP/s per shape,
// 1 and 2 goroutines, default kernel; -kernel picks another through SetKernel).
func BenchmarkShapes(b *testing.B) {
	defer SetThreads(0)
	for _, s := range BenchShapes {
		for _, nt := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", strings.ReplaceAll(s.Name, " ", "_"), nt), func(b *testing.B) {
				SetThreads(nt)
				p := NewBenchBatch(s)
				MulBatch(p)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					MulBatch(p)
				}
				b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkKernels compares the kernels on a few shapes with one goroutine.
func BenchmarkKernels(b *testing.B) {
	defer SetThreads(0)
	defer SetKernel("")
	SetThreads(1)
	for _, name := range Kernels() {
		for _, s := range []Shape{BenchShapes[0], BenchShapes[8], BenchShapes[16], BenchShapes[17], BenchShapes[20]} {
			b.Run(fmt.Sprintf("%s/%s", name, strings.ReplaceAll(s.Name, " ", "_")), func(b *testing.B) {
				SetKernel(name)
				p := NewBenchBatch(s)
				MulBatch(p)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					MulBatch(p)
				}
				b.ReportMetric(s.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkPeak(b *testing.B) {
	for i := 0; i < b.N; i++ {
		g := PeakGFLOPS(200e6)
		b.ReportMetric(g, "GFLOP/s")
	}
}
