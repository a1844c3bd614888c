package adapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
)

// Adapter is a loaded and validated adapter file.
type Adapter struct {
	Path       string
	Meta       Meta          // the metadata; Extra holds the keys that are not Key* constants
	Method     method.Config // rebuilt from the tensors and the metadata
	Head       model.Head
	NumLabels  int // head columns; multiple choice: num_labels (or the number of labels)
	HiddenSize int // d, from head.weight
	// ModelType is the backbone family the adapter was trained on (its
	// model_type metadata); "" for a file written before that key.
	ModelType string
	// Pooler: the adapter holds a created pooler (PoolerLayout), trained with
	// the head on a backbone whose checkpoint had none.
	Pooler bool
	// PositionOffset is the position_offset metadata: the shift of the
	// absolute positions the adapter was trained with (0 when absent). It is
	// 0 or layer 0's prefix length, and Method.PositionOffset is
	// method.OffsetNone or method.OffsetPrefix accordingly.
	PositionOffset int
	// Tensors by name, exactly Layout(&Method, HiddenSize, outputs), then
	// PoolerLayout(HiddenSize) when Pooler.
	Tensors map[string]safetensors.Tensor

	// lensFromMetadata: Method.PrefixLens came from prefix_lens (one entry per
	// backbone layer) rather than from the tensors alone.
	lensFromMetadata bool
	// offsetText is the position_offset metadata as written ("" when absent),
	// read by readOffset once the prefix lengths are known.
	offsetText string
}

// Error is a problem with an adapter file: which file, which tensor (when the
// problem is about one) and what was expected. Error() is one line.
type Error struct {
	File   string
	Tensor string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("adapter: ")
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates an adapter file: the format version, the method and
// head names, the metadata values, and that the tensors are exactly those of
// the method (none missing, none extra, every shape consistent with the hidden
// size given by head.weight and with the per-layer prefix lengths, which come
// from the prefix_lens metadata or, without it, from the prefix tensors). The
// first problem found is returned as an *Error naming the file and the tensor.
func Load(path string) (*Adapter, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	defer f.Close()
	a := &Adapter{Path: path}
	md := f.Metadata()
	format, ok := md[KeyFormat]
	switch {
	case !ok:
		return nil, a.fail("", "no %q metadata: not an APT adapter file (want %s=%s)", KeyFormat, KeyFormat, Format)
	case format != Format:
		return nil, a.fail("", "format %q is not supported (this version reads %q)", format, Format)
	}
	if err := a.readMetadata(md, false); err != nil {
		return nil, err
	}
	if err := a.readTensors(f); err != nil {
		return nil, err
	}
	if err := a.readOffset(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Adapter) fail(tensor, format string, args ...any) error {
	return &Error{File: a.Path, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}

// readMetadata fills Meta, Head and the method configuration (but for the
// lengths the tensors give) from the __metadata__ map, whose format the caller
// has checked. fullModel: the map is an FT model directory's, whose method
// must be ft; else ft is refused.
func (a *Adapter) readMetadata(md map[string]string, fullModel bool) error {
	required := func(key string) (string, error) {
		v, ok := md[key]
		if !ok {
			return "", a.fail("", "no %q metadata (required by %s)", key, Format)
		}
		return v, nil
	}
	s, err := required(KeyMethod)
	if err != nil {
		return err
	}
	kind, ok := parseKind(s)
	switch {
	case !ok:
		return a.fail("", "unknown method %q (want one of %s)", s, strings.Join(adapterKinds(), ", "))
	case kind.TrainsBackbone() && !fullModel:
		return a.fail("", "method %s is saved as a model directory, not as an adapter file (see adapter.LoadModelDir)", kind)
	case !kind.TrainsBackbone() && fullModel:
		return a.fail("", "method %s is saved as an adapter file, not as a model directory (see adapter.Load)", kind)
	}
	if s, err = required(KeyHead); err != nil {
		return err
	}
	if a.Head, ok = parseHead(s); !ok {
		return a.fail("", "unknown head %q (want %s, %s or %s)", s, model.SequenceClassification, model.MultipleChoice, model.TokenClassification)
	}
	if s, err = required(KeyLabels); err != nil {
		return err
	}
	var labels []string
	if err := json.Unmarshal([]byte(s), &labels); err != nil || labels == nil {
		return a.fail("", "%s metadata %q is not a JSON array of strings", KeyLabels, s)
	}
	if d, ok := duplicateLabel(labels); ok {
		return a.fail("", "%s metadata names label %q twice", KeyLabels, d)
	}
	s, ok = md[KeyGatePooling]
	switch {
	case !ok && fullModel:
		s = method.PoolMean // FT has no gate
	case !ok:
		return a.fail("", "no %q metadata (required by %s)", KeyGatePooling, Format)
	}
	if s != method.PoolMean && s != method.PoolCLS {
		return a.fail("", "%s %q: want %q or %q", KeyGatePooling, s, method.PoolMean, method.PoolCLS)
	}
	c := method.Default(kind, 0)
	c.GatePooling = s
	a.Meta = Meta{Method: kind, Head: a.Head, Labels: labels, GatePooling: s, Task: md[KeyTask],
		BaseModel: md[KeyBaseModel], BaseModelSHA256: md[KeyBaseModelSHA256], Extra: map[string]string{}}
	ints := []struct {
		key string
		dst *int
	}{{KeyMaxLen, &a.Meta.MaxLen}, {KeyPromptLen, &c.PromptLen}, {KeyNumLabels, &a.NumLabels}, {KeyHiddenSize, &a.HiddenSize}}
	for _, f := range ints {
		if s, ok := md[f.key]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return a.fail("", "%s metadata %q is not a non-negative integer", f.key, s)
			}
			*f.dst = n
		}
	}
	floats := []struct {
		key string
		dst *float64
	}{{KeyPrefixDropout, &c.PrefixDropout}, {KeyInitStd, &c.InitStd}, {KeyGateBiasInit, &c.GateBiasInit}, {KeyLayerScaleInit, &c.LayerScaleInit}}
	for _, f := range floats {
		if s, ok := md[f.key]; ok {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return a.fail("", "%s metadata %q is not a number", f.key, s)
			}
			*f.dst = x
		}
	}
	if s, ok := md[KeyPrefixLens]; ok {
		var lens []int
		if err := json.Unmarshal([]byte(s), &lens); err != nil || lens == nil || slices.ContainsFunc(lens, func(p int) bool { return p < 0 }) {
			return a.fail("", "%s metadata %q is not a JSON array of non-negative integers", KeyPrefixLens, s)
		}
		if !kind.HasPrefix() && slices.ContainsFunc(lens, func(p int) bool { return p > 0 }) {
			return a.fail("", "%s %s given for method %s, which has no prefixes", KeyPrefixLens, s, kind)
		}
		if kind.HasPrefix() {
			c.PrefixLens, a.lensFromMetadata = lens, true
		}
	}
	if !a.lensFromMetadata {
		c.PrefixLens = nil
	}
	if c.PrefixDropout < 0 || c.PrefixDropout >= 1 {
		return a.fail("", "%s %g: want 0 <= rate < 1", KeyPrefixDropout, c.PrefixDropout)
	}
	a.Method = c
	a.ModelType = md[KeyModelType]
	a.offsetText = md[KeyPositionOffset]
	for k, v := range md {
		if !reserved[k] {
			a.Meta.Extra[k] = v
		}
	}
	return nil
}

// readOffset reads the position_offset metadata against the prefix lengths:
// absent or "0" is no shift; layer 0's prefix length p_0 > 0 is
// position_offset=prefix; anything else (not a whole number, negative, or
// another number) is an error naming the value and what was expected.
func (a *Adapter) readOffset() error {
	c := &a.Method
	c.PositionOffset, a.PositionOffset = method.OffsetNone, 0
	p0 := 0
	if c.Kind.HasPrefix() && len(c.PrefixLens) > 0 {
		p0 = c.PrefixLens[0]
	}
	if a.offsetText == "" {
		return nil
	}
	n, err := strconv.Atoi(a.offsetText)
	switch {
	case err == nil && n == 0:
		return nil
	case err == nil && n > 0 && n == p0:
		c.PositionOffset, a.PositionOffset = method.OffsetPrefix, n
		return nil
	}
	want := fmt.Sprintf("want 0 (no shift) or %d (layer 0's prefix length: %s=%s)", p0, method.ParamPositionOffset, method.OffsetPrefix)
	if p0 == 0 {
		want = fmt.Sprintf("want 0: method %s has no prefix in layer 0, so nothing shifts the positions", c.Kind)
	}
	if err != nil || n < 0 {
		return a.fail("", "%s metadata %q is not a number of positions >= 0; %s", KeyPositionOffset, a.offsetText, want)
	}
	return a.fail("", "%s metadata %q does not match the adapter's prefixes; %s", KeyPositionOffset, a.offsetText, want)
}

// readTensors checks the file's tensors against the method's layout and reads them.
func (a *Adapter) readTensors(f *safetensors.File) error {
	infos := map[string]safetensors.TensorInfo{}
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		if _, _, ok := tensorName(name); !ok {
			return a.fail(name, "unexpected tensor: not a tensor of the adapter format (%s)", strings.Join(formatNames(), ", "))
		}
		if info.DType != "F32" {
			return a.fail(name, "dtype %s, adapter tensors are F32", info.DType)
		}
		infos[name] = info
	}
	if err := a.headShape(infos); err != nil {
		return err
	}
	why, err := a.lengths(infos)
	if err != nil {
		return err
	}
	outputs := a.NumLabels
	if a.Head == model.MultipleChoice {
		outputs = 1
	}
	layout := Layout(&a.Method, a.HiddenSize, outputs)
	if _, ok := infos[backbone.ScopePooler+".weight"]; ok {
		a.Pooler = true
	} else if _, ok := infos[backbone.ScopePooler+".bias"]; ok {
		a.Pooler = true
	}
	if a.Pooler {
		layout = append(layout, PoolerLayout(a.HiddenSize)...)
	}
	expected := map[string]bool{}
	for _, want := range layout {
		expected[want.Name] = true
		info, ok := infos[want.Name]
		if !ok {
			return a.fail(want.Name, "missing: method %s needs it with shape %s (%s)", a.Method.Kind, shapeString(want.Shape), why(want))
		}
		if !slices.Equal(info.Shape, want.Shape) && !(len(info.Shape) == 0 && len(want.Shape) == 0) {
			return a.fail(want.Name, "shape %s, expected %s (%s)", shapeString(info.Shape), shapeString(want.Shape), why(want))
		}
	}
	for _, name := range f.Names() {
		if !expected[name] {
			return a.fail(name, "unexpected tensor for method %s: %s", a.Method.Kind, a.whyUnexpected(name))
		}
	}
	a.Tensors = map[string]safetensors.Tensor{}
	for _, want := range layout {
		data, _, err := f.Float32(want.Name)
		if err != nil {
			return fmt.Errorf("adapter: %w", err)
		}
		if i, what := safetensors.FirstNonFinite(data); i >= 0 {
			return a.fail(want.Name, "has a non-finite value (%s at index %d)", what, i)
		}
		a.Tensors[want.Name] = safetensors.Tensor{Name: want.Name, Shape: slices.Clone(want.Shape), Data: data}
	}
	return nil
}

// headShape takes d and the number of labels from head.weight and checks them
// against the metadata.
func (a *Adapter) headShape(infos map[string]safetensors.TensorInfo) error {
	const hw = model.ScopeHead + ".weight"
	info, ok := infos[hw]
	if !ok {
		return a.fail(hw, "missing: every adapter has the head's weight [d, num_labels]")
	}
	if len(info.Shape) != 2 || info.Shape[0] == 0 || info.Shape[1] == 0 {
		return a.fail(hw, "shape %s, expected [d, num_labels] with d, num_labels > 0", shapeString(info.Shape))
	}
	d, n := info.Shape[0], info.Shape[1]
	if a.HiddenSize != 0 && a.HiddenSize != d {
		return a.fail(hw, "shape %s, but the %s metadata says d = %d", shapeString(info.Shape), KeyHiddenSize, a.HiddenSize)
	}
	a.HiddenSize = d
	labels := a.Meta.Labels
	switch a.Head {
	case model.MultipleChoice:
		if n != 1 {
			return a.fail(hw, "shape %s, a %s head scores each choice with one column: expected [%d 1]", shapeString(info.Shape), a.Head, d)
		}
		if a.NumLabels == 0 {
			a.NumLabels = len(labels)
		}
	default:
		if len(labels) != n {
			return a.fail(hw, "shape %s has %d label columns, but the %s metadata names %d labels %q", shapeString(info.Shape), n, KeyLabels, len(labels), labels)
		}
		if a.NumLabels != 0 && a.NumLabels != n {
			return a.fail(hw, "shape %s has %d label columns, but the %s metadata says %d", shapeString(info.Shape), n, KeyNumLabels, a.NumLabels)
		}
		if n < 2 {
			return a.fail(hw, "shape %s: a %s head needs at least 2 labels", shapeString(info.Shape), a.Head)
		}
		a.NumLabels = n
	}
	return nil
}

// lengths completes the method configuration with the lengths the metadata
// did not give, from the tensors (method.Method.FromShapes: PT-2's per-layer
// prefix lengths, PT's prompt length). It returns a function that explains
// where a tensor's expected shape comes from.
func (a *Adapter) lengths(infos map[string]safetensors.TensorInfo) (func(TensorSpec) string, error) {
	c := &a.Method
	var source map[int]string // layer -> the tensor p_i came from
	if m, ok := method.Lookup(c.Kind); ok {
		shapes := make(map[string][]int, len(infos))
		for name, info := range infos {
			shapes[name] = info.Shape
		}
		var err error
		if source, err = m.FromShapes(c, shapes); err != nil {
			var se *method.ShapeError
			if errors.As(err, &se) {
				return nil, a.fail(se.Tensor, "%s", se.Msg)
			}
			return nil, a.fail("", "%v", err)
		}
	}
	why := func(t TensorSpec) string {
		d := fmt.Sprintf("d = %d from head.weight", a.HiddenSize)
		_, l, _ := tensorName(t.Name)
		switch {
		case t.Name == model.ScopeHead+".bias":
			return fmt.Sprintf("num_labels = %d from head.weight", a.HeadOutputs())
		case len(t.Shape) == 0:
			return "a scalar"
		case l >= 0 && a.lensFromMetadata:
			return fmt.Sprintf("p_%d = %d from the %s metadata, %s", l, c.PrefixLens[l], KeyPrefixLens, d)
		case l >= 0:
			return fmt.Sprintf("p_%d = %d from %s, %s", l, c.PrefixLens[l], source[l], d)
		}
		return d
	}
	return why, nil
}

// HeadOutputs is the head's number of columns: NumLabels, 1 for multiple choice.
func (a *Adapter) HeadOutputs() int {
	if a.Head == model.MultipleChoice {
		return 1
	}
	return a.NumLabels
}

// whyUnexpected explains why a tensor of the adapter format is not part of
// this adapter's method.
func (a *Adapter) whyUnexpected(name string) string {
	c := &a.Method
	pattern, l, _ := tensorName(name)
	info := method.Info{Kind: c.Kind}
	if m, ok := method.Lookup(c.Kind); ok {
		info = m.Info()
	}
	scope, _, _ := strings.Cut(pattern, ".")
	switch {
	case l < 0:
		return fmt.Sprintf("only method %s has a %s", strings.Join(owners(pattern), ", "), scope)
	case !info.Prefix:
		return fmt.Sprintf("method %s has no per-layer prefixes", c.Kind)
	case scope == method.ScopeGate && !info.TokenGate:
		return fmt.Sprintf("method %s has no token gate", c.Kind)
	case scope == method.ScopeLayerScale && !info.LayerGate:
		return fmt.Sprintf("method %s has no layer gate", c.Kind)
	case !slices.Contains(info.Names, pattern):
		return fmt.Sprintf("method %s has no %s tensors", c.Kind, pattern)
	case l >= len(c.PrefixLens):
		return fmt.Sprintf("layer %d is beyond the %d layers of %s %v", l, len(c.PrefixLens), KeyPrefixLens, c.PrefixLens)
	case c.PrefixLens[l] == 0:
		return fmt.Sprintf("layer %d has no prefix (p_%d = 0), so it has no entries", l, l)
	}
	return "not in the method's layout"
}

// owners are the methods that can have a tensor of pattern (method.Info.Names).
func owners(pattern string) []string {
	var out []string
	for _, m := range method.Methods() {
		if info := m.Info(); slices.Contains(info.Names, pattern) {
			out = append(out, string(info.Kind))
		}
	}
	return out
}
