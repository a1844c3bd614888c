package aptlib

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/adapter"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// adapterMeta is the __metadata__ of an adapter file (or of a model
// directory's model.safetensors).
func adapterMeta(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Metadata()
}

// TestPositionOffsetRoundTrip: an APT run with position_offset=prefix shifts
// the positions by layer 0's prefix length (the predictions change with the
// setting, and come back with it), its adapter records the integer 3, and a
// fresh workbench whose setting is 0 takes prefix from the adapter and
// predicts the same. Bad position_offset metadata is refused naming the file
// and the value; absent metadata means 0.
func TestPositionOffsetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w := demoBench(t)
	mustSet(t, w, "method", "apt", "prefix_len", "3,1,0,2", "position_offset", "Prefix", "max_len", "64",
		"train_limit", "32", "lr", "5e-2")
	if v, _ := w.Get("position_offset"); v != "prefix" {
		t.Fatalf("position_offset after set Prefix: %q", v)
	}
	if _, err := w.Train(context.Background(), TrainOptions{Steps: 3}); err != nil {
		t.Fatal(err)
	}
	spec, err := w.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Method.Offset() != 3 || !strings.Contains(spec.Method.Describe(), "positions shifted by 3") {
		t.Errorf("offset %d, %q: want 3, named", spec.Method.Offset(), spec.Method.Describe())
	}
	want := predictFile(t, w, dir, "want.jsonl")
	mustSet(t, w, "position_offset", "0")
	if got := predictFile(t, w, dir, "unshifted.jsonl"); got == want {
		t.Error("position_offset=0 predicts what prefix predicted: the shift does not reach the backbone")
	}
	mustSet(t, w, "position_offset", "prefix")
	if got := predictFile(t, w, dir, "again.jsonl"); got != want {
		t.Errorf("back to prefix, the predictions differ (the trained values should be kept):\n%s\nwant\n%s", got, want)
	}
	saved := filepath.Join(dir, "shifted.safetensors")
	if err := w.SaveAdapter(saved); err != nil {
		t.Fatal(err)
	}
	md := adapterMeta(t, saved)
	if md[adapter.KeyPositionOffset] != "3" || md[settingPrefix+"position_offset"] != "prefix" {
		t.Errorf("metadata position_offset %q, setting.position_offset %q; want 3 and prefix",
			md[adapter.KeyPositionOffset], md[settingPrefix+"position_offset"])
	}

	w2 := freshDemoModel(t)
	if v, _ := w2.Get("position_offset"); v != "0" {
		t.Fatalf("a fresh workbench has position_offset %q, want the default 0", v)
	}
	if err := w2.LoadAdapter(saved); err != nil {
		t.Fatal(err)
	}
	if v, _ := w2.Get("position_offset"); v != "prefix" {
		t.Errorf("position_offset after loading the adapter: %q, want prefix", v)
	}
	if got := predictFile(t, w2, dir, "got.jsonl"); got != want {
		t.Errorf("predictions after reload differ:\n%s\nwant\n%s", got, want)
	}

	for value, wantErr := range map[string]string{
		"2":   `position_offset metadata "2" does not match the adapter's prefixes; want 0 (no shift) or 3 (layer 0's prefix length: position_offset=prefix)`,
		"-3":  `position_offset metadata "-3" is not a number of positions >= 0; want 0 (no shift) or 3`,
		"abc": `position_offset metadata "abc" is not a number of positions >= 0`,
		"3.0": `position_offset metadata "3.0" is not a number of positions >= 0`,
	} {
		bad := filepath.Join(dir, "bad.safetensors")
		rewriteAdapter(t, saved, bad, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[adapter.KeyPositionOffset] = value
			return ts
		})
		w3 := freshDemoModel(t)
		err := w3.LoadAdapter(bad)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("position_offset %q: %v, want an error naming %s and saying %q", value, err, bad, wantErr)
		}
		if v, _ := w3.Get("position_offset"); v != "0" || w3.Adapter != "" {
			t.Errorf("position_offset %q: a refused adapter changed the session (position_offset %s, adapter %q)", value, v, w3.Adapter)
		}
	}
	for value, mode := range map[string]string{"": "0", "0": "0"} {
		p := filepath.Join(dir, "zero.safetensors")
		rewriteAdapter(t, saved, p, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			if value == "" {
				delete(md, adapter.KeyPositionOffset)
			} else {
				md[adapter.KeyPositionOffset] = value
			}
			return ts
		})
		if err := w2.LoadAdapter(p); err != nil { // w2 is at prefix
			t.Fatalf("position_offset %q: %v", value, err)
		}
		if v, _ := w2.Get("position_offset"); v != mode {
			t.Errorf("position_offset metadata %q: the setting is %q after loading, want %s", value, v, mode)
		}
	}
}

// TestPositionOffsetLimit: under position_offset=prefix, max_len plus layer
// 0's prefix length must fit the model's positions; the error names both
// settings and the limit, and the default 0 needs no room.
func TestPositionOffsetLimit(t *testing.T) {
	w := demoBench(t)
	mustSet(t, w, "method", "pt2", "prefix_len", "3", "max_len", "128", "position_offset", "prefix")
	_, err := w.Spec()
	want := "max_len 128 with position_offset=prefix (positions shifted by layer 0's prefix length 3) exceeds the model's 128 positions (max_position_embeddings 128): set max_len=125 or position_offset=0"
	if err == nil || err.Error() != want {
		t.Errorf("Spec: %v\nwant %s", err, want)
	}
	mustSet(t, w, "max_len", "125")
	if _, err := w.Spec(); err != nil {
		t.Errorf("max_len 125 + 3 on 128 positions: %v", err)
	}
	mustSet(t, w, "max_len", "128", "position_offset", "0")
	if _, err := w.Spec(); err != nil {
		t.Errorf("position_offset=0 at max_len 128: %v", err)
	}
	mustSet(t, w, "method", "pt", "position_offset", "prefix") // prompt tuning never shifts
	if _, err := w.Spec(); err != nil {
		t.Errorf("pt under position_offset=prefix at max_len 128: %v", err)
	}
}

// TestPositionOffsetZeroForPTAndFT: prompt tuning and full fine-tuning have
// no prefixes to shift by: under position_offset=prefix they record 0.
func TestPositionOffsetZeroForPTAndFT(t *testing.T) {
	dir := t.TempDir()
	w := demoBench(t)
	mustSet(t, w, "method", "pt", "prompt_len", "2", "position_offset", "prefix")
	pt := filepath.Join(dir, "pt.safetensors")
	if err := w.SaveAdapter(pt); err != nil {
		t.Fatal(err)
	}
	if v := adapterMeta(t, pt)[adapter.KeyPositionOffset]; v != "0" {
		t.Errorf("pt adapter: position_offset %q, want 0", v)
	}
	w2 := freshDemoModel(t)
	mustSet(t, w2, "position_offset", "prefix")
	if err := w2.LoadAdapter(pt); err != nil {
		t.Fatal(err)
	}
	if v, _ := w2.Get("position_offset"); v != "0" {
		t.Errorf("after loading the pt adapter position_offset is %q, want 0", v)
	}
	mustSet(t, w, "method", "ft")
	ft := filepath.Join(dir, "ft")
	if err := w.SaveAdapter(ft); err != nil {
		t.Fatal(err)
	}
	if v := adapterMeta(t, filepath.Join(ft, "model.safetensors"))[adapter.KeyPositionOffset]; v != "0" {
		t.Errorf("ft model directory: position_offset %q, want 0", v)
	}
}
