package method

import (
	"fmt"

	"github.com/aptbench/apt/aptlib/backbone"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
)

// pt is prompt tuning (Lester et al. 2021): PromptLen trained embeddings in
// front of the input's, the backbone frozen.
type pt struct{}

const promptName = ScopePrompt + ".embedding"

func (pt) Info() Info {
	return Info{Kind: PT, Doc: "prompt tuning: trained embeddings in front of the input", Prompt: true,
		Names: []string{promptName}}
}

// Tensors: prompt.embedding [PromptLen, d], N(0, InitStd).
func (pt) Tensors(c *Config, d int) []Tensor {
	return []Tensor{{Name: promptName, Shape: []int{c.PromptLen, d}, Layer: -1, Init: Normal(c.InitStd)}}
}

// Hooks puts the prompt [B, p, d] in front of the embeddings, with prefix
// dropout in training.
func (pt) Hooks(ctx *context.Context, c *Config, _ *Gates) *backbone.Hooks {
	return &backbone.Hooks{Prompt: func(emb *Node) *Node {
		e := variable(ctx, emb.Graph(), "/"+ScopePrompt, "embedding")
		return layers.DropoutStatic(ctx, BroadcastPrefix(e, emb.Shape().Dimensions[0]), c.PrefixDropout)
	}}
}

// FromShapes takes the prompt length from prompt.embedding [p, d], which must
// agree with the prompt_len metadata when that was given. Without a usable
// prompt.embedding the length is 1, so that the layout reports the tensor as
// missing or mis-shaped.
func (pt) FromShapes(c *Config, shapes map[string][]int) (map[int]string, error) {
	if s, ok := shapes[promptName]; ok && len(s) == 2 {
		if c.PromptLen != 0 && c.PromptLen != s[0] {
			return nil, &ShapeError{Tensor: promptName, Msg: fmt.Sprintf("shape %v, but the prompt_len metadata says p = %d", s, c.PromptLen)}
		}
		c.PromptLen = s[0]
	}
	if c.PromptLen == 0 {
		c.PromptLen = 1
	}
	return nil, nil
}
