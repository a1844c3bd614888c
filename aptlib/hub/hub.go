// Package hub fetches model directories (docs/adapters.md) from the HuggingFace
// Hub into go-huggingface's cache, which is shared with Python's
// huggingface_hub (~/.cache/huggingface/hub by default).
//
// Download lists the repo's files through the Hub's repo-info API, then fetches
// with go-huggingface's hub package only what the loader reads: config.json,
// model.safetensors (or model.safetensors.index.json and every shard it
// names), and the tokenizer files of every family that the repo has
// (TokenizerFiles: vocab.txt, vocab.json, merges.txt, spm.model,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json). It returns the cache's snapshot directory, where those files are
// symlinks into the cache's blobs.
//
// Environment, as Python's huggingface_hub reads it: HF_ENDPOINT (a mirror
// or a local stand-in instead of https://huggingface.co), HF_TOKEN (access
// token), HF_HUB_OFFLINE=1 (use the cache only), HF_HUB_CACHE or HF_HOME
// (where the cache is; see DefaultCacheDir).
// Without network the first request fails within seconds; a model fetched
// before is then served from the cache.
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	hfhub "github.com/gomlx/go-huggingface/hub"
)

// Options of Download. The zero value is usable.
type Options struct {
	// CacheDir is the cache root; default DefaultCacheDir().
	CacheDir string
	// Token is the Hub access token; default $HF_TOKEN.
	Token string
	// Progress receives a progress bar (bytes, percent) of the weights
	// download; nil draws none.
	Progress io.Writer
	// Revision is the branch, tag or commit; default "main".
	Revision string
}

// DefaultCacheDir is the cache Python's huggingface_hub uses, so that both
// share their downloads: $HF_HUB_CACHE, else $HF_HOME/hub, else
// go-huggingface's default ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub
// (go-huggingface v0.3.1 reads only XDG_CACHE_HOME).
func DefaultCacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	return hfhub.DefaultCacheDir()
}

// IsLocalDir reports whether s is an existing directory, to be loaded from
// disk rather than fetched from the Hub.
func IsLocalDir(s string) bool {
	fi, err := os.Stat(s)
	return err == nil && fi.IsDir()
}

// reRepoID matches "name" or "owner/name".
var reRepoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$`)

// Download fetches the model directory of repoID (e.g. "google-bert/bert-base-uncased")
// and returns the local directory holding its files. Files already in the
// cache are not fetched again. When the Hub cannot be reached, a complete copy
// already in the cache is returned; otherwise the error says what to do.
//
// ctx bounds the whole call; go-huggingface itself takes no context, so on
// cancellation Download returns at once while a transfer in progress finishes
// (or fails) in the background, leaving the cache consistent.
func Download(ctx context.Context, repoID string, opts Options) (dir string, err error) {
	if !reRepoID.MatchString(repoID) || len(repoID) > 200 {
		return "", fmt.Errorf("%q is neither a local model directory nor a HuggingFace model id (\"name\" or \"owner/name\")", repoID)
	}
	if opts.Revision == "" {
		opts.Revision = "main"
	}
	if opts.Token == "" {
		opts.Token = os.Getenv("HF_TOKEN")
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	ep := endpoint()

	if v := os.Getenv("HF_HUB_OFFLINE"); v == "1" || v == "true" || v == "TRUE" {
		if d := cachedSnapshot(opts.CacheDir, repoID, opts.Revision); d != "" {
			return d, nil
		}
		return "", fmt.Errorf("HF_HUB_OFFLINE is set and %q (revision %q) is not in the cache %s; "+
			"unset HF_HUB_OFFLINE, or pass the path of a model directory instead", repoID, opts.Revision, opts.CacheDir)
	}

	info, err := fetchInfo(ctx, ep, repoID, opts.Revision, opts.Token)
	var u *errUnreachable
	if errors.As(err, &u) {
		if d := cachedSnapshot(opts.CacheDir, repoID, opts.Revision); d != "" {
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "HuggingFace Hub (%s) unreachable (%s): using the cached copy of %q in %s\n", ep, u.cause, repoID, d)
			}
			return d, nil
		}
		return "", fmt.Errorf("cannot reach the HuggingFace Hub (%s) to fetch %q: %s; download the model directory "+
			"on a machine with network access (config.json, model.safetensors and the tokenizer files: vocab.txt, vocab.json + merges.txt, spm.model or tokenizer.json) and pass its path instead, "+
			"or set HF_ENDPOINT to a mirror", ep, repoID, u.cause)
	}
	if err != nil {
		return "", err
	}
	p, err := planFiles(repoID, info.sizes())
	if err != nil {
		return "", err
	}

	// go-huggingface takes no context: run it aside and stop waiting on cancellation.
	repo := hfhub.New(repoID).WithEndpoint(ep).WithAuth(opts.Token).WithRevision(opts.Revision).WithCacheDir(opts.CacheDir)
	repo.Verbosity = 0 // it would print to stdout
	type result struct {
		dir string
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := fetch(repo, p, info, opts)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", fmt.Errorf("fetching %q from the HuggingFace Hub (%s): %w", repoID, ep, r.err)
		}
		return r.dir, nil
	case <-ctx.Done():
		return "", fmt.Errorf("fetching %q from the HuggingFace Hub (%s): %w", repoID, ep, ctx.Err())
	}
}

// fetch downloads the planned files one at a time (go-huggingface's parallel
// download has unguarded counters) and returns the snapshot directory.
func fetch(repo *hfhub.Repo, p *plan, info *repoInfo, opts Options) (string, error) {
	sizes := info.sizes()
	var dir string
	for _, f := range p.small {
		local, err := fetchFile(repo, f, sizes[f])
		if err != nil {
			return "", err
		}
		if f == configFile {
			dir = filepath.Dir(local)
		}
	}
	weights := p.weights
	if p.sharded {
		shards, err := shardsOf(filepath.Join(dir, weightsIndexFile))
		if err != nil {
			return "", err
		}
		for _, s := range shards {
			if _, ok := sizes[s]; !ok {
				return "", fmt.Errorf("%s names the shard %q, which the repo does not have", weightsIndexFile, s)
			}
		}
		weights = shards
	}

	var total int64
	cached := true
	for _, w := range weights {
		total += sizes[w]
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(w))); err != nil {
			cached = false
		}
	}
	var out io.Writer
	if !cached {
		out = opts.Progress
	}
	bar := startProgress(out, filepath.Join(repoCacheDir(opts.CacheDir, repo.ID), "blobs"), total)
	for _, w := range weights {
		if _, err := fetchFile(repo, w, sizes[w]); err != nil {
			bar.finish(false)
			return "", err
		}
		bar.fileDone(sizes[w])
	}
	bar.finish(true)
	if err := checkModelDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// fetchFile downloads one file through go-huggingface and checks its size
// against the Hub's listing (go-huggingface v0.3.1 can take a broken transfer
// for a complete one); a short file is removed from the cache.
func fetchFile(repo *hfhub.Repo, name string, size int64) (string, error) {
	local, err := repo.DownloadFile(name)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(local)
	if err != nil {
		return "", err
	}
	if size > 0 && fi.Size() != size {
		if blob, err := filepath.EvalSymlinks(local); err == nil {
			_ = os.Remove(blob)
		}
		_ = os.Remove(local)
		return "", fmt.Errorf("%s: got %d bytes, the Hub lists %d (transfer cut short?); removed it from the cache, try again",
			name, fi.Size(), size)
	}
	return local, nil
}
