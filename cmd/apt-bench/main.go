// Command apt-bench prints a markdown table of training-step and inference
// throughput, peak memory, compiled graphs and first-step time for FT, PT-2 and
// APT, at a small and at base size, and the scaling with prefix length,
// sequence length and batch size, on a random model of each backbone family
// asked for (bert, roberta, deberta, deberta-v2: the base checkpoint's
// configuration at the row's sizes); every row also runs the same step in
// PyTorch (bench/torch_ref.py, Debian's python3-torch, the same family, shapes
// and threads) and prints ours/PyTorch.
//
//	go run ./cmd/apt-bench                       # everything (base rows take minutes on 2 cores)
//	go run ./cmd/apt-bench -sizes small -groups train,infer
//	go run ./cmd/apt-bench -sizes small -groups infer -families roberta,deberta-v2
//	go run ./cmd/apt-bench -backend xla:cuda     # where a CUDA PJRT plugin is installed
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/bench"
)

func main() {
	sizes := flag.String("sizes", "small,base", "model sizes: small (L4 d256 B16xT128), base (L12 d768 B8xT128)")
	groups := flag.String("groups", "", "row groups (train, infer, prefix, seq, batch); empty = all")
	families := flag.String("families", "bert", "backbone families (model_type): "+strings.Join(backbone.ModelTypes(), ", "))
	steps := flag.Int("steps", 3, "timed steps per row (after one untimed first step)")
	backendFlag := flag.String("backend", "", "go, simplego, xla:cpu, xla:cuda (default: automatic, see the README's Backends section)")
	python := flag.String("python", "/usr/bin/python3", "Python with torch for the reference rows (\"\" skips them)")
	out := flag.String("out", "", "also write the table to this file")
	child := flag.String("row", "", "internal: run one row (JSON) and print its result")
	cpuProfile := flag.String("cpuprofile", "", "with -row: write a CPU profile of the row to this file")
	flag.Parse()
	if *child != "" {
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				fail(err)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		var r bench.Row
		if err := json.Unmarshal([]byte(*child), &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		json.NewEncoder(os.Stdout).Encode(bench.Run(r, *backendFlag))
		return // deferred StopCPUProfile flushes the profile
	}
	var gs map[string]bool
	if *groups != "" {
		gs = map[string]bool{}
		for _, g := range strings.Split(*groups, ",") {
			gs[strings.TrimSpace(g)] = true
		}
	}
	var fams []string
	for _, f := range strings.Split(*families, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fams = append(fams, f)
		}
	}
	rows, err := bench.Plan(fams, strings.Split(*sizes, ","), gs, *steps)
	if err != nil {
		fail(err)
	}
	threads := runtime.GOMAXPROCS(0)
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	script := findScript()
	var table bytes.Buffer
	w := io.MultiWriter(os.Stdout, &table)
	host, _ := os.Hostname()
	fmt.Fprintf(w, "apt-bench %s, %d threads, %s/%s, host %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), threads, runtime.GOOS, runtime.GOARCH, host)
	fmt.Fprintln(w, "| row | backend | ex/s | tokens/s | step s | first step s | graphs | peak MiB | trainable | torch ex/s | torch peak MiB | ours/torch |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		r.Threads = threads
		spec, _ := json.Marshal(r)
		fmt.Fprintf(os.Stderr, "running %s ...\n", r.Describe())
		ours := runJSON(exec.Command(self, "-row", string(spec), "-backend", *backendFlag))
		var torch bench.Result
		if *python != "" && script != "" {
			args, err := bench.TorchArgs(r, threads)
			if err != nil {
				torch.Err = err.Error()
			} else {
				torch = runJSON(exec.Command(*python, append([]string{script}, args...)...))
			}
		} else {
			torch.Err = "skipped"
		}
		if torch.Err != "" && torch.Err != "skipped" {
			fmt.Fprintf(os.Stderr, "PyTorch reference of %s: %s\n", r.Describe(), torch.Err)
		}
		ratio, tex, tmem := "n/a", "n/a", "n/a"
		if torch.Err == "" && torch.ExamplesPerS > 0 {
			tex, tmem = fmt.Sprintf("%.2f", torch.ExamplesPerS), fmt.Sprintf("%.0f", torch.PeakRSSMiB)
			if ours.Err == "" {
				ratio = fmt.Sprintf("%.2f", ours.ExamplesPerS/torch.ExamplesPerS)
			}
		}
		if ours.Err != "" {
			fmt.Fprintf(w, "| %s | error: %s | | | | | | | | %s | %s | |\n", r.Describe(), oneLine(ours.Err), tex, tmem)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %.2f | %.0f | %.3f | %.2f | %d | %.0f | %d | %s | %s | %s |\n", r.Describe(), ours.Backend,
			ours.ExamplesPerS, ours.TokensPerS, ours.StepS, ours.FirstStepS, ours.Graphs, ours.PeakRSSMiB, ours.Trainable, tex, tmem, ratio)
		if torch.BlasGFLOPS > 0 && torch.BlasGFLOPS < 10 {
			fmt.Fprintf(os.Stderr, "warning: PyTorch's BLAS does %.1f GFLOP/s (reference BLAS?): apt-get install libopenblas0-pthread\n", torch.BlasGFLOPS)
		}
	}
	fmt.Fprintln(w, "\nours/torch > 1 means the workbench is faster. Command: go run ./cmd/apt-bench "+strings.Join(os.Args[1:], " "))
	if *out != "" {
		if err := os.WriteFile(*out, table.Bytes(), 0o644); err != nil {
			fail(err)
		}
	}
}

func runJSON(cmd *exec.Cmd) bench.Result {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r bench.Result
	if err != nil {
		return bench.Result{Err: fmt.Sprintf("%v: %s", err, lastLine(stderr.String()))}
	}
	if err := json.Unmarshal(lastJSON(out), &r); err != nil {
		return bench.Result{Err: fmt.Sprintf("bad output %q", out)}
	}
	return r
}

func lastJSON(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func oneLine(s string) string { return strings.ReplaceAll(s, "|", "/") }

// findScript locates bench/torch_ref.py from the working directory or the executable.
func findScript() string {
	for _, dir := range []string{".", ".."} {
		p := filepath.Join(dir, "bench", "torch_ref.py")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apt-bench:", err)
	os.Exit(1)
}
