package method

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aptbench/apt/aptlib/backbone"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Method is one parameter-efficient method: what it adds to the backbone and
// how. Each method implements it in its own file (ft.go, pt.go, pt2.go, apt.go)
// and has one line in registry; everything else (Create, NumTrainable, Hooks,
// ParseKind, Kinds, the adapter file's layout and parser, `show model`, the
// shell's completion, the shared method suite) walks the registry.
type Method interface {
	// Info is the method's name, other names, one-line description and traits.
	Info() Info
	// Tensors lists the tensors the method adds under configuration c to a
	// backbone of hidden size d, in the adapter file's order, with their shapes
	// and initial values. It is the one source of what Create makes, what
	// NumTrainable counts and what an adapter file holds (adapter.Layout).
	Tensors(c *Config, d int) []Tensor
	// Hooks returns the encoder hooks that apply the method, reading the
	// variables of Tensors from ctx; nil runs the plain backbone. gates, when
	// non-nil, has one entry per layer (Hooks allocates them) for the method to
	// fill with its gate nodes.
	Hooks(ctx *context.Context, c *Config, gates *Gates) *backbone.Hooks
	// FromShapes completes c, read from an adapter file's metadata, with the
	// lengths the metadata left open (PrefixLens when nil, PromptLen when 0),
	// from the file's tensor shapes by adapter name. from[i] names the tensor
	// that gave layer i's prefix length. A shape that contradicts the metadata
	// is a *ShapeError.
	FromShapes(c *Config, shapes map[string][]int) (from map[int]string, err error)
}

// Info is what a method is, as the rest of the workbench needs to know it.
type Info struct {
	Kind    Kind
	Aliases []string // other names ParseKind accepts (lower case)
	Doc     string   // one line: what the method trains

	Prefix    bool // Config.PrefixLens applies: per-layer key/value slots
	Prompt    bool // Config.PromptLen applies: embeddings in front of the input
	TokenGate bool // alpha_i weighs each prefix slot (docs/methods.md)
	LayerGate bool // a learnable lambda_i scales layer i's prefix
	// TrainsBackbone: every backbone weight is trainable too, so a run is saved
	// as a whole model directory (adapter.SaveModelDir), not as an adapter file.
	TrainsBackbone bool
	// Names are the adapter tensor names the method can have, "{i}" standing
	// for a 0-based layer number: the adapter parser accepts exactly the names
	// of all methods (and the head's).
	Names []string
}

// registry lists every method, in the order the paper's tables use.
var registry = []Method{
	ft{},
	pt{},
	pt2,
	apt,
	aptNoTokenGate,
	aptNoLayerGate,
}

// Methods lists every method, in the order of Kinds.
func Methods() []Method { return append([]Method(nil), registry...) }

// Lookup returns the method named k (its Kind, not an alias).
func Lookup(k Kind) (Method, bool) {
	for _, m := range registry {
		if m.Info().Kind == k {
			return m, true
		}
	}
	return nil, false
}

// infoOf is k's Info; an unknown kind has none of the traits.
func infoOf(k Kind) Info {
	if m, ok := Lookup(k); ok {
		return m.Info()
	}
	return Info{Kind: k}
}

func kindsOf(ms []Method) []Kind {
	out := make([]Kind, len(ms))
	for i, m := range ms {
		out[i] = m.Info().Kind
	}
	return out
}

// Tensor is one tensor a method adds: its adapter-file name (the context
// variable's scope and name with dots, see AdapterName), its shape, the layer
// it belongs to (-1: none) and its initial value.
type Tensor struct {
	Name  string
	Shape []int
	Layer int
	Init  Init
}

// Size is the number of values of the tensor.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Init is how Create initialises a tensor: drawn from N(0, Std²) (Normal), in
// the order of Method.Tensors from one generator seeded by Create's seed, or
// every value set to Value.
type Init struct {
	Normal bool
	Std    float64
	Value  float64
}

// Normal is the initialisation N(0, std²).
func Normal(std float64) Init { return Init{Normal: true, Std: std} }

// Fill is the initialisation with every value v.
func Fill(v float64) Init { return Init{Value: v} }

// ShapeError is a tensor of an adapter file whose shape contradicts the file's
// metadata (Method.FromShapes).
type ShapeError struct {
	Tensor string
	Msg    string
}

func (e *ShapeError) Error() string { return fmt.Sprintf("tensor %q: %s", e.Tensor, e.Msg) }

// Scopes are the context scopes of every method's variables (the first part of
// each Info.Names entry), in registry order: what Create clears before it makes
// a configuration's variables.
func Scopes() []string {
	var out []string
	for _, m := range registry {
		for _, n := range m.Info().Names {
			s, _, _ := strings.Cut(n, ".")
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// InScopes says whether the variable v lives in one of scopes (or below).
func InScopes(v *context.Variable, scopes []string) bool {
	for _, s := range scopes {
		if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
			return true
		}
	}
	return false
}

// ParseTensorName matches an adapter tensor name against the Info.Names of
// every method: pattern is the matching entry ("prefix.{i}.key") and layer the
// number in place of "{i}" (-1 for a name without). A layer number must be
// written plainly ("01" is no layer number). ok is false for a name no method has.
func ParseTensorName(name string) (pattern string, layer int, ok bool) {
	for _, m := range registry {
		for _, p := range m.Info().Names {
			if l, ok := matchName(p, name); ok {
				return p, l, true
			}
		}
	}
	return "", 0, false
}

// matchName matches name against pattern, whose "{i}" (at most one) stands for
// a layer number.
func matchName(pattern, name string) (layer int, ok bool) {
	before, after, per := strings.Cut(pattern, "{i}")
	if !per {
		return -1, name == pattern
	}
	if len(name) <= len(before)+len(after) || !strings.HasPrefix(name, before) || !strings.HasSuffix(name, after) {
		return 0, false
	}
	num := name[len(before) : len(name)-len(after)]
	layer, err := strconv.Atoi(num)
	if err != nil || layer < 0 || strconv.Itoa(layer) != num {
		return 0, false
	}
	return layer, true
}
