package aptlib

import (
	"runtime"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
)

func TestEstimateMemory(t *testing.T) {
	base := bert.DefaultConfig()
	apt := method.Default(method.APT, 12)
	apt.PrefixLens = method.Uniform(12, 16)
	s := MemoryShape{Backbone: base, Method: apt, NumLabels: 2, Batch: 16, Choices: 1, MaxLen: 128, Training: true}
	e := EstimateMemory(s)
	// bert-base, batch 16 x 128: PyTorch needs a few GiB for this; the estimate must
	// be of that order, far below a machine's memory.
	if e.Total() < 1<<30 || e.Total() > 8<<30 {
		t.Errorf("bert-base APT batch 16 x 128: %s (parameters %s, activations %s), want 1..8 GiB",
			formatBytes(e.Total()), formatBytes(e.Parameters), formatBytes(e.Activations))
	}
	inf := s
	inf.Training = false
	if ei := EstimateMemory(inf); ei.Total() >= e.Total() {
		t.Errorf("inference %d >= training %d", ei.Total(), e.Total())
	}
	huge := s
	huge.Method.PrefixLens = method.Uniform(12, 100000)
	if eh := EstimateMemory(huge); eh.Total() < 100<<30 || eh.Tokens != 128 {
		t.Errorf("prefix 100000: %s, tokens %d", formatBytes(eh.Total()), eh.Tokens)
	}
	pt := s
	pt.Method = method.Default(method.PT, 12)
	pt.Method.PromptLen = 100000
	if ep := EstimateMemory(pt); ep.Total() < 1<<40 || ep.Tokens != 100128 {
		t.Errorf("prompt 100000: %s, tokens %d", formatBytes(ep.Total()), ep.Tokens)
	}
	long := s
	long.MaxLen, long.Batch = 100000, 1000
	if el := EstimateMemory(long); el.Total() < 1<<40 {
		t.Errorf("max_len 100000 x batch 1000: %s", formatBytes(el.Total()))
	}
	for in, want := range map[string]int64{"8GiB": 8 << 30, "512M": 512 << 20, "1e9": 1e9, "1000": 1000, "2 GB": 2e9} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "lots", "-1", "0", "NaN", "1e300"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}

// An impossible configuration is refused before anything is allocated, naming
// the setting and the estimate; a batch size far above the number of examples is
// capped, not refused.
func TestMemoryCheckRefusesImpossibleConfigurations(t *testing.T) {
	w := demoBench(t)
	t.Setenv(MemoryLimitEnv, "24GiB")
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, c := range []struct {
		settings map[string]string
		want     []string
	}{
		{map[string]string{"method": "apt", "prefix_len": "100000"},
			[]string{"prefix_len=100000: training with this configuration needs about", "GiB (parameters", "activations", "x 128 tokens", "more than the 24 GiB allowed by APT_MEMORY_LIMIT; lower prefix_len"}},
		{map[string]string{"method": "pt2", "prefix_len": "100000,0,0,0"},
			[]string{"prefix_len=100000,0,0,0:", "lower prefix_len"}},
		{map[string]string{"method": "pt", "prompt_len": "100000"},
			[]string{"prompt_len=100000:", "x 100128 tokens", "lower prompt_len"}},
	} {
		for k, v := range c.settings {
			if err := w.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		for what, call := range map[string]func() error{
			"step":    func() error { _, err := w.Step(); return err },
			"eval":    func() error { _, err := w.Eval("dev"); return err },
			"trainer": func() error { _, err := w.Trainer(); return err },
		} {
			err := call()
			if err == nil {
				t.Fatalf("%v: %s succeeded", c.settings, what)
			}
			for _, s := range c.want {
				if what == "eval" {
					s = strings.Replace(s, "training", "inference", 1)
				}
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%v: %s: %q does not contain %q", c.settings, what, err, s)
				}
			}
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
		t.Errorf("refused configurations allocated %d MB", grown>>20)
	}

	// Back to a sane prefix: batch sizes of 1e8 are capped to the examples.
	for k, v := range map[string]string{"method": "apt", "prefix_len": "4", "batch_size": "100000000", "eval_batch_size": "100000000", "train_limit": "8", "eval_limit": "8"} {
		if err := w.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Step(); err != nil {
		t.Fatalf("batch_size=1e8: %v", err)
	}
	if _, err := w.Eval("dev"); err != nil {
		t.Fatalf("eval_batch_size=1e8: %v", err)
	}

	t.Setenv(MemoryLimitEnv, "lots")
	w.Set("prefix_len", "5")
	if _, err := w.Step(); err == nil || !strings.Contains(err.Error(), `APT_MEMORY_LIMIT="lots"`) {
		t.Errorf("bad APT_MEMORY_LIMIT: %v", err)
	}
}
