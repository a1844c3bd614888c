package gobackend

//go:generate go run gen_ops.go

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// BackendName is the name this backend is registered under (GOMLX_BACKEND=go).
// simplego registers itself under the same name in its init; this package
// imports simplego, so its init runs after simplego's and "go" ends up here in
// every binary that links this package.
const BackendName = "go"

// SimplegoName is the name GoMLX's reference backend is also registered
// under by this package, so that it stays reachable once "go" is ours.
const SimplegoName = "simplego"

func init() {
	backends.Register(BackendName, New)
	backends.Register(SimplegoName, NewSimplego)
}

// NewSimplego creates GoMLX's simplego backend with config, adding
// "ops_sequential" unless config chooses the op scheduling itself (its
// parallel scheduler can deadlock: see the package doc).
func NewSimplego(config string) (backends.Backend, error) {
	if !strings.Contains(config, "ops_") {
		if config != "" {
			config += ","
		}
		config += "ops_sequential"
	}
	return simplego.New(config)
}

// DefaultMinDotFlops is the size (2·M·N·K summed over the batch) below which a
// DotGeneral is left to simplego inside its segment (for tiny products the
// cost of splitting the graph can be more than the product). 0: every
// float32 product whose axes allow it runs on gemm, which is also what the
// project's test suites then exercise.
const DefaultMinDotFlops = 0

// DefaultMinBroadcast is the output size below which a broadcasting float32
// Add, Sub, Mul or Div stays inside its simplego segment.
const DefaultMinBroadcast = 1024

// DefaultMinFuse is the output size below which element-wise ops are not
// fused (they stay in their simplego segment): a fused step ends a segment,
// which costs a few microseconds.
const DefaultMinFuse = 1024

// Backend is the project's CPU backend: buffers, data and every op it does not
// accelerate are simplego's (created with "ops_sequential"), products run on
// package gemm.
type Backend struct {
	backends.Backend // the simplego backend: DataInterface, capabilities, devices

	minDotFlops  int
	minBroadcast int
	minFuse      int
	profile      bool
}

var _ backends.Backend = (*Backend)(nil)

// New creates the backend. config is a comma-separated list of options:
//
//	min_dot_flops=N  products below N flops stay on simplego (default DefaultMinDotFlops)
//	min_broadcast=N  broadcasting Add/Sub/Mul/Div with fewer output elements stay
//	                 on simplego (default DefaultMinBroadcast)
//	min_fuse=N       element-wise ops with fewer output elements are not fused
//	                 (default DefaultMinFuse; -1 turns fusion off, as $GOBACKEND_NOFUSE does)
//	profile          time every run (see Profiles); also on when $GOBACKEND_PROFILE is set
//
// Any other option is passed to simplego (for example parallelism=N);
// "ops_sequential" is always added last (see the package doc: the deadlock).
func New(config string) (backends.Backend, error) {
	b := &Backend{minDotFlops: DefaultMinDotFlops, minBroadcast: DefaultMinBroadcast, minFuse: DefaultMinFuse, profile: os.Getenv("GOBACKEND_PROFILE") != ""}
	if os.Getenv("GOBACKEND_NOFUSE") != "" {
		b.minFuse = -1
	}
	var rest []string
	for _, part := range strings.Split(config, ",") {
		part = strings.TrimSpace(part)
		key, val, _ := strings.Cut(part, "=")
		switch key {
		case "":
		case "min_dot_flops":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("gobackend: invalid %q: want a non-negative integer", part)
			}
			b.minDotFlops = n
		case "min_broadcast":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("gobackend: invalid %q: want a non-negative integer", part)
			}
			b.minBroadcast = n
		case "min_fuse":
			n, err := strconv.Atoi(val)
			if err != nil {
				return nil, fmt.Errorf("gobackend: invalid %q: want an integer (-1: no fusion)", part)
			}
			b.minFuse = n
		case "profile":
			b.profile = true
		case "ops_parallel":
			return nil, fmt.Errorf("gobackend: %q is not supported: segments always run with ops_sequential "+
				"(simplego's parallel scheduler can deadlock, see the package doc)", part)
		default:
			rest = append(rest, part)
		}
	}
	rest = append(rest, "ops_sequential")
	sg, err := simplego.New(strings.Join(rest, ","))
	if err != nil {
		return nil, fmt.Errorf("gobackend: creating the simplego backend: %w", err)
	}
	b.Backend = sg
	return b, nil
}

// Name implements backends.Backend.
func (b *Backend) Name() string { return "go (gemm + simplego)" }

// String implements backends.Backend.
func (b *Backend) String() string { return BackendName }

// Description implements backends.Backend.
func (b *Backend) Description() string {
	return "The project's pure-Go CPU backend: own GEMM kernels, the rest on GoMLX's simplego"
}

// Simplego returns the simplego backend the buffers and segments live on.
func (b *Backend) Simplego() backends.Backend { return b.Backend }

// Builder implements backends.Backend.
func (b *Backend) Builder(name string) backends.Builder {
	return &Builder{backend: b, name: name, shadow: b.Backend.Builder(name)}
}
