package metrics

import (
	"fmt"
	"sort"
	"strings"
)

// Entity is one chunk found in a tag sequence: its type and the first and last
// (inclusive) word positions, as seqeval's get_entities returns them.
type Entity struct {
	Type       string
	Start, End int
}

// splitTag returns the one-letter prefix and the type of a tag the way seqeval
// (default mode, suffix=False) reads it: "B-PER" -> ('B', "PER"), "O" -> ('O',
// "_"), a bare "B" -> ('B', "_").
func splitTag(t string) (prefix byte, typ string, err error) {
	switch t {
	case "O", "B", "I", "E", "S":
		return t[0], "_", nil
	}
	if len(t) < 3 || t[1] != '-' || !strings.ContainsRune("BIES", rune(t[0])) {
		return 0, "", fmt.Errorf("invalid tag %q: want O or B-, I-, E-, S- followed by a type", t)
	}
	return t[0], t[2:], nil
}

// endOfChunk and startOfChunk are seqeval's end_of_chunk / start_of_chunk
// (seqeval/metrics/sequence_labeling.py, default mode), which follow conlleval.
func endOfChunk(prevTag, tag byte, prevType, typ string) bool {
	end := false
	if prevTag == 'E' || prevTag == 'S' {
		end = true
	}
	if (prevTag == 'B' || prevTag == 'I') && (tag == 'B' || tag == 'S' || tag == 'O') {
		end = true
	}
	if prevTag != 'O' && prevType != typ {
		end = true
	}
	return end
}

func startOfChunk(prevTag, tag byte, prevType, typ string) bool {
	start := false
	if tag == 'B' || tag == 'S' {
		start = true
	}
	if (prevTag == 'E' || prevTag == 'S' || prevTag == 'O') && (tag == 'E' || tag == 'I') {
		start = true
	}
	if tag != 'O' && prevType != typ {
		start = true
	}
	return start
}

// Entities extracts the chunks of one sentence's tags exactly as seqeval's
// get_entities does in its default (non-strict) mode, which reproduces
// conlleval: an I- (or E-) tag after O, at the sentence start or after a tag of
// another type starts a new entity; a type change inside a span ends the span
// and starts another; E- and S- (IOBES) end an entity. Tags must be O or B-/I-/
// E-/S- plus a type (seqeval only warns on others; this is an error here).
func Entities(tags []string) ([]Entity, error) {
	var out []Entity
	prevTag, prevType := byte('O'), ""
	begin := 0
	for i := 0; i <= len(tags); i++ {
		tag, typ := byte('O'), "_"
		if i < len(tags) {
			var err error
			if tag, typ, err = splitTag(tags[i]); err != nil {
				return nil, fmt.Errorf("position %d: %w", i, err)
			}
		}
		if endOfChunk(prevTag, tag, prevType, typ) {
			out = append(out, Entity{Type: prevType, Start: begin, End: i - 1})
		}
		if startOfChunk(prevTag, tag, prevType, typ) {
			begin = i
		}
		prevTag, prevType = tag, typ
	}
	return out, nil
}

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	Precision, Recall, F1 float64
	// Correct, Predicted and Gold count entities: exact matches (type, start and
	// end), entities predicted, entities in the reference (seqeval's "support").
	Correct, Predicted, Gold int
}

// NERScores are entity-level scores: the micro average over all entities (what
// seqeval reports as overall_precision / overall_recall / overall_f1 and
// P-Tuning v2 reports as precision / recall / f1) and per entity type.
type NERScores struct {
	PRF
	PerType map[string]PRF
}

// NER scores predicted tag sequences against gold ones, one []string per
// sentence, with seqeval's default mode: an entity counts as correct only when
// its type, start and end all match. Sentences are scored separately (seqeval
// puts an O between them), so no entity crosses a sentence boundary.
func NER(gold, pred [][]string) (NERScores, error) {
	if len(gold) != len(pred) {
		return NERScores{}, fmt.Errorf("metrics: NER: %d gold sentences but %d predicted", len(gold), len(pred))
	}
	if len(gold) == 0 {
		return NERScores{}, fmt.Errorf("metrics: NER: no sentences to score")
	}
	type key struct {
		sent int
		Entity
	}
	goldSet := map[key]bool{}
	var predKeys []key
	counts := map[string]*PRF{}
	get := func(t string) *PRF {
		c := counts[t]
		if c == nil {
			c = &PRF{}
			counts[t] = c
		}
		return c
	}
	for s := range gold {
		if len(gold[s]) != len(pred[s]) {
			return NERScores{}, fmt.Errorf("metrics: NER: sentence %d has %d gold tags but %d predicted", s, len(gold[s]), len(pred[s]))
		}
		ge, err := Entities(gold[s])
		if err != nil {
			return NERScores{}, fmt.Errorf("metrics: NER: gold sentence %d: %w", s, err)
		}
		pe, err := Entities(pred[s])
		if err != nil {
			return NERScores{}, fmt.Errorf("metrics: NER: predicted sentence %d: %w", s, err)
		}
		for _, e := range ge {
			goldSet[key{s, e}] = true
			get(e.Type).Gold++
		}
		for _, e := range pe {
			predKeys = append(predKeys, key{s, e})
			get(e.Type).Predicted++
		}
	}
	for _, k := range predKeys {
		if goldSet[k] {
			get(k.Type).Correct++
		}
	}
	var res NERScores
	res.PerType = map[string]PRF{}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		c := *counts[t]
		c.Precision, c.Recall, c.F1 = prf(c.Correct, c.Predicted, c.Gold)
		res.PerType[t] = c
		res.Correct += c.Correct
		res.Predicted += c.Predicted
		res.Gold += c.Gold
	}
	res.Precision, res.Recall, res.F1 = prf(res.Correct, res.Predicted, res.Gold)
	return res, nil
}
