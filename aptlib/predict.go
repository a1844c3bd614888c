package aptlib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/internal/atomicfile"
	"github.com/aptbench/apt/internal/boundedread"
)

// Caps of the prediction input: the whole file and one line (one example).
const (
	predictFileLimit = 1 * boundedread.GiB
	predictLineLimit = 16 * boundedread.MiB
)

// PredictLine is one line of the prediction output, in the format docs/tasks.md
// describes.
type PredictLine struct {
	Logits any       `json:"logits"` // []float32, or [][]float32 (one row per word) for tokens
	Label  any       `json:"label"`  // the argmax label, or the list of word labels
	Gates  GatesJSON `json:"gates"`
}

// GatesJSON is an example's gates: layer_scale has one entry per layer (null
// for a layer without prefix) or is null without a layer gate; token_gate one
// entry per layer (that example's alpha_i, or null) or null without a token gate.
type GatesJSON struct {
	LayerScale []*float64  `json:"layer_scale"`
	TokenGate  [][]float32 `json:"token_gate"`
}

// Predict reads IN (JSONL, one example per line, in the loaded task's format or
// {"text", "text_pair"} / {"tokens": [...]}) and writes OUT (JSONL, one line per
// input line, in order). OUT is written atomically, and only after it was
// checked not to be IN (under any name), a file the session has loaded
// (CheckOutput), an existing directory or a read-only file. It returns the
// number of lines written. PredictContext stops between inference batches once
// ctx is done, returning ctx's error with OUT not written (nor changed).
//
// So that output line n always answers input line n, a blank (or
// whitespace-only) line is an error naming it; only blank lines at the very
// end of the file (a final newline, trailing empty lines) are ignored. A UTF-8
// byte-order mark at the start is skipped. A generic {"text": ""} is valid.
func (w *Workbench) PredictContext(ctx context.Context, in, out string) (int, error) {
	if err := w.checkFinite("predict"); err != nil {
		return 0, err
	}
	if err := w.needTask(); err != nil {
		return 0, err
	}
	in, out = expandHome(in), expandHome(out)
	guard := w.outputGuard()
	guard.File("the prediction input", in)
	if err := guard.Check("predict", out); err != nil {
		return 0, err
	}
	// Bounded: a link to /dev/zero or a FIFO fails at once, and so does a line
	// longer than any example could sensibly be.
	data, err := boundedread.ReadFile(in, predictFileLimit)
	if err == nil {
		err = boundedread.CheckLines(in, data, predictLineLimit)
	}
	if err != nil {
		return 0, fmt.Errorf("predict: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// Parse every line first: a bad line is an error before anything is written.
	type lineExamples struct{ first, count int }
	var lines []lineExamples
	var exs []tasks.Example
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), predictLineLimit+1)
	blank := 0 // the first blank line since the last example, if any
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			if blank == 0 {
				blank = n
			}
			continue
		}
		if blank > 0 {
			return 0, fmt.Errorf("predict: %s:%d: line %d is empty; predict writes one output line per input line, so give an example there or remove the line", in, blank, blank)
		}
		got, err := tasks.ParsePredictLine(w.Task, in, n, sc.Bytes())
		if err != nil {
			return 0, err
		}
		lines = append(lines, lineExamples{len(exs), len(got)})
		exs = append(exs, got...)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("predict: %s: %w", in, err)
	}
	if len(exs) == 0 {
		return 0, fmt.Errorf("predict: %s has no examples", in)
	}
	enc, err := tasks.EncodeExamples(w.Task, exs, w.Model.Tokenizer, w.intParam(trainer.ParamMaxLen))
	if err != nil {
		return 0, err
	}
	if enc.DroppedWords > 0 {
		fmt.Fprintf(w.log(), "note: predict: %d of %d inputs in %s are longer than max_len %d: their last %d words get no prediction and are labelled O (raise max_len, at most %d)\n",
			enc.TruncatedRows, len(exs), in, enc.MaxLen, enc.DroppedWords, w.maxLenAllowed())
	} else if enc.TruncatedRows > 0 {
		fmt.Fprintf(w.log(), "note: predict: %d of %d inputs in %s were truncated to max_len %d (%d tokens dropped)\n",
			enc.TruncatedRows, len(exs), in, enc.MaxLen, enc.TruncatedTokens)
	}
	p, err := w.Predictor()
	if err != nil {
		return 0, err
	}
	preds, err := p.PredictContext(ctx, toModelExamples(enc))
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	for _, l := range lines {
		for i := l.first; i < l.first+l.count; i++ {
			line, err := w.predictionLine(enc, preds, i)
			if err != nil {
				return 0, err
			}
			b, err := json.Marshal(line)
			if err != nil {
				return 0, err
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
	}
	if err := atomicfile.WriteBytes(out, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("predict: %w", err)
	}
	return len(exs), nil
}

func (w *Workbench) predictionLine(enc *tasks.Encoded, preds *trainer.Predictions, i int) (PredictLine, error) {
	pr := preds.Examples[i]
	var line PredictLine
	if w.Task.Kind == tasks.TokenClassification {
		first := enc.FirstSub[i]
		rows := make([][]float32, len(first))
		labels := make([]string, len(first))
		for wi, pos := range first {
			if pos < 0 || pos >= len(pr.Logits) {
				labels[wi] = "O"
				continue
			}
			rows[wi] = pr.Logits[pos]
			labels[wi] = w.Task.Labels[argmax(pr.Logits[pos])]
		}
		line.Logits, line.Label = rows, labels
	} else {
		line.Logits = pr.Logits[0]
		k := argmax(pr.Logits[0])
		if w.Task.Kind == tasks.MultipleChoice {
			line.Label = k
		} else {
			line.Label = w.Task.Labels[k]
		}
	}
	m := w.spec.Method
	alphaLayers, lambdaLayers := m.GateLayout()
	if m.Kind.HasLayerGate() {
		line.Gates.LayerScale = make([]*float64, len(lambdaLayers))
		for l, has := range lambdaLayers {
			if has && !math.IsNaN(preds.Lambda[l]) {
				v := preds.Lambda[l]
				line.Gates.LayerScale[l] = &v
			}
		}
	}
	if m.Kind.HasTokenGate() {
		line.Gates.TokenGate = make([][]float32, len(alphaLayers))
		for l, has := range alphaLayers {
			if has {
				line.Gates.TokenGate[l] = pr.Alpha[l]
			}
		}
	}
	return line, nil
}
