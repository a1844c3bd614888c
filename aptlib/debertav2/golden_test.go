package debertav2

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aptbench/apt/internal/goldentest"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/internal/testbackend"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// golden is testdata/golden.json, written by testdata/make_golden.py (PyTorch).
type golden struct {
	InputIDs      [][]int32       `json:"input_ids"`
	TokenTypeIDs  [][]int32       `json:"token_type_ids"`
	AttentionMask [][]int32       `json:"attention_mask"`
	PrefixLens    []int           `json:"prefix_lens"`
	PrefixKeys    [][][][]float32 `json:"prefix_keys"` // [layer][B][p][d], null where p = 0
	PrefixValues  [][][][]float32 `json:"prefix_values"`
	Prompt        [][][]float32   `json:"prompt"` // [B][2][d]
	Buckets       struct {
		From    int   `json:"from"`
		Buckets []int `json:"buckets"`
	} `json:"buckets_256_512"`
	Variants map[string]struct {
		Sequence       [][][]float64   `json:"sequence_output"`
		Hidden         [][][][]float64 `json:"hidden_states"`
		Pooled         [][]float64     `json:"pooled_output"`
		PrefixSequence [][][]float64   `json:"prefix_sequence_output"`
		PrefixPooled   [][]float64     `json:"prefix_pooled_output"`
		PromptSequence [][][]float64   `json:"prompt_sequence_output"`
		PromptPooled   [][]float64     `json:"prompt_pooled_output"`
	} `json:"variants"`
}

const tolerance = 1e-4

func readGolden(t *testing.T) *golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// prefixHook returns the golden prefix slots of each layer as constants (nil
// where the layer has none), as the reference puts them in.
func prefixHook(gd *golden) *backbone.Hooks {
	return &backbone.Hooks{Prefix: func(layer int, prev, mask *Node) (*Node, *Node) {
		if gd.PrefixLens[layer] == 0 {
			return nil, nil
		}
		g := prev.Graph()
		return Const(g, tensors.FromValue(gd.PrefixKeys[layer])), Const(g, tensors.FromValue(gd.PrefixValues[layer]))
	}}
}

// runEncoder loads testdata/<name> and runs Forward on the golden batch; it
// returns the flattened sequence [B,T,d] and pooled [B,d] outputs.
func runEncoder(t *testing.T, backend backends.Backend, name string, gd *golden, hooks func() *backbone.Hooks) (seq, pooled []float32) {
	t.Helper()
	ctx := context.New()
	cfg, hasPooler, err := LoadDir(ctx, filepath.Join("testdata", name), false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasPooler {
		t.Fatalf("%s: LoadDir found no pooler, the checkpoint has pooler.dense.*", name)
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types, mask *Node) (*Node, *Node) {
		var h *backbone.Hooks
		if hooks != nil {
			h = hooks()
		}
		out := Forward(ctx, cfg, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, h)
		return out.Sequence, out.Pooled()
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
}

// TestGoldenAgainstPyTorch checks both configurations (v3-like: log buckets,
// shared keys, no absolute positions, "deberta."-prefixed names with extra
// heads; v2-xlarge-like: ConvLayer with groups, clamped relative positions
// without buckets, separate pos_key_proj/pos_query_proj, absolute positions,
// token types, embed_proj) against the PyTorch reference on a padded batch of
// pairs, without and with prefix slots of lengths 2, 0, 3 in the three layers,
// and with two prompt embeddings.
// All positions are compared, padded ones included.
func TestGoldenAgainstPyTorch(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for name, want := range gd.Variants {
		t.Run(name, func(t *testing.T) {
			seq, pooled := runEncoder(t, backend, name, gd, nil)
			ds, dp := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.Sequence)), goldentest.MaxAbsDiff(pooled, goldentest.Flatten2(want.Pooled))
			t.Logf("no prefix: max difference sequence %g, pooled %g", ds, dp)
			if ds > tolerance || dp > tolerance {
				t.Errorf("outputs differ from PyTorch: sequence by %g, pooled by %g (> %g)", ds, dp, tolerance)
			}
			seq, pooled = runEncoder(t, backend, name, gd, func() *backbone.Hooks { return prefixHook(gd) })
			ds, dp = goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.PrefixSequence)), goldentest.MaxAbsDiff(pooled, goldentest.Flatten2(want.PrefixPooled))
			t.Logf("prefixes %v: max difference sequence %g, pooled %g", gd.PrefixLens, ds, dp)
			if ds > tolerance || dp > tolerance {
				t.Errorf("outputs with prefixes differ from PyTorch: sequence by %g, pooled by %g (> %g)", ds, dp, tolerance)
			}
			// The prefixes must matter, or the comparison above proves nothing about them.
			if d := goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.Sequence)); d <= tolerance {
				t.Errorf("prefix slots changed the output by only %g", d)
			}
			seq, pooled = runEncoder(t, backend, name, gd, func() *backbone.Hooks {
				return &backbone.Hooks{Prompt: func(e *Node) *Node { return Const(e.Graph(), tensors.FromValue(gd.Prompt)) }}
			})
			ds, dp = goldentest.MaxAbsDiff(seq, goldentest.Flatten3(want.PromptSequence)), goldentest.MaxAbsDiff(pooled, goldentest.Flatten2(want.PromptPooled))
			t.Logf("2 prompt embeddings: max difference sequence %g, pooled %g", ds, dp)
			if ds > tolerance || dp > tolerance {
				t.Errorf("outputs with prompts differ from PyTorch: sequence by %g, pooled by %g (> %g)", ds, dp, tolerance)
			}
		})
	}
}

// TestHiddenStates compares Output.Hidden with DebertaV2Encoder's
// all_hidden_states: the embedding output, then each layer's output, where
// layer 0's is taken after the ConvLayer (it is what layer 1 reads and what
// APT's gate of layer 1 sees).
func TestHiddenStates(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for name, want := range gd.Variants {
		t.Run(name, func(t *testing.T) {
			ctx := context.New()
			cfg, _, err := LoadDir(ctx, filepath.Join("testdata", name), false)
			if err != nil {
				t.Fatal(err)
			}
			exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, types, mask *Node) []*Node {
				return Forward(ctx, cfg, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, nil).Hidden
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Exec(tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(want.Hidden) || len(res) != cfg.NumHiddenLayers+1 {
				t.Fatalf("%d hidden states, reference %d, layers+1 = %d", len(res), len(want.Hidden), cfg.NumHiddenLayers+1)
			}
			for i := range res {
				if d := goldentest.MaxAbsDiff(tensors.MustCopyFlatData[float32](res[i]), goldentest.Flatten3(want.Hidden[i])); d > tolerance {
					t.Errorf("hidden state %d differs from PyTorch by %g", i, d)
				}
			}
		})
	}
}

// TestGoldenDetectsWrongNumerics is the golden test's own check: each of the
// mistakes that are easy to make in DeBERTa-v2 must move the v3-like outputs
// past the tolerance.
func TestGoldenDetectsWrongNumerics(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	const name = "tiny-debertav3"
	want := goldentest.Flatten3(gd.Variants[name].Sequence)
	for _, tc := range []struct {
		name   string
		break_ func()
	}{
		{"scale factor dropped (1/sqrt(d_head) instead of 1/sqrt(3 d_head))", func() {
			saved := scaleFactor
			scaleFactor = func(*Config) int { return 1 }
			t.Cleanup(func() { scaleFactor = saved })
		}},
		{"p2c index of the paper (delta(j,i): clamp(b(j-i)+S))", func() {
			saved := p2cIndex
			p2cIndex = func(c *Config, r int) int {
				span := c.AttSpan()
				return min(max(bucket(c, -r)+span, 0), 2*span-1)
			}
			t.Cleanup(func() { p2cIndex = saved })
		}},
		{"log buckets left out (b(r) = r)", func() {
			saved := bucket
			bucket = func(_ *Config, r int) int { return r }
			t.Cleanup(func() { bucket = saved })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_()
			seq, _ := runEncoder(t, backend, name, gd, nil)
			d := goldentest.MaxAbsDiff(seq, want)
			t.Logf("max difference %g", d)
			if d <= tolerance {
				t.Errorf("outputs still within %g of the reference (diff %g): the golden test could not catch it", tolerance, d)
			}
		})
	}
}

// TestLogBucketsMatchHF compares makeLogBucketPosition with HF's float32
// make_log_bucket_position for deberta-v3's real setting (256 buckets, 512
// positions) over |i - j| <= 1100.
func TestLogBucketsMatchHF(t *testing.T) {
	gd := readGolden(t)
	if len(gd.Buckets.Buckets) == 0 {
		t.Fatal("golden.json has no bucket table")
	}
	bad := 0
	for k, want := range gd.Buckets.Buckets {
		r := gd.Buckets.From + k
		if got := makeLogBucketPosition(r, 256, 512); got != want {
			if bad++; bad <= 5 {
				t.Errorf("bucket(%d) = %d, HF %d", r, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d buckets differ", bad, len(gd.Buckets.Buckets))
	}
}

// prefixLossExec builds loss = sum(Sequence * readout) + sum(Pooled) of the
// encoder with prefix slots in layers 0 and 2 given as inputs, and its
// gradients with respect to those slots and to some backbone weights (full
// fine-tuning backpropagates into them, through Gather and the ConvLayer).
func prefixLossExec(t *testing.T, backend backends.Backend, name string) (*context.Exec, *Config) {
	t.Helper()
	ctx := context.New()
	cfg, _, err := LoadDir(ctx, filepath.Join("testdata", name), true)
	if err != nil {
		t.Fatal(err)
	}
	weights := []string{"embeddings.word_embeddings.weight", "encoder.rel_embeddings.weight", "encoder.layer.1.attention.self.key_proj.weight"}
	if cfg.ConvKernelSize > 0 {
		weights = append(weights, "encoder.conv.conv.weight")
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, inputs []*Node) []*Node {
		ids, types, mask, readout := inputs[0], inputs[1], inputs[2], inputs[3]
		slots := inputs[4:8] // k0, v0, k2, v2
		hooks := &backbone.Hooks{Prefix: func(layer int, prev, m *Node) (*Node, *Node) {
			switch layer {
			case 0:
				return slots[0], slots[1]
			case 2:
				return slots[2], slots[3]
			}
			return nil, nil
		}}
		out := Forward(ctx, cfg, backbone.Inputs{IDs: ids, TypeIDs: types, Mask: mask}, hooks)
		loss := Add(ReduceAllSum(Mul(out.Sequence, readout)), ReduceAllSum(out.Pooled()))
		wrt := append([]*Node{}, slots...)
		for _, w := range weights {
			wrt = append(wrt, Variable(ctx, w).ValueGraph(ids.Graph()))
		}
		return append([]*Node{loss}, Gradient(loss, wrt...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return exec, cfg
}

// TestPrefixGradients checks, on the test backend, that the gradient with
// respect to the prefix slots exists (training backpropagates through the
// frozen backbone into the prefixes), is finite and non-zero, and agrees with
// a central finite difference along a random direction; and that the
// gradients of the weights full fine-tuning trains exist.
func TestPrefixGradients(t *testing.T) {
	gd := readGolden(t)
	backend := testbackend.New(t)
	for name := range gd.Variants {
		t.Run(name, func(t *testing.T) {
			exec, _ := prefixLossExec(t, backend, name)
			rng := rand.New(rand.NewPCG(1, 2))
			readout := make([]float32, len(gd.InputIDs)*len(gd.InputIDs[0])*len(gd.PrefixKeys[0][0][0]))
			for i := range readout {
				readout[i] = float32(rng.NormFloat64())
			}
			dims := []int{len(gd.InputIDs), len(gd.InputIDs[0]), len(gd.PrefixKeys[0][0][0])}
			base := [][][][]float32{gd.PrefixKeys[0], gd.PrefixValues[0], gd.PrefixKeys[2], gd.PrefixValues[2]}
			run := func(step float32, dir [][]float32) []*tensors.Tensor {
				args := []any{tensors.FromValue(gd.InputIDs), tensors.FromValue(gd.TokenTypeIDs), tensors.FromValue(gd.AttentionMask),
					tensors.FromFlatDataAndDimensions(readout, dims...)}
				for s, slot := range base {
					x := tensors.FromValue(slot)
					flat := tensors.MustCopyFlatData[float32](x)
					if dir != nil {
						for i := range flat {
							flat[i] += step * dir[s][i]
						}
					}
					args = append(args, tensors.FromFlatDataAndDimensions(flat, x.Shape().Dimensions...))
				}
				res, err := exec.Exec(args...)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := run(0, nil)
			names := []string{"layer 0 prefix keys", "layer 0 prefix values", "layer 2 prefix keys", "layer 2 prefix values",
				"word embeddings", "rel embeddings", "layer 1 key_proj", "conv weight"}
			var dir [][]float32
			analytic := 0.0
			for i, grad := range res[1:] {
				g := tensors.MustCopyFlatData[float32](grad)
				norm := 0.0
				var d []float32
				for _, x := range g {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("%s: gradient not finite", names[i])
					}
					norm += float64(x) * float64(x)
					if i < 4 {
						u := float32(rng.NormFloat64())
						d = append(d, u)
						analytic += float64(u) * float64(x)
					}
				}
				if i < 4 {
					dir = append(dir, d)
				}
				t.Logf("%s: gradient norm %.4g", names[i], math.Sqrt(norm))
				if norm == 0 {
					t.Errorf("%s: gradient is zero", names[i])
				}
			}
			const h = 1e-2
			plus := tensors.MustCopyFlatData[float32](run(h, dir)[0])[0]
			minus := tensors.MustCopyFlatData[float32](run(-h, dir)[0])[0]
			numeric := (float64(plus) - float64(minus)) / (2 * h)
			t.Logf("directional derivative: gradient %.6g, finite difference %.6g", analytic, numeric)
			if math.Abs(numeric-analytic) > 1e-2*math.Max(1, math.Abs(analytic)) {
				t.Errorf("gradient along a random direction %g, central finite difference %g", analytic, numeric)
			}
		})
	}
}

// hidePooler is a weight source without the pooler tensors, like a masked-LM
// checkpoint (deberta-v3-base).
type hidePooler struct{ backbone.WeightSource }

func (h hidePooler) Info(name string) (safetensors.TensorInfo, bool) {
	if len(name) >= 7 && (name[:7] == "pooler." || (len(name) > 15 && name[:15] == "deberta.pooler.")) {
		return safetensors.TensorInfo{}, false
	}
	return h.WeightSource.Info(name)
}
