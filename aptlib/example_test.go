package aptlib_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aptbench/apt/aptlib"
)

// The ten lines of the methods issue: load a model directory, pick a method,
// train on a slice of data, look at the gates, save an adapter. Every call
// returns an error; the first one stops the example and is printed.
func Example() {
	if err := trainAndSave(); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// layers with a gate: 4 slots per layer: 4
	// saved: true
}

func trainAndSave() error {
	w, err := aptlib.New("go")
	if err != nil {
		return err
	}
	if err := w.LoadModel("demo"); err != nil { // or a model directory, or a Hub id such as "bert-base-uncased"
		return err
	}
	if err := w.LoadTask("demo", ""); err != nil {
		return err
	}
	for _, kv := range [][2]string{{"method", "apt"}, {"prefix_len", "4"}, {"train_limit", "64"}, {"epochs", "1"}, {"lr", "1e-2"}} {
		if err := w.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if _, err := w.Train(context.Background(), aptlib.TrainOptions{}); err != nil {
		return err
	}
	gates, err := w.Gates("dev")
	if err != nil {
		return err
	}
	fmt.Println("layers with a gate:", len(gates.Lambda), "slots per layer:", len(gates.Alpha[0]))
	dir, err := os.MkdirTemp("", "apt-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := w.SaveAdapter(filepath.Join(dir, "example-apt.safetensors")); err != nil {
		return err
	}
	fmt.Println("saved: true")
	return nil
}
