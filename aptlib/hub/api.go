package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Timeouts of the first request to the Hub, so that an offline machine gets
// its error within seconds.
const (
	dialTimeout  = 4 * time.Second
	probeTimeout = 10 * time.Second
)

// defaultEndpoint is the HuggingFace Hub; $HF_ENDPOINT replaces it.
const defaultEndpoint = "https://huggingface.co"

// endpoint returns $HF_ENDPOINT (without a trailing "/") or the Hub's address,
// exactly as go-huggingface's hub.New reads it.
func endpoint() string {
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		return strings.TrimSuffix(e, "/")
	}
	return defaultEndpoint
}

// repoInfo is the part of the Hub's repo-info answer
// (GET {endpoint}/api/models/{id}/revision/{revision}?blobs=true) used here.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		Name string `json:"rfilename"`
		Size int64  `json:"size"`
	} `json:"siblings"`
}

// sizes maps each file of the repo to its size (0 when the Hub gave none).
func (ri *repoInfo) sizes() map[string]int64 {
	m := make(map[string]int64, len(ri.Siblings))
	for _, s := range ri.Siblings {
		m[s.Name] = s.Size
	}
	return m
}

// errUnreachable marks a transport failure: the Hub could not be reached at all.
type errUnreachable struct{ cause string }

func (e *errUnreachable) Error() string { return e.cause }

// fetchInfo asks the Hub for the repo's file list, with short timeouts. It is
// the first request Download makes: its errors say plainly what is wrong
// (offline, no such model, token needed), before go-huggingface is involved.
func fetchInfo(parent context.Context, endpoint, repoID, revision, token string) (*repoInfo, error) {
	ctx, cancel := context.WithTimeout(parent, probeTimeout)
	defer cancel()
	// Same URL as go-huggingface's Repo.infoURL, plus blobs=true for the sizes.
	url := fmt.Sprintf("%s/api/models/%s/revision/%s?blobs=true", endpoint, repoID, revision)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad HuggingFace Hub address %q (HF_ENDPOINT): %w", endpoint, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: probeTimeout,
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil { // the caller gave up: not a network problem
			return nil, fmt.Errorf("fetching %q from the HuggingFace Hub (%s): %w", repoID, endpoint, parent.Err())
		}
		return nil, &errUnreachable{cause: transportCause(ctx, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &errUnreachable{cause: transportCause(ctx, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, endpoint, repoID, revision, token)
	}
	info := &repoInfo{}
	if err := json.Unmarshal(body, info); err != nil {
		return nil, fmt.Errorf("HuggingFace Hub (%s) gave an unreadable file list for %q: %v", endpoint, repoID, err)
	}
	if info.SHA == "" {
		return nil, fmt.Errorf("HuggingFace Hub (%s) gave no commit for %q at revision %q", endpoint, repoID, revision)
	}
	return info, nil
}

// transportCause is the short reason of a failed request: the innermost
// network error ("dial tcp 127.0.0.1:9: connect: connection refused"), or the
// timeout that ran out.
func transportCause(ctx context.Context, err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Error()
	}
	if ctx.Err() != nil || os.IsTimeout(err) {
		return fmt.Sprintf("no answer within %s", probeTimeout)
	}
	var uErr interface{ Unwrap() error }
	if errors.As(err, &uErr) && uErr.Unwrap() != nil {
		return uErr.Unwrap().Error()
	}
	return err.Error()
}

// statusError turns a non-200 answer of the repo-info API into an error that says what to do.
func statusError(resp *http.Response, endpoint, repoID, revision, token string) error {
	detail := resp.Header.Get("X-Error-Message")
	if detail != "" {
		detail = " (" + detail + ")"
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		if resp.Header.Get("X-Error-Code") == "RevisionNotFound" {
			return fmt.Errorf("model %q has no revision %q on the HuggingFace Hub (%s)%s", repoID, revision, endpoint, detail)
		}
		return fmt.Errorf("no such model %q on the HuggingFace Hub (%s)%s: check the name, e.g. \"google-bert/bert-base-uncased\", or pass a local model directory",
			repoID, endpoint, detail)
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "it may not exist, or be private or gated: if you have access, set HF_TOKEN to an access token (https://huggingface.co/settings/tokens)"
		if token != "" {
			hint = "it may not exist, or the token given (HF_TOKEN) has no access to it (gated models need their terms accepted on the model page)"
		}
		return fmt.Errorf("the HuggingFace Hub (%s) refused access to model %q (HTTP %d)%s: %s", endpoint, repoID, resp.StatusCode, detail, hint)
	}
	return fmt.Errorf("the HuggingFace Hub (%s) answered %s for model %q%s", endpoint, resp.Status, repoID, detail)
}
