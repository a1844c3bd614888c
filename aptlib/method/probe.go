package method

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// PT-2* and PT-2+ (docs/methods.md; Zhang et al. 2023, "gate as probing"):
//
//   - PT-2* is a PT-2 whose per-layer prefix lengths come from a trained APT's gates:
//     LayerScores turns the gates into one weight per layer and ProbeLengths turns
//     the weights into lengths under a budget of prefix slots.
//   - PT-2+ is a PT-2 with as many trainable parameters as a given APT (a longer
//     uniform prefix): MatchParameters.

// LayerScores is the weight of each layer's prefix in a trained APT: the layer
// scale times the mean token gate, |lambda_i| * mean_j alphaMean[i][j].
//
// lambda[i] is lambda_i, NaN where layer i has no layer gate (no prefix, or a method
// without layer gate); alphaMean[i] is the token gate alpha_i averaged over a
// dataset, one value per prefix slot, nil or empty where layer i has no token gate.
// These are the shapes trainer.GateSnapshot and the predictor report. A missing
// factor counts as 1 (apt_no_token_gate scores |lambda_i|, apt_no_layer_gate the
// mean alpha_i); a layer with neither (no prefix) scores NaN. The magnitude of
// lambda is taken because lambda is used as is (no squashing): a negative lambda
// flips the prefix's sign, its size is its weight. Either slice may be shorter than
// the other; the result has the longer length.
func LayerScores(lambda []float64, alphaMean [][]float64) []float64 {
	n := max(len(lambda), len(alphaMean))
	out := make([]float64, n)
	for i := range out {
		hasLambda := i < len(lambda) && !math.IsNaN(lambda[i])
		hasAlpha := i < len(alphaMean) && len(alphaMean[i]) > 0
		if !hasLambda && !hasAlpha {
			out[i] = math.NaN()
			continue
		}
		score := 1.0
		if hasLambda {
			score = math.Abs(lambda[i])
		}
		if hasAlpha {
			sum := 0.0
			for _, a := range alphaMean[i] {
				sum += a
			}
			score *= sum / float64(len(alphaMean[i]))
		}
		out[i] = score
	}
	return out
}

// ProbeLengths turns per-layer scores (LayerScores) into per-layer prefix lengths
// that sum exactly to budget, proportional to the scores: PT-2*'s lengths.
//
// Layers whose score is NaN, infinite, zero or negative (no prefix, or a gate that
// closed) get length 0. Every other layer gets minLen slots, and the remaining
// budget - k*minLen slots (k such layers) are shared in proportion to the scores by
// the largest-remainder method: layer i's quota is R * s_i / sum(s), each layer gets
// the integer part of its quota, and the slots left over go one each to the layers
// with the largest fractional parts. Ties go to the layer with the larger score,
// then to the lower layer index, so the result is deterministic.
//
// For example scores [0.9, NaN, 0.3, 0.6], budget 10, minLen 1: k = 3, R = 7,
// quotas 3.5, 1.17, 2.33, integer parts 3 + 1 + 2 = 6, the last slot goes to
// layer 0 (fraction .5): lengths [1+4, 0, 1+1, 1+2] = [5, 0, 2, 3].
//
// A budget of 0 gives all zeros. ProbeLengths panics when the request cannot be
// met: a negative budget or minLen, a positive budget with no layer to put it in,
// or budget < k*minLen.
func ProbeLengths(scores []float64, budget int, minLen int) []int {
	if budget < 0 || minLen < 0 {
		panic(fmt.Sprintf("method.ProbeLengths: budget %d and minLen %d must not be negative", budget, minLen))
	}
	lens := make([]int, len(scores))
	if budget == 0 {
		return lens
	}
	var layers []int
	total := 0.0
	for i, s := range scores {
		if s > 0 && !math.IsInf(s, 1) { // false for NaN
			layers = append(layers, i)
			total += s
		}
	}
	if len(layers) == 0 {
		panic(fmt.Sprintf("method.ProbeLengths: no layer has a positive score (%v) to share a budget of %d", scores, budget))
	}
	if budget < len(layers)*minLen {
		panic(fmt.Sprintf("method.ProbeLengths: a budget of %d cannot give %d layers at least %d slots each", budget, len(layers), minLen))
	}
	rest := budget - len(layers)*minLen
	type share struct {
		layer int
		score float64
		frac  float64
	}
	shares := make([]share, 0, len(layers))
	given := 0
	for _, i := range layers {
		quota := float64(rest) * scores[i] / total
		whole := int(math.Floor(quota))
		lens[i] = minLen + whole
		given += whole
		shares = append(shares, share{i, scores[i], quota - float64(whole)})
	}
	slices.SortStableFunc(shares, func(a, b share) int {
		if c := cmp.Compare(b.frac, a.frac); c != 0 {
			return c
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.layer, b.layer)
	})
	// Floating-point rounding can leave the integer parts one off the exact
	// shares; the loops below keep the sum exact either way.
	for k := 0; given < rest; k = (k + 1) % len(shares) {
		lens[shares[k].layer]++
		given++
	}
	for k := len(shares) - 1; given > rest; k = (k - 1 + len(shares)) % len(shares) {
		if i := shares[k].layer; lens[i] > minLen {
			lens[i]--
			given--
		}
	}
	return lens
}

// MatchParameters returns PT-2+ for an APT (or any prefix) configuration: a PT-2
// with one uniform prefix length p over all len(apt.PrefixLens) layers, chosen so
// that its trainable parameters, 2*L*p*d, are the closest to apt.NumTrainable(d)
// (an exact half rounds up, to at least as many parameters), and at least 1. The
// difference left, result.NumTrainable(d) - apt.NumTrainable(d), is at most L*d in
// size (half of one slot in every layer); callers report it.
//
// At bert-base size (d = 768, L = 12), APT with p = 16 has 294,912 prefix + 147,660
// gate parameters = 442,572; 442,572 / (2*12*768) = 24.01, so PT-2+ has p = 24:
// 442,368 parameters, 204 fewer.
//
// The other settings (pooling, dropout, initialisation) are copied. It panics when
// apt has no per-layer lengths (prompt tuning, FT), as there is no layer count.
func MatchParameters(apt Config, d int) Config {
	L := len(apt.PrefixLens)
	if L == 0 || d <= 0 {
		panic(fmt.Sprintf("method.MatchParameters: method %s with %d layers and d = %d has no per-layer prefix to match", apt.Kind, L, d))
	}
	target := apt.NumTrainable(d)
	unit := 2 * L * d // parameters of one more slot in every layer
	p := target / unit
	if 2*(target%unit) >= unit {
		p++
	}
	p = max(p, 1)
	out := apt
	out.Kind = PT2
	out.PrefixLens = Uniform(L, p)
	out.PromptLen = 0
	return out
}
