package aptlib

import (
	gocontext "context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/backend"
	"github.com/aptbench/apt/aptlib/hub"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Model is a loaded backbone.
type Model struct {
	Name      string           // what the user asked for: a path, a Hub id or "demo"
	Dir       string           // the model directory on disk
	Family    *backbone.Family // the family config.json's model_type names
	Config    backbone.Config
	Tokenizer backbone.Tokenizer
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
	// DownloadOptions configure DownloadTasks (zero: the official SuperGLUE
	// archives and the user's cache).
	DownloadOptions tasks.DownloadOptions

	ctx *context.Context // settings (params) and variables

	// Derived state, rebuilt lazily; only invalidate marks it out of date (see
	// level for what each change drops).
	spec        *model.Spec               // nil: derive from the settings
	encoded     map[string]*tasks.Encoded // by split
	examples    map[string][]model.Example
	trainer     *trainer.Trainer
	predictor   *trainer.Predictor
	needParams  bool // the method's variables must be (re)created (prepare)
	needTrainer bool // the trainer must be rebuilt from the settings (Trainer)

	backboneTrained bool // FT has changed the backbone's weights since it was loaded

	// scheduleSteps, when > 0, is the length of the current run's schedule in
	// steps: set by the first `train n steps` of a run (see PlanTrain), cleared
	// by a new run or by setting epochs.
	scheduleSteps int

	// LastStep is the last training step's result (its gates are "the current batch").
	LastStep *trainer.StepResult
	// EvalHistory holds every end-of-epoch evaluation of Train.
	EvalHistory []trainer.EpochReport
	// Adapter is the path of the last loaded adapter, if any.
	Adapter string
	// adapterTask: Task is the generic classifier LoadAdapter set up for lack
	// of a task; a later adapter may replace it.
	adapterTask bool
}

// New opens a workbench on a backend (flag: "go", "xla:cpu", "xla:cuda" or ""
// for the automatic choice that docs/backends.md describes).
func New(backendFlag string) (*Workbench, error) {
	b, choice, err := backend.New(backendFlag)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	setDefaults(ctx)
	w := &Workbench{Backend: b, Choice: choice, ctx: ctx}
	w.invalidate(levelBackbone, 0)
	return w, nil
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
	// config.json's model_type picks the family (families.go lists them).
	cfg, family, err := backbone.LoadDir(ctx, dir, false)
	if err != nil {
		return err
	}
	tok, err := family.LoadTokenizer(dir, cfg)
	if err != nil {
		return err
	}
	if dc, ok := cfg.(backbone.Detailed); ok && tok.VocabSize() > dc.VocabEntries() {
		return fmt.Errorf("model %s: the vocabulary has %d tokens, but config.json's vocab_size is %d", name, tok.VocabSize(), dc.VocabEntries())
	}
	if n, _ := ctx.GetParam(trainer.ParamMaxLen); n.(int) > cfg.MaxLen() {
		ctx.SetParam(trainer.ParamMaxLen, cfg.MaxLen())
		fmt.Fprintf(w.log(), "note: max_len %d exceeds %s (model %s): max_len is now %d\n",
			n, backbone.DescribeMaxLen(cfg), name, cfg.MaxLen())
	}
	w.ctx = ctx
	w.Model = &Model{Name: name, Dir: dir, Family: family, Config: cfg, Tokenizer: tok}
	w.invalidate(levelBackbone, 0)
	return nil
}

// reloadBackboneIfTrained puts the checkpoint's weights back after FT trained them.
func (w *Workbench) reloadBackboneIfTrained() error {
	if !w.backboneTrained {
		return nil
	}
	if _, _, err := backbone.LoadDir(w.ctx, w.Model.Dir, false); err != nil {
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
	// The method's parameters (trained, or loaded from an adapter) fit a task
	// with the same head and labels: keep them, so that "load adapter; load task;
	// eval" evaluates the adapter. Otherwise they go, and the user is told.
	keep := w.Task != nil && w.spec != nil && !w.needParams && sameHead(w.Task, t)
	if keep {
		if steps, adapter := w.paramsWorth(); steps > 0 || adapter != "" {
			fmt.Fprintf(w.log(), "note: task %s has the same head and labels: the %s are kept (reset re-creates them)\n",
				t.Name, w.describeParams(steps, adapter))
		}
		w.Task = t
		w.adapterTask = false
		w.invalidate(levelRun, dataCache)
		return nil
	}
	if w.Task != nil {
		if note := w.discardNote("load task " + t.Name + " (another head or other labels)"); note != "" {
			fmt.Fprintf(w.log(), "note: %s\n", note)
		}
	}
	w.Task = t
	w.adapterTask = false
	w.invalidate(levelParams, dataCache)
	return nil
}

// sameHead says whether a model trained for task a fits task b unchanged: the
// same kind of head over the same labels in the same order.
func sameHead(a, b *tasks.Task) bool {
	if a.Kind != b.Kind {
		return false
	}
	return a.Kind == tasks.MultipleChoice || equalStrings(a.Labels, b.Labels)
}

// Set changes a setting ("key", "value"), checked against the settings table
// (and the loaded model, for max_len). What the change invalidates is rebuilt
// on the next command (see Setting.Resets): only method, prefix_len and
// prompt_len re-create the method's parameters; every other setting keeps
// trained and loaded parameters. When a change discards trained or loaded
// parameters, Set says so on Log (SetWithNote returns the note instead).
func (w *Workbench) Set(key, value string) error {
	note, err := w.SetWithNote(key, value)
	if note != "" {
		fmt.Fprintf(w.log(), "note: %s\n", note)
	}
	return err
}

// SetWithNote is Set, returning the note (or "") instead of writing it to Log:
// what the change did to trained or loaded parameters.
func (w *Workbench) SetWithNote(key, value string) (string, error) {
	s, ok := findSetting(key)
	if !ok {
		return "", fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(SettingKeys(), ", "))
	}
	v, err := s.Parse(value)
	if err != nil {
		return "", err
	}
	if w.Model != nil {
		if err := checkForModel(key, v, w.Model.Config); err != nil {
			return "", err
		}
	}
	old := s.format(w.param(key))
	w.ctx.SetParam(key, v)
	now := s.format(v)
	if old == now || (key == method.ParamPrefixLen && w.sameLens(old, now)) {
		return "", nil
	}
	l, c := s.Resets.invalidates()
	note := ""
	switch s.Resets {
	case ResetParams:
		if !w.shapesParams(key) {
			l = levelGraphs
		}
	case ResetInit:
		if steps, adapter := w.paramsWorth(); steps > 0 || adapter != "" {
			when := "applies when the parameters are next created"
			if key == trainer.ParamSeed {
				when = "orders the batches and seeds dropout from now on, and the initialisation when the parameters are next created"
			}
			note = fmt.Sprintf("%s=%s %s: the %s are kept (reset re-creates them now)",
				key, now, when, w.describeParams(steps, adapter))
			l = levelGraphs
		}
		if key == trainer.ParamSeed { // also the batch order, dropout and the honest hold-out
			l, c = max(l, levelTrainer), c|dataCache
		}
	case ResetTrainer:
		if key == trainer.ParamEpochs {
			w.scheduleSteps = 0 // the schedule spans epochs again
		}
	}
	if l >= levelParams {
		note = w.discardNote(key + "=" + now)
	}
	w.invalidate(l, c)
	return note, nil
}

// sameLens says whether two prefix_len values give the same lengths on the
// loaded model ("8" and "8,8,8,8" on four layers).
func (w *Workbench) sameLens(a, b string) bool {
	if w.Model == nil {
		return false
	}
	x, errA := parseLens(a, w.Model.Config.NumLayers())
	y, errB := parseLens(b, w.Model.Config.NumLayers())
	return errA == nil && errB == nil && slices.Equal(x, y)
}

// shapesParams says whether a ResetParams setting matters to the current
// method (prompt_len only to pt, prefix_len only to the prefix methods).
func (w *Workbench) shapesParams(key string) bool {
	kind, err := method.ParseKind(w.strParam(method.ParamMethod))
	if err != nil {
		return true
	}
	switch key {
	case method.ParamPrefixLen:
		return kind.HasPrefix()
	case method.ParamPromptLen:
		return kind.HasPrompt()
	}
	return true
}

// paramsWorth is what the current parameters hold: the steps trained on them
// and the adapter they were loaded from.
func (w *Workbench) paramsWorth() (steps int, adapter string) {
	if w.trainer != nil {
		steps = w.trainer.StepCount
	}
	return steps, w.Adapter
}

func (w *Workbench) describeParams(steps int, adapter string) string {
	var what []string
	if steps > 0 {
		what = append(what, fmt.Sprintf("%s parameters trained to step %d", w.paramsMethod(), steps))
	}
	if adapter != "" {
		what = append(what, "parameters loaded from the adapter "+adapter)
	}
	return strings.Join(what, " and ")
}

// paramsMethod is the method the current parameters belong to.
func (w *Workbench) paramsMethod() string {
	if w.trainer != nil {
		return string(w.trainer.Spec.Method.Kind)
	}
	if w.spec != nil {
		return string(w.spec.Method.Kind)
	}
	return w.strParam(method.ParamMethod)
}

// discardNote is the note for discarding the method's parameters (why: the
// change that does it), naming the training or the adapter that is lost, or
// "" when they hold neither. Call it before invalidate(levelParams, ...).
func (w *Workbench) discardNote(why string) string {
	if steps, adapter := w.paramsWorth(); steps > 0 || adapter != "" {
		return fmt.Sprintf("%s discards the %s; they are re-created at random on the next command", why, w.describeParams(steps, adapter))
	}
	return ""
}

// ResetParams re-creates the method's parameters from the current settings on
// the next command (the shell's reset). It returns what was discarded, or "".
func (w *Workbench) ResetParams() string {
	note := w.discardNote("reset")
	w.invalidate(levelParams, 0)
	return note
}

// Get returns a setting's current value as a string.
func (w *Workbench) Get(key string) (string, error) {
	s, ok := findSetting(key)
	if !ok {
		return "", fmt.Errorf("unknown setting %q", key)
	}
	v, _ := w.ctx.GetParam(key)
	return s.format(v), nil
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

// BackboneDropout is the backbone's effective dropout in training (hidden and
// attention-probability rates): the backbone_dropout setting, or the loaded
// config's rates when it is "config". Without a model both are the setting's
// value, or -1 for "config".
func (w *Workbench) BackboneDropout() (hidden, attention float64) {
	if w.Model == nil {
		v := w.floatParam(backbone.ParamDropout)
		return v, v
	}
	c := w.Model.Config
	return backbone.Dropout(w.ctx, c.HiddenDropout()), backbone.Dropout(w.ctx, c.AttentionDropout())
}
