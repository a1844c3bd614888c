package aptlib

import "testing"

func BenchmarkDemoStep(b *testing.B) {
	b.Setenv("GOMLX_BACKEND", "go")
	w, _ := New("")
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
