package method_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// createdSize is the number of parameters method.Create puts in a fresh context,
// with their adapter names.
func createdSize(t *testing.T, c method.Config, d int) (int, []string) {
	t.Helper()
	ctx := context.New()
	method.Create(ctx, &c, d, 1)
	n := 0
	var names []string
	for v := range ctx.IterVariables() {
		if !v.Trainable {
			t.Errorf("%s: variable %s is not trainable", c.Kind, method.AdapterName(v))
		}
		n += v.Shape().Size()
		names = append(names, method.AdapterName(v))
	}
	slices.Sort(names)
	return n, names
}

// TestNumTrainableMatchesCreate: the analytic count equals the
// variables method.Create makes, for every kind and for unequal lengths with zeros,
// and Create makes exactly the tensors of the adapter format (docs/adapters.md).
func TestNumTrainableMatchesCreate(t *testing.T) {
	lengths := [][]int{{16, 16}, {4, 0, 2}, {0, 0, 0}, {1, 5, 0, 3}, {0, 7}}
	for _, d := range []int{32, 8} {
		for _, kind := range paperKinds {
			var configs []method.Config
			if kind.HasPrefix() {
				for _, lens := range lengths {
					c := method.Default(kind, len(lens))
					c.PrefixLens = slices.Clone(lens)
					configs = append(configs, c)
				}
			} else {
				configs = append(configs, method.Default(kind, 3))
				if kind == method.PT {
					c := method.Default(kind, 3)
					c.PromptLen = 5
					configs = append(configs, c)
				}
			}
			for _, c := range configs {
				name := fmt.Sprintf("%s/d=%d/lens=%v/prompt=%d", kind, d, c.PrefixLens, c.PromptLen)
				got, names := createdSize(t, c, d)
				if want := c.NumTrainable(d); got != want {
					t.Errorf("%s: Create made %d parameters, NumTrainable says %d", name, got, want)
				}
				// The tensors, by the adapter format's names (docs/adapters.md).
				var want []string
				if kind == method.PT {
					want = append(want, "prompt.embedding")
				}
				alpha, lambda := c.GateLayout()
				for i, p := range c.PrefixLens {
					if p == 0 || !kind.HasPrefix() {
						continue
					}
					l := strconv.Itoa(i)
					want = append(want, "prefix."+l+".key", "prefix."+l+".value")
					if alpha[i] {
						want = append(want, "gate."+l+".weight", "gate."+l+".bias")
					}
					if lambda[i] {
						want = append(want, "layer_scale."+l)
					}
				}
				slices.Sort(want)
				if !slices.Equal(names, want) {
					t.Errorf("%s: Create made %v, want %v", name, names, want)
				}
			}
		}
	}
}

// TestNumTrainablePaperFormulas checks the counts at bert-base size (d = 768,
// L = 12, p = 16) against the paper's arithmetic, and the same numbers from the
// variables Create makes.
func TestNumTrainablePaperFormulas(t *testing.T) {
	const d, L, p = 768, 12, 16
	// PT-2: a key and a value prefix [p, d] per layer: 2 * L * p * d
	//     = 2 * 12 * 16 * 768 = 294,912.
	const pt2 = 2 * L * p * d
	// APT adds per layer a token gate W_i [d, p] + b_i [p] and one lambda_i:
	//     L * (d*p + p) + L = 12 * (12,288 + 16) + 12 = 147,648 + 12 = 147,660.
	const gates = L*(d*p+p) + L
	if pt2 != 294_912 || gates != 147_660 {
		t.Fatalf("arithmetic: %d, %d", pt2, gates)
	}
	want := map[method.Kind]int{
		method.PT2:            pt2,             // 294,912
		method.APT:            pt2 + gates,     // 442,572
		method.APTNoTokenGate: pt2 + L,         // 294,924: lambdas only
		method.APTNoLayerGate: pt2 + L*(d*p+p), // 442,560: token gates only
		method.PT:             p * d,           // 12,288: one prompt [p, d]
		method.FT:             0,               // the backbone is counted apart
	}
	for _, kind := range paperKinds {
		c := method.Default(kind, L)
		if got := c.NumTrainable(d); got != want[kind] {
			t.Errorf("%s at bert-base size: NumTrainable = %d, want %d", kind, got, want[kind])
		}
		if got, _ := createdSize(t, c, d); got != want[kind] {
			t.Errorf("%s at bert-base size: Create made %d parameters, want %d", kind, got, want[kind])
		}
	}
	apt, pt2c := method.Default(method.APT, L), method.Default(method.PT2, L)
	if got := apt.NumTrainable(d) - pt2c.NumTrainable(d); got != 147_660 {
		t.Errorf("APT adds %d parameters to PT-2, want 147,660", got)
	}
	// FT trains the backbone: BertModel bert-base-uncased has 109,482,240 parameters
	// (embeddings (30522+512+2)*768 + 2*768, 12 layers of 7,087,872, pooler 590,592),
	// which is what bert.Tensors lists.
	cfg := bert.DefaultConfig()
	total := 0
	for _, ts := range bert.Tensors(cfg) {
		n := 1
		for _, x := range ts.Shape {
			n *= x
		}
		total += n
	}
	if total != 109_482_240 || cfg.NumParameters() != 109_482_240 {
		t.Errorf("bert-base backbone: bert.Tensors has %d parameters, NumParameters says %d, want 109,482,240", total, cfg.NumParameters())
	}
}

// TestCreateReplacesEarlierMethod: Create on a context that holds another
// configuration's variables (the workbench calls Create on the same context after
// `set method=...` or `set prefix_len=...`, aptlib/run.go prepare) leaves exactly the
// new configuration's variables. Left-over gates, layer scales or prefixes of layers
// that now have none would be picked up by trainer.TrainableVariables, updated
// (decayed) every step and counted as trainable, though no output uses them.
func TestCreateReplacesEarlierMethod(t *testing.T) {
	ctx := context.New()
	first := method.Config{Kind: method.APT, PrefixLens: []int{4, 0, 2}, GatePooling: method.PoolMean, InitStd: 0.02, LayerScaleInit: 1}
	method.Create(ctx, &first, 8, 1)
	second := method.Config{Kind: method.PT2, PrefixLens: []int{0, 3, 0}, GatePooling: method.PoolMean, InitStd: 0.02}
	method.Create(ctx, &second, 8, 2)
	var names []string
	for v := range ctx.IterVariables() {
		names = append(names, method.AdapterName(v))
	}
	slices.Sort(names)
	if want := []string{"prefix.1.key", "prefix.1.value"}; !slices.Equal(names, want) {
		t.Errorf("after Create(apt [4 0 2]) then Create(pt2 [0 3 0]) the context holds %v, want %v", names, want)
	}
}
