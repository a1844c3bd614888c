package hub

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/internal/fakehub"
	"github.com/aptbench/apt/internal/familydir"
	gomlxctx "github.com/gomlx/gomlx/pkg/ml/context"
)

const commit = fakehub.Commit

// tinyRepo is a fake single-file model repo (the bytes need not be a real model).
func tinyRepo() *fakehub.Repo {
	return &fakehub.Repo{SHA: commit, Files: map[string][]byte{
		"config.json":           []byte(`{"hidden_size": 8}`),
		"model.safetensors":     bytes.Repeat([]byte{7}, 3000),
		"vocab.txt":             []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n"),
		"tokenizer_config.json": []byte(`{"do_lower_case": true}`),
		"README.md":             []byte("# tiny"),
		"pytorch_model.bin":     []byte("not fetched when safetensors exist"),
	}}
}

// readFile reads dir/name, failing the test when absent.
func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("model dir lacks %s: %v", name, err)
	}
	return string(b)
}

// The default cache is Python huggingface_hub's: $HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub.
func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x")
	t.Setenv("HF_HOME", "")
	t.Setenv("HF_HUB_CACHE", "")
	if d := DefaultCacheDir(); d != filepath.Join("/x", "huggingface", "hub") {
		t.Errorf("XDG_CACHE_HOME=/x: %s", d)
	}
	t.Setenv("HF_HOME", "/h")
	if d := DefaultCacheDir(); d != filepath.Join("/h", "hub") {
		t.Errorf("HF_HOME=/h: %s", d)
	}
	t.Setenv("HF_HUB_CACHE", "/c")
	if d := DefaultCacheDir(); d != "/c" {
		t.Errorf("HF_HUB_CACHE=/c: %s", d)
	}
}

func TestIsLocalDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !IsLocalDir(dir) || IsLocalDir(file) || IsLocalDir(filepath.Join(dir, "nope")) || IsLocalDir("bert-base-uncased") {
		t.Error("IsLocalDir is wrong")
	}
}

func TestDownloadSingleFile(t *testing.T) {
	repo := tinyRepo()
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{"org/tiny-bert": repo}}
	srv := hub.Serve(t)
	cache := t.TempDir()
	var bar bytes.Buffer
	dir, err := Download(context.Background(), "org/tiny-bert", Options{CacheDir: cache, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "models--org--tiny-bert", "snapshots", commit); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"} {
		if got := readFile(t, dir, f); got != string(repo.Files[f]) {
			t.Errorf("%s: wrong content %q", f, got)
		}
	}
	for _, f := range []string{"README.md", "pytorch_model.bin"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was fetched, it should not be", f)
		}
	}
	if s := bar.String(); !strings.Contains(s, "100%") || !strings.Contains(s, "3.0 kB / 3.0 kB") {
		t.Errorf("progress bar = %q, want 100%% of 3.0 kB", s)
	}
	t.Logf("requests: %q", hub.Log())

	// Again: everything is cached, no progress bar.
	bar.Reset()
	if dir2, err := Download(context.Background(), "org/tiny-bert", Options{CacheDir: cache, Progress: &bar}); err != nil || dir2 != dir {
		t.Errorf("second Download = %s, %v", dir2, err)
	}
	if bar.Len() != 0 {
		t.Errorf("progress bar drawn for cached weights: %q", bar.String())
	}

	// Offline: the cached copy is served.
	srv.Close()
	bar.Reset()
	if dir3, err := Download(context.Background(), "org/tiny-bert", Options{CacheDir: cache, Progress: &bar}); err != nil || dir3 != dir {
		t.Errorf("offline Download of a cached model = %s, %v", dir3, err)
	}
	if !strings.Contains(bar.String(), "using the cached copy") {
		t.Errorf("offline, cached: note = %q", bar.String())
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	if dir4, err := Download(context.Background(), "org/tiny-bert", Options{CacheDir: cache}); err != nil || dir4 != dir {
		t.Errorf("HF_HUB_OFFLINE Download of a cached model = %s, %v", dir4, err)
	}
	if _, err := Download(context.Background(), "org/other", Options{CacheDir: cache}); err == nil ||
		!strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("HF_HUB_OFFLINE, model not cached: error = %v", err)
	}
}

func TestDownloadSharded(t *testing.T) {
	repo := &fakehub.Repo{SHA: commit, Files: map[string][]byte{
		"config.json": []byte(`{}`),
		"model.safetensors.index.json": []byte(`{"metadata": {"total_size": 300}, "weight_map": {
			"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
			"c": "model-00001-of-00002.safetensors"}}`),
		"model-00001-of-00002.safetensors": bytes.Repeat([]byte{1}, 100),
		"model-00002-of-00002.safetensors": bytes.Repeat([]byte{2}, 200),
		"tokenizer.json":                   []byte(`{"model": {"type": "WordPiece"}}`),
	}}
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{"sharded": repo}}
	hub.Serve(t)
	var bar bytes.Buffer
	dir, err := Download(context.Background(), "sharded", Options{CacheDir: t.TempDir(), Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range repo.Files {
		if got := readFile(t, dir, name); got != string(data) {
			t.Errorf("%s: wrong content", name)
		}
	}
	if !strings.Contains(bar.String(), "100%") || !strings.Contains(bar.String(), "300 B") {
		t.Errorf("progress bar = %q, want 100%% of 300 B", bar.String())
	}
}

func TestDownloadToken(t *testing.T) {
	repo := tinyRepo()
	repo.Token = "s3cret"
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{"org/gated": repo}}
	hub.Serve(t)

	_, err := Download(context.Background(), "org/gated", Options{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), "401") {
		t.Errorf("no token: error = %v, want one mentioning HF_TOKEN", err)
	}
	t.Log(err)
	if _, err = Download(context.Background(), "org/gated", Options{CacheDir: t.TempDir(), Token: "s3cret"}); err != nil {
		t.Errorf("Options.Token: %v", err)
	}
	t.Setenv("HF_TOKEN", "s3cret")
	if _, err = Download(context.Background(), "org/gated", Options{CacheDir: t.TempDir()}); err != nil {
		t.Errorf("$HF_TOKEN: %v", err)
	}
}

func TestDownloadErrors(t *testing.T) {
	ptOnly := &fakehub.Repo{SHA: commit, Files: map[string][]byte{
		"config.json": []byte(`{}`), "vocab.txt": []byte("a\n"), "pytorch_model.bin": []byte("x"),
	}}
	noVocab := &fakehub.Repo{SHA: commit, Files: map[string][]byte{
		"config.json": []byte(`{}`), "model.safetensors": []byte("x"),
	}}
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{"pt-only": ptOnly, "no-vocab": noVocab, "org/tiny": tinyRepo()}}
	hub.Serve(t)
	for _, tc := range []struct {
		repo, revision string
		want           []string
	}{
		{"org/missing", "", []string{`no such model "org/missing"`}},
		{"org/tiny", "v9", []string{`no revision "v9"`}},
		{"pt-only", "", []string{"safetensors weights are required", "pytorch_model.bin", "safe_serialization=True"}},
		{"no-vocab", "", []string{"no vocabulary"}},
		{"../etc", "", []string{"neither a local model directory nor a HuggingFace model id"}},
	} {
		_, err := Download(context.Background(), tc.repo, Options{CacheDir: t.TempDir(), Revision: tc.revision})
		if err == nil {
			t.Errorf("%s: no error", tc.repo)
			continue
		}
		t.Logf("%s: %v", tc.repo, err)
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.repo, err, w)
			}
		}
	}
}

func TestDownloadOffline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("HF_ENDPOINT", ep)
	t.Setenv("HF_HUB_OFFLINE", "")

	start := time.Now()
	_, err = Download(context.Background(), "bert-base-uncased", Options{CacheDir: t.TempDir()})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("offline failure took %s, want < 5s", d)
	}
	if err == nil {
		t.Fatal("no error offline")
	}
	t.Log(err)
	for _, w := range []string{
		`cannot reach the HuggingFace Hub (` + ep + `) to fetch "bert-base-uncased": dial tcp`,
		"connection refused",
		"(config.json, model.safetensors and the tokenizer files: vocab.txt, vocab.json + merges.txt, spm.model or tokenizer.json) and pass its path instead",
		"set HF_ENDPOINT to a mirror",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q", w)
		}
	}
}

func TestDownloadCanceled(t *testing.T) {
	(&fakehub.Hub{Repos: map[string]*fakehub.Repo{"org/tiny": tinyRepo()}}).Serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Download(ctx, "org/tiny", Options{CacheDir: t.TempDir()}); err == nil ||
		!strings.Contains(err.Error(), "context canceled") {
		t.Errorf("canceled context: error = %v", err)
	}
}

// A RoBERTa repo as the Hub serves roberta-base (vocab.json, merges.txt,
// tokenizer.json, the configuration files; no vocab.txt) is fetched with all
// of its tokenizer files; a repo with vocab.json but no merges.txt has no
// usable vocabulary.
func TestDownloadBPETokenizerFiles(t *testing.T) {
	files := map[string][]byte{
		"config.json":             []byte(`{"model_type": "roberta"}`),
		"model.safetensors":       bytes.Repeat([]byte{7}, 100),
		"vocab.json":              []byte(`{"<s>": 0}`),
		"merges.txt":              []byte("#version: 0.2\n"),
		"tokenizer.json":          []byte(`{}`),
		"tokenizer_config.json":   []byte(`{}`),
		"special_tokens_map.json": []byte(`{}`),
		"dict.txt":                []byte("not fetched"),
	}
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{
		"org/tiny-roberta": {SHA: commit, Files: files},
		"org/no-merges": {SHA: commit, Files: map[string][]byte{
			"config.json": files["config.json"], "model.safetensors": files["model.safetensors"], "vocab.json": files["vocab.json"]}},
	}}
	hub.Serve(t)
	dir, err := Download(context.Background(), "org/tiny-roberta", Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if name == "dict.txt" {
			if err == nil {
				t.Errorf("%s was fetched, it should not be", name)
			}
			continue
		}
		if err != nil || string(got) != string(data) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	_, err = Download(context.Background(), "org/no-merges", Options{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no vocabulary") {
		t.Errorf("vocab.json without merges.txt: %v", err)
	}
}

// A tiny RoBERTa model directory (internal/familydir: the Hub's layout, real
// weights and BPE tokenizer files) downloaded from the fake Hub loads with its
// family: config, weights and tokenizer.
func TestDownloadRoBERTaLoads(t *testing.T) {
	src := t.TempDir()
	if err := familydir.Write(src, "roberta", familydir.Options{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	repo := fakehub.DirRepo(t, src)
	files := repo.Files
	hub := &fakehub.Hub{Repos: map[string]*fakehub.Repo{"org/tiny-roberta": repo}}
	hub.Serve(t)
	dir, err := Download(context.Background(), "org/tiny-roberta", Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was not fetched: %v", name, err)
		}
	}
	cfg, fam, err := backbone.LoadDir(gomlxctx.New(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if fam.ModelType != "roberta" || cfg.NumLayers() != 3 {
		t.Fatalf("loaded %s with %d layers", fam.ModelType, cfg.NumLayers())
	}
	tok, err := fam.LoadTokenizer(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, _, _ := tok.EncodePairIDs("the cat", "", 16)
	if tok.PadID() != 1 || len(ids) < 3 || ids[0] != 0 || ids[len(ids)-1] != 2 {
		t.Errorf("RoBERTa tokenizer: pad id %d, %q encodes as %v, want <s>=0 ... </s>=2", tok.PadID(), "the cat", ids)
	}
}
