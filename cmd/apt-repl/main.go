// Command apt-repl is the APT workbench's shell: load a frozen backbone (BERT,
// RoBERTa, DeBERTa, DeBERTa-v2) and a task, train Adaptive Prefix Tuning step
// by step, evaluate, and look at the gates as they change.
//
//	apt-repl                      interactive (readline: history, Tab, Ctrl-C, Ctrl-D)
//	apt-repl -f SCRIPT            run a script, one command per line (# comments)
//	apt-repl -e 'CMD; CMD'        run commands given on the command line
//	apt-repl --backend go         pick the engine (go, simplego, xla:cpu, xla:cuda)
//
// In script mode the first failing command prints "error: SCRIPT:LINE: message"
// on stderr and apt-repl exits with status 1 (130 when interrupted).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/aptbench/apt/internal/boundedread"
	"github.com/aptbench/apt/repl"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

const usageText = `apt-repl: Adaptive Prefix Tuning workbench shell

usage:
  apt-repl [--backend NAME]                 interactive shell
  apt-repl [--backend NAME] -f SCRIPT [-i]  run a script (- reads stdin)
  apt-repl [--backend NAME] -e 'CMD; CMD'   run commands (-e may repeat)

options:
  --backend NAME  go, simplego, xla:cpu or xla:cuda (default: $GOMLX_BACKEND,
                  else XLA when its PJRT plugin is installed, else go)
  -f SCRIPT       one command per line; # starts a comment; $SCRIPT_DIR is the
                  script's folder, $TMPDIR the temp folder
  -e COMMANDS     commands separated by ;
  -i              stay interactive after -f / -e
  -x, --echo      print each script command before its output
  --version       print the version
  -h, --help      this help

In -f / -e mode the first failing command prints "error: SCRIPT:LINE: message"
and apt-repl exits 1. Output has no colour when stdout is not a terminal or
NO_COLOR is set. Inside the shell, type help.

Start here:  apt-repl -f data/demo.apt   (the offline demo)
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(argv []string, stdin *os.File, stdout, stderr *os.File) int {
	fs := flag.NewFlagSet("apt-repl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	backendFlag := fs.String("backend", "", "")
	script := fs.String("f", "", "")
	var exprs multiFlag
	fs.Var(&exprs, "e", "")
	interactiveAfter := fs.Bool("i", false, "")
	echo := fs.Bool("echo", false, "")
	fs.BoolVar(echo, "x", false, "")
	showVersion := fs.Bool("version", false, "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText)
			return 0
		}
		fmt.Fprintf(stderr, "apt-repl: %v\n(apt-repl --help lists the options)\n", err)
		return 2
	}
	if *help {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	if *showVersion {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "apt-repl: unexpected argument %q (scripts go after -f, commands after -e; apt-repl --help)\n", fs.Arg(0))
		return 2
	}
	if *script != "" && len(exprs) > 0 {
		fmt.Fprintln(stderr, "apt-repl: give -f or -e, not both")
		return 2
	}

	stdinTTY := term.IsTerminal(int(stdin.Fd()))
	stdoutTTY := term.IsTerminal(int(stdout.Fd()))
	stderrTTY := term.IsTerminal(int(stderr.Fd()))
	batch := *script != "" || len(exprs) > 0 || !stdinTTY
	interactive := !batch || (*interactiveAfter && stdinTTY)

	color := stdoutTTY && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	ct := strings.ToLower(os.Getenv("COLORTERM"))
	width := func() int {
		if w, _, err := term.GetSize(int(stdout.Fd())); err == nil && w > 0 {
			return w
		}
		return 80
	}
	var log io.Writer = stderr
	if !stderrTTY {
		log = &lineFilter{w: stderr} // no \r progress lines in a log file
	}
	sh, err := repl.New(repl.Options{Backend: *backendFlag, Out: stdout, Err: stderr, Log: log,
		Color: color, TrueColor: color && (ct == "truecolor" || ct == "24bit"), Width: width(), Echo: *echo})
	if err != nil {
		fmt.Fprintf(stderr, "apt-repl: %s\n", repl.OneLine(err))
		return 1
	}

	if batch {
		name, dir, lines, err := scriptLines(*script, exprs, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "apt-repl: %v\n", err)
			return 1
		}
		fmt.Fprintln(stderr, sh.BackendLine())
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err = sh.RunScript(ctx, name, dir, lines)
		stop()
		if err != nil {
			fmt.Fprintf(stderr, "error: %s\n", err)
			if errors.Is(err, repl.ErrInterrupted) {
				return 130
			}
			return 1
		}
		if !interactive || sh.Quitting() {
			return 0
		}
	}

	banner := ""
	if !batch {
		banner = bannerText(sh)
	}
	if err := sh.RunInteractive(repl.InteractiveOptions{Width: width, Banner: banner}); err != nil {
		fmt.Fprintf(stderr, "apt-repl: %v\n", err)
		return 1
	}
	return 0
}

// bannerText is what the interactive shell prints first: the backend line
// (as batch mode prints it first on stderr), then the greeting.
func bannerText(sh *repl.Shell) string {
	return fmt.Sprintf("%s\napt-repl %s: Adaptive Prefix Tuning workbench. Type help for the commands;\n"+
		"Tab completes, Ctrl-C stops a running command, Ctrl-D or quit leaves.\n"+
		"New here? Try: load model demo, load task demo, train 20 steps, gates.\n",
		sh.BackendLine(), shortVersion())
}

// scriptLines returns the commands to run, the name errors cite, and the
// directory $SCRIPT_DIR stands for.
func scriptLines(script string, exprs []string, stdin io.Reader) (name, dir string, lines []string, err error) {
	switch {
	case len(exprs) > 0:
		for _, e := range exprs {
			lines = append(lines, repl.SplitCommands(e)...)
		}
		return "-e", "", lines, nil
	case script == "" || script == "-":
		data, err := boundedread.ReadStream(stdin, "<stdin>", scriptLimit)
		if err != nil {
			return "", "", nil, err
		}
		lines, err := splitLines(data)
		if err != nil {
			return "", "", nil, fmt.Errorf("<stdin>:%w", err)
		}
		return "<stdin>", "", lines, nil
	}
	data, err := readScript(script)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("script %s: %v", script, pe.Err)
		}
		return "", "", nil, err
	}
	abs, _ := filepath.Abs(script)
	lines, err = splitLines(data)
	if err != nil {
		return "", "", nil, fmt.Errorf("script %s:%w", script, err)
	}
	return script, filepath.Dir(abs), lines, nil
}

// scriptLimit caps a script's size: a script that never ends (a link to
// /dev/zero) fails at once instead of filling memory.
const scriptLimit = 64 * boundedread.MiB

// readScript reads a script file, or a pipe (bash's <(...)), up to scriptLimit.
func readScript(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("script %s is a directory", path)
	}
	return boundedread.ReadStream(f, path, scriptLimit)
}

// splitLines splits a script into its lines. A UTF-8 byte-order mark at the
// start (editors on Windows save one) is dropped, and lines may end in \n,
// \r\n or a lone \r.
func splitLines(data []byte) ([]string, error) {
	var out []string
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil { // a line over the scanner's cap: never run half a script
		return nil, fmt.Errorf("line %d: %v", len(out)+1, err)
	}
	return out, nil
}

func shortVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func versionString() string {
	s := "apt-repl " + shortVersion() + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && len(st.Value) >= 12 {
				s += ", " + st.Value[:12]
			}
		}
	}
	return s + ")"
}

// lineFilter passes whole lines through and drops the \r-rewritten progress
// line, for a stderr that is a file or a pipe.
type lineFilter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (f *lineFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range p {
		switch b {
		case '\r':
			f.buf = f.buf[:0]
		case '\n':
			if len(bytes.TrimSpace(f.buf)) > 0 {
				f.w.Write(append(f.buf, '\n'))
			}
			f.buf = f.buf[:0]
		default:
			f.buf = append(f.buf, b)
		}
	}
	return len(p), nil
}
