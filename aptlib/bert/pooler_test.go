package bert

import (
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// dropTensors hides some tensors of a weight source.
type dropTensors struct {
	WeightSource
	drop func(name string) bool
}

func (d dropTensors) Info(name string) (safetensors.TensorInfo, bool) {
	if d.drop(name) {
		return safetensors.TensorInfo{}, false
	}
	return d.WeightSource.Info(name)
}

// A checkpoint without both pooler tensors loads with NoPooler (and the
// pooler left out of Tensors and NumParameters); one without only one of them
// is refused, naming it.
func TestLoadWithoutPooler(t *testing.T) {
	for _, dir := range []string{"testdata/tiny-bert-plain", "testdata/tiny-bert-prefixed"} {
		c, err := LoadConfigDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		full := c.NumParameters()
		set, err := safetensors.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		noPooler := dropTensors{set, func(n string) bool { return strings.Contains(n, "pooler.") }}
		if err := LoadWeights(context.New(), c, noPooler, false); err != nil {
			t.Fatalf("%s without pooler: %v", dir, err)
		}
		d := c.HiddenDim
		if !c.NoPooler || c.HasPooler() || c.NumParameters() != full-d*d-d {
			t.Errorf("%s: NoPooler %v, parameters %d (with pooler %d)", dir, c.NoPooler, c.NumParameters(), full)
		}
		for _, ts := range Tensors(c) {
			if strings.HasPrefix(ts.Name, "pooler.") {
				t.Errorf("%s: Tensors lists %s without a pooler", dir, ts.Name)
			}
		}
		halfPooler := dropTensors{set, func(n string) bool { return strings.HasSuffix(n, "pooler.dense.bias") }}
		err = LoadWeights(context.New(), c, halfPooler, false)
		if err == nil || !strings.Contains(err.Error(), `"pooler.dense.bias"`) {
			t.Errorf("%s without pooler.dense.bias: %v", dir, err)
		}
		if err := LoadWeights(context.New(), c, set, false); err != nil || c.NoPooler {
			t.Errorf("%s with pooler: NoPooler %v, %v", dir, c.NoPooler, err)
		}
	}
}
