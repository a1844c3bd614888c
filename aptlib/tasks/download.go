package tasks

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultSuperGLUEBaseURL is where the official SuperGLUE task archives
// ({BoolQ,CB,COPA,MultiRC,RTE,WiC,WSC}.zip) are served; the HuggingFace
// `super_glue` loader and jiant download from here.
const DefaultSuperGLUEBaseURL = "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/"

// DefaultCacheDir is os.UserCacheDir()/apt-workbench/superglue.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (%v): pass a cache directory", err)
	}
	return filepath.Join(d, "apt-workbench", "superglue"), nil
}

// DownloadOptions configure DownloadSuperGLUE. Zero values mean the defaults.
type DownloadOptions struct {
	// BaseURL is the folder URL the <Task>.zip files are under
	// (DefaultSuperGLUEBaseURL).
	BaseURL string
	// CacheDir is where <Task>/ is unpacked (DefaultCacheDir()).
	CacheDir string
	// Client is the HTTP client (one with 15 s connect and header timeouts).
	Client *http.Client
	// Force downloads again even when the task is already in the cache.
	Force bool
}

// DownloadSuperGLUE makes the official files of a SuperGLUE task (boolq, cb,
// copa, multirc, rte, wic, wsc) available in the cache and returns their
// directory, ready for Load. A task already in the cache is not downloaded
// again (unless Force). The zip is fetched to a temporary file, unpacked into a
// temporary directory next to the destination and renamed into place, so an
// interrupted download never leaves a half task under the final name.
//
// Without network access it fails within seconds, saying where to get the zip
// by hand and to pass the unzipped directory instead.
func DownloadSuperGLUE(ctx context.Context, task string, opt DownloadOptions) (string, error) {
	task = strings.ToLower(task)
	folder, ok := superGLUEFolders[task]
	if !ok {
		return "", fmt.Errorf("download: %q is not a SuperGLUE task (boolq cb copa multirc rte wic wsc)", task)
	}
	base := opt.BaseURL
	if base == "" {
		base = DefaultSuperGLUEBaseURL
	}
	cache := opt.CacheDir
	if cache == "" {
		var err error
		if cache, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	dest := filepath.Join(cache, folder)
	if !opt.Force && hasSplitFile(dest) {
		return dest, nil
	}
	zipURL, err := joinURL(base, folder+".zip")
	if err != nil {
		return "", fmt.Errorf("download %s: base URL %q: %v", task, base, err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	client := opt.Client
	if client == nil {
		client = defaultHTTPClient()
	}
	tmpZip, err := fetch(ctx, client, zipURL, cache, task)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmpZip)

	tmpDir, err := os.MkdirTemp(cache, "."+folder+"-unzip-")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	defer os.RemoveAll(tmpDir)
	if err := unzip(tmpZip, tmpDir); err != nil {
		return "", fmt.Errorf("download %s: %s: %w", task, zipURL, err)
	}
	root, err := findTaskRoot(tmpDir)
	if err != nil {
		return "", fmt.Errorf("download %s: %s: %w", task, zipURL, err)
	}
	// Move into place: an old copy (Force) is moved aside first, then removed.
	if _, err := os.Stat(dest); err == nil {
		old := filepath.Join(tmpDir, ".old")
		if err := os.Rename(dest, old); err != nil {
			return "", fmt.Errorf("download %s: replacing %s: %w", task, dest, err)
		}
	}
	if err := os.Rename(root, dest); err != nil {
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	return dest, nil
}

// cachedTaskDir is the cache directory of a SuperGLUE task, if downloaded.
func cachedTaskDir(task string) (string, error) {
	cache, err := DefaultCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s: no directory given, and %v", task, err)
	}
	dir := filepath.Join(cache, superGLUEFolders[task])
	if !hasSplitFile(dir) {
		return "", fmt.Errorf("%s: no directory given and %s is not in the download cache (%s): pass the directory of the unzipped official %s.zip (load task %s DIR), or fetch it where the network allows: run download %s in the shell (download superglue fetches all seven)",
			task, superGLUEFolders[task], cache, superGLUEFolders[task], task, task)
	}
	return dir, nil
}

func hasSplitFile(dir string) bool {
	for _, f := range []string{"train.jsonl", "val.jsonl", "test.jsonl"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

func joinURL(base, file string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Host == "" {
		return "", errors.New("want an absolute http(s) URL")
	}
	u.Path = path.Join(u.Path, file)
	return u.String(), nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}}
}

// fetch downloads url into a temporary file in dir and returns its path.
func fetch(ctx context.Context, client *http.Client, zipURL, dir, task string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, zipURL, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", offlineError(task, zipURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: GET %s: %s; download the zip by hand, unzip it and pass the directory (load task %s DIR)",
			task, zipURL, resp.Status, task)
	}
	f, err := os.CreateTemp(dir, ".download-*.zip")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("download %s: reading %s: %w", task, zipURL, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("download %s: %w", task, err)
	}
	return f.Name(), nil
}

// offlineError explains a failed request; network failures (refused, no route,
// DNS, timeouts) say to fetch the file by hand.
func offlineError(task, zipURL string, err error) error {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	offline := errors.As(err, &dnsErr) || errors.As(err, &opErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, context.DeadlineExceeded)
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		offline = true
	}
	what := "request failed"
	if offline {
		what = "no network access"
	}
	return fmt.Errorf("download %s: %s (%v). Without network: download %s on a machine that has it, unzip it, and pass the directory: load task %s /path/to/%s",
		task, what, err, zipURL, task, superGLUEFolders[task])
}

// unzip extracts src into dir, refusing entries that would land outside it.
func unzip(src, dir string) error {
	r, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("not a valid zip archive: %w", err)
	}
	defer r.Close()
	for _, f := range r.File {
		name := f.Name
		if strings.HasPrefix(name, "__MACOSX/") || strings.Contains(name, "\\") {
			continue
		}
		clean := path.Clean(name)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("archive entry %q points outside the archive", name)
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if !f.Mode().IsRegular() {
			continue // no symlinks or devices
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := extractFile(f, target); err != nil {
			return err
		}
	}
	return nil
}

func extractFile(f *zip.File, target string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return out.Close()
}

// findTaskRoot finds the directory holding the split files: the unzip dir
// itself or its single top-level folder (the official zips hold "<Task>/").
func findTaskRoot(dir string) (string, error) {
	if hasSplitFile(dir) {
		// Move the files into a subdirectory so that the rename target is a
		// directory of its own.
		sub := filepath.Join(dir, ".root")
		if err := os.Mkdir(sub, 0o755); err != nil {
			return "", err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			if e.Name() == ".root" {
				continue
			}
			if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(sub, e.Name())); err != nil {
				return "", err
			}
		}
		return sub, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.IsDir() && hasSplitFile(filepath.Join(dir, e.Name())) {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", errors.New("the archive holds no train.jsonl, val.jsonl or test.jsonl")
}
