package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"

	"github.com/chzyer/readline"
)

// Prompt is the interactive prompt.
const Prompt = "apt> "

// HistoryPath is where the interactive history is kept:
// os.UserConfigDir()/apt-workbench/history.
func HistoryPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "apt-workbench", "history"), nil
}

// InteractiveOptions configure RunInteractive.
type InteractiveOptions struct {
	// Width, when set, is asked for the terminal's width before each command.
	Width func() int
	// Banner is printed before the first prompt.
	Banner string
}

// RunInteractive reads commands with readline until quit or Ctrl-D. Ctrl-C
// at the prompt clears the line; while a command runs it cancels the
// command's context (training stops between steps, its state kept) and the
// prompt comes back. No input ends the session except quit and Ctrl-D.
func (s *Shell) RunInteractive(o InteractiveOptions) error {
	cfg := &readline.Config{
		Prompt:            Prompt,
		AutoComplete:      NewCompleter(s),
		InterruptPrompt:   "^C",
		EOFPrompt:         "\n",
		HistorySearchFold: true,
		Stdout:            s.out,
		Stderr:            s.errw,
	}
	histNote := ""
	if p, err := HistoryPath(); err != nil {
		histNote = fmt.Sprintf("history is not saved: %v", err)
	} else if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		histNote = fmt.Sprintf("history is not saved: %v", err)
	} else {
		cfg.HistoryFile = p
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return err
	}
	defer rl.Close()
	if o.Banner != "" {
		fmt.Fprint(s.out, o.Banner)
	}
	if histNote != "" {
		s.note("%s", histNote)
	}

	// SIGINT arrives while a command runs (the terminal is out of raw mode
	// then); at the prompt readline reads Ctrl-C as a key instead.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	var mu sync.Mutex
	var cancel context.CancelFunc
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-sigs:
				mu.Lock()
				if cancel != nil {
					cancel()
				}
				mu.Unlock()
			case <-done:
				return
			}
		}
	}()

	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if o.Width != nil {
			s.opts.Width = o.Width()
		}
		ctx, c := context.WithCancel(context.Background())
		mu.Lock()
		cancel = c
		mu.Unlock()
		err = s.Exec(ctx, line)
		mu.Lock()
		cancel = nil
		mu.Unlock()
		interrupted := ctx.Err() != nil
		c()
		switch {
		case errors.Is(err, ErrInterrupted):
			// the command said where it stopped
		case err != nil:
			fmt.Fprintln(s.errw, s.red(OneLine(err)))
		case interrupted:
			s.note("Ctrl-C: the command ran to its end (train, step, eval, gates, predict, plot gates and download stop midway)")
		}
		if s.quit {
			return nil
		}
	}
}
