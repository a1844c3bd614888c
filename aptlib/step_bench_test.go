package aptlib

import (
	"testing"

	"github.com/aptbench/apt/internal/testbackend"
)

func BenchmarkDemoStep(b *testing.B) {
	w, _ := New(testbackend.Name())
	w.LoadModel("demo")
	w.LoadTask("demo", "")
	w.Set("method", "apt")
	w.Set("prefix_len", "8")
	if _, err := w.Step(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := w.Step(); err != nil {
			b.Fatal(err)
		}
	}
}
