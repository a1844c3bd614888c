package adapter

import (
	"fmt"
	"slices"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/model"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// LoadModelDir loads a model directory written by SaveModelDir into ctx: the
// backbone through the family its config.json's model_type names (trainable,
// as FT trains it; the family's loader ignores the head tensors) and the head from "head.weight" / "head.bias",
// checked against the metadata (labels, head kind) and the hidden size. It
// returns the spec that runs the model (head dropout = hidden_dropout_prob)
// and the metadata.
func LoadModelDir(ctx *context.Context, dir string) (*model.Spec, Meta, error) {
	a := &Adapter{Path: dir}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("adapter: %w", err)
	}
	defer set.Close()
	var md map[string]string
	for _, path := range set.Files() {
		f, err := safetensors.Open(path)
		if err != nil {
			return nil, Meta{}, fmt.Errorf("adapter: %w", err)
		}
		if m := f.Metadata(); m[keyModelFormat] != "" {
			md = m
		}
		f.Close()
	}
	switch {
	case md == nil:
		return nil, Meta{}, a.fail("", "no %q metadata: not a fine-tuned model written by SaveModelDir (a plain BertModel directory loads with bert.LoadDir)", keyModelFormat)
	case md[keyModelFormat] != ModelFormat:
		return nil, Meta{}, a.fail("", "%s %q is not supported (this version reads %q)", keyModelFormat, md[keyModelFormat], ModelFormat)
	}
	if err := a.readMetadata(md, true); err != nil {
		return nil, Meta{}, err
	}
	if err := a.readOffset(); err != nil { // FT never shifts: only 0 or none
		return nil, Meta{}, err
	}
	infos := map[string]safetensors.TensorInfo{}
	for _, name := range []string{model.ScopeHead + ".weight", model.ScopeHead + ".bias"} {
		info, ok := set.Info(name)
		if !ok {
			return nil, Meta{}, a.fail(name, "missing: the head of a fine-tuned model")
		}
		if info.DType != "F32" {
			return nil, Meta{}, a.fail(name, "dtype %s, want F32", info.DType)
		}
		infos[name] = info
	}
	if err := a.headShape(infos); err != nil {
		return nil, Meta{}, err
	}
	if want := []int{a.HeadOutputs()}; !slices.Equal(infos["head.bias"].Shape, want) {
		return nil, Meta{}, a.fail("head.bias", "shape %s, expected %s (num_labels from head.weight)", shapeString(infos["head.bias"].Shape), shapeString(want))
	}
	cfg, family, err := backbone.LoadConfigDir(dir)
	if err != nil {
		return nil, Meta{}, err
	}
	if cfg.HiddenSize() != a.HiddenSize {
		return nil, Meta{}, a.fail("head.weight", "hidden size d = %d, config.json has hidden_size %d", a.HiddenSize, cfg.HiddenSize())
	}
	if err := family.LoadWeights(ctx, cfg, set, true); err != nil {
		return nil, Meta{}, fmt.Errorf("%w (in %s)", err, dir)
	}
	for _, name := range []string{model.ScopeHead + ".weight", model.ScopeHead + ".bias"} {
		data, shape, err := set.Float32(name)
		if err != nil {
			return nil, Meta{}, fmt.Errorf("adapter: %w", err)
		}
		if err := safetensors.CheckFinite(set.FileOf(name), name, data); err != nil {
			return nil, Meta{}, fmt.Errorf("adapter: %w (in %s)", err, dir)
		}
		scope, vname := method.VariablePath(name)
		method.SetVariable(ctx, scope, vname, tensorOf(data, shape))
	}
	spec := &model.Spec{Backbone: cfg, Method: a.Method, Head: a.Head, NumLabels: a.NumLabels, Dropout: cfg.HiddenDropout()}
	spec.Method.PrefixLens = nil
	if err := spec.Validate(); err != nil {
		return nil, Meta{}, a.fail("", "%v", err)
	}
	return spec, a.Meta, nil
}

// BaseModelSHA256 is the value for Meta.BaseModelSHA256 of a model directory:
// the SHA-256 of its safetensors weights (of model.safetensors, or of the
// shards concatenated in name order), as sha256sum prints it for one file.
func BaseModelSHA256(dir string) (string, error) {
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return "", err
	}
	files := set.Files()
	set.Close()
	return safetensors.SHA256(files...)
}

// CheckBase reports whether the model directory dir is the backbone the
// adapter was trained on, when the adapter records base_model_sha256 (an
// adapter without it passes).
func (a *Adapter) CheckBase(dir string) error {
	if a.Meta.BaseModelSHA256 == "" {
		return nil
	}
	sum, err := BaseModelSHA256(dir)
	if err != nil {
		return err
	}
	if sum != a.Meta.BaseModelSHA256 {
		return a.fail("", "trained on base model %q with weights sha256 %s, but %s has sha256 %s",
			a.Meta.BaseModel, a.Meta.BaseModelSHA256, dir, sum)
	}
	return nil
}

func tensorOf(data []float32, shape []int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(data, shape...)
}
