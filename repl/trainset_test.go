package repl

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// runErr runs one script and returns its error ("" when none).
func runErr(s *Shell, lines ...string) string {
	if err := s.RunScript(context.Background(), "t", "", lines); err != nil {
		return err.Error()
	}
	return ""
}

// TestShellSetUsesTheTable: the shell validates through aptlib's one table
// (no copy of its own), names the setting, and shows each rule.
func TestShellSetUsesTheTable(t *testing.T) {
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo")
	for line, want := range map[string]string{
		"set lr=nan":                        `t:1: set: lr: "nan" is not a finite number`,
		"set lr=inf":                        `t:1: set: lr: "inf" is not a finite number`,
		"set warmup=-1":                     "t:1: set: warmup: must not be negative",
		"set weight_decay=-0.5":             "t:1: set: weight_decay: must not be negative",
		"set max_len=512":                   "t:1: set: max_len: 512 exceeds the model's 128 positions (max_position_embeddings 128)",
		"set backbone_dropout=2":            "t:1: set: backbone_dropout: want config, or a rate, 0 <= value < 1, got 2",
		"set max_grad_norm=0":               "t:1: set: max_grad_norm: 0 is not allowed",
		"set gate_pooling=max":              "t:1: set: gate_pooling: want mean or cls",
		"set epochs=2 init_std=-1":          "t:1: set: init_std: must not be negative, got -1 (already applied: epochs=2)",
		"set layer_scale_init=nan":          "t:1: set: layer_scale_init:",
		"set heldout=1":                     "t:1: set: heldout: want a fraction, 0 < value < 1, got 1",
		"set dropout=1":                     "t:1: set: dropout: want a rate, 0 <= value < 1, got 1",
		"set prefix_dropout=-0.5 dropout=0": "t:1: set: prefix_dropout: want a rate",
	} {
		if got := runErr(s, line); !strings.HasPrefix(got, want) {
			t.Errorf("%s: error %q, want %q", line, got, want)
		}
	}
	got := run(t, s, out, "set backbone_dropout")
	mustContain(t, "set backbone_dropout", got, "backbone_dropout = config (0.1)", "(default config)", "values: config, or a rate")
	mustContain(t, "show config", run(t, s, out, "show config"), "  backbone_dropout  config (0.1)")
	mustContain(t, "set backbone_dropout=0", run(t, s, out, "set backbone_dropout=0"), "backbone_dropout=0")
	mustContain(t, "show config", run(t, s, out, "show config"), "* backbone_dropout")
	mustContain(t, "set lr", run(t, s, out, "set lr"), "values: a number > 0")
	// Completion offers the table's choices.
	if got := NewCompleter(s).Candidates([]string{"set"}, "gate_pooling="); len(got) != 2 || got[0] != "gate_pooling=mean " {
		t.Errorf("completion of gate_pooling=: %q", got)
	}
}

// TestShellSetAfterLoadAdapter: settings that keep the parameters keep the
// loaded adapter named; one that re-creates them says so and forgets it.
func TestShellSetAfterLoadAdapter(t *testing.T) {
	s, out, errb := newShell(t)
	t.Setenv("D", t.TempDir())
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 train_limit=32", "train 2 steps", "save adapter $D/a.safetensors")
	errb.Reset()
	got := run(t, s, out, "set max_len=64 seed=3 prefix_dropout=0 dropout=0.2")
	mustContain(t, "set after training", got, "max_len=64 seed=3 prefix_dropout=0 dropout=0.2")
	mustContain(t, "set seed after training", errb.String(), "seed=3 orders the batches", "the apt parameters trained to step 2 are kept")
	if strings.Contains(errb.String(), "discards") {
		t.Errorf("a setting that keeps the parameters says it discards them: %s", errb.String())
	}
	mustContain(t, "show status", run(t, s, out, "show status"), "2 steps")

	s2, out2, errb2 := newShell(t)
	run(t, s2, out2, "load model demo", "load task demo", "load adapter $D/a.safetensors", "set max_len=64 prefix_dropout=0")
	mustContain(t, "show status after set", run(t, s2, out2, "show status"), "a.safetensors")
	errb2.Reset()
	run(t, s2, out2, "set method=pt2")
	mustContain(t, "set method after load adapter", errb2.String(), "method=pt2 discards the parameters loaded from the adapter", "a.safetensors", "re-created at random")
	got = run(t, s2, out2, "show status")
	if strings.Contains(got, "a.safetensors") {
		t.Errorf("show status still names the discarded adapter:\n%s", got)
	}
	errb2.Reset()
	mustContain(t, "reset", run(t, s2, out2, "reset"), "re-created")
}

var bestRe = regexp.MustCompile(`best epoch (\d+), dev score ([0-9.]+)`)

// TestShellTrainSaysWhatItDid: train with no argument ends on the best epoch
// and says so only when it put that state back; what is evaluated after it is
// the state the message names.
func TestShellTrainSaysWhatItDid(t *testing.T) {
	for _, c := range []struct {
		evalLimit string
		restored  bool
	}{{"8", true}, {"16", false}} {
		s, out, _ := newShell(t)
		run(t, s, out, "load model demo", "load task demo",
			"set prefix_len=2 train_limit=64 eval_limit="+c.evalLimit+" epochs=4 lr=3e-2")
		got := run(t, s, out, "train")
		mustContain(t, "train", got, "4 epochs = 16 steps", "done: 16 steps")
		m := bestRe.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("train printed no best epoch:\n%s", got)
		}
		if strings.Contains(got, "its state was restored") != c.restored {
			t.Errorf("eval_limit %s: restored %v, but train says:\n%s", c.evalLimit, c.restored, got)
		}
		if !c.restored && m[1] != "4" {
			t.Errorf("eval_limit %s: the best epoch is %s, want the last", c.evalLimit, m[1])
		}
		scores, err := s.w.Eval("dev")
		if err != nil {
			t.Fatal(err)
		}
		if now := fmt.Sprintf("%.4f", aptlib.MainScore(s.w.Task, scores)); now != m[2] {
			t.Errorf("eval_limit %s: train reported best dev score %s, the state it left scores %s:\n%s", c.evalLimit, m[2], now, got)
		}
		// The saved adapter is that state too.
		t.Setenv("D", t.TempDir())
		run(t, s, out, "save adapter $D/best.safetensors")
		s2, out2, _ := newShell(t)
		run(t, s2, out2, "load model demo", "load task demo", "set eval_limit="+c.evalLimit, "load adapter $D/best.safetensors")
		scores, err = s2.w.Eval("dev")
		if err != nil {
			t.Fatal(err)
		}
		if saved := fmt.Sprintf("%.4f", aptlib.MainScore(s2.w.Task, scores)); saved != m[2] {
			t.Errorf("eval_limit %s: train reported best dev score %s, the saved adapter scores %s", c.evalLimit, m[2], saved)
		}
	}
	// A run of n steps that crosses epochs keeps its last state and says so.
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 train_limit=64 eval_limit=8 lr=3e-2")
	got := run(t, s, out, "train 16 steps")
	mustContain(t, "train 16 steps", got, "not restored: a run of n steps keeps the state of its last step, 16")
}

// TestShellTrainStepsSchedule: train n steps on a fresh run spans the
// schedule over n steps (no lr-0 tail); continuing past it says lr 0.
func TestShellTrainStepsSchedule(t *testing.T) {
	s, out, errb := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 train_limit=64") // 4 steps per epoch, epochs=3
	errb.Reset()
	got := run(t, s, out, "train 20 steps")
	mustContain(t, "train 20 steps", got, "20 steps, the learning-rate schedule spanning them", "now at step 20")
	if strings.Contains(errb.String(), "lr 0") {
		t.Errorf("train 20 steps on a fresh run runs steps at lr 0: %s", errb.String())
	}
	errb.Reset()
	got = run(t, s, out, "train 2 steps")
	mustContain(t, "train 2 steps", got, "from step 20")
	mustContain(t, "train past the schedule", errb.String(), "the linear schedule ended at step 20 (it spans the 20 steps the run began with)", "lr 0")
	if got := runErr(s, "train"); !strings.Contains(got, "the 20-step schedule is complete (step 22 of 20)") {
		t.Errorf("train after a step schedule: %q", got)
	}
	run(t, s, out, "set epochs=6")
	mustContain(t, "train after set epochs", run(t, s, out, "train"), "2 steps to the end of the 6-epoch schedule")
}

// TestShellDivergedRun: a NaN loss stops the run with the last finite state,
// which eval and save adapter then use; a lower lr trains on.
func TestShellDivergedRun(t *testing.T) {
	s, out, _ := newShell(t)
	t.Setenv("D", t.TempDir())
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 train_limit=64 warmup=0 lr=1e30")
	got := runErr(s, "train 10 steps")
	if !strings.Contains(got, "step 2: loss is NaN (lr 1e+30: try a lower lr); the parameters of step 1 are kept") {
		t.Fatalf("train with lr 1e30: %q", got)
	}
	mustContain(t, "show status", run(t, s, out, "show status"), "1 steps")
	mustContain(t, "eval after the diverged step", run(t, s, out, "eval"), "accuracy")
	run(t, s, out, "save adapter $D/a.safetensors")
	f, err := safetensors.Open(filepath.Join(os.Getenv("D"), "a.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range f.Names() {
		data, _, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("the saved adapter's %s is not finite", name)
			}
		}
	}
	run(t, s, out, "reset", "set lr=1e-2")
	mustContain(t, "train after reset with a lower lr", run(t, s, out, "train 3 steps"), "done: 3 steps")
}

// TestShellRefusesWhatTheTableRefuses: for every row of aptlib's settings
// table, values its rule refuses are refused by `set` with the rule's own
// message, so the shell has no validation of its own to drift; and `set
// <key>` explains each row with its help, rule and reset effect.
func TestShellRefusesWhatTheTableRefuses(t *testing.T) {
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo")
	for _, st := range aptlib.Settings {
		tried := 0
		for _, v := range []string{"x", "-1", "0", "1", "-0.5", "1e400", "nan"} {
			_, tableErr := st.Parse(v)
			if tableErr == nil {
				continue
			}
			tried++
			want := "t:1: set: " + tableErr.Error()
			if got := runErr(s, "set "+st.Key+"="+v); got != want {
				t.Errorf("set %s=%s: error %q, the table says %q", st.Key, v, got, want)
			}
		}
		if tried == 0 {
			t.Errorf("%s: no refused value tried", st.Key)
		}
		got := run(t, s, out, "set "+st.Key)
		mustContain(t, "set "+st.Key, got, st.Key+" = ", "(default "+st.DefaultString()+")", st.Resets.Effect())
		if st.Valid.Text != "" {
			mustContain(t, "set "+st.Key, got, "values: "+st.Valid.Text)
		}
	}
}
