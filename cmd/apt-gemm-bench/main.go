// Command apt-gemm-bench measures package gemm on the matrix products of gemm.BenchShapes
// (a BERT-base layer, the perf configuration's training step, its attention) and prints a
// markdown table beside torch.mm / torch.bmm on the same shapes and thread counts, run in
// the same invocation by /usr/bin/python3, and beside the measured FMA peak of one core.
//
//	go run ./cmd/apt-gemm-bench [-reps 5] [-rounds 3] [-threads 1,2] [-kernel NAME]
//	                            [-coretype SkylakeX] [-torch=false] [-cputime]
//
// Each figure is the best over -rounds sweeps of the best of -reps timed calls (after a
// warm-up call). Ours and torch's are measured alternately, shape by shape (torch runs in
// a python process that answers one request at a time), so that both see the same load
// on a machine shared with other work.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	torch := flag.Bool("torch", true, "also time torch.mm/torch.bmm with -python")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	coretype := flag.String("coretype", "", "also time torch with OPENBLAS_CORETYPE set to this (e.g. SkylakeX: OpenBLAS 0.3.21 does not recognise every recent processor and falls back to Prescott)")
	filter := flag.String("shapes", "", "only shapes whose name contains this")
	settle := flag.Duration("settle", time.Second, "pause after each torch measurement, while torch's threads stop spinning")
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

	// Columns: ours, then each torch process (as installed; with -coretype).
	type column struct {
		title string
		t     *torchProc
	}
	cols := []column{{title: "ours"}}
	if *torch && !*cpuTime {
		cts := []string{""}
		if *coretype != "" {
			cts = append(cts, *coretype)
		}
		for _, ct := range cts {
			tp, err := startTorch(*python, shapes, *reps, ct)
			if err != nil {
				fmt.Fprintln(os.Stderr, "torch:", err)
				break
			}
			defer tp.close()
			title := "torch"
			if ct != "" {
				title = "torch " + ct
			}
			cols = append(cols, column{title: title, t: tp})
		}
	}

	// best[col][shape][thread] in GFLOP/s.
	best := make([][][]float64, len(cols))
	for c := range best {
		best[c] = make([][]float64, len(shapes))
		for i := range best[c] {
			best[c][i] = make([]float64, len(threads))
		}
	}
	batches := make([]gemm.Batch, len(shapes))
	for i, s := range shapes {
		batches[i] = gemm.NewBenchBatch(s)
	}
	for round := 0; round < *rounds; round++ {
		for i, s := range shapes {
			for t, nt := range threads {
				for c, col := range cols {
					var g float64
					if col.t == nil {
						g = s.Flops() / timeOurs(batches[i], nt, *reps, *cpuTime).Seconds() / 1e9
					} else {
						var err error
						if g, err = col.t.time(i, nt); err != nil {
							fmt.Fprintln(os.Stderr, "torch:", err)
							os.Exit(1)
						}
						// torch's threads spin after a call (OpenBLAS's for
						// OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default; the OpenMP
						// pool's too): timed at once, our second thread shared its core
						// with them (two-thread figures down to 0.54 of torch's with no
						// pause, 0.81 with 0.3 s, none below 1.05 with 1 s).
						time.Sleep(*settle)
					}
					best[c][i][t] = max(best[c][i][t], g)
				}
			}
		}
	}
	peak := gemm.PeakGFLOPS(time.Second)

	fmt.Printf("kernel %s; best of %d rounds × %d calls; peak of one core (FMA loop, %s): %.1f GFLOP/s\n",
		gemm.Kernel(), *rounds, *reps, gemm.Kernel(), peak)
	if *cpuTime {
		fmt.Println("one-thread figures timed by thread CPU time")
	}
	for _, col := range cols[1:] {
		fmt.Printf("%s: %s\n", col.title, col.t.info)
	}
	fmt.Println()
	head := "| shape | batch×M×N×K |"
	sep := "| --- | --- |"
	for _, nt := range threads {
		for c, col := range cols {
			head += fmt.Sprintf(" %s t%d |", col.title, nt)
			sep += " ---: |"
			if c > 0 {
				head += " ours/it |"
				sep += " ---: |"
			}
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
			for c := range cols {
				line += fmt.Sprintf(" %.1f |", best[c][i][t])
				if c > 0 {
					line += fmt.Sprintf(" %.2f |", best[0][i][t]/best[c][i][t])
				}
			}
		}
		fmt.Println(line)
	}
	fmt.Println("\nGFLOP/s = 2·batch·M·N·K / best time; ours/it = our GFLOP/s over that column's.")
}

// timeOurs returns the best of reps calls after a warm-up one.
func timeOurs(p gemm.Batch, nt, reps int, cpuTime bool) time.Duration {
	gemm.SetThreads(nt)
	gemm.MulBatch(p)
	best := time.Duration(1 << 62)
	if cpuTime && nt == 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for r := 0; r < reps; r++ {
			t0 := threadCPU()
			gemm.MulBatch(p)
			best = min(best, threadCPU()-t0)
		}
		return best
	}
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		gemm.MulBatch(p)
		best = min(best, time.Since(t0))
	}
	return best
}

// torchScript reads the shapes (first line, JSON), then answers each request line
// "shape-index threads" with the best GFLOP/s of reps calls after a warm-up one.
const torchScript = `
import json, sys, time, ctypes, torch
cfg = json.loads(sys.stdin.readline())
info = "torch %s" % torch.__version__
# torch.set_num_threads sets the OpenMP pool only: this torch calls libblas.so.3
# (OpenBLAS, pthreads build), which keeps its own pool of nproc threads, so without
# openblas_set_num_threads a "1 thread" torch.mm ran on both cores.
set_blas_threads = lambda t: None
try:
    lib = ctypes.CDLL("libblas.so.3")
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    info += ", BLAS " + lib.openblas_get_config().decode() + ", core " + lib.openblas_get_corename().decode()
    set_blas_threads = lib.openblas_set_num_threads
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
print(json.dumps(info), flush=True)
for line in sys.stdin:
    i, t = map(int, line.split())
    s = cfg["shapes"][i]
    torch.set_num_threads(t)
    set_blas_threads(t)
    f = fns[i]
    f()
    best = 1e9
    for _ in range(cfg["reps"]):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    print(2.0 * s["Count"] * s["M"] * s["N"] * s["K"] / best / 1e9, flush=True)
`

type torchProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	info string
}

// startTorch starts the python timing process. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
// (which some machines set for older OpenBLAS builds) are removed for that process only,
// and OPENBLAS_CORETYPE is set to coretype if that is not empty.
func startTorch(python string, shapes []gemm.Shape, reps int, coretype string) (*torchProc, error) {
	cmd := exec.Command(python, "-c", torchScript)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "OPENBLAS_L2_SIZE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	if coretype != "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+coretype)
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	tp := &torchProc{cmd: cmd, in: in, out: bufio.NewReader(outp)}
	cfg, _ := json.Marshal(map[string]any{"shapes": shapes, "reps": reps})
	if _, err := fmt.Fprintf(in, "%s\n", cfg); err != nil {
		return nil, err
	}
	line, err := tp.out.ReadString('\n')
	if err != nil {
		tp.close()
		return nil, fmt.Errorf("starting %s: %v", python, err)
	}
	if err := json.Unmarshal([]byte(line), &tp.info); err != nil {
		tp.close()
		return nil, fmt.Errorf("reading its output %q: %v", line, err)
	}
	return tp, nil
}

func (tp *torchProc) time(shape, threads int) (float64, error) {
	if _, err := fmt.Fprintf(tp.in, "%d %d\n", shape, threads); err != nil {
		return 0, err
	}
	line, err := tp.out.ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(line), 64)
}

func (tp *torchProc) close() {
	tp.in.Close()
	tp.cmd.Wait()
}

// threadCPU is the CPU time of the calling OS thread (Linux CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
