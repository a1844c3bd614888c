package unigram

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchTokenizer is a deberta-v3-sized model: 128000 random pieces (a quarter
// with the "▁" prefix) over a 40-letter alphabet, up to 12 letters long.
func benchTokenizer(b *testing.B) *Tokenizer {
	r := rand.New(rand.NewPCG(1, 2))
	letters := []rune("abcdefghijklmnopqrstuvwxyzéèàüöäçñßøåæœ")
	seen := map[string]bool{}
	pieces := []string{"[PAD]", "[CLS]", "[SEP]", "[UNK]", "▁"}
	for _, l := range letters {
		pieces = append(pieces, string(l))
	}
	for len(pieces) < 128000 {
		var sb strings.Builder
		if r.IntN(4) == 0 {
			sb.WriteString("▁")
		}
		for range 1 + r.IntN(12) {
			sb.WriteRune(letters[r.IntN(len(letters))])
		}
		if s := sb.String(); !seen[s] {
			seen[s] = true
			pieces = append(pieces, s)
		}
	}
	scores := make([]float64, len(pieces))
	for i := range scores {
		scores[i] = -1 - 15*r.Float64()
	}
	tk, err := newTokenizer("bench", pieces, scores, 3, false)
	if err != nil {
		b.Fatal(err)
	}
	tk.norm = []normStep{stripStep(true, true)}
	tk.pre = preTokenizer{steps: []preStep{{repl: "▁", prepend: prependAlways, split: true}}}
	if err := tk.setAdded([]AddedToken{{Content: "[CLS]"}, {Content: "[SEP]"}, {Content: "[PAD]"}, {Content: "[UNK]"}, {Content: "[MASK]"}}, []int{1, 2, 0, 3, len(pieces)}); err != nil {
		b.Fatal(err)
	}
	if err := tk.setSpecials("[CLS]", "[SEP]", "[PAD]", "[MASK]"); err != nil {
		b.Fatal(err)
	}
	return tk
}

func BenchmarkEncode(b *testing.B) {
	tk := benchTokenizer(b)
	text := strings.Repeat("the quick brown fox jumps over the lazy dog while über naïve façades glisten ", 4)
	b.SetBytes(int64(len(text)))
	// CPU time per op as well: the machine is shared, wall time is noisy.
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	n := 0
	for b.Loop() {
		tk.Encode(text, 512)
		n++
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkNewTokenizer: building the model part (piece map and trie) of a
// 128000-piece vocabulary, what every load pays on top of reading the file.
func BenchmarkNewTokenizer(b *testing.B) {
	tk := benchTokenizer(b)
	for b.Loop() {
		if _, err := newTokenizer("bench", tk.pieces, tk.scores, 3, false); err != nil {
			b.Fatal(err)
		}
	}
}
