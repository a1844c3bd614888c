package aptlib

import (
	gocontext "context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aptbench/apt/aptlib/backend"
	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/hub"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/aptbench/apt/aptlib/wordpiece"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Model is a loaded backbone.
type Model struct {
	Name      string // what the user asked for: a path, a Hub id or "demo"
	Dir       string // the model directory on disk
	Config    *bert.Config
	Tokenizer *wordpiece.Tokenizer
}

// Workbench is one research session: a backbone, a task, settings, and the
// method being trained on them. The shell and the notebooks drive it; it holds
// no terminal or notebook logic. Its methods are not safe for concurrent use.
type Workbench struct {
	Backend backends.Backend
	Choice  backend.Choice // which backend and why
	Model   *Model
	Task    *tasks.Task
	// Log receives progress bars and notes (downloads, training progress).
	// nil discards them.
	Log io.Writer

	ctx *context.Context // settings (params) and variables

	// Derived state, rebuilt lazily after a setting changes (see Setting.Resets).
	spec      *model.Spec
	encoded   map[string]*tasks.Encoded // by split
	examples  map[string][]model.Example
	trainer   *trainer.Trainer
	predictor *trainer.Predictor
	fresh     bool // method variables need (re)creation
	stale     bool // trainer needs rebuilding

	backboneTrained bool // FT has changed the backbone's weights since it was loaded

	// LastStep is the last training step's result (its gates are "the current batch").
	LastStep *trainer.StepResult
	// EvalHistory holds every end-of-epoch evaluation of Train.
	EvalHistory []trainer.EpochReport
	// Adapter is the path of the last loaded adapter, if any.
	Adapter string
}

// New opens a workbench on the backend chosen by the SPEC section 6 policy
// (flag: "go", "xla:cpu", "xla:cuda" or "" for automatic).
func New(backendFlag string) (*Workbench, error) {
	b, choice, err := backend.New(backendFlag)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	setDefaults(ctx)
	return &Workbench{Backend: b, Choice: choice, ctx: ctx, fresh: true, stale: true}, nil
}

func (w *Workbench) log() io.Writer {
	if w.Log == nil {
		return io.Discard
	}
	return w.Log
}

// Context is the GoMLX context holding the settings and all variables.
func (w *Workbench) Context() *context.Context { return w.ctx }

// LoadModel loads a backbone: a model directory, "demo" (the embedded random-weight
// demo model), or a HuggingFace Hub id (downloaded into the cache when the network
// allows). The previous model, trained state and adapter are dropped; settings stay.
func (w *Workbench) LoadModel(name string) error {
	dir, err := w.resolveModel(name)
	if err != nil {
		return err
	}
	ctx := context.New()
	w.ctx.EnumerateParams(func(scope, key string, value any) {
		if scope == context.RootScope {
			ctx.SetParam(key, value)
		}
	})
	cfg, err := bert.LoadDir(ctx, dir, false)
	if err != nil {
		return err
	}
	tok, err := wordpiece.Load(dir)
	if err != nil {
		return err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return fmt.Errorf("model %s: the vocabulary has %d tokens, but config.json's vocab_size is %d", name, tok.VocabSize(), cfg.VocabSize)
	}
	w.ctx = ctx
	w.Model = &Model{Name: name, Dir: dir, Config: cfg, Tokenizer: tok}
	w.backboneTrained = false
	w.Adapter = ""
	w.resetAll()
	return nil
}

// reloadBackboneIfTrained puts the checkpoint's weights back after FT trained them.
func (w *Workbench) reloadBackboneIfTrained() error {
	if !w.backboneTrained {
		return nil
	}
	if _, err := bert.LoadDir(w.ctx, w.Model.Dir, false); err != nil {
		return err
	}
	w.backboneTrained = false
	return nil
}

func (w *Workbench) resolveModel(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("load model: give a model directory, a Hub id (e.g. bert-base-uncased) or demo")
	}
	if name == "demo" {
		return DemoModelDir()
	}
	name = expandHome(name)
	if hub.IsLocalDir(name) {
		return name, nil
	}
	// Something is there, or the path cannot be looked at: say what is wrong.
	st, err := os.Stat(name)
	_, lerr := os.Lstat(name)
	if pe, ok := err.(*os.PathError); ok && (lerr == nil || !os.IsNotExist(err)) {
		return "", fmt.Errorf("load model %s: %v", name, pe.Err)
	} else if err == nil && st.Mode().IsRegular() {
		return "", fmt.Errorf("load model: %s is a file, not a model directory", name)
	} else if err == nil && !st.IsDir() {
		return "", fmt.Errorf("load model: %s is not a directory (mode %s)", name, st.Mode().Type())
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "~") {
		return "", fmt.Errorf("load model: %s: no such directory", name)
	}
	return hub.Download(gocontext.Background(), name, hub.Options{Progress: w.Log})
}

// LoadTask loads a task by name from dir ("" for the task's download cache; for
// "demo", the embedded demo task).
func (w *Workbench) LoadTask(name, dir string) error {
	if name == "demo" {
		d, err := DemoTaskDir()
		if err != nil {
			return err
		}
		name, dir = "jsonl", d
	}
	dir = expandHome(dir)
	t, err := tasks.Load(name, dir)
	if err != nil {
		return err
	}
	if _, err := t.Split("train"); err != nil {
		fmt.Fprintf(w.log(), "note: %v (evaluation and prediction still work)\n", err)
	}
	w.Task = t
	w.resetAll()
	return nil
}

// resetAll drops everything derived from the model, task and settings.
func (w *Workbench) resetAll() {
	w.spec, w.trainer, w.predictor, w.LastStep = nil, nil, nil, nil
	w.encoded, w.examples = map[string]*tasks.Encoded{}, map[string][]model.Example{}
	w.EvalHistory = nil
	w.fresh, w.stale = true, true
}

// Set changes a setting ("key", "value"). What the change invalidates is rebuilt
// on the next command: "model" settings re-create the method's variables (the
// training so far is dropped), "encoding" settings re-encode the data,
// "trainer" settings start a new optimizer and schedule from the current values.
func (w *Workbench) Set(key, value string) error {
	v, err := parseSetting(key, value)
	if err != nil {
		return err
	}
	if key == "prefix_len" && w.Model != nil {
		if _, err := parseLens(value, w.Model.Config.NumHiddenLayers); err != nil {
			return err
		}
	}
	w.ctx.SetParam(key, v)
	s, _ := findSetting(key)
	switch s.Resets {
	case "encoding":
		w.encoded, w.examples = map[string]*tasks.Encoded{}, map[string][]model.Example{}
		w.fresh, w.stale = true, true
		w.spec = nil
	case "model":
		w.fresh, w.stale = true, true
		w.spec = nil
	case "trainer":
		w.stale = true
	}
	w.predictor = nil
	return nil
}

// Get returns a setting's current value as a string.
func (w *Workbench) Get(key string) (string, error) {
	if _, ok := findSetting(key); !ok {
		return "", fmt.Errorf("unknown setting %q", key)
	}
	v, _ := w.ctx.GetParam(key)
	return paramString(v), nil
}

// Config returns every setting with its value, sorted by key.
func (w *Workbench) Config() map[string]string { return settingsMap(w.ctx) }

func (w *Workbench) param(key string) any {
	v, _ := w.ctx.GetParam(key)
	return v
}
func (w *Workbench) intParam(key string) int       { return w.param(key).(int) }
func (w *Workbench) floatParam(key string) float64 { return w.param(key).(float64) }
func (w *Workbench) strParam(key string) string    { return w.param(key).(string) }

func (w *Workbench) needModel() error {
	if w.Model == nil {
		return fmt.Errorf("no model loaded (load model demo, a directory, or a Hub id)")
	}
	return nil
}

func (w *Workbench) needTask() error {
	if err := w.needModel(); err != nil {
		return err
	}
	if w.Task == nil {
		return fmt.Errorf("no task loaded (load task demo, or e.g. load task rte DIR)")
	}
	return nil
}

// expandHome turns a leading ~ into the home directory.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}
