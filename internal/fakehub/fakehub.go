// Package fakehub is a stand-in for the HuggingFace Hub in tests: an
// httptest server that answers the requests go-huggingface v0.3.1 and
// aptlib/hub make, and a way to serve a model directory from disk as a repo.
// Machines without network reach no Hub, so every download path is tested
// against it (Serve points HF_ENDPOINT at it and the download cache at a
// temporary directory).
//
//	GET  /api/models/{id}/revision/{rev}[?blobs=true]  repo info: {"sha", "siblings": [{"rfilename", "size"}]}
//	HEAD /{id}/resolve/{sha}/{file}                    headers: ETag (required), X-Repo-Commit, Content-Length
//	GET  /{id}/resolve/{sha}/{file}                    the bytes
package fakehub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Commit is the commit every repo of DirRepo is at.
const Commit = "0123456789abcdef0123456789abcdef01234567"

// Repo is a model repo served by Hub.
type Repo struct {
	SHA   string            // the commit "main" resolves to
	Files map[string][]byte // by file name
	Token string            // when set, requests need "Authorization: Bearer <token>"
}

// Hub serves Repos by id ("owner/name" or "name").
type Hub struct {
	Repos map[string]*Repo

	mu       sync.Mutex
	requests []string // "METHOD /path"
}

// DirRepo is a repo at Commit holding the files of dir (not its folders).
func DirRepo(t testing.TB, dir string) *Repo {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &Repo{SHA: Commit, Files: map[string][]byte{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if r.Files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// Serve starts the Hub for the test: HF_ENDPOINT points at it, HF_TOKEN and
// HF_HUB_OFFLINE are cleared, and the default download cache
// (XDG_CACHE_HOME, HF_HOME, HF_HUB_CACHE) is a fresh temporary directory, so
// that the user's own cache is neither read nor written.
func (h *Hub) Serve(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HF_HOME", filepath.Join(cache, "huggingface"))
	t.Setenv("HF_HUB_CACHE", filepath.Join(cache, "huggingface", "hub"))
	return srv
}

// Log returns the requests served so far, as "METHOD /path".
func (h *Hub) Log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

// Fetched returns the files of repo id whose bytes were requested (GET of a
// resolve URL), in request order.
func (h *Hub) Fetched(id string) []string {
	var out []string
	for _, r := range h.Log() {
		if rest, ok := strings.CutPrefix(r, "GET /"+id+"/resolve/"); ok {
			if _, file, ok := strings.Cut(rest, "/"); ok {
				out = append(out, file)
			}
		}
	}
	return out
}

func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests = append(h.requests, r.Method+" "+r.URL.Path)
	h.mu.Unlock()

	p := r.URL.Path
	var id, rest string
	isAPI := strings.HasPrefix(p, "/api/models/")
	if isAPI {
		id, rest, _ = strings.Cut(strings.TrimPrefix(p, "/api/models/"), "/revision/")
	} else {
		id, rest, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/resolve/")
	}
	repo := h.Repos[id]
	if repo == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	if repo.Token != "" && r.Header.Get("Authorization") != "Bearer "+repo.Token {
		w.Header().Set("X-Error-Message", "Access to model "+id+" is restricted.")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if isAPI {
		if rest != "main" && rest != repo.SHA {
			w.Header().Set("X-Error-Code", "RevisionNotFound")
			http.Error(w, "Invalid rev id", http.StatusNotFound)
			return
		}
		type sibling struct {
			Name string `json:"rfilename"`
			Size int    `json:"size,omitempty"`
		}
		info := struct {
			ID       string    `json:"id"`
			SHA      string    `json:"sha"`
			Siblings []sibling `json:"siblings"`
		}{ID: id, SHA: repo.SHA}
		for name, data := range repo.Files {
			s := sibling{Name: name}
			if r.URL.Query().Get("blobs") == "true" {
				s.Size = len(data)
			}
			info.Siblings = append(info.Siblings, s)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
		return
	}
	rev, file, _ := strings.Cut(rest, "/")
	data, ok := repo.Files[file]
	if !ok || rev != repo.SHA {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("X-Repo-Commit", repo.SHA)
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(data))
}
