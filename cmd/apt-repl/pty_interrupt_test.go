//go:build linux || darwin

package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestInteractiveCtrlCInference: Ctrl-C during a long eval, predict or gates
// stops it between batches: "interrupted; nothing was written", no output
// file, the prompt comes back and the session works as before.
func TestInteractiveCtrlCInference(t *testing.T) {
	task, in := bigTask(t)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	s := startSession(t, testEnv(t, "NO_COLOR=1"))
	s.send("load model demo" + keyEnter)
	s.expect(`RANDOM weights`, 30*time.Second)
	s.send("load task jsonl " + task + keyEnter)
	s.expect(`loaded task jsonl`, 30*time.Second)
	s.send("set prefix_len=2 eval_batch_size=1" + keyEnter)
	s.expect(`eval_batch_size=1`, 5*time.Second)
	for _, line := range []string{"eval", "predict " + in + " " + out, "gates dev"} {
		s.send(line + keyEnter)
		time.Sleep(1500 * time.Millisecond)
		start := time.Now()
		s.send(keyCtrlC)
		s.expect(`interrupted; nothing was written`, 30*time.Second)
		s.expect(`apt> `, 5*time.Second)
		t.Logf("%s: stopped %v after Ctrl-C", line, time.Since(start))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an interrupted predict left %s (%v)", out, err)
	}
	s.send("set eval_limit=6" + keyEnter)
	s.expect(`eval_limit=6`, 5*time.Second)
	s.send("eval" + keyEnter)
	s.expect(`dev: 6 examples, untrained`, 30*time.Second)
	s.expect(`accuracy\s+\d\.\d{4}`, 5*time.Second)
	s.send(keyCtrlD)
	if code := s.wait(10 * time.Second); code != 0 {
		t.Errorf("Ctrl-D: exit %d", code)
	}
}
