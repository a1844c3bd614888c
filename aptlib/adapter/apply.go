package adapter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// methodScopes are the context scopes an adapter owns.
var methodScopes = []string{method.ScopePrefix, method.ScopeGate, method.ScopeLayerScale, method.ScopePrompt, model.ScopeHead}

// Apply puts the adapter into ctx, whose backbone (bertCfg) must already be
// loaded (bert.LoadDir), and returns the model.Spec that runs it, with the head
// dropout set to the backbone's hidden_dropout_prob. The adapter's hidden size
// must be the backbone's, and its prefix_lens must have one entry per backbone
// layer (an adapter without prefix_lens gets 0 for the layers it has no
// tensors for). The variables are set trainable (method.SetVariable); any
// other variable of the method and head scopes left in ctx by an earlier
// adapter is deleted, so build a new trainer or predictor after Apply.
func (a *Adapter) Apply(ctx *context.Context, bertCfg *bert.Config) (*model.Spec, error) {
	if bertCfg == nil {
		return nil, a.fail("", "no backbone config given to Apply")
	}
	if a.HiddenSize != bertCfg.HiddenSize {
		return nil, a.fail(model.ScopeHead+".weight", "the adapter has hidden size d = %d, the backbone has hidden_size %d: it was trained on another model (base_model %q)",
			a.HiddenSize, bertCfg.HiddenSize, a.Meta.BaseModel)
	}
	c := a.Method
	c.PrefixLens = slices.Clone(c.PrefixLens)
	if c.Kind.HasPrefix() {
		L := bertCfg.NumHiddenLayers
		switch {
		case a.lensFromMetadata && len(c.PrefixLens) != L:
			return nil, a.fail("", "%s %v has %d layers, the backbone has num_hidden_layers %d", KeyPrefixLens, c.PrefixLens, len(c.PrefixLens), L)
		case len(c.PrefixLens) > L:
			return nil, a.fail("", "the adapter has prefixes for layer %d, the backbone has num_hidden_layers %d", len(c.PrefixLens)-1, L)
		}
		for len(c.PrefixLens) < L {
			c.PrefixLens = append(c.PrefixLens, 0)
		}
	}
	spec := &model.Spec{Bert: bertCfg, Method: c, Head: a.Head, NumLabels: a.NumLabels, Dropout: bertCfg.HiddenDropoutProb}
	if err := spec.Validate(); err != nil {
		return nil, a.fail("", "%v", err)
	}
	// Remove what an earlier adapter left in the method's scopes.
	var stale []*context.Variable
	for v := range ctx.IterVariables() {
		if _, ok := a.Tensors[method.AdapterName(v)]; ok {
			continue
		}
		for _, s := range methodScopes {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				stale = append(stale, v)
				break
			}
		}
	}
	for _, v := range stale {
		if err := ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			return nil, fmt.Errorf("adapter: %w", err)
		}
	}
	for _, want := range Layout(&c, a.HiddenSize, spec.HeadOutputs()) {
		t := a.Tensors[want.Name]
		scope, name := method.VariablePath(want.Name)
		method.SetVariable(ctx, scope, name, tensors.FromFlatDataAndDimensions(slices.Clone(t.Data), t.Shape...))
	}
	return spec, nil
}
