package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptEncodings: a script saved with a UTF-8 byte-order mark, with
// CRLF or with lone-CR line endings runs like a plain one, from -f and from
// stdin, and its errors cite the right line.
func TestScriptEncodings(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bom":      "\ufeffecho one\necho two\n",
		"bom-crlf": "\ufeffecho one\r\n# a comment\r\necho two\r\n",
		"crlf":     "echo one\r\necho two\r\n",
		"cr":       "echo one\recho two\r",
		"bom-set":  "\ufeffset lr=0.01\r\necho one\r\necho two",
	} {
		p := filepath.Join(dir, name+".apt")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"-f", "stdin"} {
			var r result
			if how == "-f" {
				r = runBin(t, env, "", "-f", p)
			} else {
				r = runBin(t, env, body, "-f", "-")
			}
			if r.code != 0 || !strings.Contains(r.stdout, "one\ntwo\n") || strings.Contains(r.stdout, "\r") {
				t.Errorf("%s (%s): exit %d\nstdout %q\nstderr %q", name, how, r.code, r.stdout, r.stderr)
			}
		}
	}
	// The line numbers stay right after a BOM and CRLF endings.
	p := filepath.Join(dir, "bad.apt")
	os.WriteFile(p, []byte("\ufeffecho one\r\necho two\r\ntarin\r\n"), 0o644)
	r := runBin(t, env, "", "-f", p)
	if r.code != 1 || !strings.Contains(r.stderr, "bad.apt:3: unknown command \"tarin\"") {
		t.Errorf("bad script: exit %d, stderr %q", r.code, r.stderr)
	}
}

// bigTask writes a jsonl task whose dev split takes a while to evaluate one
// example at a time, and a predict input as long.
func bigTask(t *testing.T) (dir, in string) {
	t.Helper()
	dir = t.TempDir()
	text := strings.Repeat("the plot was brilliant and the acting was dull but fun ", 8)
	var dev, pred strings.Builder
	for i := range 2000 { // about 3 minutes at eval_batch_size=1 on the go backend
		label := "positive"
		if i%2 == 1 {
			label = "negative"
		}
		dev.WriteString(`{"text": "` + text + `", "label": "` + label + `"}` + "\n")
		pred.WriteString(`{"text": "` + text + `"}` + "\n")
	}
	os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(`{"text": "fun", "label": "positive"}`+"\n"+`{"text": "dull", "label": "negative"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "val.jsonl"), []byte(dev.String()), 0o644)
	in = filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(in, []byte(pred.String()), 0o644)
	return dir, in
}
