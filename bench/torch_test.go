package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/familydir"
	"github.com/aptbench/apt/internal/goldentest"
	"github.com/aptbench/apt/internal/testbackend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// python is the interpreter with torch (Debian's python3-torch).
const python = "/usr/bin/python3"

func needTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch (%v: %s): the PyTorch reference is not checked", python, err, strings.TrimSpace(string(out)))
	}
}

// TestTorchSelfcheck: every family's PyTorch bench model computes what the
// family's float64 golden reference computes (torch_ref.py --selfcheck; prefixes,
// gates and padding included), within 1e-4.
func TestTorchSelfcheck(t *testing.T) {
	needTorch(t)
	out, err := exec.Command(python, "torch_ref.py", "--selfcheck").CombinedOutput()
	t.Logf("%s", out)
	if err != nil || !strings.Contains(string(out), "selfcheck ok") {
		t.Fatalf("torch_ref.py --selfcheck: %v", err)
	}
}

// TestTorchSameParameters runs a tiny row of every registered family in
// PyTorch from TorchArgs and on our side: FT trains the same number of
// parameters (the PyTorch model has the family's tensors), APT the same
// prefixes, gates, head and created pooler, and PyTorch's loss is finite.
func TestTorchSameParameters(t *testing.T) {
	needTorch(t)
	for _, mt := range backbone.ModelTypes() {
		for _, m := range []string{"ft", "apt"} {
			r := Row{Family: mt, Mode: "train", Size: "tiny", Method: m, Layers: 2, Hidden: 32, Heads: 4, Inter: 64, Batch: 2, Seq: 8, Prefix: 2, Steps: 1}
			args, err := TorchArgs(r, 1)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(python, append([]string{"torch_ref.py"}, args...)...).Output()
			if err != nil {
				t.Fatalf("%s: torch_ref.py %v: %v", r.Describe(), args, err)
			}
			var torch struct {
				Trainable int     `json:"trainable"`
				Loss      float64 `json:"loss"`
			}
			if err := json.Unmarshal(out, &torch); err != nil {
				t.Fatalf("%s: torch_ref.py printed %q: %v", r.Describe(), out, err)
			}
			ours := Run(r, "go")
			if ours.Err != "" {
				t.Fatalf("%s: %s", r.Describe(), ours.Err)
			}
			if torch.Trainable != ours.Trainable {
				t.Errorf("%s: PyTorch trains %d parameters, ours %d", r.Describe(), torch.Trainable, ours.Trainable)
			}
			if !(torch.Loss > 0) || math.IsInf(torch.Loss, 0) {
				t.Errorf("%s: PyTorch loss %v", r.Describe(), torch.Loss)
			}
		}
	}
}

// TestTorchSameOutputs is the direct check: for every registered family, a
// tiny model directory (internal/familydir: the family's own config keys,
// weights scaled so that tokens exchange information, a pooler) whose
// config.json is rewritten as the family writes it (the form apt-bench hands
// the reference), run by our family (backbone.LoadDir, Forward with prefix
// slots of 2 per layer) and by the PyTorch bench model (torch_ref.py
// --compare) on the same padded batch: sequence and pooled outputs agree
// within 1e-4.
func TestTorchSameOutputs(t *testing.T) {
	needTorch(t)
	b := testbackend.New(t)
	for _, mt := range backbone.ModelTypes() {
		t.Run(mt, func(t *testing.T) {
			dir := t.TempDir()
			if err := familydir.Write(dir, mt, familydir.Options{Seed: 5, NoTokenizer: true}); err != nil {
				t.Fatalf("no tiny model directory for family %q (internal/familydir): %v", mt, err)
			}
			ctx := context.New()
			cfg, fam, err := backbone.LoadDir(ctx, dir, false)
			if err != nil {
				t.Fatal(err)
			}
			js, err := fam.ConfigJSON(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
				t.Fatal(err)
			}
			in := compareInputs(cfg)
			data, _ := json.Marshal(in)
			if err := os.WriteFile(filepath.Join(dir, "inputs.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(python, "torch_ref.py", "--compare", dir).CombinedOutput(); err != nil {
				t.Fatalf("torch_ref.py --compare: %v: %s", err, out)
			}
			var want struct {
				Sequence [][][]float64 `json:"sequence_output"`
				Pooled   [][]float64   `json:"pooled_output"`
			}
			data, err = os.ReadFile(filepath.Join(dir, "outputs.json"))
			if err == nil {
				err = json.Unmarshal(data, &want)
			}
			if err != nil {
				t.Fatal(err)
			}
			exec, err := context.NewExec(b, ctx, func(ctx *context.Context, ids, mask *Node) (*Node, *Node) {
				hooks := &backbone.Hooks{Prefix: func(layer int, prev, _ *Node) (*Node, *Node) {
					return Const(prev.Graph(), in.Keys[layer]), Const(prev.Graph(), in.Values[layer])
				}}
				out := fam.Forward(ctx, cfg, backbone.Inputs{IDs: ids, Mask: mask}, hooks)
				return out.Sequence, out.Pooled()
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Exec(in.IDs, in.Mask)
			if err != nil {
				t.Fatal(err)
			}
			ds := goldentest.MaxAbsDiff(tensors.MustCopyFlatData[float32](res[0]), goldentest.Flatten3(want.Sequence))
			dp := goldentest.MaxAbsDiff(tensors.MustCopyFlatData[float32](res[1]), goldentest.Flatten2(want.Pooled))
			t.Logf("%s: max |ours - PyTorch bench model|: sequence %.2e, pooled %.2e", mt, ds, dp)
			if ds > 1e-4 || dp > 1e-4 {
				t.Errorf("%s: our family and the PyTorch bench model differ: sequence by %g, pooled by %g (> 1e-4)", mt, ds, dp)
			}
		})
	}
}

// compareInput is inputs.json of TestTorchSameOutputs: a padded batch of
// three (lengths 8, 12, 3 of 12; padding holds the family's pad id, real ids
// avoid it) and per-layer prefix slots [B, 2, d] drawn N(0, 1).
type compareInput struct {
	IDs    [][]int32       `json:"input_ids"`
	Mask   [][]int32       `json:"attention_mask"`
	Keys   [][][][]float32 `json:"prefix_keys"`
	Values [][][][]float32 `json:"prefix_values"`
}

func compareInputs(cfg backbone.Config) compareInput {
	rng := rand.New(rand.NewPCG(11, 12))
	pad, vocab := 0, 99
	if p, ok := cfg.(interface{ PadID() int }); ok {
		pad = p.PadID()
	}
	if d, ok := cfg.(backbone.Detailed); ok {
		vocab = d.VocabEntries()
	}
	var in compareInput
	for _, n := range []int{8, 12, 3} {
		ids, mask := make([]int32, 12), make([]int32, 12)
		for j := range ids {
			ids[j] = int32(pad)
			if j < n {
				ids[j], mask[j] = int32(3+rng.IntN(vocab-3)), 1
			}
		}
		in.IDs, in.Mask = append(in.IDs, ids), append(in.Mask, mask)
	}
	slots := func() [][][]float32 {
		out := make([][][]float32, 3)
		for b := range out {
			for range 2 {
				row := make([]float32, cfg.HiddenSize())
				for k := range row {
					row[k] = float32(rng.NormFloat64())
				}
				out[b] = append(out[b], row)
			}
		}
		return out
	}
	for range cfg.NumLayers() {
		in.Keys, in.Values = append(in.Keys, slots()), append(in.Values, slots())
	}
	return in
}
