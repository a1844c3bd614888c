package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the apt-repl binary built for the tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "apt-repl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "apt-repl")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building apt-repl:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnv is a clean environment: a home of its own (history, caches) and
// the pure-Go backend.
func testEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "PATH=" + os.Getenv("PATH"),
		"GOMLX_BACKEND=go", "TMPDIR=" + t.TempDir(), "TERM=xterm-256color"}
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

// runBin runs apt-repl with args (stdin from stdin), not on a terminal.
func runBin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func TestFlags(t *testing.T) {
	env := testEnv(t)
	r := runBin(t, env, "", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "apt-repl ") {
		t.Errorf("--version: %+v", r)
	}
	for _, h := range []string{"--help", "-h"} {
		r = runBin(t, env, "", h)
		if r.code != 0 || !strings.Contains(r.stdout, "-f SCRIPT") || !strings.Contains(r.stdout, "--backend") {
			t.Errorf("%s: %+v", h, r)
		}
	}
	r = runBin(t, env, "", "--bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "-bogus") {
		t.Errorf("unknown flag: %+v", r)
	}
	r = runBin(t, env, "", "stray")
	if r.code != 2 || !strings.Contains(r.stderr, `unexpected argument "stray"`) {
		t.Errorf("stray argument: %+v", r)
	}
	r = runBin(t, env, "", "-f", "x", "-e", "help")
	if r.code != 2 {
		t.Errorf("-f with -e: %+v", r)
	}
	r = runBin(t, env, "", "--backend", "nonsense", "-e", "help")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown backend "nonsense"`) || strings.Contains(r.stderr, "panic") {
		t.Errorf("bad backend: %+v", r)
	}
	r = runBin(t, env, "", "--backend", "go", "-e", "show")
	if r.code != 0 || !strings.Contains(r.stderr, "backend: go (requested by --backend=go)") {
		t.Errorf("--backend go: %+v", r)
	}
	r = runBin(t, testEnv(t)[:4], "", "-e", "show") // no GOMLX_BACKEND: the automatic choice, said why
	if r.code != 0 || !regexp.MustCompile(`backend: \S+ \(automatic`).MatchString(r.stderr) {
		t.Errorf("automatic backend: %+v", r)
	}
}

// TestBatchFailures: the first failing command prints error: SCRIPT:LINE:
// MESSAGE on stderr and the exit status is 1; the commands before it ran.
func TestBatchFailures(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	bad := write("bad.safetensors", "definitely not safetensors")
	cases := []struct {
		script string
		want   string // the stderr error line
	}{
		{"# a comment\n\necho first\ntarin\necho never\n", `:4: unknown command "tarin" (did you mean train?); type help`},
		{"set lr=fast\n", `:1: set: lr: "fast" is not a number`},
		{"eval\n", ":1: no model loaded (load model demo, a directory, or a Hub id)"},
		{"load model demo\nload task demo\nload adapter " + filepath.Join(dir, "nope.safetensors") + "\n", ":3: load adapter: " + dir + "/nope.safetensors: no such file or directory"},
		{"load model demo\nload task demo\nload adapter " + bad + "\n", ":3: adapter: safetensors: " + bad},
		{"load model demo\nload task demo\npredict " + filepath.Join(dir, "missing.jsonl") + " out.jsonl\n", ":3: predict: input " + dir + "/missing.jsonl: no such file or directory"},
		{"load model /no/such/dir\n", ":1: load model: /no/such/dir: no such directory"},
	}
	for i, c := range cases {
		script := write(fmt.Sprintf("s%d.apt", i), c.script)
		r := runBin(t, env, "", "-f", script)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		last := lines[len(lines)-1]
		if r.code != 1 || !strings.HasPrefix(last, "error: "+script+c.want) {
			t.Errorf("script %q: exit %d, last stderr line %q; want exit 1 and %q", c.script, r.code, last, "error: "+script+c.want)
		}
		if strings.Contains(r.stdout, "never") {
			t.Errorf("script %q: ran on after the failure", c.script)
		}
		if i == 0 && !strings.Contains(r.stdout, "first") {
			t.Errorf("script %q: the commands before the failure did not run: %q", c.script, r.stdout)
		}
	}
	r := runBin(t, env, "", "-e", "echo one; set lr=1e-2; tarin")
	if r.code != 1 || !strings.Contains(r.stderr, "error: -e:3: unknown command \"tarin\"") || !strings.Contains(r.stdout, "one\nlr=0.01\n") {
		t.Errorf("-e failure: %+v", r)
	}
	r = runBin(t, env, "", "-f", filepath.Join(dir, "no-such-script.apt"))
	if r.code != 1 || !strings.Contains(r.stderr, "no-such-script.apt: no such file or directory") {
		t.Errorf("missing script: %+v", r)
	}
	// Commands on stdin run as a script.
	r = runBin(t, env, "show config\nbogus\n")
	if r.code != 1 || !strings.Contains(r.stdout, "prefix_len") || !strings.Contains(r.stderr, "error: <stdin>:2: unknown command") {
		t.Errorf("stdin script: %+v", r)
	}
	// quit ends a script with status 0.
	r = runBin(t, env, "", "-e", "quit; tarin")
	if r.code != 0 {
		t.Errorf("quit in -e: %+v", r)
	}
}

// TestDemoScript runs data/demo.apt end to end (with 1 epoch and shorter
// sequences, to keep the suite fast; APT_REPL_FULL_DEMO=1 runs it as shipped)
// and checks that its output is plain text when stdout is not a terminal.
func TestDemoScript(t *testing.T) {
	src, err := os.ReadFile("../../data/demo.apt")
	if err != nil {
		t.Fatal(err)
	}
	script := string(src)
	if os.Getenv("APT_REPL_FULL_DEMO") == "" {
		fast := strings.Replace(script, "epochs=3", "epochs=1 batch_size=32 max_len=32 eval_batch_size=128", 1)
		if fast == script {
			t.Fatal("data/demo.apt has no epochs=3 to shorten")
		}
		script = fast
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "demo.apt")
	os.WriteFile(p, []byte(script), 0o644)
	// $SCRIPT_DIR must find demo-predict.jsonl beside the script.
	in, err := os.ReadFile("../../data/demo-predict.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "demo-predict.jsonl"), in, 0o644)
	env := testEnv(t)
	tmp := strings.TrimPrefix(env[5], "TMPDIR=")
	r := runBin(t, env, "", "-f", p)
	if r.code != 0 {
		t.Fatalf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"RANDOM weights", "trainable parameters per method", "epoch 1", "done:", "accuracy",
		"token gate alpha", "layer scale lambda", "saved adapter", "loaded adapter", "wrote 5 predictions"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("demo output lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b") || strings.Contains(r.stderr, "\x1b") {
		t.Errorf("demo output has ANSI escapes though stdout is not a terminal")
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress lines (\\r) reached a non-terminal stderr")
	}
	for _, f := range []string{"apt-demo.safetensors", "apt-demo-predictions.jsonl", "apt-demo-gates.json", "apt-demo-gates.csv", "apt-demo-gates.svg", "apt-demo-loss.svg"} {
		if _, err := os.Stat(filepath.Join(tmp, f)); err != nil {
			t.Errorf("demo did not write %s: %v", f, err)
		}
	}
	preds, _ := os.ReadFile(filepath.Join(tmp, "apt-demo-predictions.jsonl"))
	if n := strings.Count(string(preds), "\n"); n != 5 {
		t.Errorf("demo predictions: %d lines, want 5", n)
	}
}

// TestBatchInterrupt: SIGINT (Ctrl-C) during a script's training stops it
// between steps; the script fails with "interrupted" and status 130.
func TestBatchInterrupt(t *testing.T) {
	cmd := exec.Command(bin, "-e", "load model demo; load task demo; set max_len=32 prefix_len=2; train 1000 steps; echo never")
	cmd.Env = testEnv(t)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "training apt") {
			time.Sleep(2 * time.Second)
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v; stdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if !regexp.MustCompile(`interrupted at step \d+ `).MatchString(out.String()) || strings.Contains(out.String(), "never") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "error: -e:4: interrupted") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}
