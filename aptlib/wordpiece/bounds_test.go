package wordpiece

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tokenizer files that never end or are far over their cap fail at once, naming the file.
func TestTokenizerFilesBounded(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "vocab.txt")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if _, err := FromVocabFile(zero, true); err == nil || !strings.Contains(err.Error(), zero) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("vocab.txt -> /dev/zero: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load with vocab.txt -> /dev/zero: %v", err)
	}
	sparse := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(size)
		f.Close()
		return p
	}
	big := sparse("big-vocab.txt", MaxVocabBytes+1)
	if _, err := FromVocabFile(big, true); err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("big vocab.txt: %v", err)
	}
	bigJSON := sparse("tokenizer.json", MaxTokenizerJSONBytes+1)
	if _, err := FromTokenizerJSON(bigJSON); err == nil || !strings.Contains(err.Error(), bigJSON) || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("big tokenizer.json: %v", err)
	}
}
