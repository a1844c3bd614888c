package aptlib

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/aptbench/apt/internal/atomicfile"
)

// The gate report's file exports: the shell's `gates --json FILE` and
// `gates --csv FILE` write these bytes (docs/shell.md), and notebooks can write
// the same through WriteJSON, WriteCSV or the Workbench's SaveGates methods.

// gatesJSON is the JSON export's layout. NaN and infinities are null.
type gatesJSON struct {
	Source       string                  `json:"source"`
	Method       string                  `json:"method"`
	Examples     int                     `json:"examples"`
	PrefixLens   []int                   `json:"prefix_lens"`
	Lambda       []*float64              `json:"lambda"`
	Alpha        [][]*float64            `json:"alpha"`
	AlphaByLabel map[string][][]*float64 `json:"alpha_by_label"`
}

// WriteJSON writes the report as indented JSON with a final newline: source,
// method, examples, prefix_lens, lambda (null without a layer gate), alpha
// (one row per layer, null for a layer without a token gate or prefix) and
// alpha_by_label (label -> rows; null unless the source is a split and the
// method has a token gate). A NaN or infinite value is written as null.
func (r *GateReport) WriteJSON(w io.Writer) error {
	g := gatesJSON{Source: r.Source, Method: string(r.Method), Examples: r.Examples, PrefixLens: r.PrefixLens,
		Lambda: nullable(r.Lambda), Alpha: nullableRows(r.Alpha)}
	if !r.Method.HasLayerGate() {
		g.Lambda = nil
	}
	if r.AlphaByLabel != nil && r.Method.HasTokenGate() {
		g.AlphaByLabel = map[string][][]*float64{}
		for k, v := range r.AlphaByLabel {
			g.AlphaByLabel[k] = nullableRows(v)
		}
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteCSV writes a header "layer,slot,alpha,lambda,effective" and one row per
// prefix slot (layers without a prefix have none). A gate the method lacks, or
// a NaN or infinite value, is an empty cell; numbers have 8 significant digits.
func (r *GateReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "slot", "alpha", "lambda", "effective"})
	eff := r.Effective()
	for l, p := range r.PrefixLens {
		for slot := range p {
			alpha, lambda := "", ""
			if r.Method.HasTokenGate() && l < len(r.Alpha) && slot < len(r.Alpha[l]) {
				alpha = csvNum(r.Alpha[l][slot])
			}
			if r.Method.HasLayerGate() && l < len(r.Lambda) {
				lambda = csvNum(r.Lambda[l])
			}
			e := ""
			if l < len(eff) && slot < len(eff[l]) {
				e = csvNum(eff[l][slot])
			}
			cw.Write([]string{strconv.Itoa(l), strconv.Itoa(slot), alpha, lambda, e})
		}
	}
	cw.Flush()
	return cw.Error()
}

// SaveGatesJSON writes r.WriteJSON to path, atomically, after the output guard
// (CheckOutput) has cleared it. Errors start with "gates --json:", the command
// of the shell that calls it.
func (w *Workbench) SaveGatesJSON(path string, r *GateReport) error {
	return w.saveGates("gates --json", path, r.WriteJSON)
}

// SaveGatesCSV is SaveGatesJSON for r.WriteCSV ("gates --csv:").
func (w *Workbench) SaveGatesCSV(path string, r *GateReport) error {
	return w.saveGates("gates --csv", path, r.WriteCSV)
}

func (w *Workbench) saveGates(op, path string, write func(io.Writer) error) error {
	path = expandHome(path)
	if err := w.CheckOutput(op, path); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := atomicfile.WriteBytes(path, buf.Bytes()); err != nil {
		return fmt.Errorf("%s: cannot write %s: %w", op, path, pathErrReason(err))
	}
	return nil
}

// pathErrReason is the reason of a file system error whose path the caller's
// message names already ("permission denied" for "write out.csv: permission denied").
func pathErrReason(err error) error {
	switch e := err.(type) {
	case *os.PathError:
		return e.Err
	case *os.LinkError:
		return e.Err
	}
	return err
}

// nullable turns NaN and infinities into JSON null.
func nullable(xs []float64) []*float64 {
	if xs == nil {
		return nil
	}
	out := make([]*float64, len(xs))
	for i, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[i] = &v
		}
	}
	return out
}

func nullableRows(rows [][]float64) [][]*float64 {
	if rows == nil {
		return nil
	}
	out := make([][]*float64, len(rows))
	for i, r := range rows {
		out[i] = nullable(r)
	}
	return out
}

func csvNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}
