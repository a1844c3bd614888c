//go:build noxla

package backend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// xlaLinked reports whether the XLA backend is compiled in (false with the noxla tag).
const xlaLinked = false

// newXLA fails: this binary was built with the noxla tag.
func newXLA(c Choice) (backends.Backend, error) {
	return nil, errors.Errorf("backend %s: this binary was built with the noxla tag, without XLA; rebuild without it or use --backend go", c.Name)
}
