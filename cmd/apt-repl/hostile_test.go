package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aptbench/apt/aptlib/safetensors"
)

// The hostile pass: ordinary and hostile inputs through the shell's batch mode,
// one process each, as a user would meet them. Every case runs in a folder of its
// own holding a copy of the demo model (m/), the demo task (t/), a trained APT
// adapter (a.safetensors) and a predict input (in.jsonl). For every case:
//   - the exit status is the expected one; a failure's last stderr line is
//     "error: SCRIPT:LINE: ..." and holds the case's key words;
//   - no Go panic, fatal error or stack trace reaches the user;
//   - every file that existed before the run is byte-identical afterwards (no
//     case is allowed to change a user's file), and the outputs a refused
//     command would have written do not exist;
//   - the process's peak memory stays under hostileMaxRSS (and its address space
//     is capped, so a runaway allocation fails fast instead of eating the machine).

const (
	hostileMaxRSS = 3 << 30  // bytes of peak resident memory any case may use
	hostileMaxAS  = 16 << 30 // address-space cap of each run (ulimit -v)
)

type hostileCase struct {
	name string
	// setup changes the case's folder before the run (d is its path).
	setup func(t *testing.T, d string)
	// script is the shell script; {D} is the case folder, {M} the model copy,
	// {T} the task copy, {A} the adapter copy, {IN} the predict input.
	script string
	// code is the expected exit status (0 or 1).
	code int
	// line is the script line that fails (code 1).
	line int
	// want are regular expressions the error line (code 1) or stdout (code 0) must match.
	want []string
	// absent are files (relative to the case folder) that must not exist afterwards.
	absent []string
	// writes are files (relative) the case may create or replace.
	writes []string
}

// prelude loads the demo copies: most cases start from it.
const prelude = "load model {M}\nload task jsonl {T}\nset max_len=32 prefix_len=2 batch_size=32 eval_batch_size=64\n"

var (
	adapterOnce sync.Once
	adapterPath string
	adapterErr  string
)

// trainedAdapter trains 2 steps of APT on the demo and saves the adapter once.
func trainedAdapter(t *testing.T) string {
	adapterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "apt-hostile-adapter-")
		if err != nil {
			adapterErr = err.Error()
			return
		}
		adapterPath = filepath.Join(dir, "a.safetensors")
		r := runBin(t, testEnv(t), "", "-e", "load model demo; load task demo; set max_len=32 prefix_len=2 batch_size=32; train 2 steps; save adapter "+adapterPath)
		if r.code != 0 {
			adapterErr = r.stderr
		}
	})
	if adapterErr != "" {
		t.Fatalf("making the shared adapter: %s", adapterErr)
	}
	return adapterPath
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// snapshot hashes every regular file under dir (symlinks are recorded by target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case e.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				out[rel] = "unreadable"
				return nil
			}
			h := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(h[:])
		}
		return nil
	})
	return out
}

// editTensors rewrites a safetensors file, changing the float32 tensors edit
// picks (a nil result drops the tensor).
func editTensors(t *testing.T, path string, edit func(name string, data []float32, shape []int) ([]float32, []int)) {
	t.Helper()
	rewrite(t, path, edit, func(map[string]string) {})
}

// editMeta rewrites an adapter's metadata.
func editMeta(t *testing.T, path string, edit func(md map[string]string)) {
	t.Helper()
	rewrite(t, path, func(_ string, data []float32, shape []int) ([]float32, []int) { return data, shape }, edit)
}

func rewrite(t *testing.T, path string, tensor func(string, []float32, []int) ([]float32, []int), meta func(map[string]string)) {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		data, shape, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		if data, shape = tensor(n, data, shape); data != nil {
			ts = append(ts, safetensors.Tensor{Name: n, Shape: shape, Data: data})
		}
	}
	f.Close()
	meta(md)
	if err := safetensors.Write(path, ts, md); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func editConfig(t *testing.T, d, from, to string) {
	t.Helper()
	p := filepath.Join(d, "m", "config.json")
	b, _ := os.ReadFile(p)
	s := strings.Replace(string(b), from, to, 1)
	if s == string(b) {
		t.Fatalf("config.json has no %q", from)
	}
	write(t, p, s)
}

var stackTrace = regexp.MustCompile(`(?m)^(panic:|fatal error:|goroutine \d+ \[)|runtime\.gopanic|\.go:\d+ \+0x`)

func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the hostile pass runs about 80 processes")
	}
	adapter := trainedAdapter(t)
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runHostile(t, c, adapter)
		})
	}
}

func runHostile(t *testing.T, c hostileCase, adapter string) {
	d := t.TempDir()
	copyTree(t, "../../data/demo/model", filepath.Join(d, "m"))
	copyTree(t, "../../data/demo/task", filepath.Join(d, "t"))
	if err := copyFile(adapter, filepath.Join(d, "a.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := copyFile("../../data/demo-predict.jsonl", filepath.Join(d, "in.jsonl")); err != nil {
		t.Fatal(err)
	}
	if c.setup != nil {
		c.setup(t, d)
	}
	script := strings.NewReplacer("{D}", d, "{M}", filepath.Join(d, "m"), "{T}", filepath.Join(d, "t"),
		"{A}", filepath.Join(d, "a.safetensors"), "{IN}", filepath.Join(d, "in.jsonl"),
		"{DOTDOT}", d+"/../"+filepath.Base(d)).Replace(c.script)
	scriptPath := filepath.Join(t.TempDir(), "case.apt")
	if err := os.WriteFile(scriptPath, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, d)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `ulimit -v `+strconv.Itoa(hostileMaxAS>>10)+` && exec "$0" -f "$1"`, bin, scriptPath)
	cmd.Env = testEnv(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader("")
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("timed out after %s\nstdout:\n%s\nstderr:\n%s", elapsed, tail(out.String()), tail(errb.String()))
	}
	show := func() string {
		return "script:\n" + c.script + "\nstdout:\n" + tail(out.String()) + "\nstderr:\n" + tail(errb.String())
	}
	if code != c.code {
		t.Fatalf("exit %d, want %d\n%s", code, c.code, show())
	}
	if stackTrace.MatchString(out.String()) || stackTrace.MatchString(errb.String()) {
		t.Errorf("a panic or stack trace reached the user\n%s", show())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss*1024 > hostileMaxRSS {
		t.Errorf("peak RSS %d MiB, more than %d MiB", ru.Maxrss>>10, hostileMaxRSS>>20)
	}
	if c.code != 0 {
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		last := lines[len(lines)-1]
		prefix := "error: " + scriptPath + ":" + strconv.Itoa(c.line) + ": "
		if c.line < 0 { // the failing line may move (e.g. a check at set or at the first step)
			prefix = "error: " + scriptPath + ":"
		}
		if !strings.HasPrefix(last, prefix) {
			t.Errorf("last stderr line %q, want it to start with %q\n%s", last, prefix, show())
		}
		for _, w := range c.want {
			if !regexp.MustCompile(w).MatchString(last) {
				t.Errorf("error line lacks %q: %q", w, last)
			}
		}
		if strings.Contains(last, ".tmp-") {
			t.Errorf("error names a temporary file: %q", last)
		}
	} else {
		for _, w := range c.want {
			if !regexp.MustCompile(w).MatchString(out.String() + errb.String()) {
				t.Errorf("output lacks %q\n%s", w, show())
			}
		}
	}
	after := snapshot(t, d)
	allowed := map[string]bool{}
	for _, w := range c.writes {
		allowed[w] = true
	}
	for f, h := range before {
		if allowed[f] {
			continue
		}
		if after[f] != h {
			t.Errorf("%s changed (or vanished): a user's file must stay byte-identical", f)
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok && !allowed[f] && strings.Contains(f, ".tmp-") {
			t.Errorf("a temporary file was left behind: %s", f)
		}
	}
	for _, f := range c.absent {
		if _, err := os.Lstat(filepath.Join(d, f)); err == nil {
			t.Errorf("%s exists, but the command that would write it was refused", f)
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
