// Command apt-repro runs the paper's comparison (FT, PT-2, PT-2*, PT-2+, APT and
// its ablations) over SuperGLUE and NER tasks with several seeds and writes a
// markdown results table (mean ± std, protocol, backbone and its family, this
// command). -model is a model directory or Hub id of any registered family
// (bert, roberta, deberta, deberta-v2: config.json's model_type picks it), or demo.
//
//	go run ./cmd/apt-repro -model bert-base-uncased -data ~/superglue-and-ner \
//	    -tasks cb,copa,rte,conll04 -seeds 1,2,3 -set epochs=20,lr=5e-3,prefix_len=16 -out results.md
//
// On the 2-core CI-sized machines, run it on the demo backbone with small slices
// (train_limit / eval_limit settings); see docs/results-demo.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/repro"
	"github.com/aptbench/apt/aptlib/tasks"
)

func main() {
	modelFlag := flag.String("model", "demo", "model directory, Hub id, or demo")
	data := flag.String("data", "../shared/data", "folder with the task folders (RTE/, CB/, COPA/, CoNLL04/, ...)")
	taskList := flag.String("tasks", "cb,copa,rte,conll04", "comma-separated task names")
	methods := flag.String("methods", strings.Join(repro.AllMethods, ","), "comma-separated methods")
	seeds := flag.String("seeds", "1,2,3", "comma-separated seeds")
	protocol := flag.String("protocol", string(tasks.ProtocolBestDevEpoch), "ptuning-v2-best-dev-epoch or honest-heldout")
	set := flag.String("set", "", "settings for every run, e.g. epochs=3,lr=1e-2,max_len=64")
	backendFlag := flag.String("backend", "", "go, simplego, xla:cpu, xla:cuda (default automatic)")
	out := flag.String("out", "", "write the table to this file too")
	flag.Parse()

	c := repro.Config{Model: *modelFlag, DataDir: *data, Tasks: split(*taskList), Methods: split(*methods),
		Protocol: *protocol, Settings: map[string]string{}, Backend: *backendFlag, Log: os.Stderr}
	if _, err := tasks.ParseProtocol(c.Protocol); err != nil {
		fail(err)
	}
	for _, s := range split(*seeds) {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(fmt.Errorf("seed %q is not a number", s))
		}
		c.Seeds = append(c.Seeds, n)
	}
	for _, kv := range split(*set) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fail(fmt.Errorf("-set %q: want key=value", kv))
		}
		c.Settings[k] = v
	}
	for _, t := range c.Tasks {
		if _, ok := repro.TaskDirs[t]; !ok {
			fail(fmt.Errorf("unknown task %q", t))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	runs, err := repro.Execute(ctx, c)
	table := repro.Table(runs, c, "go run ./cmd/apt-repro "+strings.Join(os.Args[1:], " "))
	fmt.Print(table)
	if *out != "" {
		if werr := os.WriteFile(*out, []byte(table), 0o644); werr != nil {
			fail(werr)
		}
	}
	if err != nil {
		fail(err)
	}
	for _, r := range runs {
		if r.Err != nil {
			os.Exit(1)
		}
	}
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apt-repro:", err)
	os.Exit(2)
}
