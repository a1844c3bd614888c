package tasks

import (
	"fmt"
	"sort"
)

// Protocol says how a reported score was selected. Every run report names it.
type Protocol string

const (
	// ProtocolBestDevEpoch is P-Tuning v2's protocol (its run scripts pass
	// --evaluation_strategy epoch and report the best dev score seen): train,
	// evaluate on the official dev split after every epoch, and report the best
	// of those dev scores. The dev split is used both to select and to report,
	// so the number is optimistic; use it to compare with the P-Tuning v2 and
	// APT papers' tables, which were produced this way.
	ProtocolBestDevEpoch Protocol = "ptuning-v2-best-dev-epoch"
	// ProtocolHonestHeldOut selects on data the report never sees: a part of
	// train is held out (HoldOut), the epoch / checkpoint is chosen on it, and
	// the official dev (or labeled test) split is evaluated once, with the
	// selected model, and reported.
	ProtocolHonestHeldOut Protocol = "honest-heldout"
)

// Protocols lists the known protocols.
func Protocols() []Protocol { return []Protocol{ProtocolBestDevEpoch, ProtocolHonestHeldOut} }

// ParseProtocol accepts a protocol name.
func ParseProtocol(s string) (Protocol, error) {
	for _, p := range Protocols() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown evaluation protocol %q (want %q or %q)", s, ProtocolBestDevEpoch, ProtocolHonestHeldOut)
}

// HoldOut splits train into a training part and a held-out part of about
// frac of its examples, deterministically for a given seed (its own
// SplitMix64-driven shuffle, so the split does not change with Go versions).
//
//   - Examples that share a Doc (a MultiRC passage, a CoNLL document) stay on
//     one side, so no passage is seen in training and scored in selection.
//   - Where examples are labeled, the split is stratified: units are grouped by
//     label (a unit whose examples have different labels, e.g. a MultiRC passage,
//     falls in a "mixed" stratum) and each stratum gives up round(frac × size)
//     units.
//
// Both parts keep the original order of the examples. frac must be in (0, 1)
// and both parts non-empty.
func HoldOut(train *Split, frac float64, seed int64) (trainPart, heldOut *Split, err error) {
	if train == nil || len(train.Examples) == 0 {
		return nil, nil, fmt.Errorf("hold out: no training examples")
	}
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("hold out: fraction %v must be between 0 and 1", frac)
	}
	// Units: examples that share a Doc, else single examples.
	unitOf := map[string]int{}
	var units [][]int
	for i, ex := range train.Examples {
		if ex.Doc != "" {
			if u, ok := unitOf[ex.Doc]; ok {
				units[u] = append(units[u], i)
				continue
			}
			unitOf[ex.Doc] = len(units)
		}
		units = append(units, []int{i})
	}
	if len(units) < 2 {
		return nil, nil, fmt.Errorf("hold out: %d example group(s) cannot be split in two", len(units))
	}
	strata := map[string][]int{}
	for u, idx := range units {
		key := train.Examples[idx[0]].Label
		for _, i := range idx[1:] {
			if train.Examples[i].Label != key {
				key = "\x00mixed"
				break
			}
		}
		strata[key] = append(strata[key], u)
	}
	keys := make([]string, 0, len(strata))
	for k := range strata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rng := splitMix64(uint64(seed))
	held := map[int]bool{}
	for _, k := range keys {
		us := strata[k]
		for i := len(us) - 1; i > 0; i-- { // Fisher-Yates
			j := int(rng.next() % uint64(i+1))
			us[i], us[j] = us[j], us[i]
		}
		n := int(frac*float64(len(us)) + 0.5)
		for _, u := range us[:n] {
			held[u] = true
		}
	}
	if len(held) == 0 || len(held) == len(units) {
		return nil, nil, fmt.Errorf("hold out: fraction %v of %d example group(s) leaves one part empty", frac, len(units))
	}
	inHeld := make([]bool, len(train.Examples))
	for u := range held {
		for _, i := range units[u] {
			inHeld[i] = true
		}
	}
	trainPart = &Split{Name: "train-part", File: train.File, Labeled: train.Labeled}
	heldOut = &Split{Name: "heldout", File: train.File, Labeled: train.Labeled}
	for i, ex := range train.Examples {
		if inHeld[i] {
			heldOut.Examples = append(heldOut.Examples, ex)
		} else {
			trainPart.Examples = append(trainPart.Examples, ex)
		}
	}
	return trainPart, heldOut, nil
}

type splitMix64State struct{ s uint64 }

func splitMix64(seed uint64) *splitMix64State { return &splitMix64State{s: seed} }

func (r *splitMix64State) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
