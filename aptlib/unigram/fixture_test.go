package unigram

// The test models: a small Unigram vocabulary and an nmt_nfkc-like charsmap,
// written as the tokenizer.json files HF's DebertaV2Converter would make and
// as a real spm.model (ModelProto). `go test -run TestFixtures -update`
// rewrites testdata/; without -update the test checks that the committed
// files are what this code builds.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "rewrite the test models in testdata/")

type testPiece struct {
	piece string
	score float64
	typ   int64 // SentencePiece type: 1 normal, 2 unknown, 3 control, 6 byte
}

// testPieces is the vocabulary. The scores make Viterbi matter:
//   - "▁abcd": the longest piece first ("▁abc" + "d" = -8.5) loses to "▁ab" + "cd" (-4);
//   - "▁xy": "▁xy" (-6) ties with "▁x" + "y" (-6): the first found, "▁xy", stays;
//   - uppercase letters other than H, W, C have no piece: unknown, fused when adjacent;
//   - "字", "★", "☃" and most emoji are unknown; "😀" is a piece.
func testPieces(byteFallback bool) []testPiece {
	p := []testPiece{{"[PAD]", 0, 3}, {"[CLS]", 0, 3}, {"[SEP]", 0, 3}, {"[UNK]", 0, 2}}
	add := func(s string, score float64) { p = append(p, testPiece{s, score, 1}) }
	add("▁", -3)
	for _, r := range "abcdefghijklmnopqrstuvwxz" {
		add(string(r), -6)
	}
	add("y", -3)
	for _, s := range []string{"H", "W", "C"} {
		add(s, -7)
	}
	for _, e := range []struct {
		s     string
		score float64
	}{
		{"▁hello", -4}, {"▁hel", -5}, {"lo", -4.5}, {"hello", -6}, {"▁world", -4.5}, {"▁wor", -5}, {"ld", -4},
		{"▁ab", -2}, {"▁abc", -2.5}, {"cd", -2}, {"▁xy", -6}, {"▁x", -3},
		{"é", -6}, {"▁café", -5}, {"caf", -6}, {"è", -7}, {"Å", -7}, {"X", -7},
		{"中", -6}, {"文", -6}, {"中文", -5}, {"▁中", -6},
		{"😀", -7}, {"👍", -7},
		{"0", -6}, {"1", -6}, {"2", -6}, {"3", -6}, {"12", -5}, {"▁1", -5}, {"▁12", -4.5},
		{",", -5}, {".", -5}, {"!", -6}, {"'", -6}, {"[", -7}, {"]", -7}, {"-", -6},
		{"▁the", -3.5}, {"▁new", -4}, {"▁york", -4.5}, {"▁is", -3.5}, {"▁fine", -4.5}, {"fi", -5}, {"ne", -5},
		{"▁un", -3}, {"▁unbe", -6}, {"believ", -6}, {"liev", -4}, {"be", -4}, {"able", -4}, {"▁a", -3.5},
	} {
		add(e.s, e.score)
	}
	// A user-defined symbol (type 4): SentencePiece never splits it, and
	// transformers' SpmConverter makes it an added token (normalized false).
	p = append(p, testPiece{"<br>", 0, 4})
	if byteFallback {
		for _, b := range []byte{0xE2, 0x98, 0x83} { // "☃" = E2 98 83; "★" = E2 98 85 has no 0x85
			p = append(p, testPiece{"<0x" + hex2(b) + ">", 0, 6})
		}
	}
	return p
}

func hex2(b byte) string {
	const h = "0123456789ABCDEF"
	return string([]byte{h[b>>4], h[b&15]})
}

// testCharsmapRules is a small nmt_nfkc-like map: whitespace controls to a
// space, compatibility forms to their NFKC form, zero-width characters
// removed, e + combining acute composed. "ｘ" and "ｘ" + U+0301 are both keys
// so that the golden shows which one wins on the one-grapheme text "ｘ́".
var testCharsmapRules = map[string]string{
	"\t": " ", "\n": " ", "\r": " ", "\u00a0": " ", "\u3000": " ",
	"\u200b": "", "\u00ad": "",
	"ﬁ": "fi", "Ａ": "A", "ａ": "a", "ｂ": "b", "①": "1", "…": "...",
	"e\u0301": "é", "\u212b": "Å", "ｘ": "x", "ｘ\u0301": "X",
}

// buildCharsmap writes rules in the precompiled_charsmap format (see
// charsmap.go): a double-array trie over the keys' bytes whose leaves hold
// offsets into a blob of NUL-ended replacements. The array is built by plain
// first-fit placement of each node's children (darts-clone's layout, not its
// exact placement: any placement that the XOR walk reads back is valid).
func buildCharsmap(rules map[string]string) []byte {
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var blob []byte
	offs := map[string]uint32{}
	for _, k := range keys {
		offs[k] = uint32(len(blob))
		blob = append(append(blob, rules[k]...), 0)
	}
	type node struct {
		kids  map[byte]*node
		leaf  bool
		value uint32
	}
	root := &node{kids: map[byte]*node{}}
	for _, k := range keys {
		n := root
		for i := 0; i < len(k); i++ {
			c, ok := n.kids[k[i]]
			if !ok {
				c = &node{kids: map[byte]*node{}}
				n.kids[k[i]] = c
			}
			n = c
		}
		n.leaf, n.value = true, offs[k]
	}
	units := []uint32{0}
	used := map[uint32]bool{0: true}
	bases := map[uint32]bool{}
	grow := func(p uint32) {
		for uint32(len(units)) <= p {
			units = append(units, 0)
		}
	}
	type item struct {
		n     *node
		pos   uint32
		label byte
	}
	queue := []item{{root, 0, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		labels := make([]int, 0, len(it.n.kids))
		for c := range it.n.kids {
			labels = append(labels, int(c))
		}
		sort.Ints(labels)
		var base uint32
		for base = 1; ; base++ {
			if bases[base] || (it.n.leaf && used[base]) {
				continue
			}
			ok := true
			for _, c := range labels {
				if used[base^uint32(c)] {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		bases[base] = true
		off := it.pos ^ base
		if off >= 1<<21 {
			panic("charsmap test builder: offset too large")
		}
		u := off<<10 | uint32(it.label)
		if it.n.leaf {
			u |= 1 << 8
			used[base] = true
			grow(base)
			units[base] = it.n.value | 1<<31
		}
		grow(it.pos)
		units[it.pos] = u
		for _, c := range labels {
			p := base ^ uint32(c)
			used[p] = true
			grow(p)
			queue = append(queue, item{it.n.kids[byte(c)], p, byte(c)})
		}
	}
	// Pad to whole blocks of 256 units, as darts-clone does: a lookup XORs a
	// byte into a base, so it may probe anywhere in the base's block, and
	// spm_precompiled does not check the index.
	grow(uint32(len(units)+255)/256*256 - 1)
	out := binary.LittleEndian.AppendUint32(nil, uint32(4*len(units)))
	for _, u := range units {
		out = binary.LittleEndian.AppendUint32(out, u)
	}
	return append(out, blob...)
}

// spmModel serializes a ModelProto: the pieces, a TrainerSpec (Unigram,
// unk_id 3, byte_fallback) and a NormalizerSpec named nmt_nfkc with the
// charsmap, add_dummy_prefix, remove_extra_whitespaces and
// escape_whitespaces on, as spm_train writes for DeBERTa-v3.
func spmModel(pieces []testPiece, charsmap []byte, byteFallback bool) []byte {
	var b []byte
	for _, p := range pieces {
		var m []byte
		m = protowire.AppendTag(m, fieldPiece, protowire.BytesType)
		m = protowire.AppendString(m, p.piece)
		m = protowire.AppendTag(m, fieldScore, protowire.Fixed32Type)
		m = protowire.AppendFixed32(m, math.Float32bits(float32(p.score)))
		m = protowire.AppendTag(m, fieldType, protowire.VarintType)
		m = protowire.AppendVarint(m, uint64(p.typ))
		b = protowire.AppendTag(b, fieldPieces, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	var ts []byte
	ts = protowire.AppendTag(ts, fieldModelType, protowire.VarintType)
	ts = protowire.AppendVarint(ts, 1)
	ts = protowire.AppendTag(ts, 4, protowire.VarintType) // vocab_size
	ts = protowire.AppendVarint(ts, uint64(len(pieces)))
	if byteFallback {
		ts = protowire.AppendTag(ts, fieldByteFallback, protowire.VarintType)
		ts = protowire.AppendVarint(ts, 1)
	}
	for _, f := range []struct {
		num protowire.Number
		v   int64
	}{{fieldUnkID, 3}, {41, 1}, {42, 2}, {43, 0}} { // unk, bos [CLS], eos [SEP], pad
		ts = protowire.AppendTag(ts, f.num, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(f.v))
	}
	for _, f := range []struct {
		num protowire.Number
		s   string
	}{{45, "[UNK]"}, {46, "[CLS]"}, {47, "[SEP]"}, {48, "[PAD]"}} {
		ts = protowire.AppendTag(ts, f.num, protowire.BytesType)
		ts = protowire.AppendString(ts, f.s)
	}
	b = protowire.AppendTag(b, fieldTrainerSpec, protowire.BytesType)
	b = protowire.AppendBytes(b, ts)
	var ns []byte
	ns = protowire.AppendTag(ns, 1, protowire.BytesType)
	ns = protowire.AppendString(ns, "nmt_nfkc")
	ns = protowire.AppendTag(ns, fieldCharsmap, protowire.BytesType)
	ns = protowire.AppendBytes(ns, charsmap)
	for _, num := range []protowire.Number{3, 4, 5} {
		ns = protowire.AppendTag(ns, num, protowire.VarintType)
		ns = protowire.AppendVarint(ns, 1)
	}
	b = protowire.AppendTag(b, fieldNormalizerSpec, protowire.BytesType)
	return protowire.AppendBytes(b, ns)
}

// jsonOpts are the settings a test tokenizer.json differs in.
type jsonOpts struct {
	lower, punct, byteFallback bool
	maskLStrip                 bool // and the other added-token flags of the variant
	prepend                    string
}

// tokenizerJSON writes the tokenizer.json of a vocabulary, in the layout
// DebertaV2Converter makes of an spm.model: [Lowercase], Strip, Precompiled,
// Replace(" {2,}", " "); [Punctuation(Isolated)], Metaspace; [MASK] added
// after the pieces; TemplateProcessing [CLS] $A [SEP] $B:1 [SEP]:1. Its
// converter output has prepend "always" and no lstrip; the "variant" model
// takes the other settings the loader supports.
func tokenizerJSON(pieces []testPiece, charsmap []byte, o jsonOpts) []byte {
	type obj = map[string]any
	vocab := make([][2]any, len(pieces))
	for i, p := range pieces {
		vocab[i] = [2]any{p.piece, p.score}
	}
	maskID := len(pieces)
	added := []obj{}
	for i, s := range []string{"[PAD]", "[CLS]", "[SEP]", "[UNK]"} {
		// The variant flags: [CLS] swallows the whitespace after it, [SEP]
		// matches only as a word of its own.
		single, rstrip := o.maskLStrip && s == "[SEP]", o.maskLStrip && s == "[CLS]"
		added = append(added, obj{"id": i, "content": s, "single_word": single, "lstrip": false, "rstrip": rstrip, "normalized": false, "special": true})
	}
	// Control (3) and user-defined (4) pieces are added tokens too, as
	// SpmConverter adds them (normalized false, special when control).
	for i, p := range pieces {
		if (p.typ == 3 || p.typ == 4) && i > 3 {
			added = append(added, obj{"id": i, "content": p.piece, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": p.typ == 3})
		}
	}
	added = append(added, obj{"id": maskID, "content": "[MASK]", "single_word": false, "lstrip": o.maskLStrip, "rstrip": false, "normalized": false, "special": true})
	norms := []obj{
		{"type": "Strip", "strip_left": true, "strip_right": true},
		{"type": "Precompiled", "precompiled_charsmap": base64.StdEncoding.EncodeToString(charsmap)},
		{"type": "Replace", "pattern": obj{"Regex": " {2,}"}, "content": " "},
	}
	prepend := o.prepend
	pre := []obj{}
	if o.lower {
		norms = append([]obj{{"type": "Lowercase"}}, norms...)
	}
	if o.punct {
		pre = append(pre, obj{"type": "Punctuation", "behavior": "Isolated"})
	}
	pre = append(pre, obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": prepend, "split": true})
	st := func(id string, typ int) obj { return obj{"SpecialToken": obj{"id": id, "type_id": typ}} }
	sq := func(id string, typ int) obj { return obj{"Sequence": obj{"id": id, "type_id": typ}} }
	doc := obj{
		"version":       "1.0",
		"truncation":    nil,
		"padding":       nil,
		"added_tokens":  added,
		"normalizer":    obj{"type": "Sequence", "normalizers": norms},
		"pre_tokenizer": obj{"type": "Sequence", "pretokenizers": pre},
		"post_processor": obj{
			"type":   "TemplateProcessing",
			"single": []obj{st("[CLS]", 0), sq("A", 0), st("[SEP]", 0)},
			"pair":   []obj{st("[CLS]", 0), sq("A", 0), st("[SEP]", 0), sq("B", 1), st("[SEP]", 1)},
			"special_tokens": obj{
				"[CLS]": obj{"id": "[CLS]", "ids": []int{1}, "tokens": []string{"[CLS]"}},
				"[SEP]": obj{"id": "[SEP]", "ids": []int{2}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": obj{"type": "Metaspace", "replacement": "▁", "prepend_scheme": prepend, "split": true},
		"model":   obj{"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": o.byteFallback},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// realTokenizerJSON is the tokenizer.json DebertaV2Converter makes of
// testdata/real/spm.model (trained by SentencePiece, see make_spm.sh): its
// pieces and scores, its nmt_nfkc charsmap, unk_id 3, [MASK] after the pieces.
func realTokenizerJSON() []byte {
	b, err := os.ReadFile("testdata/real/spm.model")
	if err != nil {
		panic(err)
	}
	m, err := parseModelProto(b)
	if err != nil || m.unk != 3 || len(m.charsmap) == 0 || m.byteFallback {
		panic(fmt.Sprintf("testdata/real/spm.model is not the expected model: %v", err))
	}
	pieces := make([]testPiece, len(m.pieces))
	for i := range pieces {
		pieces[i] = testPiece{m.pieces[i], m.scores[i], m.types[i]}
	}
	return tokenizerJSON(pieces, m.charsmap, jsonOpts{prepend: "always"})
}

// fixtures are the committed test models, by file name under testdata/.
func fixtures() map[string][]byte {
	cm := buildCharsmap(testCharsmapRules)
	always := jsonOpts{prepend: "always"}
	// The converter leaves byte fallback off even though the spm.model has it.
	lowerPunct := jsonOpts{prepend: "always", lower: true, punct: true}
	return map[string][]byte{
		"deberta/tokenizer.json": tokenizerJSON(testPieces(false), cm, always),
		"deberta/spm.model":      spmModel(testPieces(false), cm, false),
		"variant/tokenizer.json": tokenizerJSON(testPieces(true), cm,
			jsonOpts{prepend: "first", lower: true, punct: true, byteFallback: true, maskLStrip: true}),
		// An spm.model with byte_fallback set (and <0xXX> pieces), the
		// tokenizer_config.json flags do_lower_case and split_by_punct, and the
		// tokenizer.json the converter makes of them (byte fallback off).
		"lowerpunct/tokenizer.json": tokenizerJSON(testPieces(true), cm, lowerPunct),
		"real/tokenizer.json":       realTokenizerJSON(),
		"lowerpunct/spm/spm.model":  spmModel(testPieces(true), cm, true),
		"lowerpunct/spm/tokenizer_config.json": []byte(`{"do_lower_case": true, "split_by_punct": true, "vocab_type": "spm",
 "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}, "1": {"content": "[CLS]", "special": true},
  "2": {"content": "[SEP]", "special": true}, "3": {"content": "[UNK]", "special": true},
  "90": {"content": "[MASK]", "special": true}}}
`),
	}
}

func TestFixtures(t *testing.T) {
	for name, want := range fixtures() {
		p := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFixtures -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what fixture_test.go builds (run go test -run TestFixtures -update and regenerate the golden)", p)
		}
	}
}

// The charsmap reader walks the trie the builder wrote: every key maps to its
// replacement, and a text that is no key maps to nothing.
func TestCharsmapRoundTrip(t *testing.T) {
	c, err := parseCharsmap(buildCharsmap(testCharsmapRules))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range testCharsmapRules {
		// firstMatch returns the shortest key that prefixes k: for "ｘ\u0301" that is "ｘ".
		want := v
		if k == "ｘ\u0301" {
			want = "x"
		}
		if got, ok := c.firstMatch(k); !ok || got != want {
			t.Errorf("firstMatch(%q) = %q, %v; want %q", k, got, ok, want)
		}
	}
	for _, s := range []string{"a", "e", "\u0301", "ｙ", "中"} {
		if got, ok := c.firstMatch(s); ok {
			t.Errorf("firstMatch(%q) = %q, want no match", s, got)
		}
	}
}
