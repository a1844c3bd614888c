package trainer

import (
	gocontext "context"
	"fmt"

	"github.com/aptbench/apt/aptlib/model"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Prediction is the model's output for one example.
type Prediction struct {
	// Logits: [NumLabels] for classification, [NumChoices] for multiple choice,
	// and for tokens one [NumLabels] row per token position of the example.
	Logits [][]float32
	// Alpha[i] is this example's alpha_i (nil without a token gate or prefix at i);
	// for multiple choice, the mean over the example's (premise, choice) rows.
	Alpha [][]float32
}

// Predictions of a dataset, with the layer scales (which do not depend on the example).
type Predictions struct {
	Examples []Prediction
	Lambda   []float64 // NaN where a layer has no layer gate
}

// Predictor runs the model in inference mode (no dropout) over examples, in
// length-bucketed batches. It keeps its compiled graphs between calls.
type Predictor struct {
	Spec      *model.Spec
	BatchSize int
	Bucket    int
	MaxLen    int
	exec      *context.Exec
	shapes    map[string]bool
}

// NewPredictor prepares inference for spec with the variables in ctx.
func NewPredictor(backend backends.Backend, ctx *context.Context, spec *model.Spec, batchSize, bucket, maxLen int) (*Predictor, error) {
	p := &Predictor{Spec: spec, BatchSize: max(1, batchSize), Bucket: bucket, MaxLen: maxLen, shapes: map[string]bool{}}
	exec, err := context.NewExec(backend, ctx, p.graph)
	if err != nil {
		return nil, err
	}
	exec.SetMaxCache(256)
	p.exec = exec
	return p, nil
}

// GraphsCompiled is the number of distinct inference-graph shapes built so far.
func (p *Predictor) GraphsCompiled() int { return len(p.shapes) }

// graph: inputs ids, types, mask, weights; outputs logits, then alpha_i [B, p_i]
// of each gated layer, then each lambda_i.
func (p *Predictor) graph(ctx *context.Context, in []*Node) []*Node {
	ids, types, mask, weights := in[0], in[1], in[2], in[3]
	numChoices := ids.Shape().Dimensions[0] / weights.Shape().Dimensions[0]
	logits, gates := model.Forward(ctx, p.Spec, model.Inputs{IDs: ids, TypeIDs: types, Mask: mask, NumChoices: numChoices})
	outs := []*Node{logits}
	for _, a := range gates.Alpha {
		if a != nil {
			outs = append(outs, a)
		}
	}
	for _, l := range gates.Lambda {
		if l != nil {
			outs = append(outs, l)
		}
	}
	return outs
}

// exampleAlpha is example b's alpha [p] from a batch's alpha [rows, p]: its own
// row, or for multiple choice the mean over its choices' rows.
func exampleAlpha(a []float32, b, p, choices int) []float32 {
	out := make([]float32, p)
	for c := range choices {
		row := a[(b*choices+c)*p : (b*choices+c+1)*p]
		for s, v := range row {
			out[s] += v
		}
	}
	if choices > 1 {
		for s := range out {
			out[s] /= float32(choices)
		}
	}
	return out
}

// Predict runs every example. Results are in the examples' order.
func (p *Predictor) Predict(data []model.Example) (*Predictions, error) {
	return p.PredictContext(gocontext.Background(), data)
}

// PredictContext is Predict that stops between batches once ctx is done,
// returning ctx's error and no predictions (the variables are only read, so
// nothing else changes).
func (p *Predictor) PredictContext(ctx gocontext.Context, data []model.Example) (*Predictions, error) {
	res := &Predictions{Examples: make([]Prediction, len(data))}
	alphaLayers, lambdaLayers := p.Spec.Method.GateLayout()
	res.Lambda = make([]float64, len(lambdaLayers))
	plan := model.PlanEpoch(data, p.BatchSize, p.Bucket, p.MaxLen, nil)
	for bi, idx := range plan.Batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Padded to the batch size, but to no more rows than there are examples.
		batch, err := model.MakeBatch(p.Spec.Head, data, idx, min(p.BatchSize, len(data)), plan.SeqLens[bi])
		if err != nil {
			return nil, err
		}
		p.shapes[fmt.Sprint(batch.IDs.Shape().Dimensions)] = true
		outs, err := p.exec.Exec(batch.IDs, batch.TypeIDs, batch.Mask, batch.Weights)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		logits := tensors.MustCopyFlatData[float32](outs[0])
		dims := outs[0].Shape().Dimensions
		k := 1
		alphas := make([][]float32, len(alphaLayers))
		for i, has := range alphaLayers {
			if has {
				alphas[i] = tensors.MustCopyFlatData[float32](outs[k])
				k++
			}
		}
		for i, has := range lambdaLayers {
			res.Lambda[i] = nan()
			if has {
				res.Lambda[i] = float64(tensors.ToScalar[float32](outs[k]))
				k++
			}
		}
		for b, ex := range idx {
			pred := Prediction{Alpha: make([][]float32, len(alphaLayers))}
			switch len(dims) {
			case 2: // [B, labels or choices]
				w := dims[1]
				pred.Logits = [][]float32{append([]float32(nil), logits[b*w:(b+1)*w]...)}
			case 3: // [B, T, labels]
				T, L := dims[1], dims[2]
				n := len(data[ex].IDs[0])
				for t := range n {
					off := (b*T + t) * L
					pred.Logits = append(pred.Logits, append([]float32(nil), logits[off:off+L]...))
				}
			}
			for i, a := range alphas {
				if a != nil {
					pred.Alpha[i] = exampleAlpha(a, b, p.Spec.Method.PrefixLens[i], batch.NumChoices)
				}
			}
			res.Examples[ex] = pred
		}
	}
	return res, nil
}
