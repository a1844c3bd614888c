package bench

import (
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
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
