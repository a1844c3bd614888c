package unigram

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Files that never end or are far over their cap fail at once, naming the file.
func TestFilesBounded(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "spm.model")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if _, err := FromSPMModel(zero, Options{}); err == nil || !strings.Contains(err.Error(), zero) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("spm.model -> /dev/zero: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load with spm.model -> /dev/zero: %v", err)
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
	big := sparse("big.model", MaxModelBytes+1)
	if _, err := FromSPMModel(big, Options{}); err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big spm.model: %v", err)
	}
	bigJSON := sparse("tokenizer.json", MaxTokenizerJSONBytes+1)
	if _, err := FromTokenizerJSON(bigJSON); err == nil || !strings.Contains(err.Error(), bigJSON) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big tokenizer.json: %v", err)
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "neither tokenizer.json nor spm.model") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Load(filepath.Join(empty, "missing")); err == nil {
		t.Error("missing dir: no error")
	}
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bad spm.model files give one-line errors naming the file, never a panic.
func TestBadSPMModel(t *testing.T) {
	good := spmModel(testPieces(false), buildCharsmap(testCharsmapRules), false)
	withTrainer := func(num protowire.Number, v uint64) []byte {
		var ts []byte
		ts = protowire.AppendTag(ts, num, protowire.VarintType)
		ts = protowire.AppendVarint(ts, v)
		b := append([]byte(nil), good...) // a later TrainerSpec field overrides
		b = protowire.AppendTag(b, fieldTrainerSpec, protowire.BytesType)
		return protowire.AppendBytes(b, ts)
	}
	withCharsmap := func(cm []byte) []byte {
		var ns []byte
		ns = protowire.AppendTag(ns, fieldCharsmap, protowire.BytesType)
		ns = protowire.AppendBytes(ns, cm)
		b := append([]byte(nil), good...)
		b = protowire.AppendTag(b, fieldNormalizerSpec, protowire.BytesType)
		return protowire.AppendBytes(b, ns)
	}
	var noPiece []byte
	noPiece = protowire.AppendTag(noPiece, fieldPieces, protowire.BytesType)
	noPiece = protowire.AppendBytes(noPiece, protowire.AppendVarint(protowire.AppendTag(nil, fieldType, protowire.VarintType), 1))
	badUTF8 := protowire.AppendTag(nil, fieldPieces, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, protowire.AppendBytes(protowire.AppendTag(nil, fieldPiece, protowire.BytesType), []byte{0xff, 'a'}))
	nan := protowire.AppendTag(nil, fieldPiece, protowire.BytesType)
	nan = protowire.AppendString(nan, "a")
	nan = protowire.AppendTag(nan, fieldScore, protowire.Fixed32Type)
	nan = protowire.AppendFixed32(nan, math.Float32bits(float32(math.NaN())))
	nanModel := protowire.AppendBytes(protowire.AppendTag(nil, fieldPieces, protowire.BytesType), nan)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "no pieces"},
		{"text", []byte("this is not a protobuf\n"), "not a SentencePiece model"},
		{"truncated", good[:len(good)/2], "not a SentencePiece model"},
		{"bpe", withTrainer(fieldModelType, 2), "model type is BPE, not Unigram"},
		{"unk out of range", withTrainer(fieldUnkID, 999), "unk_id 999 is outside the vocabulary"},
		{"negative unk", withTrainer(fieldUnkID, uint64(math.MaxUint64)), "unk_id -1 is outside"},
		{"short charsmap", withCharsmap([]byte{1, 2}), "shorter than its 4-byte header"},
		{"charsmap trie too big", withCharsmap([]byte{0xff, 0xff, 0, 0, 1, 2, 3, 4}), "does not fit"},
		{"piece without text", noPiece, "no piece string"},
		{"piece not UTF-8", badUTF8, "not valid UTF-8"},
		{"NaN score", nanModel, "score NaN"},
	} {
		p := writeTemp(t, "spm.model", c.b)
		_, err := FromSPMModel(p, Options{})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (want an error naming %s and saying %q)", c.name, err, p, c.want)
		}
	}
}

// Bad tokenizer.json files give one-line errors naming the file and the part.
func TestBadTokenizerJSON(t *testing.T) {
	good, err := os.ReadFile("testdata/deberta/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	// editLast edits the last occurrence (the decoder comes before the
	// pre_tokenizer in the file and has the same Metaspace fields).
	editLast := func(old, new string) []byte {
		i := bytes.LastIndex(good, []byte(old))
		if i < 0 {
			t.Fatalf("fixture lacks %q", old)
		}
		return append(append(append([]byte(nil), good[:i]...), new...), good[i+len(old):]...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not JSON", []byte("{"), "unexpected EOF"},
		{"BPE", edit(`"type": "Unigram"`, `"type": "BPE"`), `model type is "BPE"`},
		{"no unk_id", edit(`"unk_id": 3`, `"unk_id": null`), "no unk_id"},
		{"unk_id out of range", edit(`"unk_id": 3`, `"unk_id": 1000`), "unk_id 1000 is outside"},
		{"vocab entry", edit(`[
    "[PAD]",
    0
   ]`, `["[PAD]"]`), "not a [piece, score] pair"},
		{"vocab score", edit(`[
    "[PAD]",
    0
   ]`, `["[PAD]", "x"]`), "the score is not a number"},
		{"normalizer type", edit(`"type": "Strip"`, `"type": "Nope"`), `normalizer: normalizers[0]: unsupported normalizer type "Nope"`},
		{"charsmap base64", edit(`"precompiled_charsmap": "`, `"precompiled_charsmap": "%%%`), "not base64"},
		{"regex", edit(`"Regex": " {2,}"`, `"Regex": "(?<=x)"`), "Replace: pattern"},
		{"pre_tokenizer type", editLast(`"type": "Metaspace"`, `"type": "ByteLevel"`), `pre_tokenizer: pretokenizers[0]: unsupported pre_tokenizer type "ByteLevel"`},
		{"prepend scheme", editLast(`"prepend_scheme": "always"`, `"prepend_scheme": "sometimes"`), "prepend_scheme \"sometimes\""},
		{"post_processor", edit(`"type": "TemplateProcessing"`, `"type": "RobertaProcessing"`), `unsupported post_processor type "RobertaProcessing"`},
		{"template layout", edit(`"single": [
   {
    "SpecialToken": {
     "id": "[CLS]",`, `"single": [
   {
    "SpecialToken": {
     "id": "[SEP]",`), "is not the [CLS] $A [SEP]"},
		{"added id", edit(`"id": 86`, `"id": 999999999`), "outside [0,"},
		{"no PAD", bytes.ReplaceAll(good, []byte(`"[PAD]"`), []byte(`"[QAD]"`)), "no [PAD] token"},
	} {
		p := writeTemp(t, "tokenizer.json", c.b)
		_, err := FromTokenizerJSON(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (want an error naming %s and saying %q)", c.name, err, p, c.want)
		}
	}
}

func TestBadTokenizerConfig(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{`, "unexpected end"},
		{`{"do_lower_case": "yes"}`, "do_lower_case"},
		{`{"cls_token": 3}`, "cls_token is neither a string nor a token object"},
		{`{"added_tokens_decoder": {"x": {"content": "[A]"}}}`, `bad id "x"`},
		{`{"added_tokens_decoder": {"5": {}}}`, "has no content"},
	} {
		p := writeTemp(t, "tokenizer_config.json", []byte(c.body))
		_, err := ReadTokenizerConfig(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want %q)", c.body, err, c.want)
		}
	}
	// A token object is accepted for a special token.
	p := writeTemp(t, "tokenizer_config.json", []byte(`{"mask_token": {"content": "<mask>", "lstrip": true}}`))
	if o, err := ReadTokenizerConfig(p); err != nil || o.Mask != "<mask>" {
		t.Errorf("mask_token object: %+v, %v", o, err)
	}
}
