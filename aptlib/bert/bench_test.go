package bert

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// BenchmarkForward measures the encoder forward pass (inference, no dropout) on
// the pure-Go backend with random weights, and, when Debian's python3-torch is
// installed, the same forward in PyTorch on the same machine and threads
// (testdata/bench_forward.py), reporting the ratio. Run it with
//
//	go test -run '^$' -bench Forward -benchtime 2x ./aptlib/bert/
//
// Metrics: tokens/s (ours), torch_tokens/s, ours/torch (higher is better for us),
// peak_rss_MiB (process peak resident memory, which includes the weights).
func BenchmarkForward(b *testing.B) {
	for _, size := range []struct {
		name                  string
		layers, d, heads, ffn int
		batch, seq            int
	}{
		{"small-L4-d256-B16xT128", 4, 256, 4, 1024, 16, 128},
		{"base-L12-d768-B8xT128", 12, 768, 12, 3072, 8, 128},
	} {
		b.Run(size.name, func(b *testing.B) {
			c := DefaultConfig()
			c.NumHiddenLayers, c.HiddenDim, c.NumAttentionHeads, c.IntermediateSize = size.layers, size.d, size.heads, size.ffn
			ctx := context.New()
			InitRandom(ctx, c, 1, false)
			backend := testBackend(b)
			exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, ids *Node) *Node {
				out := Forward(ctx, c, Inputs{IDs: ids}, nil)
				return out.Pooled()
			})
			ids := make([][]int32, size.batch)
			for i := range ids {
				ids[i] = make([]int32, size.seq)
				for j := range ids[i] {
					ids[i][j] = int32((i*131 + j*7) % c.VocabSize)
				}
			}
			input := tensors.FromValue(ids)
			if _, err := exec.Exec(input); err != nil { // compile + warm-up
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := exec.Exec(input); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			tokens := float64(size.batch*size.seq) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(tokens, "tokens/s")
			b.ReportMetric(peakRSSMiB(), "peak_rss_MiB")
			if torch, ok := torchForward(b, size.layers, size.d, size.heads, size.ffn, size.batch, size.seq); ok {
				b.ReportMetric(torch, "torch_tokens/s")
				b.ReportMetric(tokens/torch, "ours/torch")
			}
		})
	}
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// torchForward runs testdata/bench_forward.py; ok is false (with a log line) when
// PyTorch is not installed.
func torchForward(b *testing.B, layers, d, heads, ffn, batch, seq int) (tokensPerSec float64, ok bool) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		b.Logf("no %s: skipping the PyTorch comparison", python)
		return 0, false
	}
	cmd := exec.Command(python, "bench_forward.py", fmt.Sprint("--layers=", layers), fmt.Sprint("--hidden=", d),
		fmt.Sprint("--heads=", heads), fmt.Sprint("--intermediate=", ffn), fmt.Sprint("--batch=", batch),
		fmt.Sprint("--seq=", seq), fmt.Sprint("--threads=", runtime.GOMAXPROCS(0)))
	cmd.Dir = "testdata"
	out, err := cmd.Output()
	if err != nil {
		b.Logf("PyTorch comparison unavailable (apt-get install python3-torch): %v", err)
		return 0, false
	}
	var res struct {
		TokensPerS float64 `json:"tokens_per_s"`
		PeakRSSMiB float64 `json:"peak_rss_mib"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		b.Logf("PyTorch comparison: bad output %q: %v", out, err)
		return 0, false
	}
	b.Logf("PyTorch: %.0f tokens/s, peak RSS %.0f MiB", res.TokensPerS, res.PeakRSSMiB)
	return res.TokensPerS, true
}
