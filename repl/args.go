package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// splitWords splits one command line into words, shell style: blanks separate
// words, '...' and "..." quote (no expansion inside single quotes is done here;
// paths are expanded later), a backslash escapes the next character, and an
// unquoted # at the start of a word begins a comment that runs to the end of
// the line.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\') {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			inWord = true
			if i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			}
		case r == '#' && !inWord:
			i = len(rs)
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			inWord = true
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// splitCommands splits an -e argument into commands at every ';' outside
// quotes.
func splitCommands(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ';':
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, cur.String())
}

// expandPath expands a leading ~ and $VAR / ${VAR} references in a path
// argument. $TMPDIR falls back to the system's temp directory when unset, and
// $SCRIPT_DIR is the directory of the running script (the working directory
// at the prompt). Any other unset variable is an error rather than an empty
// string, so that "$OUT/x" never silently becomes "/x".
func (s *Shell) expandPath(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~: %v", err)
		}
		p = filepath.Join(home, p[1:])
	}
	if !strings.Contains(p, "$") {
		return p, nil
	}
	var missing string
	out := os.Expand(p, func(name string) string {
		switch name {
		case "SCRIPT_DIR":
			if s.scriptDir != "" {
				return s.scriptDir
			}
			wd, _ := os.Getwd()
			return wd
		case "TMPDIR":
			if v := os.Getenv("TMPDIR"); v != "" {
				return v
			}
			return os.TempDir()
		}
		v, ok := os.LookupEnv(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("%s: $%s is not set", p, missing)
	}
	return out, nil
}

// editDistance is the optimal-string-alignment distance (Levenshtein with
// adjacent transpositions), so that "tarin" is one edit from "train".
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// suggest returns the candidate closest to word, or "" when none is close
// enough to be a likely typo (or an unambiguous prefix of it).
func suggest(word string, candidates []string) string {
	word = strings.ToLower(word)
	if word == "" {
		return ""
	}
	limit := 1
	if len([]rune(word)) >= 4 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(word) >= 2 && strings.HasPrefix(c, word) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// didYouMean renders " (did you mean X?)" or "".
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// printable makes a word safe to show in a one-line message.
func printable(s string) string {
	q := fmt.Sprintf("%q", s)
	if len(q) > 60 {
		q = q[:57] + `..."`
	}
	return q
}
