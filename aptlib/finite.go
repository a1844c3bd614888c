package aptlib

import (
	"fmt"
	"math"
	"strings"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// checkFinite prepares the parameters (like every command that uses them) and
// refuses them when any is NaN or infinite, naming the tensor: scores,
// predictions or files made from such parameters would be garbage. It checks
// the method's and the head's variables, and the backbone's when FT has
// trained it (a frozen backbone is the checkpoint's, checked when loaded).
func (w *Workbench) checkFinite(what string) error {
	if err := w.prepare(); err != nil {
		return err
	}
	var bad error
	w.ctx.EnumerateVariables(func(v *context.Variable) {
		if bad != nil || v.DType() != dtypes.Float32 || !v.HasValue() {
			return
		}
		scope := v.Scope()
		if inScope(scope, trainer.ScopeOptimizer) || (inScope(scope, w.Model.Family.Scope) && !w.backboneTrained) {
			return
		}
		val, err := v.Value()
		if err != nil {
			return
		}
		n, total := 0, 0
		tensors.MustConstFlatData(val, func(flat []float32) {
			total = len(flat)
			for _, x := range flat {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					n++
				}
			}
		})
		if n > 0 {
			name := method.AdapterName(v)
			if name == "" {
				name = v.ScopeAndName()
			}
			bad = fmt.Errorf("%s: the parameters are not finite: %s has %d NaN or infinite values of %d (did the run diverge? reset and train with a lower lr)",
				what, name, n, total)
		}
	})
	return bad
}

func inScope(scope, top string) bool {
	return scope == "/"+top || strings.HasPrefix(scope, "/"+top+"/")
}
