package aptlib_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/aptlib"
)

// The ten lines of the methods issue: load a model directory, pick a method,
// train on a slice of data, look at the gates, save an adapter.
func Example() {
	w, _ := aptlib.New("go")
	_ = w.LoadModel("demo") // or a model directory, or a Hub id such as "bert-base-uncased"
	_ = w.LoadTask("demo", "")
	for k, v := range map[string]string{"method": "apt", "prefix_len": "4", "train_limit": "64", "epochs": "1", "lr": "1e-2"} {
		_ = w.Set(k, v)
	}
	_, _ = w.Train(context.Background(), aptlib.TrainOptions{})
	gates, _ := w.Gates("dev")
	fmt.Println("layers with a gate:", len(gates.Lambda), "slots per layer:", len(gates.Alpha[0]))
	path := filepath.Join(os.TempDir(), "example-apt.safetensors")
	fmt.Println("saved:", w.SaveAdapter(path) == nil)
	// Output:
	// layers with a gate: 4 slots per layer: 4
	// saved: true
}
