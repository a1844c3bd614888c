package repl

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib"
)

// TestShellDocListsEverything: docs/shell.md, the shell's reference, names
// every command (as "- `usage...`" in its Commands part) and has a row for
// every setting with the default the code uses, and no row for a setting that
// does not exist.
func TestShellDocListsEverything(t *testing.T) {
	data, err := os.ReadFile("../docs/shell.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, c := range commands {
		if !strings.Contains(doc, "- `"+c.name) {
			t.Errorf("docs/shell.md does not describe the command %q (want a line starting \"- `%s\")", c.name, c.name)
		}
	}
	rows := map[string]string{} // key -> default, from "| `key` | `default` |"
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_0-9]+)` \\| `([^`]*)` \\|").FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = m[2]
	}
	for _, key := range aptlib.SettingKeys() {
		s, _ := aptlib.FindSetting(key)
		def, ok := rows[key]
		switch {
		case !ok:
			t.Errorf("docs/shell.md has no row for the setting %s", key)
		case def != s.DefaultString():
			t.Errorf("docs/shell.md gives %s the default %q, the code %q", key, def, s.DefaultString())
		}
	}
	for key := range rows {
		if _, ok := aptlib.FindSetting(key); !ok {
			t.Errorf("docs/shell.md has a row for %s, which is no setting", key)
		}
	}
}
