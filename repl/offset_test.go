package repl

import (
	"strings"
	"testing"
)

// TestShellPositionOffset: position_offset is a setting like the others:
// `set position_offset=prefix` (any case) is taken and marked in `show
// config`, `set position_offset` explains it, and another value is refused
// with the table's message.
func TestShellPositionOffset(t *testing.T) {
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo")
	got := run(t, s, out, "show config")
	mustContain(t, "show config", got, "  position_offset")
	got = run(t, s, out, "set position_offset")
	mustContain(t, "set position_offset", got, "position_offset = 0", "(default 0)", "values: one of 0, prefix", "layer 0's prefix length")
	mustContain(t, "set position_offset=PREFIX", run(t, s, out, "set position_offset=PREFIX"), "position_offset=prefix")
	got = run(t, s, out, "show config")
	mustContain(t, "show config after set", got, "* position_offset")
	if line := lineWith(got, "position_offset"); !strings.Contains(line, "prefix") {
		t.Errorf("show config lists position_offset as %q, want prefix", line)
	}
	if got, want := runErr(s, "set position_offset=3"), `t:1: set: position_offset: want 0 or prefix, got "3"`; got != want {
		t.Errorf("set position_offset=3: %q, want %q", got, want)
	}
}

// TestShellPositionOffsetAdapter: a session trained with the shift saves an
// adapter that brings it back: `load adapter` in a session set to 0 says and
// sets position_offset prefix.
func TestShellPositionOffsetAdapter(t *testing.T) {
	s, out, _ := newShell(t)
	path := t.TempDir() + "/shifted.safetensors"
	run(t, s, out, "load model demo", "load task demo", "set position_offset=prefix max_len=64", "train 1 steps",
		"save adapter "+path, "set position_offset=0")
	got := run(t, s, out, "load adapter "+path)
	mustContain(t, "load adapter", got, "position_offset prefix")
	if line := lineWith(run(t, s, out, "show config"), "position_offset"); !strings.Contains(line, "prefix") {
		t.Errorf("after load adapter, show config lists %q, want position_offset prefix", line)
	}
}

func lineWith(text, word string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	return ""
}
