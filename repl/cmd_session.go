package repl

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

// taskNames are the names `load task` accepts.
var taskNames = append(tasks.Names(), "demo")

// splitNames are the names of a task's splits.
var splitNames = []string{"train", "dev", "test"}

func cmdLoadModel(_ context.Context, s *Shell, args []string) error {
	if len(args) != 1 {
		return usageError("load model", "give one model: a directory, a Hub id, or demo")
	}
	name := args[0]
	if name != "demo" {
		p, err := s.expandPath(name)
		if err != nil {
			return fmt.Errorf("load model: %w", err)
		}
		name = p
	}
	if err := s.w.LoadModel(name); err != nil {
		return err
	}
	info, err := s.w.ModelInfo()
	if err != nil {
		return err
	}
	s.printf("loaded model %s: %d layers, hidden %d, %d heads, %s backbone parameters (frozen)\n",
		s.bold(info.Name), info.Layers, info.Hidden, info.Heads, short(info.BackboneParams))
	if name == "demo" {
		s.printf("%s\n", s.bold("note: the demo model has RANDOM weights, it is not a pretrained BERT."))
		s.printf("      It lets every command run offline; its scores say nothing about APT.\n")
		s.printf("      With network access, load model bert-base-uncased is the real thing.\n")
	}
	if s.w.Task != nil {
		s.note("the task %s stays loaded; the method's parameters start fresh on this model", s.taskName())
	}
	return nil
}

func (s *Shell) taskName() string {
	if s.w.Task == nil {
		return "-"
	}
	if s.demoTask {
		return "demo"
	}
	return s.w.Task.Name
}

func cmdLoadTask(_ context.Context, s *Shell, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return usageError("load task", "give a task name and, except for demo, its directory")
	}
	name := strings.ToLower(args[0])
	if !slices.Contains(taskNames, name) {
		return fmt.Errorf("load task: unknown task %s%s; known: %s", printable(args[0]), didYouMean(name, taskNames), strings.Join(taskNames, " "))
	}
	dir := ""
	if len(args) == 2 {
		if name == "demo" {
			return usageError("load task", "the demo task is built in: give no directory")
		}
		p, err := s.expandPath(args[1])
		if err != nil {
			return fmt.Errorf("load task: %w", err)
		}
		dir = p
	}
	if err := s.w.LoadTask(name, dir); err != nil {
		return err
	}
	s.demoTask = name == "demo"
	t := s.w.Task
	var sizes []string
	for _, sp := range splitNames {
		if x, err := t.Split(sp); err == nil && x != nil {
			sizes = append(sizes, sp+" "+count(x.Len()))
		}
	}
	labels := strings.Join(t.Labels, " ")
	if len(t.Labels) > 12 {
		labels = strings.Join(t.Labels[:12], " ") + fmt.Sprintf(" ... (%d)", len(t.Labels))
	}
	s.printf("loaded task %s (%s): %s\n", s.bold(s.taskName()), t.Kind, strings.Join(sizes, ", "))
	s.printf("  labels: %s; metrics: %s\n", labels, strings.Join(t.Metrics, ", "))
	if s.demoTask {
		s.printf("%s\n", s.dim("  the demo task: short invented movie-review sentences, made for this project"))
	}
	if s.w.Model == nil {
		s.note("no model yet: load model demo (or a directory / Hub id)")
	}
	return nil
}

// settingByKey finds a setting's row in aptlib's settings table.
func settingByKey(key string) (aptlib.Setting, bool) { return aptlib.FindSetting(key) }

// settingChoices are the values of the settings that take a fixed set (from
// aptlib's table, for completion).
func settingChoices(key string) []string {
	st, _ := aptlib.FindSetting(key)
	return st.Valid.Choices
}

func cmdSet(ctx context.Context, s *Shell, args []string) error {
	if len(args) == 0 {
		return cmdShowConfig(ctx, s, nil)
	}
	// "set lr 1e-2" reads as "set lr=1e-2"; "set lr" explains lr.
	if len(args) <= 2 && !strings.Contains(args[0], "=") {
		if _, ok := settingByKey(strings.ToLower(args[0])); ok {
			if len(args) == 1 {
				return s.explainSetting(strings.ToLower(args[0]))
			}
			if !strings.Contains(args[1], "=") {
				args = []string{args[0] + "=" + args[1]}
			}
		}
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if _, known := settingByKey(k); !known {
			return fmt.Errorf("set: unknown setting %s%s; show config lists them", printable(k), didYouMean(k, aptlib.SettingKeys()))
		}
		if !ok {
			return usageError("set", "%s needs a value: set %s=VALUE", k, k)
		}
		if strings.TrimSpace(v) == "" {
			return usageError("set", "%s needs a value after =", k)
		}
		pairs = append(pairs, kv{k, v})
	}
	var done, notes []string
	for _, p := range pairs {
		note, err := s.w.SetWithNote(p.k, p.v)
		if err != nil {
			msg := "set: " + OneLine(err)
			if len(done) > 0 {
				msg += fmt.Sprintf(" (already applied: %s)", strings.Join(done, " "))
			}
			for _, n := range notes {
				s.note("%s", n)
			}
			return fmt.Errorf("%s", msg)
		}
		now, _ := s.w.Get(p.k)
		done = append(done, p.k+"="+now)
		if note != "" {
			notes = append(notes, note)
		}
	}
	s.printf("%s\n", strings.Join(done, " "))
	for _, n := range notes {
		s.note("%s", n)
	}
	return nil
}

func (s *Shell) explainSetting(key string) error {
	st, _ := settingByKey(key)
	v, err := s.w.Get(key)
	if err != nil {
		return err
	}
	s.printf("%s = %s   (default %s)\n", s.bold(key), s.effective(key, v), st.DefaultString())
	s.printf("%s\n", wrap(st.Doc, min(s.width(), 100)-2, "  "))
	if st.Valid.Text != "" {
		s.printf("  values: %s\n", st.Valid.Text)
	}
	if e := st.Resets.Effect(); e != "" {
		s.printf("  %s\n", e)
	}
	return nil
}

// effective adds what a setting resolves to, where that is not its value
// (backbone_dropout=config: the loaded model's rates).
func (s *Shell) effective(key, v string) string {
	if key == backbone.ParamDropout && v == "config" && s.w.Model != nil {
		h, a := s.w.BackboneDropout()
		if h == a {
			return fmt.Sprintf("config (%g)", h)
		}
		return fmt.Sprintf("config (hidden %g, attention %g)", h, a)
	}
	return v
}

func cmdShowConfig(_ context.Context, s *Shell, args []string) error {
	if len(args) > 0 {
		return usageError("show config", "takes no arguments")
	}
	cfg := s.w.Config()
	t := &table{}
	changed := 0
	for _, st := range aptlib.Settings {
		v := cfg[st.Key]
		mark := " "
		def := st.DefaultString()
		key := st.Key
		if v != def {
			mark = "*"
			changed++
			key, v = s.bold(key), s.bold(v)
		} else {
			v = s.effective(st.Key, v)
		}
		t.add(mark+" "+key, v, s.dim(truncRunes(st.Doc, max(20, s.width()-46))))
	}
	s.printf("%s", t)
	if changed > 0 {
		s.printf("%s\n", s.dim(fmt.Sprintf("* %d changed from the default; set <key> explains one, e.g. set lr", changed)))
	} else {
		s.printf("%s\n", s.dim("all defaults; set <key> explains one, e.g. set lr"))
	}
	return nil
}

func cmdShowModel(_ context.Context, s *Shell, args []string) error {
	if len(args) > 0 {
		return usageError("show model", "takes no arguments")
	}
	info, err := s.w.ModelInfo()
	if err != nil {
		return err
	}
	name := info.Name
	if name == "demo" {
		name += " (random weights, not pretrained)"
	}
	t := &table{}
	t.add("model", s.bold(name))
	t.add("directory", info.Dir)
	t.add("family", hang(info.ModelType+": "+info.FamilyDoc, s.width()-1, strings.Repeat(" ", 14)))
	t.add("architecture", fmt.Sprintf("%d layers, hidden %d, %d heads, intermediate %d, %s", info.Layers, info.Hidden, info.Heads, info.Intermediate, info.Activation))
	t.add("vocabulary", fmt.Sprintf("%s tokens, %d positions", count(info.VocabSize), info.MaxPositions))
	t.add("backbone", fmt.Sprintf("%s parameters (%s), frozen except with ft", count(info.BackboneParams), short(info.BackboneParams)))
	t.add("pooler", hang(info.Pooler, s.width()-1, strings.Repeat(" ", 14)))
	t.add("backend", hang(info.Backend+" ("+info.BackendReason+")", s.width()-1, strings.Repeat(" ", 14)))
	s.printf("%s\n", t)

	cur, _ := s.w.Get(method.ParamMethod)
	pl, _ := s.w.Get(method.ParamPrefixLen)
	ptl, _ := s.w.Get(method.ParamPromptLen)
	s.printf("trainable parameters per method (prefix_len %s, prompt_len %s, head %s):\n", pl, ptl, count(info.HeadParams))
	mt := &table{header: true, right: []bool{false, true, true}, indent: "  "}
	mt.add("method", "trainable", "% of backbone")
	for _, m := range info.Methods {
		name := string(m.Method)
		if name == cur {
			name = s.bold(name + " *")
		}
		mt.add(name, count(m.Trainable), fmt.Sprintf("%.3f%%", m.Percent))
	}
	s.printf("%s", mt)
	s.printf("%s\n", s.dim("* the current method"))
	return nil
}

func cmdShowTask(_ context.Context, s *Shell, args []string) error {
	if len(args) > 0 {
		return usageError("show task", "takes no arguments")
	}
	// The table shows what the encoding notes would say.
	log := s.w.Log
	s.w.Log = nil
	info, err := s.w.TaskInfo()
	s.w.Log = log
	if err != nil {
		return err
	}
	t := &table{}
	name := info.Name
	if s.demoTask {
		name = "demo (jsonl; invented sentences, made for this project)"
	}
	t.add("task", s.bold(name))
	if info.Dir != "" {
		t.add("directory", info.Dir)
	}
	t.add("kind", string(info.Kind))
	t.add("labels", fmt.Sprintf("%d: %s", len(info.Labels), strings.Join(info.Labels, " ")))
	t.add("metrics", strings.Join(info.Metrics, ", "))
	s.printf("%s\n", t)
	st := &table{header: true, right: []bool{false, true}, indent: "  "}
	st.add("split", "examples", "labeled", fmt.Sprintf("truncated at max_len %d", info.MaxLen))
	for _, sp := range info.Splits {
		trunc := "- (load a model)"
		if sp.TruncatedRows >= 0 {
			trunc = fmt.Sprintf("%s rows", count(sp.TruncatedRows))
			if sp.TruncatedRows > 0 {
				trunc += fmt.Sprintf(" (%s tokens dropped)", count(sp.TruncatedTokens))
			}
		}
		lab := "yes"
		if !sp.Labeled {
			lab = "no"
		}
		st.add(sp.Name, count(sp.Examples), lab, trunc)
	}
	s.printf("%s", st)
	for _, w := range info.Warnings {
		s.note("%s", w)
	}
	return nil
}

// steps is how many training steps the current run has made.
func (s *Shell) steps() int { return len(s.w.Losses()) }

func cmdShowStatus(_ context.Context, s *Shell, args []string) error {
	if len(args) > 0 {
		return usageError("show status", "takes no arguments")
	}
	t := &table{}
	t.add("backend", hang(s.w.Choice.String(), s.width()-1, strings.Repeat(" ", 9)))
	model := "- (load model demo, a directory or a Hub id)"
	if s.w.Model != nil {
		c := s.w.Model.Config
		model = fmt.Sprintf("%s (%d layers, hidden %d)", s.w.Model.Name, c.NumLayers(), c.HiddenSize())
		if s.w.Model.Name == "demo" {
			model = fmt.Sprintf("demo (random weights; %d layers, hidden %d)", c.NumLayers(), c.HiddenSize())
		}
	}
	t.add("model", model)
	task := "- (load task demo, or e.g. load task rte DIR)"
	if s.w.Task != nil {
		task = fmt.Sprintf("%s (%s, %d labels)", s.taskName(), s.w.Task.Kind, len(s.w.Task.Labels))
	}
	t.add("task", task)
	m, _ := s.w.Get(method.ParamMethod)
	pl, _ := s.w.Get(method.ParamPrefixLen)
	t.add("method", fmt.Sprintf("%s, prefix_len %s", m, pl))
	trained := "0 steps"
	if n := s.steps(); n > 0 {
		losses := s.w.Losses()
		trained = fmt.Sprintf("%d steps, last loss %.4f", n, losses[len(losses)-1])
		if best := bestEpoch(s.w); best != "" {
			trained += "; " + best
		}
	}
	t.add("trained", trained)
	ad := "-"
	if s.w.Adapter != "" {
		ad = s.w.Adapter
	}
	t.add("adapter", ad)
	s.printf("%s", t)
	return nil
}

// bestEpoch describes the best evaluated epoch so far, or "".
func bestEpoch(w *aptlib.Workbench) string {
	best := -1
	for i, e := range w.EvalHistory {
		if !math.IsNaN(e.Score) && (best < 0 || e.Score > w.EvalHistory[best].Score) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	e := w.EvalHistory[best]
	return fmt.Sprintf("best %s score %.4f (epoch %d, step %d)", w.SelectionSplit(), e.Score, e.Epoch+1, e.Step)
}

func cmdReset(_ context.Context, s *Shell, args []string) error {
	switch {
	case len(args) == 0:
		if s.w.Model == nil || s.w.Task == nil {
			return fmt.Errorf("reset: nothing to reset yet (load a model and a task first; reset all starts a fresh session)")
		}
		m, _ := s.w.Get(method.ParamMethod)
		s.w.ResetParams()
		s.printf("the %s parameters will be re-created from the current settings (seed %s)\n", m, mustGet(s.w, trainer.ParamSeed))
		return nil
	case len(args) == 1 && strings.ToLower(args[0]) == "all":
		w, err := aptlib.New(s.opts.Backend)
		if err != nil {
			return err
		}
		w.Log = s.opts.Log
		old := s.w
		s.w, s.demoTask = w, false
		func() {
			defer func() { _ = recover() }()
			old.Backend.Finalize()
		}()
		s.printf("fresh session: no model, no task, default settings\n")
		return nil
	}
	return usageError("reset", "say reset or reset all")
}

func mustGet(w *aptlib.Workbench, key string) string {
	v, _ := w.Get(key)
	return v
}

// statFile reports a plain file's size, or -1.
func statFile(p string) int64 {
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return -1
	}
	return st.Size()
}
