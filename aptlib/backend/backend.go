// Package backend chooses and creates the GoMLX backend; docs/backends.md is
// the user's side of these rules.
//
// The backend comes from the --backend flag, else from $GOMLX_BACKEND, else it
// is chosen automatically: XLA on CUDA, then XLA on CPU, but only when the
// matching PJRT plugin is already installed, else the project's pure-Go "go"
// backend (package gobackend).
// Nothing here ever downloads a plugin, and nothing panics: a missing backend
// is an error that says what is missing and how to install it.
//
// Names accepted (flag or $GOMLX_BACKEND, case-insensitive):
//
//	go        the project's pure-Go backend (github.com/aptbench/apt/gobackend):
//	          its own GEMM kernels, every other op on GoMLX's simplego
//	simplego  GoMLX's reference pure-Go backend (backends/simplego), unchanged,
//	          created with "ops_sequential" (see SimplegoConfig)
//	xla:cpu   XLA with the PJRT CPU plugin
//	xla:cuda  XLA with the PJRT CUDA plugin (needs an NVIDIA GPU)
//	xla       XLA with the best installed plugin (CUDA with a GPU, then CPU)
//	auto, ""  the automatic choice above
//
// Plugins are looked for where go-xla looks: the directories of
// $PJRT_PLUGIN_LIBRARY_PATH when set, else ~/.local/lib/go-xla,
// /usr/local/lib/go-xla (and their nvidia/ sub-directories), $LD_LIBRARY_PATH
// and ld.so.conf, for files named pjrt_c_api_<platform>_plugin.so (or
// pjrt[-_]plugin[-_]<platform>.so); JAX's xla_cuda_plugin.so counts as CUDA.
//
// Build with the tag noxla to leave XLA (and cgo) out of the binary; the xla
// names then fail with an error saying so.
package backend

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/aptbench/apt/gobackend"
)

// Backend names, as reported in Choice.Name.
const (
	Go       = "go"
	Simplego = "simplego"
	XLACPU   = "xla:cpu"
	XLACUDA  = "xla:cuda"
)

// EnvVar is the environment variable read when no flag is given (GoMLX's own).
const EnvVar = backends.ConfigEnvVar // "GOMLX_BACKEND"

// validNames lists what Choose accepts, for error messages.
const validNames = `"go", "simplego", "xla:cpu", "xla:cuda", "xla" (best installed XLA plugin) or "auto"`

// Choice is the backend chosen and why.
type Choice struct {
	// Name is "go", "simplego", "xla:cpu" or "xla:cuda".
	Name string
	// Reason is one human line saying why this backend was chosen, with the
	// details: the plugin's path, or every directory searched for one.
	Reason string
	// Brief is Reason without the paths, short enough for a startup line; ""
	// when Reason is already short (Line then uses Reason).
	Brief string
	// Plugin is the path of the PJRT plugin file for the xla:* backends, "" for go and simplego.
	Plugin string
}

// String returns "name (reason)", with the details (`show status` prints it).
func (c Choice) String() string { return fmt.Sprintf("%s (%s)", c.Name, c.Reason) }

// Line returns "name (brief)": String without the plugin paths, one short line
// (the shell's startup line). It is String when Brief is empty.
func (c Choice) Line() string {
	if c.Brief == "" {
		return c.String()
	}
	return fmt.Sprintf("%s (%s)", c.Name, c.Brief)
}

// Choose picks the backend: flag (from --backend) beats $GOMLX_BACKEND, which
// beats the automatic choice. It only looks for plugin files; it loads nothing.
func Choose(flag string) (Choice, error) {
	name, source := flag, "--backend"
	if strings.TrimSpace(name) == "" {
		name, source = os.Getenv(EnvVar), "$"+EnvVar
	}
	name = strings.ToLower(strings.TrimSpace(name))
	requested := fmt.Sprintf("requested by %s=%s", source, name)

	switch name {
	case "", "auto":
		return automatic(), nil
	case Go, Simplego:
		return Choice{Name: name, Reason: requested}, nil
	case "xla", XLACPU, XLACUDA:
		return chooseXLA(name, source, requested)
	}
	return Choice{}, fmt.Errorf("unknown backend %q (from %s): valid names are %s", name, source, validNames)
}

// chooseXLA handles an explicit request for XLA ("xla", "xla:cpu" or "xla:cuda").
func chooseXLA(name, source, requested string) (Choice, error) {
	if !xlaLinked {
		return Choice{}, fmt.Errorf("backend %q (%s): this binary was built with the noxla tag, without XLA; "+
			"rebuild without it or use --backend go", name, source)
	}
	if name == "xla" {
		if p, ok := findPlugin("cuda"); ok && hasNvidiaGPU() {
			return Choice{Name: XLACUDA, Reason: requested + ", CUDA plugin found at " + p, Brief: requested + ", CUDA plugin found", Plugin: p}, nil
		}
		if p, ok := findPlugin("cpu"); ok {
			return Choice{Name: XLACPU, Reason: requested + ", CPU plugin found at " + p, Brief: requested + ", CPU plugin found", Plugin: p}, nil
		}
		return Choice{}, missingPlugin(name, source)
	}
	platform := strings.TrimPrefix(name, "xla:")
	p, ok := findPlugin(platform)
	if !ok {
		return Choice{}, missingPlugin(name, source)
	}
	if platform == "cuda" && !hasNvidiaGPU() {
		return Choice{}, fmt.Errorf("backend %q (%s): the PJRT CUDA plugin is installed (%s) but no NVIDIA GPU was found "+
			"(no /dev/nvidia*, nvidia-smi fails); use --backend go or xla:cpu", name, source, p)
	}
	return Choice{Name: name, Reason: requested + ", plugin found at " + p, Brief: requested + ", plugin found", Plugin: p}, nil
}

// automatic is the choice when neither the flag nor $GOMLX_BACKEND names a
// backend: XLA CUDA (plugin and an NVIDIA GPU), then XLA CPU, only when the
// PJRT plugin is already installed; else go (docs/backends.md).
func automatic() Choice {
	if !xlaLinked {
		return Choice{Name: Go, Reason: "automatic: built without XLA (noxla tag), using the pure-Go backend"}
	}
	cuda, hasCUDA := findPlugin("cuda")
	if hasCUDA && hasNvidiaGPU() {
		return Choice{Name: XLACUDA, Reason: "automatic: PJRT CUDA plugin found at " + cuda + " and an NVIDIA GPU is present",
			Brief: "automatic: PJRT CUDA plugin and an NVIDIA GPU found", Plugin: cuda}
	}
	note, brief := "", ""
	if hasCUDA {
		note, brief = " (CUDA plugin "+cuda+" skipped: no NVIDIA GPU)", " (CUDA plugin skipped: no NVIDIA GPU)"
	}
	if cpu, ok := findPlugin("cpu"); ok {
		return Choice{Name: XLACPU, Reason: "automatic: PJRT CPU plugin found at " + cpu + note,
			Brief: "automatic: PJRT CPU plugin found" + brief, Plugin: cpu}
	}
	if hasCUDA {
		return Choice{Name: Go, Reason: "automatic: no usable PJRT plugin" + note + ", using the pure-Go backend",
			Brief: "automatic: no usable PJRT plugin" + brief + ", using the pure-Go backend"}
	}
	return Choice{Name: Go, Reason: "automatic: no PJRT plugin found for XLA (searched " + searchPathsString() +
		"), using the pure-Go backend", Brief: "automatic: no PJRT plugin installed, using the pure-Go backend"}
}

// missingPlugin is the error for an explicitly requested XLA backend whose plugin is not installed.
func missingPlugin(name, source string) error {
	return fmt.Errorf("backend %q (%s): the PJRT plugin is missing: no pjrt_c_api_<cpu|cuda>_plugin.so found (searched %s). "+
		"Nothing is downloaded automatically: install it with `go run github.com/gomlx/go-xla/cmd/pjrt_installer@latest -autoinstall` "+
		"(needs network; installs into ~/.local/lib/go-xla), or set PJRT_PLUGIN_LIBRARY_PATH to a directory holding the plugin "+
		"(JAX's xla_cuda_plugin.so is accepted for CUDA), or use --backend go",
		name, source, searchPathsString())
}

// New chooses the backend (see Choose) and creates it. It never downloads a
// plugin and never panics: a failure, even a panic inside GoMLX, is returned
// as an error naming the backend.
func New(flag string) (b backends.Backend, c Choice, err error) {
	c, err = Choose(flag)
	if err != nil {
		return nil, c, err
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("creating backend %s: panic: %v", c.Name, r)
		}
	}()
	switch c.Name {
	case Go:
		b, err = NewGo()
	case Simplego:
		b, err = NewSimplego()
	default:
		b, err = newXLA(c)
	}
	if err != nil {
		return nil, c, fmt.Errorf("creating backend %s (%s): %w", c.Name, c.Reason, err)
	}
	return b, c, nil
}

// SimplegoConfig is the configuration GoMLX's simplego backend is created
// with. In GoMLX v0.26.0 its default runs independent ops in parallel on a
// worker pool that the ops' own inner parallelism (DotGeneral, Erf) also
// waits on, and a training step of the encoder deadlocks there (every worker
// blocked in workersPool.WaitToStart; the cause is in gobackend's package
// doc). "ops_sequential" runs the ops one after another, each still parallel
// inside. The go backend runs its simplego segments the same way.
const SimplegoConfig = "ops_sequential"

// NewGo creates the project's pure-Go backend (package gobackend).
func NewGo() (backends.Backend, error) { return gobackend.New("") }

// NewSimplego creates GoMLX's simplego backend with SimplegoConfig.
func NewSimplego() (backends.Backend, error) { return simplego.New(SimplegoConfig) }

// NewPureGo creates the pure-Go backend that $GOMLX_BACKEND names: simplego
// for "simplego", else go. Tests use it, so that the suite runs on either.
func NewPureGo() (backends.Backend, error) {
	if PureGoName() == Simplego {
		return NewSimplego()
	}
	return NewGo()
}

// PureGoName is the name of the backend NewPureGo creates: Simplego when
// $GOMLX_BACKEND says "simplego", else Go. Tests that open a workbench or a
// shell by name pass it, so that they run on the same backend as the rest.
func PureGoName() string {
	if strings.ToLower(strings.TrimSpace(os.Getenv(EnvVar))) == Simplego {
		return Simplego
	}
	return Go
}
