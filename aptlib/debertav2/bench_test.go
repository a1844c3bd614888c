package debertav2

import (
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// BenchmarkForward measures the encoder forward pass (inference) on the test
// backend with random weights in deberta-v3's layout (buckets 256, shared
// keys, c2p and p2c, relative-embedding LayerNorm). Run it with
//
//	go test -run '^$' -bench Forward -benchtime 2x ./aptlib/debertav2/
func BenchmarkForward(b *testing.B) {
	for _, size := range []struct {
		name                  string
		layers, d, heads, ffn int
		batch, seq            int
	}{
		{"small-L4-d256-B8xT64", 4, 256, 4, 1024, 8, 64},
		{"base-L12-d768-B2xT128", 12, 768, 12, 3072, 2, 128},
	} {
		b.Run(size.name, func(b *testing.B) {
			c := DefaultConfig()
			c.VocabSize, c.Hidden, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 1000, size.d, size.layers, size.heads, size.ffn
			c.RelativeAttention, c.PositionBuckets, c.ShareAttKey, c.NormRelEbd = true, 256, true, "layer_norm"
			c.PosAttType, c.PositionBiasedInput, c.AttentionHeadSize, c.EmbeddingSize, c.PoolerHiddenSize = StringList{"p2c", "c2p"}, false, 0, 0, 0
			if err := c.Validate(); err != nil {
				b.Fatal(err)
			}
			ctx := context.New()
			InitRandom(ctx, c, 1, false)
			exec := context.MustNewExec(testbackend.New(b), ctx, func(ctx *context.Context, ids *Node) *Node {
				return Forward(ctx, c, backbone.Inputs{IDs: ids}, nil).Pooled()
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
			b.ReportMetric(float64(size.batch*size.seq)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
