// Command apt-gemm-bench measures package gemm on the matrix products of issue 11 (a
// BERT-base layer, the perf configuration's training step, its attention) and prints a
// markdown table beside torch.mm / torch.bmm on the same shapes and thread counts, run in
// the same invocation by /usr/bin/python3, and beside the measured FMA peak of one core.
//
//	go run ./cmd/apt-gemm-bench [-reps 7] [-threads 1,2] [-kernel NAME] [-torch=false]
//
// Each figure is the best of -reps timed calls (after a warm-up call), so that a machine
// shared with other work still shows what the code can do; run it more than once.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/aptbench/apt/gobackend/gemm"
)

func main() {
	reps := flag.Int("reps", 7, "timed calls per shape and thread count (best kept)")
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	kernel := flag.String("kernel", "", "micro-kernel (default: the best this processor has): one of "+strings.Join(gemm.Kernels(), ", "))
	torch := flag.Bool("torch", true, "also time torch.mm/torch.bmm with "+"/usr/bin/python3")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	filter := flag.String("shapes", "", "only shapes whose name contains this")
	cpuTime := flag.Bool("cputime", false, "time one-thread runs by the thread's CPU time instead of the wall clock (for tuning on a shared machine; no torch)")
	flag.Parse()
	if err := gemm.SetKernel(*kernel); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var threads []int
	for _, f := range strings.Split(*threadsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -threads %q\n", *threadsFlag)
			os.Exit(2)
		}
		threads = append(threads, n)
	}
	var shapes []gemm.Shape
	for _, s := range gemm.BenchShapes {
		if strings.Contains(s.Name, *filter) {
			shapes = append(shapes, s)
		}
	}

	ours := make([][]float64, len(shapes))
	for i, s := range shapes {
		p := gemm.NewBenchBatch(s)
		for _, nt := range threads {
			gemm.SetThreads(nt)
			gemm.MulBatch(p)
			best := time.Duration(1 << 62)
			if *cpuTime && nt == 1 {
				runtime.LockOSThread()
				for r := 0; r < *reps; r++ {
					t0 := threadCPU()
					gemm.MulBatch(p)
					best = min(best, threadCPU()-t0)
				}
				runtime.UnlockOSThread()
			} else {
				for r := 0; r < *reps; r++ {
					t0 := time.Now()
					gemm.MulBatch(p)
					best = min(best, time.Since(t0))
				}
			}
			ours[i] = append(ours[i], s.Flops()/best.Seconds()/1e9)
		}
	}
	var theirs [][]float64
	var torchInfo string
	if *torch && !*cpuTime {
		var err error
		theirs, torchInfo, err = runTorch(*python, shapes, threads, *reps)
		if err != nil {
			fmt.Fprintln(os.Stderr, "torch:", err)
			theirs = nil
		}
	}
	peak := gemm.PeakGFLOPS(time.Second)

	fmt.Printf("kernel %s; best of %d calls; peak of one core (FMA loop, %s): %.1f GFLOP/s\n", gemm.Kernel(), *reps, gemm.Kernel(), peak)
	if torchInfo != "" {
		fmt.Printf("torch: %s\n", torchInfo)
	}
	fmt.Println()
	head := "| shape | batch×M×N×K |"
	sep := "| --- | --- |"
	for _, nt := range threads {
		head += fmt.Sprintf(" ours t%d |", nt)
		sep += " ---: |"
		if theirs != nil {
			head += fmt.Sprintf(" torch t%d | ratio t%d |", nt, nt)
			sep += " ---: | ---: |"
		}
	}
	fmt.Println(head)
	fmt.Println(sep)
	for i, s := range shapes {
		dims := fmt.Sprintf("%d×%d×%d×%d", s.Count, s.M, s.N, s.K)
		if s.TransA {
			dims += " Aᵀ"
		}
		if s.TransB {
			dims += " Bᵀ"
		}
		line := fmt.Sprintf("| %s | %s |", s.Name, dims)
		for t := range threads {
			line += fmt.Sprintf(" %.1f |", ours[i][t])
			if theirs != nil {
				line += fmt.Sprintf(" %.1f | %.2f |", theirs[i][t], ours[i][t]/theirs[i][t])
			}
		}
		fmt.Println(line)
	}
	fmt.Println("\nGFLOP/s (2·batch·M·N·K / best time); ratio = ours / torch.")
}

const torchScript = `
import json, sys, time, ctypes, torch
cfg = json.load(sys.stdin)
info = "torch %s" % torch.__version__
try:
    lib = ctypes.CDLL("libblas.so.3")
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    info += ", BLAS " + lib.openblas_get_config().decode() + ", core " + lib.openblas_get_corename().decode()
except Exception as e:
    info += ", BLAS unknown (%s)" % e
out = []
for s in cfg["shapes"]:
    c, m, n, k = s["Count"], s["M"], s["N"], s["K"]
    a = torch.rand(c, k, m).transpose(1, 2) if s["TransA"] else torch.rand(c, m, k)
    b = torch.rand(c, n, k).transpose(1, 2) if s["TransB"] else torch.rand(c, k, n)
    if c == 1:
        a, b = a[0], b[0]
        f = lambda: torch.mm(a, b)
    else:
        f = lambda: torch.bmm(a, b)
    row = []
    for t in cfg["threads"]:
        torch.set_num_threads(t)
        f()
        best = 1e9
        for _ in range(cfg["reps"]):
            t0 = time.perf_counter()
            f()
            best = min(best, time.perf_counter() - t0)
        row.append(2.0 * c * m * n * k / best / 1e9)
    out.append(row)
print(json.dumps({"info": info, "gflops": out}))
`

// runTorch times the shapes with PyTorch; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (which
// this machine may set for older OpenBLAS builds) are removed for that command only.
func runTorch(python string, shapes []gemm.Shape, threads []int, reps int) ([][]float64, string, error) {
	in, _ := json.Marshal(map[string]any{"shapes": shapes, "threads": threads, "reps": reps})
	cmd := exec.Command(python, "-c", torchScript)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "OPENBLAS_L2_SIZE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, "", err
	}
	var res struct {
		Info   string
		Gflops [][]float64
	}
	if err := json.Unmarshal(outb, &res); err != nil {
		return nil, "", fmt.Errorf("reading its output: %v", err)
	}
	return res.Gflops, res.Info, nil
}

// threadCPU is the CPU time of the calling OS thread (Linux CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
