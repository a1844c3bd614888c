//go:build linux || darwin

package main

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// session is apt-repl running on a pseudo-terminal, driven like a person at
// the keyboard.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	buf  strings.Builder // everything the terminal showed
	mark int             // expect looks after here
	done chan error
}

func startSession(t *testing.T, env []string, args ...string) *session {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting apt-repl on a pty: %v", err)
	}
	s := &session{t: t, cmd: cmd, pty: f, done: make(chan error, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		f.Close()
	})
	s.expect(`apt> `, 30*time.Second)
	return s
}

// screen is the terminal's output so far with ANSI escapes removed.
func (s *session) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *session) send(keys string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(keys)); err != nil {
		s.t.Fatalf("writing to the pty: %v", err)
	}
}

// expect waits until the output after the mark matches re (escapes removed),
// moves the mark past the match and returns the submatches.
func (s *session) expect(re string, timeout time.Duration) []string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	exited := false
	for {
		raw := s.screen()
		text := ansi.ReplaceAllString(raw[s.mark:], "")
		if m := rx.FindStringSubmatchIndex(text); m != nil {
			sub := make([]string, len(m)/2)
			for i := range sub {
				if m[2*i] >= 0 {
					sub[i] = text[m[2*i]:m[2*i+1]]
				}
			}
			s.mark = rawOffset(raw, s.mark, m[1])
			return sub
		}
		if exited {
			s.t.Fatalf("apt-repl exited while waiting for %q; it showed:\n%s", re, text)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %v for %q; the terminal shows:\n%s", timeout, re, text)
		}
		select {
		case err := <-s.done:
			s.done <- err
			exited = true
			time.Sleep(200 * time.Millisecond) // let the reader drain the pty
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// rawOffset maps an offset in the escape-stripped text after from back to
// the raw output.
func rawOffset(raw string, from, stripped int) int {
	i, n := from, 0
	for i < len(raw) && n < stripped {
		if loc := ansi.FindStringIndex(raw[i:]); loc != nil && loc[0] == 0 {
			i += loc[1]
			continue
		}
		i++
		n++
	}
	return i
}

// wait waits for the process to exit and returns its status.
func (s *session) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatalf("apt-repl: %v", err)
		}
		return 0
	case <-time.After(timeout):
		s.t.Fatalf("apt-repl did not exit; it showed:\n%s", ansi.ReplaceAllString(s.screen()[s.mark:], ""))
	}
	return -1
}

const (
	keyTab   = "\t"
	keyEnter = "\r"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
	keyCtrlU = "\x15"
	keyUp    = "\x1b[A"
)

// TestInteractiveCompletionAndHistory: Tab completes a command and a setting
// key; the history of one session is there in the next (Up arrow).
func TestInteractiveCompletionAndHistory(t *testing.T) {
	env := testEnv(t, "NO_COLOR=1")
	s := startSession(t, env)
	if !strings.Contains(s.screen(), "backend: go") {
		t.Errorf("the banner does not name the backend:\n%s", s.screen())
	}
	// A command: "he" + Tab becomes "help ".
	s.send("he" + keyTab)
	s.expect(`apt> help $|help\s*$`, 5*time.Second)
	s.send("gat" + keyTab)
	s.expect(`gates`, 5*time.Second)
	s.send(keyEnter)
	s.expect(`usage: gates`, 5*time.Second)
	s.expect(`apt> `, 5*time.Second)

	// A setting key: "set prefix_l" + Tab becomes "set prefix_len=".
	s.send("set prefix_l" + keyTab)
	s.expect(`prefix_len=`, 5*time.Second)
	s.send("8" + keyEnter)
	s.expect(`\nprefix_len=8\r?\n`, 5*time.Second)
	// A setting value: "set method=apt_no_t" + Tab.
	s.send("set method=apt_no_t" + keyTab)
	s.expect(`apt_no_token_gate`, 5*time.Second)
	s.send(keyEnter)
	s.expect(`\nmethod=apt_no_token_gate\r?\n`, 5*time.Second)
	s.send("set method=apt" + keyEnter)
	s.expect(`\nmethod=apt\r?\n`, 5*time.Second)
	s.send("quit" + keyEnter)
	if code := s.wait(10 * time.Second); code != 0 {
		t.Errorf("quit: exit %d", code)
	}

	hist := filepath.Join(strings.TrimPrefix(env[1], "XDG_CONFIG_HOME="), "apt-workbench", "history")
	b, err := os.ReadFile(hist)
	if err != nil || !strings.Contains(string(b), "set prefix_len=8") {
		t.Fatalf("history file %s: %v %q", hist, err, b)
	}

	// The next session recalls the lines: Up shows quit, then set method=apt.
	s2 := startSession(t, env)
	s2.send(keyUp)
	s2.expect(`quit`, 5*time.Second)
	s2.send(keyUp)
	s2.expect(`set method=apt`, 5*time.Second)
	s2.send(keyUp + keyUp)
	s2.expect(`set prefix_len=8`, 5*time.Second)
	s2.send(keyEnter)
	s2.expect(`\nprefix_len=8\r?\n`, 5*time.Second)
	s2.send("show config" + keyEnter)
	s2.expect(`\* prefix_len\s+8`, 5*time.Second)
	// Ctrl-D at an empty prompt leaves with status 0.
	s2.expect(`apt> `, 5*time.Second)
	s2.send(keyCtrlD)
	if code := s2.wait(10 * time.Second); code != 0 {
		t.Errorf("Ctrl-D: exit %d", code)
	}
}

// TestInteractiveCtrlC: Ctrl-C during `train 1000 steps` returns to the
// prompt with the steps made so far kept; Ctrl-C at the prompt clears the
// line; a mistyped command is one line and the session goes on.
func TestInteractiveCtrlC(t *testing.T) {
	s := startSession(t, testEnv(t)) // colour on: a terminal, NO_COLOR unset
	s.send("load model demo" + keyEnter)
	s.expect(`RANDOM weights`, 30*time.Second)
	s.send("load task demo" + keyEnter)
	s.expect(`loaded task demo`, 10*time.Second)
	s.send("set prefix_len=4 max_len=32 batch_size=8" + keyEnter)
	s.expect(`batch_size=8`, 5*time.Second)
	s.send("train 1000 steps" + keyEnter)
	// The progress line shows steps going by.
	s.expect(`step [3-9]\d*/1000 `, 60*time.Second)
	s.send(keyCtrlC)
	m := s.expect(`interrupted at step (\d+) \((\d+) steps this run\); the trained state is kept`, 30*time.Second)
	n, _ := strconv.Atoi(m[1])
	if n <= 0 || n >= 1000 {
		t.Fatalf("step after Ctrl-C: %d, want 0 < n < 1000", n)
	}
	s.expect(`apt> `, 5*time.Second)

	// The state is kept: show config, show (status) and eval work.
	s.send("show config" + keyEnter)
	s.expect(`\* batch_size\s+8`, 5*time.Second)
	s.send("show" + keyEnter)
	got := s.expect(`trained\s+(\d+) steps`, 5*time.Second)
	if got[1] != m[1] {
		t.Errorf("show says %s steps after Ctrl-C at step %s", got[1], m[1])
	}
	s.send("eval" + keyEnter)
	s.expect(`dev: 120 examples, step `+m[1], 30*time.Second)
	s.expect(`accuracy\s+\d\.\d{4}`, 5*time.Second)
	// Training goes on from there.
	s.send("step" + keyEnter)
	s.expect(`step `+strconv.Itoa(n+1)+`  epoch`, 30*time.Second)
	// The gate heat map is in colour on a terminal.
	mark := len(s.screen())
	s.send("gates" + keyEnter)
	s.expect(`layer score`, 10*time.Second)
	if !strings.Contains(s.screen()[mark:], "\x1b[48;5;") {
		t.Errorf("gates on a colour terminal has no background colours")
	}

	// Ctrl-C at the prompt clears the half-typed line.
	s.send("half typed line" + keyCtrlC)
	s.expect(`\^C`, 5*time.Second)
	s.send("echo after ctrl-c" + keyEnter)
	s.expect(`\nafter ctrl-c\r?\n`, 5*time.Second)
	if strings.Contains(ansi.ReplaceAllString(s.screen(), ""), "unknown command \"half") {
		t.Errorf("Ctrl-C at the prompt ran the half-typed line")
	}
	// A mistyped command: one line, and the session goes on.
	s.send("tarin" + keyEnter)
	s.expect(`unknown command "tarin" \(did you mean train\?\); type help`, 5*time.Second)
	s.send("show status" + keyEnter)
	s.expect(`trained\s+\d+ steps`, 5*time.Second)
	s.send(keyCtrlD)
	if code := s.wait(10 * time.Second); code != 0 {
		t.Errorf("Ctrl-D: exit %d", code)
	}
}

// TestInteractiveGarbage types random bytes: the shell must survive them.
func TestInteractiveGarbage(t *testing.T) {
	s := startSession(t, testEnv(t, "NO_COLOR=1"))
	rng := rand.New(rand.NewSource(7))
	// Keys that end or suspend the session on purpose are left out: Ctrl-C,
	// Ctrl-D, Ctrl-Z, and Enter (sent at the end of each line).
	skip := map[byte]bool{0x03: true, 0x04: true, 0x1a: true, '\r': true, '\n': true}
	for line := 0; line < 5; line++ {
		var b []byte
		for len(b) < 60 {
			c := byte(rng.Intn(256))
			if !skip[c] {
				b = append(b, c)
			}
		}
		s.send(string(b))
		time.Sleep(50 * time.Millisecond)
		// Leave any mode a key entered (search, completion), clear the line, and run it.
		s.send("\x07" + keyEnter)
		time.Sleep(100 * time.Millisecond)
		s.send(keyCtrlU + "echo alive " + strconv.Itoa(line) + keyEnter)
		s.expect(`\nalive `+strconv.Itoa(line)+`\r?\n`, 10*time.Second)
	}
	s.send(keyCtrlU + "quit" + keyEnter)
	if code := s.wait(10 * time.Second); code != 0 {
		t.Errorf("quit after garbage: exit %d", code)
	}
	if strings.Contains(s.screen(), "panic") || strings.Contains(s.screen(), "goroutine ") {
		t.Errorf("a panic reached the terminal:\n%s", s.screen())
	}
}

// TestInteractiveAfterScript: -i stays at the prompt after -e, with the
// script's state.
func TestInteractiveAfterScript(t *testing.T) {
	s := startSession(t, testEnv(t, "NO_COLOR=1"), "-e", "load model demo; set prefix_len=2", "-i")
	if !strings.Contains(s.screen(), "RANDOM weights") || !strings.Contains(s.screen(), "prefix_len=2") {
		t.Errorf("-e before -i did not run:\n%s", s.screen())
	}
	s.send("show" + keyEnter)
	s.expect(`method\s+apt, prefix_len 2`, 5*time.Second)
	s.send(keyCtrlD)
	if code := s.wait(10 * time.Second); code != 0 {
		t.Errorf("Ctrl-D: exit %d", code)
	}
}
