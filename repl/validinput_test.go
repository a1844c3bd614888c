package repl

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/aptbench/apt/aptlib/tasks"
)

// conllTask writes a tiny generic CoNLL task.
func conllTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sent := "John B-PER\nlives O\nin O\nParis B-LOC\n\nMary B-PER\nlikes O\nRome B-LOC\n\n"
	var b strings.Builder
	for range 4 {
		b.WriteString(sent)
	}
	os.WriteFile(filepath.Join(dir, "train.txt"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "dev.txt"), []byte(sent), 0o644)
	return dir
}

// TestLoadNERAdapterNote: loading a token-classification adapter with no task
// says that predict reads {"tokens": [...]} lines, and such a line predicts.
func TestLoadNERAdapterNote(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APT_TEST_DIR", dir)
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task conll "+conllTask(t), "set prefix_len=2 max_len=32", "step",
		"save adapter $APT_TEST_DIR/ner.safetensors")

	s2, out2, errb2 := newShell(t)
	run(t, s2, out2, "load model demo")
	errb2.Reset()
	got := run(t, s2, out2, "load adapter $APT_TEST_DIR/ner.safetensors")
	mustContain(t, "load NER adapter", got, "loaded adapter", "B-LOC", "B-PER", "O")
	mustContain(t, "load NER adapter note", errb2.String(), `predict reads {"tokens": ["word", ...]} lines`)
	if strings.Contains(errb2.String(), `"text"`) {
		t.Errorf("the note for a token-classification adapter names text lines: %s", errb2.String())
	}
	os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(`{"tokens": ["Mary", "lives", "in", "Rome"]}`+"\n"), 0o644)
	mustContain(t, "predict NER", run(t, s2, out2, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out.jsonl"), "wrote 1 prediction")

	// A sequence-classification adapter keeps the text note.
	run(t, s, out, "load task demo", "set prefix_len=2 max_len=32", "step", "save adapter $APT_TEST_DIR/seq.safetensors")
	s3, out3, errb3 := newShell(t)
	run(t, s3, out3, "load model demo")
	run(t, s3, out3, "load adapter $APT_TEST_DIR/seq.safetensors")
	mustContain(t, "load sequence adapter note", errb3.String(), `predict reads {"text": ..., "text_pair": ...} lines`)
}

const rteLines = `{"premise": "A heron stood in the reeds.", "hypothesis": "A bird stood in the reeds.", "label": "entailment", "idx": 0}
{"premise": "The bus was late again.", "hypothesis": "The bus was early.", "label": "not_entailment", "idx": 1}
`

// superGLUEServer serves <Folder>.zip for every SuperGLUE task, each with
// val.jsonl (RTE's real fields, the others a placeholder line).
func superGLUEServer(t *testing.T) *httptest.Server {
	t.Helper()
	zips := map[string][]byte{}
	for _, folder := range []string{"BoolQ", "CB", "COPA", "MultiRC", "RTE", "WiC", "WSC"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		body := "{}\n"
		if folder == "RTE" {
			body = rteLines
		}
		for _, f := range []string{"train.jsonl", "val.jsonl"} {
			w, _ := zw.Create(folder + "/" + f)
			w.Write([]byte(body))
		}
		zw.Close()
		zips["/"+folder+".zip"] = buf.Bytes()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := zips[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDownloadCommand: download fetches a task (or all of SuperGLUE) into the
// cache, says where and which load line comes next, and that line works;
// NER sets and unknown names get a clear error; the "no directory" error of
// load task names the download command.
func TestDownloadCommand(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	s, out, _ := newShell(t)
	err := s.Exec(context.Background(), "load task rte")
	if err == nil || !strings.Contains(err.Error(), "run download rte in the shell") || strings.Contains(err.Error(), "DownloadSuperGLUE") {
		t.Errorf("load task rte with no directory and an empty cache: %v", err)
	}

	srv := superGLUEServer(t)
	cache := t.TempDir()
	s.w.DownloadOptions = tasks.DownloadOptions{BaseURL: srv.URL + "/", CacheDir: cache}
	got := run(t, s, out, "download rte")
	dir := filepath.Join(cache, "RTE")
	mustContain(t, "download rte", got, "downloading rte from "+srv.URL, "into "+cache, dir, "next: load task rte "+dir)
	next := got[strings.Index(got, "next: ")+len("next: "):]
	next = strings.TrimSpace(next)
	mustContain(t, "the load line download printed", run(t, s, out, next), "loaded task rte", "dev 2")

	got = run(t, s, out, "download superglue")
	for _, f := range []string{"BoolQ", "CB", "COPA", "MultiRC", "RTE", "WiC", "WSC"} {
		mustContain(t, "download superglue", got, filepath.Join(cache, f))
	}
	mustContain(t, "download superglue", got, "next: load task ")

	for _, c := range []struct{ line, want string }{
		{"download conll03", "conll03 has no official download"},
		{"download wnut17", "load task wnut17 DIR"},
		{"download jsonl", "nothing to download"},
		{"download demo", "built in"},
		{"download rtee", `unknown task "rtee" (did you mean rte?)`},
		{"download", "usage: download <task | superglue>"},
	} {
		if err := s.Exec(context.Background(), c.line); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.line, err, c.want)
		}
	}
	if err := s.Exec(context.Background(), "load task conll03"); err == nil || !strings.Contains(err.Error(), "no official download") {
		t.Errorf("load task conll03 with no directory: %v", err)
	}

	// Offline: a port nobody listens on fails at once with what to do.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s.w.DownloadOptions = tasks.DownloadOptions{BaseURL: "http://" + addr + "/", CacheDir: t.TempDir()}
	start := time.Now()
	err = s.Exec(context.Background(), "download boolq")
	if err == nil || !strings.Contains(err.Error(), "no network access") || !strings.Contains(err.Error(), "load task boolq /path/to/BoolQ") {
		t.Errorf("offline download: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("offline download took %v", el)
	}
	// Cancelled: the shell's interrupted error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.w.DownloadOptions = tasks.DownloadOptions{BaseURL: srv.URL + "/", CacheDir: t.TempDir()}
	if err := s.Exec(ctx, "download cb"); !errors.Is(err, ErrInterrupted) {
		t.Errorf("download with a cancelled context: %v", err)
	}
	has := NewCompleter(s).Candidates([]string{"download"}, "")
	if len(has) == 0 || has[0] != "superglue " {
		t.Errorf("completion after download: %q", has)
	}
}

// TestInferenceInterrupt: eval, gates and predict under a cancelled context
// return ErrInterrupted, say nothing was written, leave no file, and the
// session goes on with the same results.
func TestInferenceInterrupt(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APT_TEST_DIR", dir)
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set prefix_len=2 max_len=32 eval_batch_size=16", "step")
	want := run(t, s, out, "eval")
	want = want[strings.Index(want, "metric"):]
	os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(`{"text": "a fine film"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "old.json"), []byte("old\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, line := range []string{
		"eval", "eval train", "gates dev", "gates dev --json $APT_TEST_DIR/g.json --csv $APT_TEST_DIR/g.csv",
		"gates dev --json $APT_TEST_DIR/old.json", "plot gates $APT_TEST_DIR/g.svg dev",
		"predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out.jsonl", "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/old.json",
	} {
		out.Reset()
		err := s.Exec(ctx, line)
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("%s with a cancelled context: %v", line, err)
		}
		mustContain(t, line, out.String(), "interrupted; nothing was written")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files after the interrupted commands: %v, want in.jsonl and old.json", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old.json")); string(b) != "old\n" {
		t.Errorf("an interrupted command changed old.json: %q", b)
	}
	got := run(t, s, out, "eval")
	if got = got[strings.Index(got, "metric"):]; got != want {
		t.Errorf("eval after the interrupts:\n%s\nbefore:\n%s", got, want)
	}
	mustContain(t, "predict after the interrupts", run(t, s, out, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/out.jsonl"), "wrote 1 prediction")
	mustContain(t, "gates after the interrupts", run(t, s, out, "gates dev"), "layer score")
}

// rewriteAdapterFile copies an adapter with its metadata edited.
func rewriteAdapterFile(t *testing.T, src, dst string, edit func(md map[string]string)) {
	t.Helper()
	f, err := safetensors.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shape, Data: data})
	}
	md := f.Metadata()
	f.Close()
	edit(md)
	if err := safetensors.Write(dst, ts, md); err != nil {
		t.Fatal(err)
	}
}

// TestLoadAdapterFailureAndHeadOnly: in the shell, a head-only PT-2 adapter
// without prefix_lens loads (prefix_len 0) and predicts; a failed load
// adapter leaves the adapter loaded before working, with the same predictions.
func TestLoadAdapterFailureAndHeadOnly(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("APT_TEST_DIR", dir)
	os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(`{"text": "a fine film"}`+"\n"+`{"text": "a dull film"}`+"\n"), 0o644)
	s, out, _ := newShell(t)
	run(t, s, out, "load model demo", "load task demo", "set method=pt2 prefix_len=0 max_len=32", "step 2",
		"save adapter $APT_TEST_DIR/probe.safetensors", "set method=apt prefix_len=2", "step 2",
		"save adapter $APT_TEST_DIR/a.safetensors")
	rewriteAdapterFile(t, filepath.Join(dir, "probe.safetensors"), filepath.Join(dir, "probe-nolens.safetensors"),
		func(md map[string]string) { delete(md, "prefix_lens") })
	rewriteAdapterFile(t, filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b-labels.safetensors"),
		func(md map[string]string) { md["labels"] = `["bad","good"]` })
	rewriteAdapterFile(t, filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b-base.safetensors"),
		func(md map[string]string) { md["base_model_sha256"] = strings.Repeat("0", 64) })
	os.WriteFile(filepath.Join(dir, "b-junk.safetensors"), []byte("junk"), 0o644)

	s2, out2, _ := newShell(t)
	got := run(t, s2, out2, "load model demo", "load adapter $APT_TEST_DIR/probe-nolens.safetensors")
	mustContain(t, "head-only adapter", got, "loaded adapter", "pt2, prefix_len 0")
	mustContain(t, "predict with the head-only adapter", run(t, s2, out2, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/probe.jsonl"), "wrote 2 predictions")

	run(t, s2, out2, "load task demo", "load adapter $APT_TEST_DIR/a.safetensors", "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/want.jsonl")
	want, _ := os.ReadFile(filepath.Join(dir, "want.jsonl"))
	wantEval := run(t, s2, out2, "eval")
	wantEval = wantEval[strings.Index(wantEval, "metric"):]
	for _, b := range []string{"b-labels", "b-base", "b-junk", "missing"} {
		if err := s2.Exec(context.Background(), "load adapter $APT_TEST_DIR/"+b+".safetensors"); err == nil {
			t.Errorf("%s loaded", b)
		}
		run(t, s2, out2, "predict $APT_TEST_DIR/in.jsonl $APT_TEST_DIR/got.jsonl")
		if got, _ := os.ReadFile(filepath.Join(dir, "got.jsonl")); string(got) != string(want) {
			t.Errorf("after the failed load of %s the predictions differ:\n%s\nwant\n%s", b, got, want)
		}
		e := run(t, s2, out2, "eval")
		if e = e[strings.Index(e, "metric"):]; e != wantEval {
			t.Errorf("after the failed load of %s eval says\n%s\nwant\n%s", b, e, wantEval)
		}
		mustContain(t, "show after "+b, run(t, s2, out2, "show"), "a.safetensors")
	}
}
