package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// pluginDirs points the plugin search at fresh temp dirs, with the named
// (dummy) files created in the first one, and clears $GOMLX_BACKEND.
func pluginDirs(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("not a real plugin"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(pluginEnv, dir)
	t.Setenv(EnvVar, "")
	return dir
}

// needXLA skips tests of the XLA choice in a build with the noxla tag.
func needXLA(t *testing.T) {
	if !xlaLinked {
		t.Skip("built with the noxla tag")
	}
}

func TestChooseAutomaticNoPlugin(t *testing.T) {
	needXLA(t)
	pluginDirs(t)
	c, err := Choose("")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(c)
	if c.Name != Go || !strings.Contains(c.Reason, "no PJRT plugin found") {
		t.Errorf("got %+v, want go because no PJRT plugin was found", c)
	}
	if c2, _ := Choose("auto"); c2 != c {
		t.Errorf(`Choose("auto") = %+v, want %+v`, c2, c)
	}
}

// TestChooseAutomaticDefaultPaths uses go-xla's default directories (no
// $PJRT_PLUGIN_LIBRARY_PATH); this machine has no plugin installed.
func TestChooseAutomaticDefaultPaths(t *testing.T) {
	needXLA(t)
	t.Setenv(pluginEnv, "")
	os.Unsetenv(pluginEnv) // t.Setenv restores it after the test.
	t.Setenv(EnvVar, "")
	if p, ok := findPlugin("cpu"); ok {
		t.Skipf("a PJRT CPU plugin is installed here (%s)", p)
	}
	c, err := Choose("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != Go || !strings.Contains(c.Reason, ".local/lib/go-xla") {
		t.Errorf("got %+v, want go with the searched go-xla directories in the reason", c)
	}
}

func TestChooseEnvAndFlag(t *testing.T) {
	pluginDirs(t)
	t.Setenv(EnvVar, "go")
	c, err := Choose("")
	if err != nil || c.Name != Go || !strings.Contains(c.Reason, "$GOMLX_BACKEND") {
		t.Errorf("GOMLX_BACKEND=go: got %+v, %v", c, err)
	}

	// The flag beats the environment, even when the environment is unusable.
	for _, env := range []string{"xla:cuda", "nonsense"} {
		t.Setenv(EnvVar, env)
		c, err = Choose("go")
		if err != nil || c.Name != Go || !strings.Contains(c.Reason, "--backend") {
			t.Errorf("GOMLX_BACKEND=%s --backend go: got %+v, %v", env, c, err)
		}
	}
	t.Setenv(EnvVar, "xla:cpu")
	if c, err = Choose(" GO "); err != nil || c.Name != Go {
		t.Errorf(`Choose(" GO ") = %+v, %v`, c, err)
	}
}

func TestChooseUnknownName(t *testing.T) {
	pluginDirs(t)
	_, err := Choose("tpu")
	if err == nil || !strings.Contains(err.Error(), `unknown backend "tpu"`) ||
		!strings.Contains(err.Error(), `"go", "simplego", "xla:cpu", "xla:cuda"`) {
		t.Errorf("Choose(tpu) error = %v, want one listing the valid names", err)
	}
	t.Setenv(EnvVar, "simplegoo")
	if _, err = Choose(""); err == nil || !strings.Contains(err.Error(), "$GOMLX_BACKEND") {
		t.Errorf("bad $GOMLX_BACKEND: error = %v, want it to name the variable", err)
	}
}

func TestExplicitXLAWithoutPlugin(t *testing.T) {
	needXLA(t)
	pluginDirs(t)
	for _, name := range []string{"xla:cuda", "xla:cpu", "xla"} {
		start := time.Now()
		_, err := Choose(name)
		if err == nil || !strings.Contains(err.Error(), "PJRT plugin is missing") ||
			!strings.Contains(err.Error(), "pjrt_installer") {
			t.Errorf("Choose(%s) error = %v, want plugin missing with install hint", name, err)
		}
		t.Log(err)
		b, _, err := New(name) // must neither panic nor download
		if err == nil || b != nil {
			t.Errorf("New(%s) = %v, %v; want an error", name, b, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %s, want a fast failure", name, d)
		}
	}
}

func TestChooseInstalledCPUPlugin(t *testing.T) {
	needXLA(t)
	dir := pluginDirs(t, "pjrt_c_api_cpu_plugin.so")
	want := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	for _, name := range []string{"", "xla", "xla:cpu"} {
		c, err := Choose(name)
		if err != nil || c.Name != XLACPU || c.Plugin != want {
			t.Errorf("Choose(%q) = %+v, %v; want xla:cpu on %s", name, c, err, want)
		}
	}
	if c, err := Choose("go"); err != nil || c.Name != Go {
		t.Errorf("Choose(go) with a plugin installed = %+v, %v", c, err)
	}

	// The dummy file is not a loadable plugin: New must fail cleanly.
	b, c, err := New("xla:cpu")
	t.Log(err)
	if err == nil || b != nil || c.Name != XLACPU {
		t.Errorf("New(xla:cpu) on a dummy plugin = %v, %+v, %v; want an error", b, c, err)
	}
	if _, ok := os.LookupEnv("GOMLX_NO_AUTO_INSTALL"); !ok {
		t.Error("New(xla:cpu) did not set GOMLX_NO_AUTO_INSTALL")
	}
}

func TestCUDAPluginWithoutGPU(t *testing.T) {
	needXLA(t)
	if hasNvidiaGPU() {
		t.Skip("this machine has an NVIDIA GPU")
	}
	pluginDirs(t, "pjrt_c_api_cuda_plugin.so")
	c, err := Choose("")
	if err != nil || c.Name != Go || !strings.Contains(c.Reason, "no NVIDIA GPU") {
		t.Errorf("automatic with CUDA plugin, no GPU: %+v, %v", c, err)
	}
	if _, err = Choose("xla:cuda"); err == nil || !strings.Contains(err.Error(), "no NVIDIA GPU") {
		t.Errorf("explicit xla:cuda without GPU: error = %v", err)
	}
}

func TestSearchOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := os.WriteFile(filepath.Join(d, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(pluginEnv, ":"+b+":"+a)
	if p, ok := findPlugin("cpu"); !ok || filepath.Dir(p) != b {
		t.Errorf("findPlugin = %q, %v; want the one in the first directory %s", p, ok, b)
	}
}

func TestPluginName(t *testing.T) {
	for file, want := range map[string]string{
		"/x/pjrt_c_api_cpu_plugin.so":         "cpu",
		"/x/pjrt_c_api_cuda_plugin.so":        "cuda",
		"/x/pjrt_c_api_cpu_v0.83.1_plugin.so": "cpu_v0.83.1", // go-xla's versioned file; the symlink is "cpu"
		"/x/pjrt-plugin-cpu.so":               "cpu",
		"/x/pjrt_plugin_cuda.so":              "cuda",
		"/x/xla_cuda_plugin.so":               "cuda", // JAX's jax-cuda*-pjrt name
		"/x/libfoo.so":                        "",
	} {
		if got := pluginName(file); got != want {
			t.Errorf("pluginName(%s) = %q, want %q", file, got, want)
		}
	}
}

func TestNewGoRunsGraph(t *testing.T) {
	pluginDirs(t)
	b, c, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if c.Name != Go {
		t.Errorf("New(go) = %s, %+v", b.Name(), c)
	}
	out := graph.MustExecOnce(b, func(g *graph.Graph) *graph.Node {
		return graph.Add(graph.Const(g, float32(2)), graph.Const(g, float32(3)))
	})
	if v := out.Value().(float32); v != 5 {
		t.Errorf("2+3 = %v", v)
	}
}

func TestGoAndSimplegoBackends(t *testing.T) {
	pluginDirs(t)
	for name, want := range map[string]string{Go: "*gobackend.Backend", Simplego: "*simplego.Backend"} {
		b, c, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", b); c.Name != name || got != want {
			t.Errorf("New(%s) = %s, %+v, want %s", name, got, c, want)
		}
		out := graph.MustExecOnce(b, func(x *graph.Node) *graph.Node {
			return graph.DotGeneral(x, []int{1}, nil, x, []int{0}, nil)
		}, [][]float32{{1, 2}, {3, 4}})
		if v := out.Value().([][]float32); v[0][0] != 7 || v[1][1] != 22 {
			t.Errorf("%s: x·x = %v", name, v)
		}
		b.Finalize()
	}
	t.Setenv(EnvVar, "SimpleGo")
	if b, err := NewPureGo(); err != nil || fmt.Sprintf("%T", b) != "*simplego.Backend" {
		t.Errorf("NewPureGo with $%s=SimpleGo = %T, %v", EnvVar, b, err)
	}
	t.Setenv(EnvVar, "")
	if b, err := NewPureGo(); err != nil || fmt.Sprintf("%T", b) != "*gobackend.Backend" {
		t.Errorf("NewPureGo = %T, %v", b, err)
	}
}

// TestChoiceLineHasNoPaths: Line (the shell's startup line) names the backend
// and why in one line without the searched directories or the plugin path,
// which stay in Reason (String, `show status`).
func TestChoiceLineHasNoPaths(t *testing.T) {
	needXLA(t)
	dir := pluginDirs(t)
	for _, tc := range []struct {
		name, files, want string
	}{
		{"", "", "go (automatic: no PJRT plugin installed, using the pure-Go backend)"},
		{"", "pjrt_c_api_cpu_plugin.so", "xla:cpu (automatic: PJRT CPU plugin found)"},
		{"xla:cpu", "pjrt_c_api_cpu_plugin.so", "xla:cpu (requested by $GOMLX_BACKEND=xla:cpu, plugin found)"},
		{"go", "", "go (requested by $GOMLX_BACKEND=go)"},
	} {
		if tc.files != "" {
			if err := os.WriteFile(filepath.Join(dir, tc.files), []byte("not a real plugin"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv(EnvVar, tc.name)
		c, err := Choose("")
		if err != nil {
			t.Fatalf("Choose with $GOMLX_BACKEND=%q: %v", tc.name, err)
		}
		line := c.Line()
		if line != tc.want {
			t.Errorf("$GOMLX_BACKEND=%q: Line() = %q, want %q", tc.name, line, tc.want)
		}
		if strings.Contains(line, dir) || strings.Contains(line, "\n") {
			t.Errorf("$GOMLX_BACKEND=%q: Line() %q holds a path or a newline", tc.name, line)
		}
		if !strings.Contains(c.String(), dir) && tc.name != "go" {
			t.Errorf("$GOMLX_BACKEND=%q: String() %q lost the details (%s)", tc.name, c.String(), dir)
		}
	}
}
