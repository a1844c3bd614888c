package bench

import (
	"cmp"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aptbench/apt/gobackend"
)

// TestGoBackendStepProfile times the APT training step of the perf
// configuration (small: BERT L4 d256 ff1024, batch 16 x 128, prefix 16) on
// simplego and on go, and prints how go split the step's graph and where its
// time went. Slow (minutes on 2 cores): runs only with APT_PERF set, to 1 for
// both backends or to one backend's name (peak memory is the process's, so
// compare it with one backend per run).
func TestGoBackendStepProfile(t *testing.T) {
	which := os.Getenv("APT_PERF")
	if which == "" {
		t.Skip("set APT_PERF=1 (or =go, =simplego) to time the perf-configuration step on go and simplego")
	}
	r := sized("small")
	r.Group, r.Mode, r.Method, r.Prefix, r.Steps = "train", "train", "apt", 16, 2
	for _, name := range []string{"simplego", "go"} {
		if which != "1" && which != name {
			continue
		}
		if name == "go" {
			t.Setenv("GOBACKEND_PROFILE", "1")
		}
		res := Run(r, name)
		if res.Err != "" {
			t.Fatalf("%s: %s", name, res.Err)
		}
		t.Logf("%-8s step %.3f s, first step %.2f s, peak %.0f MiB", name, res.StepS, res.FirstStepS, res.PeakRSSMiB)
	}
	names, stats := gobackend.Profiles()
	for i, s := range stats {
		if s.Runs == 0 {
			continue
		}
		per := func(d time.Duration) time.Duration { return d / time.Duration(s.Runs) }
		t.Logf("go graph %q: %d runs, %d segments (%d ops), %d products (%.1f GFLOP/run), %d fused steps (%d ops); per run: products %v (%.1f GFLOP/s), segments %v, fused %v, bookkeeping %v",
			names[i], s.Runs, s.Segments, s.SegmentOps, s.Dots, float64(s.DotFlops)/1e9, s.Fused, s.FusedOps,
			per(s.DotTime), float64(s.DotFlops)/per(s.DotTime).Seconds()/1e9, per(s.SegmentTime), per(s.FusedTime), per(s.OtherTime))
	}
	for i, name := range names {
		if stats[i].Runs > 0 {
			logTopSteps(t, name, gobackend.ProfiledStepTimes(i), stats[i].Runs, 25)
		}
	}
}

// logTopSteps logs the time of each kind of step and the n slowest steps
// (per run) of an executable.
func logTopSteps(t *testing.T, name string, steps []gobackend.StepTime, runs int64, n int) {
	kinds := map[string]time.Duration{}
	for _, s := range steps {
		kinds[s.Kind] += s.Time / time.Duration(runs)
	}
	t.Logf("%s: per run by kind %v", name, kinds)
	slices.SortStableFunc(steps, func(a, b gobackend.StepTime) int { return cmp.Compare(b.Time, a.Time) })
	for _, s := range steps[:min(n, len(steps))] {
		t.Logf("  %9v  %-9s %s", s.Time/time.Duration(runs), s.Kind, s.What)
	}
}
