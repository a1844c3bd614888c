package model

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Example is one encoded example, ready to batch.
type Example struct {
	// IDs and TypeIDs hold one row per choice for multiple choice, one row otherwise;
	// no padding.
	IDs, TypeIDs [][]int32
	// Label is the class (or correct choice) index; -1 when unlabeled.
	Label int
	// TokenLabels, for token classification, has one label per token of IDs[0]:
	// the word's label on its first sub-word, IgnoreLabel elsewhere.
	TokenLabels []int32
}

// Len is the longest row.
func (e *Example) Len() int {
	n := 0
	for _, r := range e.IDs {
		n = max(n, len(r))
	}
	return n
}

// Batch is a padded batch as host tensors, in the order the model graph takes them.
type Batch struct {
	IDs, TypeIDs, Mask *tensors.Tensor // int32 [N, T]
	Labels             *tensors.Tensor // int32 [B] or [B, T]
	Weights            *tensors.Tensor // float32 [B]: 1 for real examples, 0 for filler
	NumChoices         int
	Indices            []int // the dataset index of each real example, in order
}

// BucketLen rounds a length up to the next multiple of bucket (at most maxLen), so
// that batches come in a few shapes and few graphs are compiled.
func BucketLen(n, bucket, maxLen int) int {
	if bucket <= 1 {
		return min(n, maxLen)
	}
	b := (n + bucket - 1) / bucket * bucket
	return max(1, min(b, maxLen))
}

// MakeBatch pads the examples (dataset indices idx) to seqLen and to batchSize
// rows: missing rows are filler with weight 0, so that a short last batch keeps
// the graph's shape. Examples longer than seqLen are an error (encode with
// truncation first).
func MakeBatch(head Head, data []Example, idx []int, batchSize, seqLen int) (*Batch, error) {
	if len(idx) > batchSize {
		return nil, fmt.Errorf("model: %d examples do not fit a batch of %d", len(idx), batchSize)
	}
	choices := 1
	if head == MultipleChoice {
		choices = len(data[idx[0]].IDs)
	}
	rows := batchSize * choices
	ids := make([]int32, rows*seqLen)
	types := make([]int32, rows*seqLen)
	mask := make([]int32, rows*seqLen)
	weights := make([]float32, batchSize)
	var labels []int32
	if head == TokenClassification {
		labels = make([]int32, batchSize*seqLen)
		for i := range labels {
			labels[i] = IgnoreLabel
		}
	} else {
		labels = make([]int32, batchSize)
	}
	for b, i := range idx {
		ex := &data[i]
		if len(ex.IDs) != choices {
			return nil, fmt.Errorf("model: example %d has %d choices, the batch %d", i, len(ex.IDs), choices)
		}
		weights[b] = 1
		for c, row := range ex.IDs {
			if len(row) > seqLen {
				return nil, fmt.Errorf("model: example %d has %d tokens, more than the batch length %d", i, len(row), seqLen)
			}
			off := (b*choices + c) * seqLen
			copy(ids[off:], row)
			copy(types[off:], ex.TypeIDs[c])
			for t := range row {
				mask[off+t] = 1
			}
		}
		if head == TokenClassification {
			copy(labels[b*seqLen:], ex.TokenLabels)
		} else {
			labels[b] = int32(ex.Label)
		}
	}
	// Filler rows get a lone [CLS]-like token so that no attention row is all-masked.
	for b := len(idx); b < batchSize; b++ {
		for c := range choices {
			mask[(b*choices+c)*seqLen] = 1
		}
		if head != TokenClassification {
			labels[b] = -1
		}
	}
	batch := &Batch{
		IDs:        tensors.FromFlatDataAndDimensions(ids, rows, seqLen),
		TypeIDs:    tensors.FromFlatDataAndDimensions(types, rows, seqLen),
		Mask:       tensors.FromFlatDataAndDimensions(mask, rows, seqLen),
		Weights:    tensors.FromFlatDataAndDimensions(weights, batchSize),
		NumChoices: choices,
		Indices:    slices.Clone(idx),
	}
	if head == TokenClassification {
		batch.Labels = tensors.FromFlatDataAndDimensions(labels, batchSize, seqLen)
	} else {
		batch.Labels = tensors.FromFlatDataAndDimensions(labels, batchSize)
	}
	return batch, nil
}

// Plan is the order of batches of one epoch: lists of dataset indices, each list
// of one bucket length.
type Plan struct {
	Batches [][]int
	SeqLens []int
}

// PlanEpoch groups the examples by bucketed length and cuts each group into
// batches; with shuffle, examples are shuffled inside their bucket and the
// batches' order is shuffled, from rng. Without shuffle the order is the
// dataset's within each bucket, buckets in increasing length.
func PlanEpoch(data []Example, batchSize, bucket, maxLen int, rng *rand.Rand) Plan {
	byLen := map[int][]int{}
	for i := range data {
		l := BucketLen(data[i].Len(), bucket, maxLen)
		byLen[l] = append(byLen[l], i)
	}
	lens := make([]int, 0, len(byLen))
	for l := range byLen {
		lens = append(lens, l)
	}
	slices.Sort(lens)
	var plan Plan
	for _, l := range lens {
		group := byLen[l]
		if rng != nil {
			rng.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
		}
		for s := 0; s < len(group); s += batchSize {
			plan.Batches = append(plan.Batches, group[s:min(s+batchSize, len(group))])
			plan.SeqLens = append(plan.SeqLens, l)
		}
	}
	if rng != nil {
		rng.Shuffle(len(plan.Batches), func(i, j int) {
			plan.Batches[i], plan.Batches[j] = plan.Batches[j], plan.Batches[i]
			plan.SeqLens[i], plan.SeqLens[j] = plan.SeqLens[j], plan.SeqLens[i]
		})
	}
	return plan
}
