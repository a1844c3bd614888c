package debertav2

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Config.JSON (the family's ConfigJSON, written into a fully fine-tuned model
// directory) reads back with LoadConfig to the same Config, for both test
// configurations, and the extra keys win.
func TestConfigJSONRoundTrip(t *testing.T) {
	for _, name := range []string{"tiny-debertav2", "tiny-debertav3"} {
		c, err := LoadConfigDir(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		data, err := c.JSON(map[string]any{"id2label": map[string]string{"0": "no"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"model_type": "deberta-v2"`) || !strings.Contains(string(data), `"id2label"`) {
			t.Errorf("%s: config.json lacks model_type or the extra key:\n%s", name, data)
		}
		path := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, back) {
			t.Errorf("%s: round trip changed the config:\n%+v\n%+v", name, c, back)
		}
	}
}
