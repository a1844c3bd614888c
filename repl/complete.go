package repl

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aptbench/apt/aptlib"
)

// Completer completes command lines for readline: commands, their nouns,
// setting keys and values, task and split names, options and file paths.
type Completer struct{ s *Shell }

// NewCompleter returns the tab completer for s.
func NewCompleter(s *Shell) *Completer { return &Completer{s} }

// maxCandidates caps a completion list (a huge directory).
const maxCandidates = 300

// Do implements readline.AutoCompleter: it returns the candidates' remaining
// runes after the word being typed, and that word's length.
func (c *Completer) Do(line []rune, pos int) (out [][]rune, length int) {
	defer func() {
		if recover() != nil {
			out, length = nil, 0
		}
	}()
	if pos > len(line) {
		pos = len(line)
	}
	words, partial := completionWords(string(line[:pos]))
	cands := c.Candidates(words, partial)
	pr := []rune(partial)
	for _, cand := range cands {
		cr := []rune(cand)
		if len(cr) >= len(pr) && string(cr[:len(pr)]) == partial {
			out = append(out, cr[len(pr):])
		}
		if len(out) >= maxCandidates {
			break
		}
	}
	return out, len(pr)
}

// completionWords splits the text before the cursor into the finished words
// and the word being typed ("" after a blank).
func completionWords(text string) ([]string, string) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil, ""
	}
	last := text[len(text)-1]
	if last == ' ' || last == '\t' {
		return fields, ""
	}
	return fields[:len(fields)-1], fields[len(fields)-1]
}

func withSpace(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x + " "
	}
	return out
}

// Candidates lists the full words that may come next after words, for the
// partial word typed so far (used for paths; the caller filters by prefix).
func (c *Completer) Candidates(words []string, partial string) []string {
	if len(words) == 0 {
		return withSpace(sortedCopy(verbNames()))
	}
	verb := strings.ToLower(words[0])
	if a, ok := aliases[verb]; ok {
		words = append(strings.Fields(a), words[1:]...)
		verb = words[0]
	}
	n := len(words) // index of the word being typed
	switch verb {
	case "load":
		if n == 1 {
			return withSpace(nouns["load"])
		}
		switch strings.ToLower(words[1]) {
		case "model":
			if n == 2 {
				return append([]string{"demo "}, c.paths(partial, true)...)
			}
		case "task":
			if n == 2 {
				return withSpace(taskNames)
			}
			if n == 3 && strings.ToLower(words[2]) != "demo" {
				return c.paths(partial, true)
			}
		case "adapter":
			if n == 2 {
				return c.paths(partial, false)
			}
		}
	case "download":
		if n == 1 {
			return withSpace(downloadNames)
		}
	case "save":
		if n == 1 {
			return withSpace(nouns["save"])
		}
		if n == 2 && strings.ToLower(words[1]) == "adapter" {
			return c.paths(partial, false)
		}
	case "show":
		if n == 1 {
			return withSpace(nouns["show"])
		}
	case "set":
		if k, _, ok := strings.Cut(partial, "="); ok {
			var out []string
			for _, v := range settingChoices(strings.ToLower(k)) {
				out = append(out, k+"="+v+" ")
			}
			return out
		}
		var out []string
		for _, k := range aptlib.SettingKeys() {
			out = append(out, k+"=")
		}
		return out
	case "train":
		if n == 2 {
			return []string{"steps ", "epochs "}
		}
	case "eval":
		if n == 1 {
			return withSpace(splitNames)
		}
	case "gates":
		prev := strings.ToLower(words[n-1])
		if prev == "--json" || prev == "--csv" {
			return c.paths(partial, false)
		}
		if strings.HasPrefix(partial, "-") {
			return withSpace([]string{"--values", "--effective", "--by-label", "--json", "--csv"})
		}
		return withSpace(append(append([]string{}, gateSources...), "--values", "--effective", "--by-label", "--json", "--csv"))
	case "plot":
		switch n {
		case 1:
			return withSpace(plotKinds)
		case 2:
			return c.paths(partial, false)
		case 3:
			if strings.ToLower(words[1]) == "gates" {
				return withSpace(gateSources)
			}
		}
	case "predict":
		if n == 1 || n == 2 {
			return c.paths(partial, false)
		}
	case "reset":
		if n == 1 {
			return []string{"all "}
		}
	case "help":
		if n == 1 {
			return withSpace(sortedCopy(verbNames()))
		}
		if n == 2 {
			if ns, ok := nouns[strings.ToLower(words[1])]; ok {
				return withSpace(ns)
			}
		}
	}
	return nil
}

// paths completes a file path: directories end in "/" (so that Tab goes on
// into them), files in a space. A leading ~ is expanded for the lookup and
// kept in what is shown; dot files show only when the typed name starts with a
// dot.
func (c *Completer) paths(partial string, dirsOnly bool) []string {
	if strings.Contains(partial, "$") {
		return nil
	}
	lookup := partial
	if partial == "~" {
		return []string{"~/"}
	}
	if strings.HasPrefix(partial, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			lookup = home + partial[1:]
		}
	}
	dir, base := filepath.Split(lookup)
	shownDir := partial[:len(partial)-len(base)]
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	entries, err := os.ReadDir(readDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) {
			continue
		}
		if strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(readDir, name)); err == nil {
				isDir = st.IsDir()
			}
		}
		switch {
		case isDir:
			out = append(out, shownDir+name+"/")
		case !dirsOnly:
			out = append(out, shownDir+name+" ")
		}
	}
	sort.Strings(out)
	return out
}
