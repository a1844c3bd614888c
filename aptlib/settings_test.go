package aptlib

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestTableDefaultsAreTheReadersDefaults: a context holding the table's
// defaults and a context holding no parameter at all give the same method
// configuration and trainer options, and method.Default and
// trainer.Options.Defaults agree with both.
func TestTableDefaultsAreTheReadersDefaults(t *testing.T) {
	const layers = 4
	table, empty := context.New(), context.New()
	setDefaults(table)
	for _, k := range method.Kinds {
		fromTable, err := method.KindConfigFromContext(table, k, layers)
		if err != nil {
			t.Fatalf("%s from the table's defaults: %v", k, err)
		}
		fromNothing, err := method.KindConfigFromContext(empty, k, layers)
		if err != nil {
			t.Fatalf("%s from an empty context: %v", k, err)
		}
		if !reflect.DeepEqual(fromTable, fromNothing) {
			t.Errorf("%s: the table's defaults give %+v, the reader's own %+v", k, fromTable, fromNothing)
		}
		if def := method.Default(k, layers); !reflect.DeepEqual(def, fromTable) {
			t.Errorf("method.Default(%s) = %+v, the table's defaults give %+v", k, def, fromTable)
		}
	}
	m, err := method.ConfigFromContext(table, layers)
	if err != nil || string(m.Kind) != Settings[0].Default {
		t.Errorf("ConfigFromContext on the defaults: kind %q, %v; the table's method default is %v", m.Kind, err, Settings[0].Default)
	}
	opts := trainer.OptionsFromContext(table)
	if o := trainer.OptionsFromContext(empty); !reflect.DeepEqual(opts, o) {
		t.Errorf("trainer options: the table's defaults give %+v, the reader's own %+v", opts, o)
	}
	// Defaults fills what a zero Options leaves out; decay and seed stay 0 there.
	filled := trainer.Options{}.Defaults()
	filled.WeightDecay, filled.Seed = opts.WeightDecay, opts.Seed
	filled.Beta1, filled.Beta2, filled.Epsilon = 0, 0, 0
	if !reflect.DeepEqual(filled, opts) {
		t.Errorf("Options.Defaults %+v differs from the table's defaults %+v", filled, opts)
	}
}

// alternative is a valid value of s other than its default, checked by the row's own rule.
func alternative(t *testing.T, s Setting) string {
	t.Helper()
	var v string
	switch d := s.Default.(type) {
	case int:
		v = fmt.Sprint(d + 1)
	case float64:
		v = paramString(d + 0.05)
		if _, err := s.Parse(v); err != nil && d < 0 { // backbone_dropout: config is -1
			v = "0.05"
		}
	case string:
		switch {
		case s.Key == method.ParamMethod:
			v = string(method.PT2)
		case s.Key == method.ParamPrefixLen:
			v = "3,0,1,2"
		default:
			i := slices.Index(s.Valid.Choices, d)
			v = s.Valid.Choices[(i+1)%len(s.Valid.Choices)]
		}
	}
	if _, err := s.Parse(v); err != nil {
		t.Fatalf("%s: the test's alternative %q is refused: %v", s.Key, v, err)
	}
	return v
}

// TestEveryRowIsRead: each row is read by method.ConfigFromContext, by
// trainer.OptionsFromContext, or by aptlib itself (a short list): a value
// other than the default set in the context changes what the reader returns.
// A row that nothing reads fails here.
func TestEveryRowIsRead(t *testing.T) {
	const layers = 4
	readByAptlib := []string{keyDropout, bert.ParamBackboneDropout, keyPatience, keyEvalBatchSize,
		keyProtocol, keyHeldout, keyTrainLimit, keyEvalLimit}
	base := context.New()
	setDefaults(base)
	kindFor := func(key string) method.Kind {
		if key == method.ParamPromptLen {
			return method.PT
		}
		return method.APT
	}
	for _, s := range Settings {
		ctx := context.New()
		setDefaults(ctx)
		v, err := s.Parse(alternative(t, s))
		if err != nil {
			t.Fatal(err)
		}
		ctx.SetParam(s.Key, v)
		var readers []string
		if s.Key == method.ParamMethod {
			a, errA := method.ConfigFromContext(base, layers)
			b, errB := method.ConfigFromContext(ctx, layers)
			if errA == nil && errB == nil && a.Kind != b.Kind {
				readers = append(readers, "method.ConfigFromContext")
			}
		} else {
			a, errA := method.KindConfigFromContext(base, kindFor(s.Key), layers)
			b, errB := method.KindConfigFromContext(ctx, kindFor(s.Key), layers)
			if errA != nil || errB != nil {
				t.Fatalf("%s: %v, %v", s.Key, errA, errB)
			}
			if !reflect.DeepEqual(a, b) {
				readers = append(readers, "method.KindConfigFromContext")
			}
		}
		if !reflect.DeepEqual(trainer.OptionsFromContext(base), trainer.OptionsFromContext(ctx)) {
			readers = append(readers, "trainer.OptionsFromContext")
		}
		if slices.Contains(readByAptlib, s.Key) {
			readers = append(readers, "aptlib")
		}
		if len(readers) != 1 {
			t.Errorf("setting %s is read by %v, want exactly one reader", s.Key, readers)
		}
	}
}

// TestTableDefaultsParse: every row's default passes its own rule and
// formats back to itself.
func TestTableDefaultsParse(t *testing.T) {
	for _, s := range Settings {
		v, err := s.Parse(s.DefaultString())
		if err != nil {
			t.Errorf("%s: default %q refused by its rule: %v", s.Key, s.DefaultString(), err)
			continue
		}
		if s.format(v) != s.DefaultString() {
			t.Errorf("%s: default %q reads back as %q", s.Key, s.DefaultString(), s.format(v))
		}
		if _, c := s.Resets.invalidates(); s.Resets.Effect() == "" || (c&^(specCache|dataCache)) != 0 {
			t.Errorf("%s: reset kind %q has no effect text or an unknown cache", s.Key, s.Resets)
		}
	}
}

// fullState is a workbench holding every piece of derived state.
func fullState() *Workbench {
	return &Workbench{
		spec:            &model.Spec{},
		encoded:         map[string]*tasks.Encoded{"train": {}},
		examples:        map[string][]model.Example{"train": {{}}},
		trainer:         &trainer.Trainer{},
		predictor:       &trainer.Predictor{},
		LastStep:        &trainer.StepResult{},
		EvalHistory:     []trainer.EpochReport{{}},
		scheduleSteps:   7,
		Adapter:         "a.safetensors",
		backboneTrained: true,
	}
}

// dropped lists what invalidate took from fullState.
func dropped(w *Workbench) []string {
	var out []string
	add := func(gone bool, name string) {
		if gone {
			out = append(out, name)
		}
	}
	add(w.predictor == nil, "predictor")
	add(w.needTrainer, "trainer rebuilt")
	add(w.trainer == nil, "trainer")
	add(w.LastStep == nil, "last step")
	add(w.EvalHistory == nil, "evaluations")
	add(w.scheduleSteps == 0, "schedule")
	add(w.needParams, "parameters")
	add(w.Adapter == "", "adapter")
	add(w.spec == nil, "spec")
	add(len(w.encoded) == 0 && len(w.examples) == 0, "data")
	add(!w.backboneTrained, "backbone trained")
	return out
}

// TestInvalidateLevels: each level drops exactly its own state and that of
// the levels below; the caches go only when asked for (or implied).
func TestInvalidateLevels(t *testing.T) {
	graphs := []string{"predictor"}
	tr := append(slices.Clone(graphs), "trainer rebuilt")
	run := append(slices.Clone(tr), "trainer", "last step", "evaluations", "schedule")
	params := append(slices.Clone(run), "parameters", "adapter", "spec")
	backbone := append(slices.Clone(params), "data", "backbone trained")
	for _, c := range []struct {
		name string
		l    level
		c    cache
		want []string
	}{
		{"none", levelNone, 0, nil},
		{"spec", levelNone, specCache, []string{"spec"}},
		{"data", levelNone, dataCache, []string{"data"}},
		{"graphs", levelGraphs, 0, graphs},
		{"trainer", levelTrainer, 0, tr},
		{"trainer+data", levelTrainer, dataCache, append(slices.Clone(tr), "data")},
		{"trainer+spec", levelTrainer, specCache, append(slices.Clone(tr), "spec")},
		{"run", levelRun, 0, run},
		{"params", levelParams, 0, params},
		{"params+data", levelParams, dataCache, append(slices.Clone(params), "data")},
		{"backbone", levelBackbone, 0, backbone},
	} {
		w := fullState()
		w.invalidate(c.l, c.c)
		got, want := dropped(w), c.want
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("invalidate(%s) dropped %q, want %q", c.name, got, want)
		}
	}
	// What each kind of setting invalidates (before SetWithNote's two refinements).
	for k, want := range map[ResetKind][2]int{
		ResetTrainer: {int(levelTrainer), 0},
		ResetData:    {int(levelTrainer), int(dataCache)},
		ResetGraph:   {int(levelTrainer), int(specCache)},
		ResetInit:    {int(levelParams), int(specCache)},
		ResetParams:  {int(levelParams), 0},
	} {
		if l, c := k.invalidates(); int(l) != want[0] || int(c) != want[1] {
			t.Errorf("%s invalidates level %d, caches %b; want %d, %b", k, l, c, want[0], want[1])
		}
	}
}

// TestSetInvalidatesByKind: on a session that has trained, each kind of
// setting drops what its level says and keeps the rest.
func TestSetInvalidatesByKind(t *testing.T) {
	w := demoBench(t)
	if _, err := w.Step(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Predictor(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, value                                  string
		trainerKept, specKept, dataKept, paramsKept bool
	}{
		{trainer.ParamLR, "1e-3", true, true, true, true},
		{keyDropout, "0.2", true, false, true, true},
		{keyTrainLimit, "5", true, true, false, true},
		{method.ParamInitStd, "0.03", true, false, true, true}, // trained: kept, with a note
		{method.ParamPromptLen, "4", true, true, true, true},   // apt has no prompt
		{method.ParamMethod, "pt2", false, false, true, false},
	} {
		if _, err := w.Trainer(); err != nil { // rebuild what the last change dropped
			t.Fatal(err)
		}
		if _, err := w.Predictor(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.Encoded("train"); err != nil {
			t.Fatal(err)
		}
		tr, spec := w.trainer, w.spec
		if _, err := w.SetWithNote(c.key, c.value); err != nil {
			t.Fatal(err)
		}
		if w.predictor != nil {
			t.Errorf("set %s: the predictor is kept", c.key)
		}
		if got := w.trainer == tr; got != c.trainerKept {
			t.Errorf("set %s: trainer kept %v, want %v", c.key, got, c.trainerKept)
		}
		if got := w.spec == spec; got != c.specKept {
			t.Errorf("set %s: spec kept %v, want %v", c.key, got, c.specKept)
		}
		if _, got := w.encoded["train"]; got != c.dataKept {
			t.Errorf("set %s: encoded data kept %v, want %v", c.key, got, c.dataKept)
		}
		if got := !w.needParams; got != c.paramsKept {
			t.Errorf("set %s: parameters kept %v, want %v", c.key, got, c.paramsKept)
		}
	}
}
