package bpe

import (
	"strings"
	"testing"
)

// benchText is about 1 KB of the kind of text the test vocabulary was trained on,
// plus words it has not seen.
var benchText = strings.Repeat("The teacher walked to the mountains in the morning, didn't she? 2024 café 中文 😀 supercalifragilistic. ", 10)

func BenchmarkEncode(b *testing.B) {
	tk := loadTestdata(b, "roberta", RoBERTa)
	b.SetBytes(int64(len(benchText)))
	for i := 0; i < b.N; i++ {
		tk.Encode(benchText, 512)
	}
}

// BenchmarkEncodeUncached measures the BPE itself: the piece cache is emptied
// before every encoding.
func BenchmarkEncodeUncached(b *testing.B) {
	tk := loadTestdata(b, "roberta", RoBERTa)
	b.SetBytes(int64(len(benchText)))
	for i := 0; i < b.N; i++ {
		tk.mu.Lock()
		tk.cache = map[string][]int32{}
		tk.mu.Unlock()
		tk.Encode(benchText, 512)
	}
}
