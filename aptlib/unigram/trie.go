package unigram

import (
	"slices"
	"sort"
)

// trie is a byte trie over the pieces, for the common-prefix search of
// Viterbi (as tokenizers' Unigram keeps one): from a start position it walks
// the text byte by byte and stops as soon as no piece continues, instead of
// looking up every length up to the longest piece. Node n's edges are
// labels/child[start[n] : start[n]+count[n]], sorted by label; id[n] is the
// piece ending at n, or -1.
type trie struct {
	start  []int32
	count  []uint16
	id     []int32
	labels []byte
	child  []int32
}

// newTrie builds the trie of the pieces; ids maps each piece to the id it
// stands for (the last of repeated pieces).
func newTrie(ids map[string]int) *trie {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	t := &trie{}
	t.build(keys, 0, ids)
	return t
}

// build adds the node for keys (sorted, sharing their first depth bytes) and
// returns its index.
func (t *trie) build(keys []string, depth int, ids map[string]int) int32 {
	n := int32(len(t.id))
	t.start = append(t.start, 0)
	t.count = append(t.count, 0)
	t.id = append(t.id, -1)
	if len(keys) > 0 && len(keys[0]) == depth {
		t.id[n] = int32(ids[keys[0]])
		keys = keys[1:]
	}
	// Group the rest by their byte at depth; reserve the node's edges first so
	// that they are contiguous.
	var groups [][]string
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi][depth] == keys[lo][depth] {
			hi++
		}
		groups = append(groups, keys[lo:hi])
		lo = hi
	}
	first := int32(len(t.labels))
	t.start[n], t.count[n] = first, uint16(len(groups))
	for _, g := range groups {
		t.labels = append(t.labels, g[0][depth])
		t.child = append(t.child, -1)
	}
	for k, g := range groups {
		c := t.build(g, depth+1, ids)
		t.child[first+int32(k)] = c
	}
	return n
}

// next returns the child of node n along byte b, or -1.
func (t *trie) next(n int32, b byte) int32 {
	s, c := t.start[n], int32(t.count[n])
	labels := t.labels[s : s+c]
	if c <= 8 {
		for k, l := range labels {
			if l == b {
				return t.child[s+int32(k)]
			}
		}
		return -1
	}
	if k, ok := slices.BinarySearch(labels, b); ok {
		return t.child[s+int32(k)]
	}
	return -1
}
