package repl

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/internal/testbackend"
)

// newShell opens a shell on the tests' pure-Go backend (testbackend) writing to buffers.
func newShell(t *testing.T) (*Shell, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	s, err := New(Options{Backend: testbackend.Name(), Out: &out, Err: &errb, Width: 100})
	if err != nil {
		t.Fatal(err)
	}
	return s, &out, &errb
}

// tinyTask writes a small generic jsonl task (16 train, 4 dev rows) so that
// epoch-level training stays fast.
func tinyTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pos := `{"text": "the plot was brilliant and fun.", "label": "positive"}`
	neg := `{"text": "this film felt dull and weak.", "label": "negative"}`
	var train, dev strings.Builder
	for range 8 {
		train.WriteString(pos + "\n" + neg + "\n")
	}
	for range 2 {
		dev.WriteString(pos + "\n" + neg + "\n")
	}
	os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(train.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "val.jsonl"), []byte(dev.String()), 0o644)
	return dir
}

// run executes lines as a script and fails the test on an error.
func run(t *testing.T, s *Shell, out *bytes.Buffer, lines ...string) string {
	t.Helper()
	out.Reset()
	if err := s.RunScript(context.Background(), "test", "", lines); err != nil {
		t.Fatalf("script %q: %v", lines, err)
	}
	return out.String()
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}

// TestEveryCommand drives one session through every command, as a script
// would, and checks what each prints or writes.
func TestEveryCommand(t *testing.T) {
	s, out, errb := newShell(t)
	dir := t.TempDir()
	t.Setenv("APT_TEST_DIR", dir)

	got := run(t, s, out, "help")
	mustContain(t, "help", got, "load model", "load task", "set <key>=<value>", "show config", "train [<n> steps | <n> epochs]",
		"step", "eval [train | dev | test]", "gates [SOURCE]", "plot KIND", "save adapter FILE", "load adapter FILE",
		"predict IN OUT", "help [command]", "quit")
	for _, c := range commands {
		got := run(t, s, out, "help "+c.name)
		mustContain(t, "help "+c.name, got, "usage: "+c.usage, "examples:", "apt> ")
	}
	mustContain(t, "help load", run(t, s, out, "help load"), "load model", "load task", "load adapter")
	mustContain(t, "help exit", run(t, s, out, "help exit"), "usage: quit")

	got = run(t, s, out, "show config")
	mustContain(t, "show config", got, "method", "apt", "prefix_len", "gate_pooling", "all defaults")
	mustContain(t, "show (no model)", run(t, s, out, "show"), "model", "- (load model demo")

	got = run(t, s, out, "load model demo")
	mustContain(t, "load model demo", got, "4 layers", "RANDOM weights")
	got = run(t, s, out, "load task demo")
	mustContain(t, "load task demo", got, "train 480, dev 120, test 120", "negative positive", "accuracy")

	got = run(t, s, out, "set method=apt prefix_len=4 batch_size=32 max_len=32 eval_batch_size=128 lr=1e-2")
	mustContain(t, "set", got, "method=apt prefix_len=4 batch_size=32 max_len=32 eval_batch_size=128 lr=0.01")
	mustContain(t, "set lr 0.02", run(t, s, out, "set lr 0.02"), "lr=0.02")
	mustContain(t, "set lr", run(t, s, out, "set lr"), "lr = 0.02", "(default 0.005)", "peak learning rate")
	got = run(t, s, out, "show config")
	mustContain(t, "show config after set", got, "* prefix_len", "* lr", "changed from the default")
	if strings.Contains(got, "* seed") {
		t.Errorf("show config marks an unchanged setting:\n%s", got)
	}
	mustContain(t, "set (alone)", run(t, s, out, "set"), "batch_size")

	got = run(t, s, out, "show model")
	mustContain(t, "show model", got, "4 layers, hidden 64", "221,120", "trainable", "% of backbone", "apt *", "pt2", "ft", "backend")
	got = run(t, s, out, "show task")
	mustContain(t, "show task", got, "sequence_classification", "train", "480", "truncated at max_len 32", "0 rows")

	got = run(t, s, out, "step")
	mustContain(t, "step", got, "step 1  epoch 1  loss ", "lr ", "lambda 1.00 1.00 1.00 1.00", "alpha ")
	got = run(t, s, out, "step 2")
	mustContain(t, "step 2", got, "step 2 ", "step 3 ")
	got = run(t, s, out, "train 2 steps")
	mustContain(t, "train 2 steps", got, "training apt (prefix_len 4) on demo: 2 steps", "done: 2 steps", "now at step 5", "no epoch ended", "graph", "gates at step 5")
	mustContain(t, "show status", run(t, s, out, "show status"), "5 steps, last loss")

	got = run(t, s, out, "eval")
	mustContain(t, "eval", got, "dev: 120 examples, step 5", "accuracy", "macro_f1")
	mustContain(t, "eval test", run(t, s, out, "eval test"), "test: 120 examples")

	// Gates: the last batch by default, a split, values, effective, per label, exports.
	got = run(t, s, out, "gates")
	mustContain(t, "gates", got, "token gate alpha, apt, batch (step 5)", "layer 0", "layer 3", "scale 0.00", "layer scale lambda", "reference 1", "layer score", "alpha: token gate")
	got = run(t, s, out, "gates dev --values")
	mustContain(t, "gates dev --values", got, "dev (120 examples)", "0.")
	mustContain(t, "gates --effective", run(t, s, out, "gates dev --effective"), "lambda x alpha")
	mustContain(t, "gates --by-label", run(t, s, out, "gates dev --by-label"), "label negative", "label positive")
	got = run(t, s, out, "gates dev --json $APT_TEST_DIR/g.json --csv $APT_TEST_DIR/g.csv")
	mustContain(t, "gates export", got, "wrote "+dir+"/g.json (gates of dev, 120 examples)", "g.csv")
	var gj map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "g.json"))
	if err != nil || json.Unmarshal(b, &gj) != nil {
		t.Fatalf("gates --json: %v %s", err, b)
	}
	for _, k := range []string{"source", "method", "prefix_lens", "lambda", "alpha", "alpha_by_label"} {
		if _, ok := gj[k]; !ok {
			t.Errorf("gates JSON lacks %q: %s", k, b)
		}
	}
	if gj["method"] != "apt" || len(gj["lambda"].([]any)) != 4 || len(gj["alpha"].([]any)) != 4 || len(gj["alpha"].([]any)[0].([]any)) != 4 {
		t.Errorf("gates JSON: %s", b)
	}
	if byLabel, _ := gj["alpha_by_label"].(map[string]any); len(byLabel) != 2 {
		t.Errorf("gates JSON alpha_by_label: %s", b)
	}
	f, _ := os.Open(filepath.Join(dir, "g.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1+4*4 || strings.Join(rows[0], ",") != "layer,slot,alpha,lambda,effective" {
		t.Fatalf("gates CSV: %v %q", err, rows)
	}
	if rows[1][0] != "0" || rows[1][1] != "0" || rows[1][2] == "" || rows[1][3] == "" || rows[1][4] == "" {
		t.Errorf("gates CSV row: %q", rows[1])
	}

	// Plots.
	for _, p := range []string{"plot loss $APT_TEST_DIR/loss.svg", "plot gates $APT_TEST_DIR/gates.png dev",
		"plot lambda $APT_TEST_DIR/lambda.svg", "plot alpha $APT_TEST_DIR/alpha.png"} {
		mustContain(t, p, run(t, s, out, p), "wrote "+dir)
	}
	for _, f := range []string{"loss.svg", "gates.png", "lambda.svg", "alpha.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 500 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "loss.svg")); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("loss.svg is not SVG")
	}

	// Adapter round trip and predict.
	got = run(t, s, out, "save adapter $APT_TEST_DIR/a.safetensors")
	mustContain(t, "save adapter", got, "saved adapter "+dir+"/a.safetensors (apt, prefix_len 4, step 5", "kB")
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"text": "the plot was brilliant."}`+"\n"+`{"text": "dull and weak."}`+"\n"), 0o644)
	run(t, s, out, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out1.jsonl")
	got = run(t, s, out, "load adapter $APT_TEST_DIR/a.safetensors")
	mustContain(t, "load adapter", got, "loaded adapter", "apt, prefix_len 4, gate_pooling mean, max_len 32", "negative positive")
	got = run(t, s, out, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out2.jsonl")
	mustContain(t, "predict", got, "wrote 2 predictions to "+dir+"/out2.jsonl (")
	o1, _ := os.ReadFile(filepath.Join(dir, "out1.jsonl"))
	o2, _ := os.ReadFile(filepath.Join(dir, "out2.jsonl"))
	if string(o1) != string(o2) || len(o1) == 0 {
		t.Errorf("predictions before saving and after loading the adapter differ:\n%s\n%s", o1, o2)
	}
	var line struct {
		Logits []float64 `json:"logits"`
		Label  string    `json:"label"`
		Gates  struct {
			LayerScale []*float64   `json:"layer_scale"`
			TokenGate  [][]*float64 `json:"token_gate"`
		} `json:"gates"`
	}
	if err := json.Unmarshal(bytes.SplitN(o2, []byte("\n"), 2)[0], &line); err != nil || len(line.Logits) != 2 ||
		line.Label == "" || len(line.Gates.LayerScale) != 4 || len(line.Gates.TokenGate) != 4 {
		t.Errorf("prediction line: %v %s", err, o2)
	}
	mustContain(t, "eval after load adapter", run(t, s, out, "eval dev"), "adapter a.safetensors")

	// Epoch training on a tiny task, the default train, and reset.
	t.Setenv("APT_TINY", tinyTask(t))
	run(t, s, out, "load task jsonl $APT_TINY", "set batch_size=4 epochs=1")
	mustContain(t, "eval train", run(t, s, out, "eval train"), "train: 16 examples")
	got = run(t, s, out, "train 1 epochs")
	mustContain(t, "train 1 epochs", got, "1 epoch = 4 steps", "epoch 1  step 4  loss", "dev accuracy", "best", "done: 4 steps", "best epoch 1")
	run(t, s, out, "set epochs=2")
	got = run(t, s, out, "train")
	mustContain(t, "train (default)", got, "4 steps to the end of the 2-epoch schedule", "  step 8  loss", "now at step 8")
	if err := s.RunScript(context.Background(), "t", "", []string{"train"}); err == nil || !strings.Contains(err.Error(), "t:1: train: the 2-epoch schedule is complete (step 8 of 8)") {
		t.Errorf("train after the schedule: %v", err)
	}
	errb.Reset()
	mustContain(t, "train past the schedule", run(t, s, out, "train 1 steps"), "now at step 9")
	mustContain(t, "train past the schedule", errb.String(), "lr 0")
	mustContain(t, "show status", run(t, s, out, "show"), "9 steps", "best dev score")
	mustContain(t, "reset", run(t, s, out, "reset"), "re-created")
	mustContain(t, "step after reset", run(t, s, out, "step"), "step 1 ")
	mustContain(t, "history", run(t, s, out, "history 2"), "reset", "step")
	mustContain(t, "echo", run(t, s, out, "echo hello   world # a comment"), "hello world\n")
	mustContain(t, "reset all", run(t, s, out, "reset all", "show"), "fresh session", "- (load model demo")

	// quit ends a script successfully, skipping the rest.
	out.Reset()
	if err := s.RunScript(context.Background(), "q", "", []string{"quit", "no such command"}); err != nil || !s.Quitting() {
		t.Errorf("quit: %v", err)
	}
}

// TestFailures checks that every failure is one clear line naming the script
// and line, and that the commands before it ran.
func TestFailures(t *testing.T) {
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 max_len=32 batch_size=32")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a safetensors file at all"), 0o644)
	t.Setenv("BAD", bad)
	t.Setenv("D", dir)

	fresh, fout, _ := newShell(t)
	cases := []struct {
		sh    *Shell
		lines []string
		line  int
		want  string
	}{
		{s, []string{"# comment", "", "tarin"}, 3, `unknown command "tarin" (did you mean train?); type help`},
		{s, []string{"shw config"}, 1, "did you mean show?"},
		{s, []string{"load modle demo"}, 1, `unknown command "load modle" (did you mean model?)`},
		{s, []string{"load"}, 1, "load what?"},
		{s, []string{"set lr=abc"}, 1, `set: lr: "abc" is not a number`},
		{s, []string{"set lrr=1"}, 1, `unknown setting "lrr" (did you mean lr?)`},
		{s, []string{"set lr="}, 1, "lr needs a value"},
		{s, []string{"set method=aptt"}, 1, `unknown method "aptt"`},
		{s, []string{"set method=pt2+"}, 1, `"pt2+" is no method of its own`},
		{s, []string{"set prefix_len=1,2"}, 1, "prefix_len lists 2 lengths for a model of 4 layers"},
		{s, []string{"set epochs=3 batch_size=0"}, 1, "batch_size: must be at least 1 (already applied: epochs=3)"},
		{fresh, []string{"eval"}, 1, "no model loaded"},
		{fresh, []string{"train"}, 1, "no model loaded"},
		{fresh, []string{"show model"}, 1, "no model loaded"},
		{fresh, []string{"show task"}, 1, "no task loaded"},
		{fresh, []string{"load model demo", "eval"}, 2, "no task loaded"},
		{s, []string{"load model /no/such/model"}, 1, "/no/such/model: no such directory"},
		{s, []string{"load task rtee /x"}, 1, `unknown task "rtee" (did you mean rte?)`},
		{s, []string{"load task rte /no/such/dir"}, 1, "no such file or directory"},
		{s, []string{"load task demo /x"}, 1, "the demo task is built in"},
		{s, []string{"train 5"}, 1, "say 5 steps or 5 epochs"},
		{s, []string{"train 0 steps"}, 1, `"0" is not a positive number`},
		{s, []string{"train 5 stesp"}, 1, "did you mean steps?"},
		{s, []string{"step x"}, 1, `"x" is not a positive number`},
		{s, []string{"eval devv"}, 1, `unknown split "devv" (did you mean dev?)`},
		{s, []string{"gates nowhere"}, 1, `unknown source "nowhere"`},
		{s, []string{"gates --json"}, 1, "--json needs a file name"},
		{s, []string{"gates --valeus"}, 1, "did you mean --values?"},
		{s, []string{"gates batch"}, 1, "no training step yet"},
		{s, []string{"gates dev --json /no/such/dir/g.json"}, 1, "gates --json: cannot write /no/such/dir/g.json"},
		{s, []string{"plot loss x.svg"}, 1, "no training yet"},
		{s, []string{"plot loss x.pdf"}, 1, "must end in .svg or .png"},
		{s, []string{"plot curves x.svg"}, 1, `unknown picture "curves"`},
		{s, []string{"plot lambda $D/l.svg"}, 1, "no gate history yet"},
		{s, []string{"save adapter $NO_SUCH_VAR/a.safetensors"}, 1, "$NO_SUCH_VAR is not set"},
		{s, []string{"save adapter /no/such/dir/a.safetensors"}, 1, "/no/such/dir"},
		{s, []string{"load adapter $D/missing.safetensors"}, 1, "missing.safetensors: no such file or directory"},
		{s, []string{"load adapter $BAD"}, 1, "bad.safetensors"},
		{s, []string{"predict $D/missing.jsonl $D/out.jsonl"}, 1, "predict: input " + dir + "/missing.jsonl: no such file or directory"},
		{s, []string{"predict onlyone"}, 1, "usage: predict IN OUT"},
		{s, []string{"help nothing"}, 1, `help: no command "nothing"`},
		{s, []string{`echo "unterminated`}, 1, "unterminated \" quote"},
		{s, []string{"history x"}, 1, "not a positive count"},
		{s, []string{"reset everything"}, 1, "say reset or reset all"},
		{s, []string{"quit now"}, 1, "takes no arguments"},
		{s, []string{"show config extra"}, 1, "takes no arguments"},
	}
	for _, c := range cases {
		err := c.sh.RunScript(context.Background(), "s.apt", "", c.lines)
		var se *ScriptError
		if !errors.As(err, &se) {
			t.Errorf("%q: want a script error, got %v", c.lines, err)
			continue
		}
		msg := se.Error()
		if se.Line != c.line || !strings.HasPrefix(msg, fmt.Sprintf("s.apt:%d: ", c.line)) || !strings.Contains(msg, c.want) {
			t.Errorf("%q: got %q, want line %d and %q", c.lines, msg, c.line, c.want)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%q: the error is not one line: %q", c.lines, msg)
		}
	}
	_ = fout
	// A predict input with a bad line fails without writing the output.
	in := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(in, []byte("{\"text\": \"ok\"}\nnot json\n"), 0o644)
	err := s.RunScript(context.Background(), "p", "", []string{"predict " + in + " " + filepath.Join(dir, "o.jsonl")})
	if err == nil || !strings.Contains(err.Error(), "p:1:") {
		t.Errorf("predict on a bad line: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "o.jsonl")); err == nil {
		t.Errorf("predict wrote an output for a bad input")
	}
}

// TestNoPanicEscapes feeds odd input to Exec: nothing may panic, and a panic
// inside a command becomes a one-line error.
func TestNoPanicEscapes(t *testing.T) {
	s, _, _ := newShell(t)
	inputs := []string{"", "   ", "#", "\x00\x01\x02", "\xff\xfe garbage", "set =", "set ==", "set a=b=c", "load task",
		"gates --csv", "plot", "plot gates", "train steps 5", "step -1", "eval a b", "predict a b c", `'`, `"a\`, "\\",
		strings.Repeat("x", 10000), "load model ''", "set prefix_len=", "help help help"}
	for _, in := range inputs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%q panicked: %v", in, r)
				}
			}()
			_ = s.Exec(context.Background(), in)
		}()
	}
	// A command that panics is reported, not propagated.
	commands = append(commands, &command{name: "boom", run: func(context.Context, *Shell, []string) error { panic("kaboom\nstack...") }})
	defer func() { commands = commands[:len(commands)-1] }()
	err := s.Exec(context.Background(), "boom")
	if err == nil || !strings.Contains(err.Error(), "internal error: kaboom") || strings.Contains(err.Error(), "\n") {
		t.Errorf("panic in a command: %v", err)
	}
}

// TestInterruptKeepsState cancels training between steps: the command
// returns ErrInterrupted, and the steps made so far are kept.
func TestInterruptKeepsState(t *testing.T) {
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 max_len=32 batch_size=8")
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	s.opts.Log = nil
	// Cancel from the progress writer after a few steps.
	s.w.Log = writerFunc(func(p []byte) {
		if bytes.Contains(p, []byte("step ")) {
			steps++
			if steps == 3 {
				cancel()
			}
		}
	})
	out.Reset()
	err := s.Exec(ctx, "train 1000 steps")
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("train after cancel: %v", err)
	}
	mustContain(t, "interrupted train", out.String(), "interrupted at step 3", "the trained state is kept")
	if n := s.steps(); n != 3 {
		t.Errorf("steps after the interrupt: %d, want 3", n)
	}
	mustContain(t, "status after interrupt", run(t, s, out, "show"), "3 steps")
	mustContain(t, "step after interrupt", run(t, s, out, "step"), "step 4 ")

	// step n stops too.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	out.Reset()
	if err := s.Exec(ctx2, "step 5"); !errors.Is(err, ErrInterrupted) {
		t.Errorf("step 5 after cancel: %v", err)
	}
	mustContain(t, "interrupted step", out.String(), "interrupted after 0 of 5 steps")
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		`set a=1 b=2`:               {"set", "a=1", "b=2"},
		`predict "my in.jsonl" out`: {"predict", "my in.jsonl", "out"},
		`echo 'a # b' # comment`:    {"echo", "a # b"},
		`echo a\ b`:                 {"echo", "a b"},
		`  # only a comment`:        nil,
		`set x=a#b`:                 {"set", "x=a#b"},
	}
	for in, want := range cases {
		got, err := splitWords(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got := splitCommands(`echo "a;b"; set lr=1; show config`); len(got) != 3 || got[0] != `echo "a;b"` {
		t.Errorf("splitCommands: %q", got)
	}
}

func TestSuggest(t *testing.T) {
	cases := map[string]string{"tarin": "train", "gatse": "gates", "hlep": "help", "predcit": "predict", "xyzzy": "", "sh": "show", "q": ""}
	for in, want := range cases {
		if got := suggest(in, verbNames()); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpandPath(t *testing.T) {
	s, _, _ := newShell(t)
	t.Setenv("TMPDIR", "")
	if got, _ := s.expandPath("$TMPDIR/a"); got != os.TempDir()+"/a" {
		t.Errorf("$TMPDIR unset: %q", got)
	}
	t.Setenv("TMPDIR", "/x")
	if got, _ := s.expandPath("${TMPDIR}/a"); got != "/x/a" {
		t.Errorf("${TMPDIR}: %q", got)
	}
	home, _ := os.UserHomeDir()
	if got, _ := s.expandPath("~/m"); got != home+"/m" {
		t.Errorf("~: %q", got)
	}
	s.scriptDir = "/scripts"
	if got, _ := s.expandPath("$SCRIPT_DIR/in.jsonl"); got != "/scripts/in.jsonl" {
		t.Errorf("$SCRIPT_DIR: %q", got)
	}
	if _, err := s.expandPath("$APT_SURELY_UNSET/x"); err == nil {
		t.Errorf("an unset variable expanded silently")
	}
}

func TestCompletion(t *testing.T) {
	s, _, _ := newShell(t)
	c := NewCompleter(s)
	complete := func(line string) []string {
		got, n := c.Do([]rune(line), len([]rune(line)))
		var out []string
		for _, g := range got {
			out = append(out, line[:len(line)]+string(g))
		}
		_ = n
		return out
	}
	has := func(line string, wants ...string) {
		t.Helper()
		got := complete(line)
		for _, w := range wants {
			found := false
			for _, g := range got {
				if g == w {
					found = true
				}
			}
			if !found {
				t.Errorf("complete(%q) = %q, lacks %q", line, got, w)
			}
		}
	}
	has("tr", "train ")
	has("lo", "load ")
	has("load ", "load model ", "load task ", "load adapter ")
	has("load task r", "load task rte ")
	has("load task co", "load task copa ", "load task conll03 ", "load task conll ")
	has("load model d", "load model demo ")
	has("set pre", "set prefix_len=")
	has("set lr=0.1 gate_p", "set lr=0.1 gate_pooling=")
	has("set method=apt_no", "set method=apt_no_token_gate ", "set method=apt_no_layer_gate ")
	has("eval d", "eval dev ")
	has("gates ", "gates batch ", "gates dev ", "gates --values ")
	has("gates --v", "gates --values ")
	has("plot l", "plot loss ", "plot lambda ")
	has("train 5 e", "train 5 epochs ")
	has("show c", "show config ")
	has("help lo", "help load ")
	has("help load m", "help load model ")

	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "adapter.safetensors"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644)
	has("load adapter "+dir+"/a", "load adapter "+dir+"/adapter.safetensors ")
	has("load model "+dir+"/m", "load model "+dir+"/models/")
	got := complete("predict " + dir + "/")
	if len(got) != 2 {
		t.Errorf("path completion lists %q (dot files should be hidden)", got)
	}
	if got := complete("load model " + dir + "/a"); len(got) != 0 {
		t.Errorf("load model completes files: %q", got)
	}
	t.Setenv("HOME", dir)
	has("save adapter ~/ad", "save adapter ~/adapter.safetensors ")
}
