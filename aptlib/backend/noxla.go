//go:build noxla

package backend

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
)

// xlaLinked reports whether the XLA backend is compiled in (false with the noxla tag).
const xlaLinked = false

// newXLA fails: this binary was built with the noxla tag.
func newXLA(c Choice) (backends.Backend, error) {
	return nil, fmt.Errorf("backend %s: this binary was built with the noxla tag, without XLA; rebuild without it or use --backend go", c.Name)
}
