package adapter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
)

// FuzzAdapterLoad runs Load on arbitrary bytes: no panic, a one-line error
// naming the file, and an adapter it accepts is consistent: exactly the tensors
// of its method's layout, each with the values its shape needs, all finite, and
// as many distinct labels as the head has columns.
func FuzzAdapterLoad(f *testing.F) {
	for _, b := range adapterSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(checkAdapterLoad)
}

// adapterSeeds saves one valid adapter per method and head kind and returns the files' bytes.
func adapterSeeds(f testing.TB) [][]byte {
	var out [][]byte
	dir := f.TempDir()
	for i, c := range []struct {
		kind method.Kind
		head model.Head
	}{
		{method.APT, model.SequenceClassification}, {method.PT2, model.TokenClassification},
		{method.PT, model.SequenceClassification}, {method.APTNoTokenGate, model.MultipleChoice},
		{method.APTNoLayerGate, model.SequenceClassification},
	} {
		ctx, spec := newModel(f, c.kind, []int{3, 0}, c.head)
		p := filepath.Join(dir, "seed"+string(rune('a'+i))+".safetensors")
		if err := Save(p, ctx, spec, Meta{Task: "fuzz", MaxLen: 64}); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkAdapterLoad is the fuzz body: Load on data written to a file.
func checkAdapterLoad(t *testing.T, data []byte) {
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path)
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, path) || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("bad error %q", msg)
		}
		return
	}
	if a.HiddenSize <= 0 || a.NumLabels <= 0 {
		t.Fatalf("hidden size %d, %d labels", a.HiddenSize, a.NumLabels)
	}
	if a.Head != model.MultipleChoice && len(a.Meta.Labels) != a.NumLabels {
		t.Fatalf("%d label names for %d labels", len(a.Meta.Labels), a.NumLabels)
	}
	if _, dup := duplicateLabel(a.Meta.Labels); dup {
		t.Fatalf("duplicate labels %q accepted", a.Meta.Labels)
	}
	layout := Layout(&a.Method, a.HiddenSize, a.HeadOutputs())
	if len(layout) != len(a.Tensors) {
		t.Fatalf("%d tensors for a layout of %d", len(a.Tensors), len(layout))
	}
	for _, want := range layout {
		x, ok := a.Tensors[want.Name]
		if !ok {
			t.Fatalf("tensor %s of the layout is missing", want.Name)
		}
		n := 1
		for _, d := range want.Shape {
			n *= d
		}
		if len(x.Data) != n {
			t.Fatalf("%s: %d values for shape %v", want.Name, len(x.Data), want.Shape)
		}
		for i, v := range x.Data {
			if v-v != 0 {
				t.Fatalf("%s: non-finite %v at %d accepted", want.Name, v, i)
			}
		}
	}
}

// TestAdapterLoadMutations is a systematic sweep beside the fuzzer (which runs
// slowly in a binary this large): every byte of each seed's header and length
// prefix replaced by a few telling values, and every truncation of the header,
// must give a clean error or a consistent adapter.
func TestAdapterLoadMutations(t *testing.T) {
	values := []byte{0, 0xff, '"', '9', '-', '[', ']', '{', ',', 'e', ' '}
	n := 0
	for _, seed := range adapterSeeds(t)[:3] {
		hlen := min(8+(int(seed[0])|int(seed[1])<<8|int(seed[2])<<16), len(seed))
		for i := 0; i < hlen; i++ {
			for _, v := range values {
				if seed[i] == v {
					continue
				}
				b := append([]byte(nil), seed...)
				b[i] = v
				checkAdapterLoad(t, b)
				n++
			}
			if i%7 == 0 {
				checkAdapterLoad(t, seed[:i])
				n++
			}
		}
	}
	t.Logf("%d mutated adapters loaded", n)
}
