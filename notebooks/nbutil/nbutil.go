// Package nbutil is the glue the tutorial notebooks share: where the project
// and the benchmark data are, which model to load (with a visible fallback to
// the demo model), small HTML pieces (notes, tables, highlighted entities), a
// place to keep results between cells, and a pause button for the live
// dashboard. The science lives in aptlib and the pictures in viz; this package
// only saves the notebooks from repeating the same twenty lines.
//
// GoNB runs every cell as a new program, so nothing stays in memory from one
// cell to the next: cells that train save what later cells need (adapters,
// run records) under WorkDir.
package nbutil

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/janpfeifer/gonb/gonbui"
)

// Module is the project's module path.
const Module = "github.com/aptbench/apt"

// Root returns the project checkout: the parent of the notebook folder
// ($GONB_DIR, set by GoNB), else the nearest folder above the working
// directory whose go.mod declares Module.
func Root() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		if isRoot(filepath.Dir(d)) {
			return filepath.Dir(d)
		}
		if isRoot(d) {
			return d
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isRoot(d) {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

func isRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == Module
		}
	}
	return false
}

// Shared returns the path under the benchmark folder beside the checkout
// ($ROOT/../shared/...), and whether it exists. $APT_SHARED overrides the
// folder.
func Shared(parts ...string) (string, bool) {
	base := os.Getenv("APT_SHARED")
	if base == "" {
		base = filepath.Join(filepath.Dir(Root()), "shared")
	}
	p := filepath.Join(append([]string{base}, parts...)...)
	_, err := os.Stat(p)
	return p, err == nil
}

// WorkDir is where cells leave results for later cells
// (<temp>/apt-notebooks/<name>); it is created when missing.
func WorkDir(name string) string {
	d := filepath.Join(os.TempDir(), "apt-notebooks", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		panic(err)
	}
	return d
}

// Save writes v as JSON to path (see WorkDir).
func Save(path string, v any) {
	b, err := json.MarshalIndent(v, "", " ")
	Must(err)
	Must(os.WriteFile(path, b, 0o644))
}

// Load reads the JSON that Save wrote; a missing file says which cell to run.
func Load(path string, v any) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		panic(fmt.Sprintf("%s is missing: run the notebook's earlier cells first (each GoNB cell is a new program; results travel through files)", path))
	}
	Must(err)
	Must(json.Unmarshal(b, v))
}

// Must panics on an error, which GoNB shows under the cell (and the notebook
// runner counts as a failure).
func Must(err error) {
	if err != nil {
		panic(err)
	}
}

// Show displays HTML under the cell (a no-op outside a notebook).
func Show(htmlText string) { gonbui.DisplayHTML(htmlText) }

// Note shows a visible remark under the cell, e.g. "using the demo model" (in a
// plain program, it prints it).
func Note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !gonbui.IsNotebook {
		fmt.Println("note: " + msg)
		return
	}
	Show(`<div style="border-left:4px solid #e0a800;background:#fff8e1;padding:6px 10px;margin:4px 0;font-family:sans-serif;color:#333">` +
		"<b>Note</b> " + html.EscapeString(msg) + `</div>`)
}

// Table renders rows under a header as an HTML table (cells are escaped).
func Table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px;margin:4px 0">`)
	b.WriteString("<tr>")
	for _, h := range header {
		b.WriteString(`<th style="border-bottom:2px solid #888;padding:3px 10px;text-align:left">` + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString(`<td style="border-bottom:1px solid #ddd;padding:3px 10px;text-align:left">` + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// Row lays out pieces of HTML (e.g. several viz.HTML pictures) side by side,
// wrapping on narrow screens.
func Row(pieces ...string) string {
	return `<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">` + strings.Join(pieces, "") + `</div>`
}

// Bench opens a workbench on the automatic backend (pure Go unless an XLA
// plugin is installed; $GOMLX_BACKEND overrides) and loads the model: the
// directory or Hub id in $APT_MODEL when set, else the demo model. With
// realText, the demo's stand-in for real text is the demo-sized random model
// with bert-base-uncased's vocabulary (DemoModelWithVocab), when the benchmark
// folder has that vocabulary. A model that cannot be loaded (e.g. a Hub id
// offline) falls back to the demo model with a visible note.
func Bench(realText bool) *aptlib.Workbench { return open(realText, true) }

// Reopen is Bench for the later cells of a notebook: the same model, with one
// line of output instead of the notes.
func Reopen(realText bool) *aptlib.Workbench { return open(realText, false) }

func open(realText, verbose bool) *aptlib.Workbench {
	note := Note
	if !verbose {
		note = func(string, ...any) {}
	}
	w, err := aptlib.New("")
	Must(err)
	if verbose {
		fmt.Printf("backend: %s\n", w.Choice.Line())
	}
	if name := os.Getenv("APT_MODEL"); name != "" {
		if err := w.LoadModel(name); err == nil {
			describeModel(w, fmt.Sprintf("model %s (from $APT_MODEL)", name))
			return w
		} else {
			note("could not load $APT_MODEL=%s (%v); falling back to the demo model.", name, err)
		}
	}
	if realText {
		if vocab, ok := Shared("models", "bert-base-uncased-vocab", "vocab.txt"); ok {
			dir, err := DemoModelWithVocab(vocab)
			Must(err)
			Must(w.LoadModel(dir))
			describeModel(w, "demo-sized model with bert-base-uncased's vocabulary")
			note("this model has RANDOM weights (no pretrained checkpoint is available offline): the scores below show the mechanics, not what APT achieves. Set APT_MODEL=bert-base-uncased (with network) or a model directory for real numbers.")
			return w
		}
	}
	Must(w.LoadModel("demo"))
	describeModel(w, "the demo model")
	note("the demo model has RANDOM weights (with a little sentiment signal planted for the demo task): it shows how things work, not what APT achieves. Set APT_MODEL=bert-base-uncased (with network) or a model directory for real numbers.")
	return w
}

func describeModel(w *aptlib.Workbench, what string) {
	c := w.Model.Config
	vocab := w.Model.Tokenizer.VocabSize()
	if dc, ok := c.(backbone.Detailed); ok {
		vocab = dc.VocabEntries() // config.json's vocab_size, as before families
	}
	fmt.Printf("%s: %d layers, hidden size %d, %d heads, vocabulary %d, %d backbone parameters\n",
		what, c.NumLayers(), c.HiddenSize(), c.NumHeads(), vocab, c.NumParameters())
}

// LoadTask loads benchmark task name (e.g. "cb", "conll04") from the folder
// $ROOT/../shared/data/<folder> and uses only the first nTrain training and
// nDev dev (and test) examples: the train_limit and eval_limit settings (0
// keeps a split whole). When the folder is absent (a checkout without the
// benchmark copies, the Docker image), it loads the demo task instead, with a
// visible note, and
// returns false. For a NER task the stand-in is the synthetic set of DemoNER.
func LoadTask(w *aptlib.Workbench, name, folder string, nTrain, nDev int) bool {
	Must(w.Set("train_limit", fmt.Sprint(max(nTrain, 0))))
	Must(w.Set("eval_limit", fmt.Sprint(max(nDev, 0))))
	dir, ok := Shared("data", folder)
	if !ok {
		switch name {
		case "conll03", "conll04", "wnut17", "wikiann", "conll":
			demo := filepath.Join(WorkDir("demo-ner"), "data")
			Must(DemoNER(demo))
			Note("benchmark data not found at %s: using a small synthetic NER set instead of %s (put the data there, or set APT_SHARED to the folder holding data/%s).", dir, name, folder)
			Must(w.LoadTask("conll", demo))
		default:
			Note("benchmark data not found at %s: using the demo task instead of %s (put the data there, or set APT_SHARED to the folder holding data/%s).", dir, name, folder)
			Must(w.LoadTask("demo", ""))
		}
		return false
	}
	Must(w.LoadTask(name, dir))
	for _, s := range []struct {
		split string
		n     int
	}{{"train", nTrain}, {"dev", nDev}} {
		sp, err := w.Task.Split(s.split)
		if err != nil {
			continue
		}
		kept := len(sp.Examples)
		if s.n > 0 {
			kept = min(kept, s.n)
		}
		fmt.Printf("%s %s: first %d of %d examples\n", name, s.split, kept, len(sp.Examples))
	}
	return true
}

// Examples returns the examples of a split of the loaded task that the
// workbench uses: the first eval_limit (dev, test) or train_limit (train) of
// them when that setting is not 0.
func Examples(w *aptlib.Workbench, split string) []tasks.Example {
	s, err := w.Task.Split(split)
	Must(err)
	key := "eval_limit"
	if split == "train" {
		key = "train_limit"
	}
	v, err := w.Get(key)
	Must(err)
	n, err := strconv.Atoi(v)
	Must(err)
	if n > 0 && n < len(s.Examples) {
		return s.Examples[:n]
	}
	return s.Examples
}

// SplitTable shows, per split of the loaded task, how many examples the
// workbench uses (of how many in the file) and how many rows max_len cuts.
func SplitTable(w *aptlib.Workbench) string {
	var rows [][]string
	for _, name := range []string{"train", "dev", "test"} {
		s, err := w.Task.Split(name)
		if err != nil {
			continue
		}
		cut := "-"
		if enc, _, err := w.Encoded(name); err == nil {
			cut = fmt.Sprint(enc.TruncatedRows)
		}
		rows = append(rows, []string{name, fmt.Sprint(len(Examples(w, name))), fmt.Sprint(len(s.Examples)), cut})
	}
	return Table([]string{"split", "used", "in the file", "rows cut at max_len"}, rows)
}

// SetAll applies settings given as "key=value" pairs.
func SetAll(w *aptlib.Workbench, kv ...string) {
	for _, s := range kv {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			panic(fmt.Sprintf("setting %q: want key=value", s))
		}
		Must(w.Set(k, v))
	}
}

// Percent formats a 0..1 score as a percentage.
func Percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
