package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The benchmark copies at ../shared/data (relative to the repository root; see
// docs/tasks.md and that folder's SOURCES.md). They are never committed; the
// tests below skip when the folder is absent.
//
// No text of those sets appears here (CoNLL-2003 may not be redistributed):
// expected model inputs are given as SHA-256 digests of the input strings
// joined by NUL, computed independently in Python from the raw files with
// P-Tuning v2's rules.
const sharedData = "../../../shared/data"

func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func pairsDigest(ps []Pair) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.A, p.B)
	}
	return digest(parts...)
}

func realDir(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(sharedData, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("benchmark data %s not present (the shared data folder ../shared/data is not committed): skipping", p)
	}
	return p
}

func labelCounts(s *Split) map[string]int {
	m := map[string]int{}
	for _, ex := range s.Examples {
		m[ex.Label]++
	}
	return m
}

func wantLen(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d examples, want %d (SOURCES.md)", what, got, want)
	}
}

// encodeAll encodes every present split with the fake tokenizer, to check that
// nothing in the real files breaks Encode, and logs the truncation report.
func encodeAll(t *testing.T, task *Task) {
	t.Helper()
	for _, s := range []*Split{task.Train, task.Dev, task.Test} {
		if s == nil {
			continue
		}
		enc, err := Encode(task, s.Name, newFakeTok(), 128)
		if err != nil {
			t.Fatalf("%s %s: %v", task.Name, s.Name, err)
		}
		t.Logf("%s %s: %d rows, %d truncated rows, %d tokens dropped, %d words unlabeled (fake tokenizer, max_len 128)",
			task.Name, s.Name, enc.Rows(), enc.TruncatedRows, enc.TruncatedTokens, enc.DroppedWords)
	}
}

func TestRealRTE(t *testing.T) {
	task := mustLoad(t, "rte", realDir(t, "RTE"))
	wantLen(t, "RTE train", task.Train.Len(), 2490)
	wantLen(t, "RTE val", task.Dev.Len(), 277)
	if c := labelCounts(task.Train); c["entailment"] != 1249 || c["not_entailment"] != 1241 {
		t.Errorf("RTE train labels %v, want 1249/1241", c)
	}
	if got := inputs(t, task, &task.Train.Examples[0]); pairsDigest(got) != "ecf4396850b18f1b7bc2123c088b14658623ef04982c3954af7ced71d3881adc" ||
		task.Train.Examples[0].Label != "not_entailment" {
		t.Errorf("RTE train[0]: inputs differ from (premise, hypothesis)")
	}
	encodeAll(t, task)
}

func TestRealCB(t *testing.T) {
	task := mustLoad(t, "cb", realDir(t, "CB"))
	wantLen(t, "CB train", task.Train.Len(), 250)
	wantLen(t, "CB val", task.Dev.Len(), 56)
	if c := labelCounts(task.Train); len(c) != 3 || c["neutral"] == 0 {
		t.Errorf("CB train labels %v", c)
	}
	encodeAll(t, task)
}

func TestRealCOPA(t *testing.T) {
	task := mustLoad(t, "copa", realDir(t, "COPA"))
	wantLen(t, "COPA train", task.Train.Len(), 400)
	wantLen(t, "COPA val", task.Dev.Len(), 100)
	// ("{premise} because", choice1), ("{premise} because", choice2)
	if got := inputs(t, task, &task.Train.Examples[0]); pairsDigest(got) != "4503258bdbdf984ba06261c21399090e8ee7452d2d6f6a91cdf8278068b77839" ||
		task.Train.Examples[0].LabelIndex != 0 {
		t.Errorf("COPA train[0]: inputs differ from P-Tuning v2's")
	}
	effects := 0
	for _, ex := range task.Train.Examples {
		if ex.Question == "effect" {
			effects++
			if !strings.HasSuffix(ex.Choices[0].A, " so") {
				t.Fatalf("effect input %q", ex.Choices[0].A)
			}
		}
	}
	if effects == 0 {
		t.Error("no effect questions")
	}
	encodeAll(t, task)
}

func TestRealWiC(t *testing.T) {
	task := mustLoad(t, "wic", realDir(t, "WiC"))
	wantLen(t, "WiC train", task.Train.Len(), 5428)
	wantLen(t, "WiC val", task.Dev.Len(), 638)
	if c := labelCounts(task.Train); c["True"] != 2714 || c["False"] != 2714 {
		t.Errorf("WiC train labels %v, want balanced", c)
	}
	// ("{word}: {sentence1}", "{word}: {sentence2}")
	if got := inputs(t, task, &task.Train.Examples[0]); pairsDigest(got) != "83033ff6730bc6cc083180dfcfca35c129b151d2dd2f1cbf048c7b5af2fe2b05" {
		t.Errorf("WiC train[0]: inputs differ from P-Tuning v2's template 1")
	}
	encodeAll(t, task)
}

func TestRealWSC(t *testing.T) {
	task := mustLoad(t, "wsc", realDir(t, "WSC"))
	wantLen(t, "WSC train", task.Train.Len(), 554)
	wantLen(t, "WSC val", task.Dev.Len(), 104)
	ex := task.Train.Examples[0]
	// template 0: ("{span2_text}: {text}", span1_text)
	if got := inputs(t, task, &ex); pairsDigest(got) != "0dc98067bc034eeb559e09f533538239d1ad104a658e3d348a996327c52438fd" {
		t.Errorf("WSC train[0]: template 0 inputs differ from P-Tuning v2's")
	}
	// template 1: the word at span2_index in asterisks, span1_text
	task.Template = 1
	if got := inputs(t, task, &ex); pairsDigest(got) != "0598e88ffd78f2308a8f2ad53b57b6ad6b72bc443459c6ba771f3aecfaa96d40" {
		t.Errorf("WSC train[0]: template 1 inputs differ from P-Tuning v2's")
	}
	task.Template = 0
	// One official val example (idx 42) has a span2_index next to the pronoun.
	if len(task.Warnings) != 1 || !strings.Contains(task.Warnings[0], "val.jsonl:43:") {
		t.Errorf("warnings %q", task.Warnings)
	}
	encodeAll(t, task)
}

func TestRealBoolQ(t *testing.T) {
	task := mustLoad(t, "boolq", realDir(t, "BoolQ"))
	wantLen(t, "BoolQ val", task.Dev.Len(), 3270)
	if c := labelCounts(task.Dev); c["True"]+c["False"] != 3270 || len(c) != 2 {
		t.Errorf("BoolQ labels %v", c)
	}
	if _, err := task.Split("train"); err == nil || !strings.Contains(err.Error(), "BoolQ.zip") {
		t.Errorf("BoolQ train: %v", err)
	}
	if p := inputs(t, task, &task.Dev.Examples[0]); pairsDigest(p) != "a325b72a77d39cf560af3cb46bbdffdcc455ac09113ce03262c702b457e22f3c" {
		t.Errorf("BoolQ val[0]: inputs differ from (question, passage)")
	}
	encodeAll(t, task)
}

func TestRealMultiRC(t *testing.T) {
	task := mustLoad(t, "multirc", realDir(t, "MultiRC"))
	for _, c := range []struct {
		s                          *Split
		passages, questions, answs int
	}{{task.Train, 456, 5131, 27243}, {task.Dev, 83, 953, 4848}} {
		docs, groups := map[string]bool{}, map[string]bool{}
		for _, ex := range c.s.Examples {
			docs[ex.Doc] = true
			groups[ex.Group] = true
		}
		if c.s.Len() != c.answs || len(groups) != c.questions || len(docs) != c.passages {
			t.Errorf("MultiRC %s: %d answers / %d questions / %d passages, want %d / %d / %d",
				c.s.Name, c.s.Len(), len(groups), len(docs), c.answs, c.questions, c.passages)
		}
	}
	// Three official train answers are empty strings: kept, with a warning.
	if len(task.Warnings) != 3 || !strings.Contains(task.Warnings[0], "train.jsonl:38: passage.questions[13].answers[2].text is empty") {
		t.Errorf("warnings %q", task.Warnings)
	}
	// (paragraph, "{question} {answer}")
	ex := task.Dev.Examples[0]
	if p := inputs(t, task, &ex); pairsDigest(p) != "3e0bcedb59c6a431246671803b31d98c829a5f17fcee1b694c1be690c5f6e06e" || ex.Label != "False" {
		t.Errorf("MultiRC val[0]: inputs differ from P-Tuning v2's, or label %s", ex.Label)
	}
	encodeAll(t, task)
}

type nerCounts struct{ sentences, tokens int }

func countNER(s *Split) nerCounts {
	c := nerCounts{sentences: s.Len()}
	for _, ex := range s.Examples {
		c.tokens += len(ex.Words)
	}
	return c
}

func checkNER(t *testing.T, task *Task, want map[string]nerCounts, scheme string) {
	t.Helper()
	for name, w := range want {
		s, err := task.Split(name)
		if err != nil {
			t.Fatal(err)
		}
		got := countNER(s)
		if got.sentences != w.sentences || (w.tokens > 0 && got.tokens != w.tokens) {
			t.Errorf("%s %s: %+v, want %+v (SOURCES.md)", task.Name, name, got, w)
		}
	}
	if task.TagScheme != scheme {
		t.Errorf("%s: tag scheme %s, want %s", task.Name, task.TagScheme, scheme)
	}
	// Every label of the fixed set occurs in train.
	seen := map[string]bool{}
	for _, ex := range task.Train.Examples {
		for _, tag := range ex.Tags {
			seen[tag] = true
		}
	}
	if len(seen) != len(task.Labels) {
		t.Errorf("%s: train uses %d of %d labels: %v", task.Name, len(seen), len(task.Labels), sortedKeys(seen))
	}
	for _, w := range task.Warnings {
		t.Logf("%s: warning: %s", task.Name, w)
	}
	encodeAll(t, task)
}

func TestRealCoNLL03(t *testing.T) {
	task := mustLoad(t, "conll03", realDir(t, "CoNLL2003"))
	checkNER(t, task, map[string]nerCounts{"train": {14041, 203621}, "dev": {3250, 51362}, "test": {3453, 46435}}, "BIO")
	docs := map[string]bool{}
	for _, ex := range task.Train.Examples {
		docs[ex.Doc] = true
	}
	if len(docs) != 946 {
		t.Errorf("CoNLL03 train docs %d, want 946", len(docs))
	}
	checkFirstSentence(t, task, 9, "8b73a37d3e51c3f5852e44d60f44ebad5e833f1edfda3c021d0e1f7af59a882b")
}

func TestRealCoNLL04(t *testing.T) {
	task := mustLoad(t, "conll04", realDir(t, "CoNLL04"))
	checkNER(t, task, map[string]nerCounts{"train": {910, 0}, "dev": {243, 0}, "test": {288, 0}}, "BIO")
	checkFirstSentence(t, task, 36, "284ae7264a04ee684e7bf059bfaa019b606c288a52db4a5a862f867c050187cd")
	if task.Train.Examples[0].Doc != "1024" {
		t.Errorf("CoNLL04 train[0] doc %q", task.Train.Examples[0].Doc)
	}
}

func TestRealWNUT17(t *testing.T) {
	task := mustLoad(t, "wnut17", realDir(t, "WNUT17"))
	checkNER(t, task, map[string]nerCounts{"train": {3394, 62730}, "dev": {1009, 15733}, "test": {1287, 23394}}, "BIO")
}

func TestRealWikiANN(t *testing.T) {
	task := mustLoad(t, "wikiann", realDir(t, "WikiANN-en"))
	checkNER(t, task, map[string]nerCounts{"train": {20000, 0}, "dev": {10000, 0}, "test": {10000, 0}}, "BIO")
	// Digest of the words without their "en:" prefix.
	checkFirstSentence(t, task, 11, "56176e6c5151f4a07c6fb7f43ed522e6e9f4fdaa1b1c309fddb64fa206482c42")
}

// checkFirstSentence compares train sentence 0 (words and tags, each joined by
// spaces) with a digest.
func checkFirstSentence(t *testing.T, task *Task, words int, want string) {
	t.Helper()
	ex := task.Train.Examples[0]
	if len(ex.Words) != words || digest(strings.Join(ex.Words, " "), strings.Join(ex.Tags, " ")) != want {
		t.Errorf("%s train[0]: %d words, words/tags differ from the file's", task.Name, len(ex.Words))
	}
}
