package hub

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
)

// progress draws a one-line progress bar of the weights download on w.
//
// go-huggingface v0.3.1 offers no progress hook (it prints to stdout when its
// Verbosity > 0), so progress is measured from the outside: the bytes of the
// weight files already fetched plus the size of the "*.downloading" file that
// go-huggingface is writing in the repo's blobs/ folder (files are fetched one
// at a time).
type progress struct {
	w        io.Writer
	blobsDir string
	total    int64           // 0 when the Hub gave no sizes
	stale    map[string]bool // *.downloading files left over before we started

	mu      sync.Mutex
	done    int64 // bytes of weight files completed
	stop    chan struct{}
	stopped chan struct{}
}

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// startProgress starts drawing; call finish when the weights are fetched (or failed).
// A nil writer gives a progress that does nothing.
func startProgress(w io.Writer, blobsDir string, total int64) *progress {
	p := &progress{w: w, blobsDir: blobsDir, total: total, stale: map[string]bool{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if w == nil {
		close(p.stopped)
		return p
	}
	for _, f := range p.partials() {
		p.stale[f] = true
	}
	go func() {
		defer close(p.stopped)
		tick := time.NewTicker(progressInterval)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.draw(p.current())
			}
		}
	}()
	return p
}

// partials lists the files being downloaded in blobs/.
func (p *progress) partials() []string {
	m, _ := filepath.Glob(filepath.Join(p.blobsDir, "*.downloading"))
	return m
}

// current is the number of weight bytes on disk so far.
func (p *progress) current() int64 {
	p.mu.Lock()
	n := p.done
	p.mu.Unlock()
	for _, f := range p.partials() {
		if fi, err := os.Stat(f); err == nil && !p.stale[f] {
			n += fi.Size()
		}
	}
	return n
}

// fileDone records a completed weight file of the given size.
func (p *progress) fileDone(size int64) {
	p.mu.Lock()
	p.done += size
	p.mu.Unlock()
}

// draw writes the bar: "\rweights  45% [#########-----------] 198 MB / 440 MB".
func (p *progress) draw(n int64) {
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rweights %s", humanize.Bytes(uint64(n)))
		return
	}
	n = min(n, p.total)
	const width = 30
	pct := float64(n) / float64(p.total)
	fill := int(pct * width)
	fmt.Fprintf(p.w, "\rweights %3.0f%% [%s%s] %s / %s", 100*pct,
		strings.Repeat("#", fill), strings.Repeat("-", width-fill),
		humanize.Bytes(uint64(n)), humanize.Bytes(uint64(p.total)))
}

// finish stops the redraws; when ok it draws the final, full bar. It ends the line.
func (p *progress) finish(ok bool) {
	if p.w == nil {
		return
	}
	close(p.stop)
	<-p.stopped
	if ok {
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		if p.total > 0 {
			done = p.total
		}
		p.draw(done)
	}
	fmt.Fprintln(p.w)
}
