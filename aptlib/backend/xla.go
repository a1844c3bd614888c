//go:build !noxla

package backend

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// xlaLinked reports whether the XLA backend is compiled in (false with the noxla tag).
const xlaLinked = true

// init switches go-xla's auto-install off for the whole program as soon as
// this package is linked in: the workbench never starts a download the user
// did not ask for (docs/backends.md).
func init() {
	xla.EnableAutoInstall(false)
}

// newXLA creates the XLA backend on the plugin file c.Plugin. Auto-install is
// switched off first, and the plugin is given to go-xla by absolute path, so
// go-xla neither searches (its search paths are fixed at program start) nor
// downloads anything.
func newXLA(c Choice) (backends.Backend, error) {
	if _, ok := os.LookupEnv(xla.NoAutoInstallEnv); !ok {
		_ = os.Setenv(xla.NoAutoInstallEnv, "1")
	}
	xla.EnableAutoInstall(false)

	config := c.Plugin
	if c.Name == XLACPU {
		// go-xla enables shared host/device buffers only for a plugin named
		// "cpu"; given by path, it must be asked for.
		config += ",shared_buffers"
	}
	if c.Name == XLACUDA {
		setCUDADataDir(c.Plugin)
	}
	return xla.New(config)
}

// setCUDADataDir points XLA at the NVIDIA libraries installed next to the CUDA
// plugin (go-xla's layout: <dir>/nvidia/pjrt_c_api_cuda_plugin.so with the
// libraries under <dir>/nvidia), unless XLA_FLAGS already names a directory.
// go-xla v0.1.4 would otherwise set a hard-coded path of its author's machine.
func setCUDADataDir(plugin string) {
	const flag = "--xla_gpu_cuda_data_dir"
	flags := os.Getenv("XLA_FLAGS")
	if strings.Contains(flags, flag) {
		return
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(plugin)), "nvidia")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return
	}
	_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" "+flag+"="+dir))
}
