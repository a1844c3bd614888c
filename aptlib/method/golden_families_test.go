package method_test

import (
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The APT golden test of the other families: PT-2, APT (mean and cls gate
// pooling) and one ablation through RoBERTa (roberta.* names, created pooler),
// DeBERTa v1, a deberta-v3-like DeBERTa-v2 (log buckets, shared keys,
// created pooler) and a deberta-v2-xlarge-like one (ConvLayer), each checkpoint
// loaded with its family and each adapter with package adapter, against
// testdata/make_apt_golden_families.py: the family's own PyTorch reference
// with APT's gated prefixes computed from each layer's input, in float64.

func readFamiliesGolden(t *testing.T) *aptGolden {
	return readGolden(t, "apt_golden_families.json", "make_apt_golden_families.py")
}

func TestAPTGoldenFamilies(t *testing.T) {
	checkGolden(t, readFamiliesGolden(t))
}

// TestAPTGoldenFamiliesDetects shows that the families' golden values catch a
// dropped layer scale, a gate reading the wrong layer's input (layer 1 of the
// ConvLayer variant must read the ConvLayer's output, not the embeddings), the
// other gate pooling, and a dropped token gate.
func TestAPTGoldenFamiliesDetects(t *testing.T) {
	kind := func(k method.Kind) goldenBreak {
		return goldenBreak{config: func(mc *method.Config, _ *context.Context) { mc.Kind = k }}
	}
	// Layer 1's hook gets layer 0's input (the embedding output).
	earlierInput := goldenBreak{hooks: func(h *backbone.Hooks) {
		prefix := h.Prefix
		var first *Node
		h.Prefix = func(layer int, prev, mask *Node) (*Node, *Node) {
			if layer == 0 {
				first = prev
			}
			if layer == 1 {
				prev = first
			}
			return prefix(layer, prev, mask)
		}
	}}
	checkDetects(t, readFamiliesGolden(t), []goldenMutation{
		{"no layer scale", "debertav3_apt_mean", kind(method.APTNoLayerGate), "logits"},
		{"gate of layer 1 reads the embeddings, not the ConvLayer", "debertav2_apt_mean", earlierInput, "alpha1"},
		{"cls pooling for mean", "roberta_apt_mean", goldenBreak{config: func(mc *method.Config, _ *context.Context) {
			mc.GatePooling = method.PoolCLS
		}}, "alpha0"},
		{"no token gate", "deberta_apt_cls", kind(method.APTNoTokenGate), "sequence"},
	})
}
