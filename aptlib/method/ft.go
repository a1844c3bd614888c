package method

import (
	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ft is full fine-tuning: no tensors of its own, no hooks; every backbone
// weight is trained with the head.
type ft struct{}

func (ft) Info() Info {
	return Info{Kind: FT, Aliases: []string{"fine-tuning", "finetune"},
		Doc: "full fine-tuning: every backbone weight is trained with the head", TrainsBackbone: true}
}

func (ft) Tensors(*Config, int) []Tensor { return nil }

func (ft) Hooks(*context.Context, *Config, *Gates) *backbone.Hooks { return nil }

func (ft) FromShapes(*Config, map[string][]int) (map[int]string, error) { return nil, nil }
