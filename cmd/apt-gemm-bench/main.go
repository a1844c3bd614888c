// Command apt-gemm-bench measures package gemm on the matrix products of issue 11 (a
// BERT-base layer, the perf configuration's training step, its attention) and prints a
// markdown table beside torch.mm / torch.bmm on the same shapes and thread counts, run in
// the same invocation by /usr/bin/python3, and beside the measured FMA peak of one core.
//
//	go run ./cmd/apt-gemm-bench [-reps 7] [-threads 1,2] [-kernel NAME] [-torch=false]
//
// Each figure is the best of -rounds sweeps of -reps timed calls (after a warm-up call),
// so that a machine shared with other work still shows what the code can do.
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
	reps := flag.Int("reps", 5, "timed calls per shape and thread count in a round (best kept)")
	rounds := flag.Int("rounds", 3, "sweeps over all shapes (best kept), spread in time against a busy machine")
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	kernel := flag.String("kernel", "", "micro-kernel (default: the best this processor has): one of "+strings.Join(gemm.Kernels(), ", "))
	torch := flag.Bool("torch", true, "also time torch.mm/torch.bmm with "+"/usr/bin/python3")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	coretype := flag.String("coretype", "", "also time torch with OPENBLAS_CORETYPE set to this (e.g. SkylakeX: OpenBLAS 0.3.21 does not recognise every recent processor and falls back to Prescott)")
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
	for i := range ours {
		ours[i] = make([]float64, len(threads))
	}
	batches := make([]gemm.Batch, len(shapes))
	for i, s := range shapes {
		batches[i] = gemm.NewBenchBatch(s)
	}
	for round := 0; round < *rounds; round++ {
		for i, s := range shapes {
			p := batches[i]
			for t, nt := range threads {
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
				ours[i][t] = max(ours[i][t], s.Flops()/best.Seconds()/1e9)
			}
		}
	}
	var theirs, forced [][]float64
	var torchInfo, forcedInfo string
	if *torch && !*cpuTime {
		var err error
		theirs, torchInfo, err = runTorch(*python, shapes, threads, *reps, *rounds, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, "torch:", err)
			theirs = nil
		}
		if *coretype != "" && theirs != nil {
			forced, forcedInfo, err = runTorch(*python, shapes, threads, *reps, *rounds, *coretype)
			if err != nil {
				fmt.Fprintln(os.Stderr, "torch:", err)
				forced = nil
			}
		}
	}
	peak := gemm.PeakGFLOPS(time.Second)

	fmt.Printf("kernel %s; best of %d calls; peak of one core (FMA loop, %s): %.1f GFLOP/s\n", gemm.Kernel(), *reps, gemm.Kernel(), peak)
	if torchInfo != "" {
		fmt.Printf("torch: %s\n", torchInfo)
	}
	if forcedInfo != "" {
		fmt.Printf("torch (OPENBLAS_CORETYPE=%s): %s\n", *coretype, forcedInfo)
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
		if forced != nil {
			head += fmt.Sprintf(" torch %s t%d | ratio t%d |", *coretype, nt, nt)
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
			if forced != nil {
				line += fmt.Sprintf(" %.1f | %.2f |", forced[i][t], ours[i][t]/forced[i][t])
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
fns = []
for s in cfg["shapes"]:
    c, m, n, k = s["Count"], s["M"], s["N"], s["K"]
    a = torch.rand(c, k, m).transpose(1, 2) if s["TransA"] else torch.rand(c, m, k)
    b = torch.rand(c, n, k).transpose(1, 2) if s["TransB"] else torch.rand(c, k, n)
    if c == 1:
        fns.append((lambda a, b: lambda: torch.mm(a, b))(a[0], b[0]))
    else:
        fns.append((lambda a, b: lambda: torch.bmm(a, b))(a, b))
out = [[0.0] * len(cfg["threads"]) for _ in cfg["shapes"]]
for _ in range(cfg["rounds"]):
    for i, s in enumerate(cfg["shapes"]):
        f = fns[i]
        for j, t in enumerate(cfg["threads"]):
            torch.set_num_threads(t)
            f()
            best = 1e9
            for _ in range(cfg["reps"]):
                t0 = time.perf_counter()
                f()
                best = min(best, time.perf_counter() - t0)
            out[i][j] = max(out[i][j], 2.0 * s["Count"] * s["M"] * s["N"] * s["K"] / best / 1e9)
print(json.dumps({"info": info, "gflops": out}))
`

// runTorch times the shapes with PyTorch; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (which
// some machines set for older OpenBLAS builds) are removed for that command only, and
// OPENBLAS_CORETYPE is set to coretype if that is not empty.
func runTorch(python string, shapes []gemm.Shape, threads []int, reps, rounds int, coretype string) ([][]float64, string, error) {
	in, _ := json.Marshal(map[string]any{"shapes": shapes, "threads": threads, "reps": reps, "rounds": rounds})
	cmd := exec.Command(python, "-c", torchScript)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "OPENBLAS_L2_SIZE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	if coretype != "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+coretype)
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
