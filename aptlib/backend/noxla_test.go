//go:build noxla

package backend

import (
	"strings"
	"testing"
)

func TestNoXLA(t *testing.T) {
	pluginDirs(t, "pjrt_c_api_cpu_plugin.so")
	if c, err := Choose(""); err != nil || c.Name != Go || !strings.Contains(c.Reason, "noxla") {
		t.Errorf("automatic under noxla = %+v, %v", c, err)
	}
	if _, err := Choose("xla:cpu"); err == nil || !strings.Contains(err.Error(), "noxla") {
		t.Errorf("xla:cpu under noxla: error = %v", err)
	}
}
