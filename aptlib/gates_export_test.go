package aptlib

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/internal/testbackend"
)

// gateExportReports are the reports whose exports testdata/gates holds. The
// golden files were written by the shell's own export code before it moved
// here, so these tests pin the bytes `gates --json` and `gates --csv` write.
func gateExportReports() map[string]*GateReport {
	nan, inf := math.NaN(), math.Inf(1)
	return map[string]*GateReport{
		"apt_dev": {Method: method.APT, PrefixLens: []int{2, 0, 3}, Source: "dev (12 examples)", Examples: 12,
			Lambda: []float64{0.5, nan, 1.25}, Alpha: [][]float64{{0.1, 0.9}, nil, {1.0 / 3, 1, 0}},
			AlphaByLabel: map[string][][]float64{"positive": {{0.2, 0.8}, nil, {0.5, nan, 1e-9}}, "negative": {{0, 1}, nil, {0.25, 0.75, 123456.789}}}},
		"apt_batch": {Method: method.APT, PrefixLens: []int{1, 2}, Source: "batch (step 7)", Examples: 8,
			Lambda: []float64{0.999999999, 2}, Alpha: [][]float64{{0.123456789}, {inf, -0.5}}},
		"no_token_gate": {Method: method.APTNoTokenGate, PrefixLens: []int{2, 1}, Source: "train (40 examples)", Examples: 40,
			Lambda: []float64{0.75, 1.5}, Alpha: nil, AlphaByLabel: map[string][][]float64{}},
		"no_layer_gate": {Method: method.APTNoLayerGate, PrefixLens: []int{0, 2}, Source: "test (3 examples)", Examples: 3,
			Lambda: []float64{nan, nan}, Alpha: [][]float64{nil, {0.6, 0.4}},
			AlphaByLabel: map[string][][]float64{"a": {nil, {0.5, 0.5}}}},
	}
}

func TestGateExportGolden(t *testing.T) {
	for name, r := range gateExportReports() {
		for _, f := range []struct {
			ext   string
			write func(*bytes.Buffer) error
		}{
			{".json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
			{".csv", func(b *bytes.Buffer) error { return r.WriteCSV(b) }},
		} {
			want, err := os.ReadFile(filepath.Join("testdata", "gates", name+f.ext))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := f.write(&got); err != nil {
				t.Fatalf("%s%s: %v", name, f.ext, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s%s differs from the golden file:\n%s\nwant:\n%s", name, f.ext, got.Bytes(), want)
			}
		}
	}
}

// TestSaveGates: the Workbench methods write the same bytes to a file, and
// refuse an output the session has loaded or a directory that does not exist.
func TestSaveGates(t *testing.T) {
	w, err := New(testbackend.Name())
	if err != nil {
		t.Fatal(err)
	}
	r := gateExportReports()["apt_dev"]
	dir := t.TempDir()
	for _, f := range []struct {
		ext  string
		save func(string, *GateReport) error
	}{{".json", w.SaveGatesJSON}, {".csv", w.SaveGatesCSV}} {
		path := filepath.Join(dir, "g"+f.ext)
		if err := f.save(path, r); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		want, _ := os.ReadFile(filepath.Join("testdata", "gates", "apt_dev"+f.ext))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the saved file differs from the golden file", path)
		}
		bad := filepath.Join(dir, "missing", "g"+f.ext)
		err := f.save(bad, r)
		if err == nil || !strings.Contains(err.Error(), "gates --"+f.ext[1:]+": cannot write "+bad) ||
			!strings.Contains(err.Error(), "does not exist") {
			t.Errorf("save into a missing directory: %v", err)
		}
	}
	w.Adapter = filepath.Join(dir, "g.json") // as if loaded: the guard protects it
	if err := w.SaveGatesJSON(w.Adapter, r); err == nil {
		t.Error("SaveGatesJSON overwrote the loaded adapter")
	}
}
