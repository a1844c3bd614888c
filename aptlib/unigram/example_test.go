package unigram_test

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/unigram"
)

// A DeBERTa-v3-style model directory (here an spm.model trained for the
// tests): a pair with its specials and type ids, and pre-split words with the
// position of each word's first piece.
func ExampleFromSPMModel() {
	tk, err := unigram.FromSPMModel("testdata/real/spm.model", unigram.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tk.Tokenize("The workbench trains small prefixes."))
	ids, types, _ := tk.EncodePairIDs("hello world", "a prefix", 0)
	fmt.Println(len(ids), ids[0] == int32(tk.CLSID()), types)
	_, _, first, _ := tk.EncodeWordsIDs([]string{"Barack", "Obama", "", "visited"}, 0)
	fmt.Println(first)
	// Output:
	// [▁T he ▁wor kb en ch ▁train s ▁sm all ▁prefix es .]
	// 9 true [0 0 0 0 0 0 1 1 1]
	// [1 4 -1 9]
}
