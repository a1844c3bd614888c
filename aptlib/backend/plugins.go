package backend

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// This file finds installed PJRT plugins the way go-xla v0.1.4 does
// (pkg/pjrt/dynamiclib_base.go and dynamiclib_posix.go), but reads the
// environment at each call (go-xla reads it once, at init) and does not dlopen
// the candidates: a file with the right name counts as installed.

// pluginEnv is go-xla's search-path variable: a ":"-separated list of directories.
const pluginEnv = "PJRT_PLUGIN_LIBRARY_PATH"

// pluginPatterns are the file names go-xla globs for, in its order.
var pluginPatterns = []string{
	"pjrt-plugin-*.so", "pjrt_plugin_*.so", "pjrt_c_api_*_plugin.so",
	"pjrt-plugin-*.dylib", "pjrt_plugin_*.dylib", "pjrt_c_api_*_plugin.dylib",
	"pjrt-plugin-*.dll", "pjrt_plugin_*.dll", "pjrt_c_api_*_plugin.dll",
	// Not searched by go-xla: the name JAX's jax-cuda*-pjrt package gives the
	// CUDA plugin. New passes its absolute path to go-xla, which loads it.
	"xla_cuda_plugin.so",
}

// rePluginName extracts the platform from a plugin file name, as go-xla does.
var rePluginName = []*regexp.Regexp{
	regexp.MustCompile(`^pjrt_c_api_(.+)_plugin\.(so|dylib|dll)$`),
	regexp.MustCompile(`^pjrt[-_]plugin[-_](.+)\.(so|dylib|dll)$`),
	regexp.MustCompile(`^xla_(cuda)_plugin\.so$`),
}

// pluginName returns the platform name ("cpu", "cuda", ...) of a plugin file, or "".
func pluginName(file string) string {
	base := filepath.Base(file)
	for _, re := range rePluginName {
		if m := re.FindStringSubmatch(base); m != nil {
			return m[1]
		}
	}
	return ""
}

// searchPaths returns the directories searched for plugins: $PJRT_PLUGIN_LIBRARY_PATH
// when set (even if empty), else go-xla's defaults (~/.local/lib/go-xla,
// /usr/local/lib/go-xla, their nvidia/ sub-directories, the older gomlx/pjrt
// directories, $LD_LIBRARY_PATH and /etc/ld.so.conf).
func searchPaths() []string {
	if v, ok := os.LookupEnv(pluginEnv); ok {
		var paths []string
		for _, p := range strings.Split(v, ":") {
			if p != "" {
				paths = append(paths, p)
			}
		}
		return paths
	}
	var paths []string
	if home, err := os.UserHomeDir(); err == nil {
		local := filepath.Join(home, ".local", "lib", "go-xla")
		paths = append(paths, local, filepath.Join(local, "nvidia"), filepath.Join(home, ".local", "lib", "gomlx", "pjrt"))
	}
	paths = append(paths, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia", "/usr/local/lib/gomlx/pjrt")
	for _, p := range strings.Split(os.Getenv("LD_LIBRARY_PATH"), ":") {
		if filepath.IsAbs(p) {
			paths = append(paths, p)
		}
	}
	return ldConfPaths(paths, "/etc/ld.so.conf", 0)
}

// ldConfPaths appends the directories listed in an ld.so.conf file, following includes.
func ldConfPaths(paths []string, file string, depth int) []string {
	f, err := os.Open(file)
	if err != nil || depth > 8 {
		return paths
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "include"):
			matches, _ := filepath.Glob(strings.TrimSpace(strings.TrimPrefix(line, "include")))
			for _, m := range matches {
				paths = ldConfPaths(paths, m, depth+1)
			}
		default:
			paths = append(paths, line)
		}
	}
	return paths
}

// searchPathsString says where plugins were looked for, short enough for one line.
func searchPathsString() string {
	if _, ok := os.LookupEnv(pluginEnv); !ok {
		return "~/.local/lib/go-xla, /usr/local/lib/go-xla, $LD_LIBRARY_PATH and ld.so.conf directories; " +
			"$" + pluginEnv + " is not set"
	}
	paths := searchPaths()
	if len(paths) == 0 {
		return "no directories ($" + pluginEnv + " is empty)"
	}
	return "$" + pluginEnv + "=" + strings.Join(paths, ":")
}

// findPlugin returns the first plugin file for platform ("cpu" or "cuda") in
// the search paths, directory by directory, in go-xla's pattern order.
func findPlugin(platform string) (string, bool) {
	for _, dir := range searchPaths() {
		for _, pattern := range pluginPatterns {
			matches, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, m := range matches {
				if pluginName(m) != platform {
					continue
				}
				if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
					abs, err := filepath.Abs(m)
					if err != nil {
						abs = m
					}
					return abs, true
				}
			}
		}
	}
	return "", false
}

// hasNvidiaGPU reports whether an NVIDIA GPU is present, as go-xla checks it:
// a /dev/nvidia* device file, else a working nvidia-smi.
func hasNvidiaGPU() bool {
	if m, _ := filepath.Glob("/dev/nvidia*"); len(m) > 0 {
		return true
	}
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		return false
	}
	out, err := exec.Command("nvidia-smi").CombinedOutput()
	return err == nil && strings.Contains(string(out), "NVIDIA-SMI")
}
