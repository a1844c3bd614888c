package adapter

import (
	"fmt"
	"slices"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// methodScopes are the context scopes an adapter owns: every method's, the
// head's and the created pooler's.
var methodScopes = append(method.Scopes(), model.ScopeHead, backbone.ScopePooler)

// Spec returns the model.Spec that runs the adapter on a backbone of config
// cfg (any registered family), with the head dropout set to the backbone's
// hidden dropout (hidden_dropout_prob),
// after checking that the adapter fits that backbone: its hidden size must be
// the backbone's, and its prefix_lens must have one entry per backbone layer
// (an adapter without prefix_lens gets 0 for the layers it has no tensors for,
// so a head-only PT-2 adapter gets 0 everywhere). It touches no context: what
// Apply would refuse, Spec refuses first.
func (a *Adapter) Spec(cfg backbone.Config) (*model.Spec, error) {
	if cfg == nil {
		return nil, a.fail("", "no backbone config given")
	}
	if a.ModelType != "" && a.ModelType != cfg.ModelType() {
		return nil, a.fail("", "the adapter was trained on a %s backbone (%s metadata), this model is %s (base_model %q)",
			a.ModelType, KeyModelType, cfg.ModelType(), a.Meta.BaseModel)
	}
	if a.HiddenSize != cfg.HiddenSize() {
		return nil, a.fail(model.ScopeHead+".weight", "the adapter has hidden size d = %d, the backbone has hidden_size %d: it was trained on another model (base_model %q)",
			a.HiddenSize, cfg.HiddenSize(), a.Meta.BaseModel)
	}
	c := a.Method
	c.PrefixLens = slices.Clone(c.PrefixLens)
	if c.Kind.HasPrefix() {
		L := cfg.NumLayers()
		switch {
		case a.lensFromMetadata && len(c.PrefixLens) > 0 && len(c.PrefixLens) != L:
			return nil, a.fail("", "%s %v has %d layers, the backbone has num_hidden_layers %d", KeyPrefixLens, c.PrefixLens, len(c.PrefixLens), L)
		case len(c.PrefixLens) > L:
			return nil, a.fail("", "the adapter has prefixes for layer %d, the backbone has num_hidden_layers %d", len(c.PrefixLens)-1, L)
		}
		for len(c.PrefixLens) < L { // an empty prefix_lens or the layers after the last prefix
			c.PrefixLens = append(c.PrefixLens, 0)
		}
	}
	spec := &model.Spec{Backbone: cfg, Method: c, Head: a.Head, NumLabels: a.NumLabels, Dropout: cfg.HiddenDropout()}
	if err := spec.Validate(); err != nil {
		return nil, a.fail("", "%v", err)
	}
	switch {
	case spec.CreatesPooler() && !a.Pooler:
		return nil, a.fail("", "the backbone's checkpoint has no pooler and the adapter holds none (%s.weight): it was trained on a backbone with its own pooler (base_model %q)", backbone.ScopePooler, a.Meta.BaseModel)
	case a.Pooler && !spec.CreatesPooler():
		return nil, a.fail(backbone.ScopePooler+".weight", "the adapter holds a pooler trained for a backbone without one, but this model uses none (the backbone has its own, or the head is %s; base_model %q)", model.TokenClassification, a.Meta.BaseModel)
	}
	return spec, nil
}

// Apply puts the adapter into ctx, whose backbone (cfg) must already be
// loaded (backbone.LoadDir), and returns the model.Spec that runs it (see Spec for
// what is checked). The variables are set trainable (method.SetVariable); any
// other variable of the method and head scopes left in ctx by an earlier
// adapter is deleted, so build a new trainer or predictor after Apply.
//
// Apply is all or nothing: every check runs before ctx is touched, and should
// writing the variables still fail, the method and head variables that were in
// ctx are put back as they were before the error is returned.
func (a *Adapter) Apply(ctx *context.Context, cfg backbone.Config) (spec *model.Spec, err error) {
	spec, err = a.Spec(cfg)
	if err != nil {
		return nil, err
	}
	c := spec.Method
	layout := Layout(&c, a.HiddenSize, spec.HeadOutputs())
	if a.Pooler {
		layout = append(layout, PoolerLayout(a.HiddenSize)...)
	}
	for _, want := range layout {
		if t, ok := a.Tensors[want.Name]; !ok || !slices.Equal(t.Shape, want.Shape) && !(len(t.Shape) == 0 && len(want.Shape) == 0) {
			return nil, a.fail(want.Name, "the adapter holds no tensor of shape %s for it", shapeString(want.Shape))
		}
	}
	snap, err := snapshotMethod(ctx)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	defer func() {
		r := recover()
		if r != nil {
			err = fmt.Errorf("adapter: %s: applying: %v", a.Path, r)
		}
		if err != nil {
			if rerr := snap.restore(ctx); rerr != nil {
				err = fmt.Errorf("%w (and restoring the previous variables failed: %v)", err, rerr)
			}
			spec = nil
		}
	}()
	for _, want := range layout {
		if applyFault != nil {
			if err := applyFault(want.Name); err != nil {
				return nil, err
			}
		}
		t := a.Tensors[want.Name]
		scope, name := method.VariablePath(want.Name)
		method.SetVariable(ctx, scope, name, tensors.FromFlatDataAndDimensions(slices.Clone(t.Data), t.Shape...))
	}
	// Then remove what an earlier adapter left in the method's scopes (last,
	// so that a failure above finds every earlier variable still in place).
	var stale []*context.Variable
	for v := range ctx.IterVariables() {
		if _, ok := a.Tensors[method.AdapterName(v)]; !ok && inMethodScope(v) {
			stale = append(stale, v)
		}
	}
	for _, v := range stale {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			return nil, fmt.Errorf("adapter: %w", err)
		}
	}
	return spec, nil
}

// applyFault, set by tests, makes Apply fail while writing the variable of
// the named tensor, to exercise the restore.
var applyFault func(tensor string) error

func inMethodScope(v *context.Variable) bool { return method.InScopes(v, methodScopes) }

// methodSnapshot is a copy of the method and head variables of a context.
type methodSnapshot struct {
	vars []savedVariable
}

type savedVariable struct {
	scope, name string
	value       *tensors.Tensor // a copy, on the host
	trainable   bool
}

func snapshotMethod(ctx *context.Context) (*methodSnapshot, error) {
	s := &methodSnapshot{}
	for v := range ctx.IterVariables() {
		if !inMethodScope(v) || !v.HasValue() {
			continue
		}
		val, err := v.Value()
		if err != nil {
			return nil, err
		}
		c, err := val.LocalClone()
		if err != nil {
			return nil, err
		}
		s.vars = append(s.vars, savedVariable{v.Scope(), v.Name(), c, v.Trainable})
	}
	return s, nil
}

// restore puts the method and head variables back as they were: variables
// that still exist get their old value (the same *Variable, so compiled graphs
// keep working), deleted ones are created again, new ones are deleted.
func (s *methodSnapshot) restore(ctx *context.Context) error {
	keep := map[string]bool{}
	for _, sv := range s.vars {
		keep[sv.scope+"\x00"+sv.name] = true
	}
	var extra []*context.Variable
	for v := range ctx.IterVariables() {
		if inMethodScope(v) && !keep[v.Scope()+"\x00"+v.Name()] {
			extra = append(extra, v)
		}
	}
	for _, v := range extra {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			return err
		}
	}
	for _, sv := range s.vars {
		if v := ctx.GetVariableByScopeAndName(sv.scope, sv.name); v != nil {
			if err := v.SetValue(sv.value); err != nil {
				return err
			}
			v.SetTrainable(sv.trainable)
			continue
		}
		ctx.InAbsPath(sv.scope).Checked(false).VariableWithValue(sv.name, sv.value).SetTrainable(sv.trainable)
	}
	return nil
}
