// Package repl is the apt-repl shell: the commands that docs/shell.md lists,
// over an aptlib.Workbench, run from a script, from -e, or interactively on
// readline.
//
// The shell is a thin layer: it parses command lines, calls the Workbench, and
// formats what comes back for a terminal. Every piece of model, training or
// gate logic lives in aptlib (and its pictures in viz).
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aptbench/apt/aptlib"
)

// Options configure a Shell.
type Options struct {
	// Backend is the --backend flag ("" = $GOMLX_BACKEND, else the automatic
	// choice of docs/backends.md).
	Backend string
	// Out receives command output, Err messages (errors, notes).
	Out, Err io.Writer
	// Log receives the Workbench's progress lines and notes (nil discards them).
	Log io.Writer
	// Color turns on ANSI colour in Out (heat maps, highlights).
	Color bool
	// TrueColor uses 24-bit colours (with Color).
	TrueColor bool
	// Width is the terminal's width in columns (0: 80).
	Width int
	// Echo prints each script command ("apt> CMD") before running it.
	Echo bool
	// Workbench, when set, is used instead of opening a new one (tests).
	Workbench *aptlib.Workbench
}

// Shell runs commands against one Workbench.
type Shell struct {
	opts      Options
	w         *aptlib.Workbench
	out, errw io.Writer
	// scriptDir is what $SCRIPT_DIR expands to while a script runs.
	scriptDir string
	// history is every command line run in this session, for `history`.
	history []string
	quit    bool
	// demoTask is set while the loaded task is the built-in demo.
	demoTask bool
}

// New opens a Workbench on the chosen backend and returns a shell over it.
func New(o Options) (*Shell, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	w := o.Workbench
	if w == nil {
		var err error
		if w, err = aptlib.New(o.Backend); err != nil {
			return nil, err
		}
	}
	w.Log = o.Log
	return &Shell{opts: o, w: w, out: o.Out, errw: o.Err}, nil
}

// Workbench is the session the shell drives.
func (s *Shell) Workbench() *aptlib.Workbench { return s.w }

// BackendLine is the shell's first output: one line naming the backend and
// why it was chosen, without the plugin paths or the directories searched for
// one, which `show status` prints.
func (s *Shell) BackendLine() string {
	line := "backend: " + s.w.Choice.Line()
	if s.w.Choice.Brief != "" {
		line += "; show status for details"
	}
	return line
}

// Quitting reports whether a quit command ran.
func (s *Shell) Quitting() bool { return s.quit }

// ErrInterrupted is returned by a command stopped by Ctrl-C (its context).
var ErrInterrupted = errors.New("interrupted")

// Exec runs one command line. Blank lines and comments do nothing. A panic in
// a command is recovered and returned as a one-line error, so that no input
// ends the session.
func (s *Shell) Exec(ctx context.Context, line string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if os.Getenv("APT_REPL_DEBUG") != "" {
				fmt.Fprintf(s.errw, "panic: %v\n%s", r, debug.Stack())
			}
			err = fmt.Errorf("internal error: %s (the session goes on; set APT_REPL_DEBUG=1 for the stack)", firstLine(fmt.Sprint(r), 300))
		}
	}()
	words, err := splitWords(line)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return nil
	}
	s.history = append(s.history, strings.TrimSpace(line))
	cmd, args, err := lookup(words)
	if err != nil {
		return err
	}
	err = cmd.run(ctx, s, args)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return ErrInterrupted
	}
	return err
}

// interrupted turns the error of a command that ctx stopped between batches
// (eval, gates, predict) into ErrInterrupted, saying that no output was
// written and the session is as before; other errors pass through.
func (s *Shell) interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		s.printf("interrupted; nothing was written\n")
		return ErrInterrupted
	}
	return err
}

// ScriptError is the first failing command of a script: where and why.
type ScriptError struct {
	Script string // file name, "-e" or "<stdin>"
	Line   int    // 1-based line (for -e: the command's number)
	Err    error
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Script, e.Line, OneLine(e.Err))
}

func (e *ScriptError) Unwrap() error { return e.Err }

// RunScript runs lines (one command each, # comments, blank lines allowed) in
// order and stops at the first failing command with a *ScriptError naming the
// script and line. dir is what $SCRIPT_DIR expands to ("" for the working
// directory). A quit command ends the script successfully.
func (s *Shell) RunScript(ctx context.Context, name, dir string, lines []string) error {
	old := s.scriptDir
	s.scriptDir = dir
	defer func() { s.scriptDir = old }()
	for i, line := range lines {
		if i == 0 {
			line = strings.TrimPrefix(line, "\ufeff") // a byte-order mark from the editor
		}
		line = strings.TrimSuffix(line, "\r")
		if err := ctx.Err(); err != nil {
			return &ScriptError{Script: name, Line: i + 1, Err: ErrInterrupted}
		}
		if s.opts.Echo {
			if w, _ := splitWords(line); len(w) > 0 {
				s.printf("%s%s\n", s.dim(Prompt), strings.TrimSpace(line))
			}
		}
		if err := s.Exec(ctx, line); err != nil {
			return &ScriptError{Script: name, Line: i + 1, Err: err}
		}
		if s.quit {
			return nil
		}
	}
	return nil
}

// SplitCommands splits an -e argument ("CMD; CMD") into its commands.
func SplitCommands(s string) []string { return splitCommands(s) }

// OneLine renders an error as a single line: newlines become "; " and very
// long messages are cut.
func OneLine(err error) string {
	if err == nil {
		return ""
	}
	msg := strings.TrimSpace(err.Error())
	msg = strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	if r := []rune(msg); len(r) > 600 {
		msg = string(r[:597]) + "..."
	}
	return msg
}

func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > n {
		s = string(r[:n-3]) + "..."
	}
	return s
}

func (s *Shell) printf(format string, a ...any) { fmt.Fprintf(s.out, format, a...) }
func (s *Shell) println(a ...any)               { fmt.Fprintln(s.out, a...) }

// note prints an informational line on Err.
func (s *Shell) note(format string, a ...any) {
	fmt.Fprintf(s.errw, "%s\n", s.dim("note: "+fmt.Sprintf(format, a...)))
}
