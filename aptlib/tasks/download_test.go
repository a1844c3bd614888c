package tasks

import (
	"archive/zip"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const rteTrain = `{"premise": "A heron stood in the reeds.", "hypothesis": "A bird stood in the reeds.", "label": "entailment", "idx": 0}
{"premise": "The bus was late again.", "hypothesis": "The bus was early.", "label": "not_entailment", "idx": 1}
`

func buildZip(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipServer serves /<path>.zip from a map and counts requests.
func zipServer(t *testing.T, zips map[string][]byte) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body, ok := zips[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestDownloadSuperGLUE(t *testing.T) {
	v1 := buildZip(t, map[string]string{
		"RTE/train.jsonl":         rteTrain,
		"RTE/val.jsonl":           rteTrain,
		"__MACOSX/RTE/._val.json": "junk",
	})
	zips := map[string][]byte{"/superglue/v2/RTE.zip": v1}
	srv, n := zipServer(t, zips)
	cache := t.TempDir()
	opt := DownloadOptions{BaseURL: srv.URL + "/superglue/v2/", CacheDir: cache}

	dir, err := DownloadSuperGLUE(context.Background(), "rte", opt)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "RTE") || n.Load() != 1 {
		t.Fatalf("dir %s, %d requests", dir, n.Load())
	}
	task := mustLoad(t, "rte", dir)
	if task.Train.Len() != 2 || task.Dev.Len() != 2 {
		t.Fatalf("loaded %d/%d", task.Train.Len(), task.Dev.Len())
	}
	// Nothing else is left in the cache (temp zip, unzip dir).
	if got := cacheEntries(t, cache); len(got) != 1 || got[0] != "RTE" {
		t.Fatalf("cache holds %v", got)
	}
	// A second call uses the cache.
	if _, err := DownloadSuperGLUE(context.Background(), "RTE", opt); err != nil || n.Load() != 1 {
		t.Fatalf("cached call: %v, %d requests", err, n.Load())
	}
	// Force downloads again and replaces the folder; an archive with the files
	// at its top level works too.
	zips["/superglue/v2/RTE.zip"] = buildZip(t, map[string]string{"val.jsonl": rteTrain})
	opt.Force = true
	if _, err := DownloadSuperGLUE(context.Background(), "rte", opt); err != nil || n.Load() != 2 {
		t.Fatalf("forced: %v, %d requests", err, n.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "train.jsonl")); !os.IsNotExist(err) {
		t.Fatal("old copy not replaced")
	}
	if got := cacheEntries(t, cache); len(got) != 1 {
		t.Fatalf("cache holds %v", got)
	}
}

func TestDownloadFailuresLeaveNothing(t *testing.T) {
	zips := map[string][]byte{
		"/WSC.zip": buildZip(t, map[string]string{"../evil.jsonl": "x", "WSC/val.jsonl": "{}"}),
		"/CB.zip":  []byte("this is not a zip"),
		"/WiC.zip": buildZip(t, map[string]string{"WiC/readme.txt": "no split files"}),
	}
	srv, _ := zipServer(t, zips)
	for _, c := range []struct{ task, want string }{
		{"wsc", "points outside the archive"},
		{"cb", "not a valid zip archive"},
		{"wic", "holds no train.jsonl"},
		{"copa", "404 Not Found"},
		{"record", "not a SuperGLUE task"},
	} {
		cache := t.TempDir()
		_, err := DownloadSuperGLUE(context.Background(), c.task, DownloadOptions{BaseURL: srv.URL, CacheDir: cache})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.task, err, c.want)
		}
		if got := cacheEntries(t, cache); len(got) != 0 {
			t.Errorf("%s: cache holds %v after a failure", c.task, got)
		}
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "evil.jsonl")); err == nil {
		t.Error("zip-slip wrote outside the directory")
	}
}

func TestDownloadOffline(t *testing.T) {
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	bases := []string{"http://" + addr + "/"}
	if os.Getenv("HTTP_PROXY") == "" && os.Getenv("HTTPS_PROXY") == "" && os.Getenv("http_proxy") == "" && os.Getenv("https_proxy") == "" {
		bases = append(bases, "http://superglue.invalid/") // .invalid never resolves (RFC 2606)
	}
	for _, base := range bases {
		cache := t.TempDir()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := DownloadSuperGLUE(ctx, "boolq", DownloadOptions{BaseURL: base, CacheDir: cache})
		cancel()
		if err == nil {
			t.Fatalf("%s: no error", base)
		}
		t.Logf("%s: %v (%v)", base, err, time.Since(start))
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%s: took %v", base, el)
		}
		for _, w := range []string{"no network access", "BoolQ.zip", "pass the directory", "load task boolq /path/to/BoolQ"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", base, err, w)
			}
		}
		if got := cacheEntries(t, cache); len(got) != 0 {
			t.Errorf("cache holds %v", got)
		}
	}
}

func TestLoadFromCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if _, err := Load("rte", ""); err == nil || !strings.Contains(err.Error(), "not in the download cache") {
		t.Fatalf("empty cache: %v", err)
	}
	srv, _ := zipServer(t, map[string][]byte{"/RTE.zip": buildZip(t, map[string]string{"RTE/val.jsonl": rteTrain})})
	dir, err := DownloadSuperGLUE(context.Background(), "rte", DownloadOptions{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := DefaultCacheDir()
	if dir != filepath.Join(def, "RTE") || !strings.HasSuffix(def, filepath.Join("apt-workbench", "superglue")) {
		t.Fatalf("dir %s (default cache %s)", dir, def)
	}
	task := mustLoad(t, "rte", "")
	if task.Dir != dir || task.Dev.Len() != 2 {
		t.Fatalf("%s %d", task.Dir, task.Dev.Len())
	}
}
