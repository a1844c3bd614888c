package hub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRepo is a model repo served by fakeHub.
type fakeRepo struct {
	sha   string
	files map[string][]byte
	token string // when set, requests need "Authorization: Bearer <token>"
}

// fakeHub stands in for the HuggingFace Hub, answering the requests
// go-huggingface v0.3.1 and this package make:
//
//	GET  /api/models/{id}/revision/{rev}[?blobs=true]  repo info: {"sha", "siblings": [{"rfilename", "size"}]}
//	HEAD /{id}/resolve/{sha}/{file}                    headers: ETag (required), X-Repo-Commit, Content-Length
//	GET  /{id}/resolve/{sha}/{file}                    the bytes
type fakeHub struct {
	repos map[string]*fakeRepo

	mu       sync.Mutex
	requests []string // "METHOD /path"
}

// serve starts the fake Hub and points HF_ENDPOINT at it.
func (h *fakeHub) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	return srv
}

func (h *fakeHub) log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	repo := h.repos[id]
	if repo == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	if repo.token != "" && r.Header.Get("Authorization") != "Bearer "+repo.token {
		w.Header().Set("X-Error-Message", "Access to model "+id+" is restricted.")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if isAPI {
		if rest != "main" && rest != repo.sha {
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
		}{ID: id, SHA: repo.sha}
		for name, data := range repo.files {
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
	data, ok := repo.files[file]
	if !ok || rev != repo.sha {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("X-Repo-Commit", repo.sha)
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(data))
}
