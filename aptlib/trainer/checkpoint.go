package trainer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// CheckpointFormat is the "format" metadata of a training checkpoint.
const CheckpointFormat = "apt-checkpoint/1"

// A training checkpoint is one safetensors file (written atomically). Tensors:
// every trainable variable and every AdamW moment (scope "/optimizer/..."),
// named by their context path ("/prefix/0/key", "/optimizer/m/prefix/0/key"),
// and the gate history as "history/lambda" [N, L] and "history/alpha" [N, A]
// (A = the prefix lengths of the layers with a token gate, back to back; NaN
// where a layer has no gate). Metadata: the keys below. A frozen backbone is
// not saved: its fingerprint is, and LoadCheckpoint checks it.
const (
	ckFormat        = "format"
	ckMethod        = "method" // JSON of method.Config
	ckHead          = "head"   // model.Head
	ckNumLabels     = "num_labels"
	ckHeadDropout   = "head_dropout"
	ckBertConfig    = "bert_config" // JSON of the backbone config (HF keys; the name is from when only BERT loaded)
	ckBackbone      = "backbone"    // "frozen" or "trainable"
	ckBackboneSHA   = "backbone_sha256"
	ckOptions       = "options" // JSON of Options
	ckStep          = "step"
	ckEpoch         = "epoch"
	ckBatchInEpoch  = "batch_in_epoch"
	ckLosses        = "losses"        // JSON array, exact (shortest round-trip form)
	ckHistorySteps  = "history_steps" // JSON array of the snapshots' steps
	ckRNGState      = "rng_state"     // hex of the raw bytes of the context's "#rngState"
	ckRNGShape      = "rng_state_shape"
	ckTrainExamples = "train_examples"
	ckTrainSHA      = "train_sha256" // fingerprint of the training examples (ids, types, labels)

	histLambda = "history/lambda"
	histAlpha  = "history/alpha"
)

var checkpointKeys = []string{ckFormat, ckMethod, ckHead, ckNumLabels, ckHeadDropout, ckBertConfig, ckBackbone,
	ckBackboneSHA, ckOptions, ckStep, ckEpoch, ckBatchInEpoch, ckLosses, ckHistorySteps, ckRNGState, ckRNGShape,
	ckTrainExamples, ckTrainSHA}

// SaveCheckpoint writes everything needed to continue the run exactly (see
// LoadCheckpoint) to path, atomically: the trainable variables (for FT the
// whole backbone), the AdamW moments, the context's random-number state, the
// position (StepCount, Epoch, BatchInEpoch), Losses, History, the Options and
// the model spec. A frozen backbone is recorded by a SHA-256 of its weights only.
func (t *Trainer) SaveCheckpoint(path string) error { return t.SaveCheckpointMeta(path, nil) }

// SaveCheckpointMeta is SaveCheckpoint with extra metadata strings recorded in
// the file (e.g. "base_model"); CheckpointMetadata reads them back.
func (t *Trainer) SaveCheckpointMeta(path string, extra map[string]string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("trainer: saving checkpoint %s: %s", path, fmt.Sprintf(format, args...))
	}
	md := maps.Clone(extra)
	if md == nil {
		md = map[string]string{}
	}
	for k := range extra {
		if slices.Contains(checkpointKeys, k) {
			return fail("extra metadata key %q is reserved", k)
		}
	}
	// The trainer's variables, then their moments (absent before the first step).
	saved := slices.Clone(t.vars)
	for _, v := range t.vars {
		for _, which := range []string{"m", "v"} {
			if m := t.Ctx.GetVariableByScopeAndName("/"+ScopeOptimizer+"/"+which+v.Scope(), v.Name()); m != nil {
				saved = append(saved, m)
			}
		}
	}
	var ts []safetensors.Tensor
	for _, v := range saved {
		if v.DType() != dtypes.Float32 {
			return fail("variable %s is %s, only float32 variables are saved", v.ScopeAndName(), v.DType())
		}
		val, err := v.Value()
		if err != nil {
			return fail("variable %s: %v", v.ScopeAndName(), err)
		}
		data, err := tensors.CopyFlatData[float32](val)
		if err != nil {
			return fail("variable %s: %v", v.ScopeAndName(), err)
		}
		ts = append(ts, safetensors.Tensor{Name: v.ScopeAndName(), Shape: v.Shape().Dimensions, Data: data})
	}
	hist, err := t.historyTensors()
	if err != nil {
		return fail("%v", err)
	}
	ts = append(ts, hist...)

	rng := t.Ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
	if rng == nil || !rng.HasValue() {
		return fail("the context has no random-number state %q", context.RNGStateVariableName)
	}
	rngVal, err := rng.Value()
	if err != nil {
		return fail("%v", err)
	}
	if err := rngVal.ConstBytes(func(b []byte) { md[ckRNGState] = hex.EncodeToString(b) }); err != nil {
		return fail("reading the random-number state: %v", err)
	}
	md[ckRNGShape] = rng.Shape().String()

	steps := make([]int, len(t.History))
	for i, s := range t.History {
		steps[i] = s.Step
	}
	losses, err := json.Marshal(t.Losses)
	if err != nil {
		return fail("losses: %v", err)
	}
	md[ckFormat] = CheckpointFormat
	md[ckMethod] = ckptJSON(t.Spec.Method)
	md[ckHead] = string(t.Spec.Head)
	md[ckNumLabels] = strconv.Itoa(t.Spec.NumLabels)
	md[ckHeadDropout] = strconv.FormatFloat(t.Spec.Dropout, 'g', -1, 64)
	md[ckBertConfig] = ckptJSON(t.Spec.Backbone)
	md[ckOptions] = ckptJSON(t.Opts)
	md[ckStep] = strconv.Itoa(t.StepCount)
	md[ckEpoch] = strconv.Itoa(t.Epoch)
	md[ckBatchInEpoch] = strconv.Itoa(t.BatchInEpoch)
	md[ckLosses] = string(losses)
	md[ckHistorySteps] = ckptJSON(steps)
	md[ckTrainExamples] = strconv.Itoa(len(t.train))
	md[ckTrainSHA] = t.trainFingerprint()
	if t.Spec.Method.Kind.TrainsBackbone() {
		md[ckBackbone] = "trainable"
	} else {
		md[ckBackbone] = "frozen"
		sum, err := backboneFingerprint(t.Ctx, t.Spec)
		if err != nil {
			return fail("%v", err)
		}
		md[ckBackboneSHA] = sum
	}
	if err := safetensors.Write(path, ts, md); err != nil {
		return fmt.Errorf("trainer: saving checkpoint: %w", err)
	}
	return nil
}

// CheckpointMetadata returns a checkpoint's metadata (including what
// SaveCheckpointMeta was given).
func CheckpointMetadata(path string) (map[string]string, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	defer f.Close()
	return f.Metadata(), nil
}

// LoadCheckpoint restores a checkpoint written by SaveCheckpoint into t, so
// that the following Steps give exactly the losses and variables the saved run
// would have produced. Build t as the saved run was built (same backbone,
// method, head and training data; the context's variables created in the same
// order), preferably fresh; the saved Options replace t.Opts. Nothing is
// changed unless everything checks out: the method configuration, head,
// backbone config, a frozen backbone's weights, the training data, the set of
// trainable variables and their shapes must all match the checkpoint's, every
// saved variable and AdamW moment must be finite, and a trainer that has
// already compiled its step must have the same Options.
//
// It runs in three steps: checkCheckpoint (was the file made for this
// trainer?), readCheckpoint (the run's state, checked whole) and
// restoreCheckpoint (the only step that changes t).
func (t *Trainer) LoadCheckpoint(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	defer f.Close()
	fail := checkpointFail(path)
	md := f.Metadata()
	if err := t.checkCheckpoint(fail, md); err != nil {
		return err
	}
	ck, err := t.readCheckpoint(fail, f, md)
	if err != nil {
		return err
	}
	t.restoreCheckpoint(ck)
	return nil
}

// failFunc makes the error of a checkpoint that cannot be loaded.
type failFunc func(format string, args ...any) error

// checkpointFail is the failFunc for the checkpoint at path: its errors read
// "trainer: checkpoint PATH: what is wrong".
func checkpointFail(path string) failFunc {
	return func(format string, args ...any) error {
		return fmt.Errorf("trainer: checkpoint %s: %s", path, fmt.Sprintf(format, args...))
	}
}

// checkCheckpoint checks from the metadata md that the checkpoint is a training
// checkpoint of this format made for t's model and data: the method
// configuration, the head, the backbone config, a frozen backbone's weights
// (by fingerprint) and the training examples (by fingerprint).
func (t *Trainer) checkCheckpoint(fail failFunc, md map[string]string) error {
	if md[ckFormat] != CheckpointFormat {
		return fail("format %q, want %q (not a training checkpoint of this version)", md[ckFormat], CheckpointFormat)
	}
	var mc method.Config
	if err := json.Unmarshal([]byte(md[ckMethod]), &mc); err != nil {
		return fail("method metadata: %v", err)
	}
	have := t.Spec.Method
	if mc.Kind != have.Kind || !slices.Equal(mc.PrefixLens, have.PrefixLens) || mc.PromptLen != have.PromptLen ||
		mc.GatePooling != have.GatePooling || mc.PrefixDropout != have.PrefixDropout {
		return fail("made for method %s; this trainer runs %s", mc.Describe(), have.Describe())
	}
	if md[ckHead] != string(t.Spec.Head) || md[ckNumLabels] != strconv.Itoa(t.Spec.NumLabels) {
		return fail("made for a %s head of %s labels, this trainer has a %s head of %d", md[ckHead], md[ckNumLabels], t.Spec.Head, t.Spec.NumLabels)
	}
	if want := strconv.FormatFloat(t.Spec.Dropout, 'g', -1, 64); md[ckHeadDropout] != want {
		return fail("made with head dropout %s, this trainer uses %s", md[ckHeadDropout], want)
	}
	// The saved config is read into a fresh value of this trainer's config
	// type, so that the comparison is field by field within the family.
	bc := reflect.New(reflect.TypeOf(t.Spec.Backbone).Elem()).Interface()
	if err := json.Unmarshal([]byte(md[ckBertConfig]), bc); err != nil {
		return fail("bert_config metadata: %v", err)
	}
	if diff := configDiff(bc, t.Spec.Backbone); diff != "" {
		return fail("made for another backbone: %s", diff)
	}
	if md[ckBackbone] == "frozen" {
		sum, err := backboneFingerprint(t.Ctx, t.Spec)
		if err != nil {
			return fail("%v", err)
		}
		if sum != md[ckBackboneSHA] {
			return fail("the frozen backbone in this context differs from the one the run was trained with (weights sha256 %s, checkpoint %s)", sum, md[ckBackboneSHA])
		}
	}
	if n := strconv.Itoa(len(t.train)); md[ckTrainExamples] != n || md[ckTrainSHA] != t.trainFingerprint() {
		return fail("made with other training data (%s examples, sha256 %s; this trainer has %s, %s)",
			md[ckTrainExamples], md[ckTrainSHA], n, t.trainFingerprint())
	}
	return nil
}

// savedRun is a checkpoint's run state, read and checked by readCheckpoint and
// not yet applied to the trainer.
type savedRun struct {
	opts                      Options
	step, epoch, batchInEpoch int
	losses                    []float64
	values                    map[*context.Variable][]float32
	moments                   map[string][]float32 // by momentName; nil when the file has none (saved before the first step)
	history                   []GateSnapshot
	rng                       *context.Variable
	rngBytes                  []byte
}

// readCheckpoint reads the run state of a checkpoint that checkCheckpoint has
// accepted: the Options (which must equal t's once t has compiled its step),
// the position, the losses, exactly t's trainable variables with their shapes
// and either all their AdamW moments or none (none only at step 0), every one
// of them finite, the gate history and the random-number state.
func (t *Trainer) readCheckpoint(fail failFunc, f *safetensors.File, md map[string]string) (*savedRun, error) {
	ck := &savedRun{}
	if err := json.Unmarshal([]byte(md[ckOptions]), &ck.opts); err != nil {
		return nil, fail("options metadata: %v", err)
	}
	if t.GraphsCompiled() > 0 && !reflect.DeepEqual(ck.opts, t.Opts) {
		return nil, fail("this trainer has already built its step with other options (%+v, checkpoint %+v): load the checkpoint into a fresh trainer", t.Opts, ck.opts)
	}
	for _, p := range []struct {
		key string
		dst *int
	}{{ckStep, &ck.step}, {ckEpoch, &ck.epoch}, {ckBatchInEpoch, &ck.batchInEpoch}} {
		n, err := strconv.Atoi(md[p.key])
		if err != nil || n < 0 {
			return nil, fail("%s metadata %q is not a non-negative integer", p.key, md[p.key])
		}
		*p.dst = n
	}
	if err := json.Unmarshal([]byte(md[ckLosses]), &ck.losses); err != nil {
		return nil, fail("losses metadata: %v", err)
	}
	var err error
	if ck.values, ck.moments, err = t.readCheckpointVariables(fail, f, ck.step); err != nil {
		return nil, err
	}
	if ck.history, err = t.readHistory(f, md); err != nil {
		return nil, fail("%v", err)
	}
	ck.rng = t.Ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
	if ck.rng == nil {
		return nil, fail("this trainer's context has no random-number state (build it with trainer.New)")
	}
	if md[ckRNGShape] != ck.rng.Shape().String() {
		return nil, fail("random-number state has shape %s, this context's %s", md[ckRNGShape], ck.rng.Shape())
	}
	ck.rngBytes, err = hex.DecodeString(md[ckRNGState])
	if err != nil || len(ck.rngBytes) != int(ck.rng.Shape().Memory()) {
		return nil, fail("rng_state metadata is not %d bytes of hex", ck.rng.Shape().Memory())
	}
	return ck, nil
}

// readCheckpointVariables reads t's trainable variables and their AdamW moments
// (nil when the file has none; step is the saved step count) from f. The file
// must hold exactly those tensors besides the history, with t's shapes, and
// every value finite: a checkpoint of a run that had diverged is refused
// rather than resumed into garbage.
func (t *Trainer) readCheckpointVariables(fail failFunc, f *safetensors.File, step int) (map[*context.Variable][]float32, map[string][]float32, error) {
	read := func(name string, shape []int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fail("has no tensor %q", name)
		}
		if !slices.Equal(info.Shape, shape) && !(len(info.Shape) == 0 && len(shape) == 0) {
			return nil, fail("tensor %q has shape %v, this trainer's variable %v", name, info.Shape, shape)
		}
		data, _, err := f.Float32(name)
		if err != nil {
			return nil, err
		}
		if i, what := safetensors.FirstNonFinite(data); i >= 0 {
			return nil, fail("tensor %q has a non-finite value (%s at index %d): the saved run had diverged", name, what, i)
		}
		return data, nil
	}
	values := map[*context.Variable][]float32{}
	expected := map[string]bool{histLambda: true, histAlpha: true}
	moments := 0
	for _, v := range t.vars {
		data, err := read(v.ScopeAndName(), v.Shape().Dimensions)
		if err != nil {
			return nil, nil, err
		}
		values[v] = data
		expected[v.ScopeAndName()] = true
		for _, which := range []string{"m", "v"} {
			name := momentName(which, v)
			expected[name] = true
			if _, ok := f.Info(name); ok {
				moments++
			}
		}
	}
	for _, name := range f.Names() {
		if !expected[name] {
			return nil, nil, fail("has tensor %q, which is no trainable variable (or moment) of this trainer", name)
		}
	}
	if moments > 0 && moments != 2*len(t.vars) {
		return nil, nil, fail("has the AdamW moments of only some variables (%d of %d)", moments, 2*len(t.vars))
	}
	if moments == 0 {
		if step > 0 {
			return nil, nil, fail("was saved after %d steps but has no AdamW moments", step)
		}
		return values, nil, nil
	}
	momentValues := map[string][]float32{}
	for _, v := range t.vars {
		for _, which := range []string{"m", "v"} {
			data, err := read(momentName(which, v), v.Shape().Dimensions)
			if err != nil {
				return nil, nil, err
			}
			momentValues[momentName(which, v)] = data
		}
	}
	return values, momentValues, nil
}

// restoreCheckpoint applies what readCheckpoint read: the variables, the
// moments (created in the order the step creates them when t has none yet),
// the random-number state, the Options and the position, losses and history.
// It cannot fail: everything was checked before.
func (t *Trainer) restoreCheckpoint(ck *savedRun) {
	for v, data := range ck.values {
		v.MustSetValue(tensors.FromFlatDataAndDimensions(data, v.Shape().Dimensions...))
	}
	if ck.moments != nil {
		// In the order the step creates them (m, then v, per variable).
		for _, v := range t.vars {
			for _, which := range []string{"m", "v"} {
				scope := "/" + ScopeOptimizer + "/" + which + v.Scope()
				val := tensors.FromFlatDataAndDimensions(ck.moments[momentName(which, v)], v.Shape().Dimensions...)
				if m := t.Ctx.GetVariableByScopeAndName(scope, v.Name()); m != nil {
					m.MustSetValue(val)
				} else {
					t.Ctx.InAbsPath(scope).Checked(false).VariableWithValue(v.Name(), val).SetTrainable(false)
				}
			}
		}
	}
	state := tensors.FromShape(ck.rng.Shape())
	state.MutableBytes(func(b []byte) { copy(b, ck.rngBytes) })
	ck.rng.MustSetValue(state)
	t.Opts = ck.opts
	t.stepsPerEpoch = 0 // the batch size may differ
	t.StepCount, t.Epoch, t.BatchInEpoch = ck.step, ck.epoch, ck.batchInEpoch
	t.Losses = ck.losses
	t.History = ck.history
	t.planEpoch = -1 // the batch order is rebuilt from (Seed, Epoch)
}

func momentName(which string, v *context.Variable) string {
	return context.JoinScope("/"+ScopeOptimizer+"/"+which+v.Scope(), v.Name())
}

// historyTensors packs History into [N, L] lambdas and [N, A] alphas. The
// snapshots' values come from float32 graph outputs, so float32 keeps them exactly.
func (t *Trainer) historyTensors() ([]safetensors.Tensor, error) {
	alphaLayers, lambdaLayers := t.Spec.Method.GateLayout()
	L, A := len(lambdaLayers), 0
	for i, has := range alphaLayers {
		if has {
			A += t.Spec.Method.PrefixLens[i]
		}
	}
	lam := make([]float32, 0, len(t.History)*L)
	alpha := make([]float32, 0, len(t.History)*A)
	for _, s := range t.History {
		if len(s.Lambda) != L || len(s.Alpha) != len(alphaLayers) {
			return nil, fmt.Errorf("gate snapshot of step %d has %d lambdas and %d alpha layers, want %d and %d", s.Step, len(s.Lambda), len(s.Alpha), L, len(alphaLayers))
		}
		for _, x := range s.Lambda {
			lam = append(lam, float32(x))
		}
		for i, has := range alphaLayers {
			if has && len(s.Alpha[i]) != t.Spec.Method.PrefixLens[i] {
				return nil, fmt.Errorf("gate snapshot of step %d has %d alphas for layer %d, want %d", s.Step, len(s.Alpha[i]), i, t.Spec.Method.PrefixLens[i])
			}
			if has {
				for _, x := range s.Alpha[i] {
					alpha = append(alpha, float32(x))
				}
			}
		}
	}
	n := len(t.History)
	return []safetensors.Tensor{
		{Name: histLambda, Shape: []int{n, L}, Data: lam},
		{Name: histAlpha, Shape: []int{n, A}, Data: alpha},
	}, nil
}

// readHistory is historyTensors' inverse.
func (t *Trainer) readHistory(f *safetensors.File, md map[string]string) ([]GateSnapshot, error) {
	var steps []int
	if err := json.Unmarshal([]byte(md[ckHistorySteps]), &steps); err != nil {
		return nil, fmt.Errorf("history_steps metadata: %v", err)
	}
	alphaLayers, lambdaLayers := t.Spec.Method.GateLayout()
	L, A := len(lambdaLayers), 0
	for i, has := range alphaLayers {
		if has {
			A += t.Spec.Method.PrefixLens[i]
		}
	}
	lam, lshape, err := f.Float32(histLambda)
	if err != nil {
		return nil, err
	}
	alpha, ashape, err := f.Float32(histAlpha)
	if err != nil {
		return nil, err
	}
	n := len(steps)
	if !slices.Equal(lshape, []int{n, L}) || !slices.Equal(ashape, []int{n, A}) {
		return nil, fmt.Errorf("history tensors have shapes %v and %v, want [%d %d] and [%d %d]", lshape, ashape, n, L, n, A)
	}
	var out []GateSnapshot
	for k, step := range steps {
		s := GateSnapshot{Step: step, Lambda: make([]float64, L), Alpha: make([][]float64, len(alphaLayers))}
		for i := range L {
			s.Lambda[i] = float64(lam[k*L+i])
			if math.IsNaN(s.Lambda[i]) {
				s.Lambda[i] = math.NaN() // the trainer's NaN, bit for bit
			}
		}
		off := k * A
		for i, has := range alphaLayers {
			if has {
				p := t.Spec.Method.PrefixLens[i]
				s.Alpha[i] = toFloat64(alpha[off : off+p])
				off += p
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// backboneFingerprint is a SHA-256 over the backbone's canonical tensors in
// the context: name, shape and float32 bytes, in the family's Tensors order.
func backboneFingerprint(ctx *context.Context, s *model.Spec) (string, error) {
	family, err := s.Family()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, spec := range family.Tensors(s.Backbone) {
		v := family.Variable(ctx, spec.Name)
		if v == nil {
			return "", fmt.Errorf("the context has no backbone tensor %q", spec.Name)
		}
		val, err := v.Value()
		if err != nil {
			return "", fmt.Errorf("backbone tensor %q: %w", spec.Name, err)
		}
		fmt.Fprintf(h, "%s %v %s\n", spec.Name, v.Shape().Dimensions, v.DType())
		if err := val.ConstBytes(func(b []byte) { h.Write(b) }); err != nil {
			return "", fmt.Errorf("backbone tensor %q: %w", spec.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// trainFingerprint is a SHA-256 of the training examples (what decides the
// batches): ids, type ids, labels and token labels.
func (t *Trainer) trainFingerprint() string {
	h := sha256.New()
	var buf []byte
	ints := func(xs []int32) {
		buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(len(xs)))
		for _, x := range xs {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(x))
		}
		h.Write(buf)
	}
	for _, ex := range t.train {
		ints([]int32{int32(len(ex.IDs)), int32(ex.Label)})
		for r := range ex.IDs {
			ints(ex.IDs[r])
			ints(ex.TypeIDs[r])
		}
		ints(ex.TokenLabels)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// configDiff names the backbone config fields that differ ("" when none).
// saved and have are pointers to configs of one family.
func configDiff(saved, have any) string {
	if reflect.DeepEqual(saved, have) {
		return ""
	}
	var a, b map[string]any
	json.Unmarshal([]byte(ckptJSON(saved)), &a)
	json.Unmarshal([]byte(ckptJSON(have)), &b)
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			diffs = append(diffs, fmt.Sprintf("%s %v (this trainer's backbone: %v)", k, a[k], b[k]))
		}
	}
	return strings.Join(diffs, ", ")
}

func ckptJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // configs and options are plain structs of numbers and strings
	}
	return string(b)
}
