package nbutil

import (
	"context"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/widgets"
)

// Pause is a GoNB button that pauses and resumes a loop: the loop calls Poll
// between steps. Each click toggles.
//
// It never blocks a run without a browser: the widget only starts talking
// once a notebook front-end answers (in headless runs, e.g. nbconvert in CI,
// none does), and until then Poll returns at once, so the button is shown
// but inert.
type Pause struct {
	button *widgets.ButtonBuilder
	ready  chan *comms.AddressChan[int]
	clicks *comms.AddressChan[int]
	paused bool
}

// NewPause shows a button labelled label under the cell.
func NewPause(label string) *Pause {
	p := &Pause{button: widgets.Button(label), ready: make(chan *comms.AddressChan[int], 1)}
	if !gonbui.IsNotebook {
		return p
	}
	go func() {
		// Done shows the button and then waits for the front-end's first
		// message: forever when there is no front-end, which is why it runs here.
		p.button.Done()
		p.ready <- p.button.Listen()
	}()
	return p
}

// Live reports whether a front-end is connected (the button works).
func (p *Pause) Live() bool {
	p.connect()
	return p.clicks != nil
}

func (p *Pause) connect() {
	if p.clicks != nil {
		return
	}
	select {
	case c := <-p.ready:
		p.clicks = c
	default:
	}
}

// Poll reads the clicks since the last call. While the button says pause, it
// calls onPause once and then blocks until the next click (or until ctx is
// done, e.g. the kernel was interrupted), then calls onResume (either may be
// nil). It returns whether the loop was paused.
func (p *Pause) Poll(ctx context.Context, onPause, onResume func()) bool {
	p.connect()
	if p.clicks == nil {
		return false
	}
	for drained := false; !drained; {
		select {
		case n, ok := <-p.clicks.C:
			if !ok {
				return false
			}
			p.paused = n%2 == 1
		default:
			drained = true
		}
	}
	if !p.paused {
		return false
	}
	if onPause != nil {
		onPause()
	}
	for p.paused {
		select {
		case n, ok := <-p.clicks.C:
			p.paused = ok && n%2 == 1
		case <-ctx.Done():
			p.paused = false
		}
	}
	if onResume != nil {
		onResume()
	}
	return true
}
