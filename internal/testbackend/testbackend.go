// Package testbackend is the one place the project's tests get their backend
// from: the pure-Go backend $GOMLX_BACKEND names, GoMLX's reference simplego
// for "simplego" and the project's go backend otherwise (aptlib/backend's
// NewPureGo and PureGoName). So `GOMLX_BACKEND=simplego go test ./...` runs
// every suite on simplego, and a plain `go test ./...` on go, whatever XLA
// plugin is installed.
package testbackend

import (
	"testing"

	"github.com/aptbench/apt/aptlib/backend"
	"github.com/gomlx/gomlx/backends"
)

// Name is the backend name to pass where a test opens a workbench or a shell
// by name ("go" or "simplego").
func Name() string { return backend.PureGoName() }

// New creates the backend, failing the test when it cannot.
func New(t testing.TB) backends.Backend {
	t.Helper()
	b, err := backend.NewPureGo()
	if err != nil {
		t.Fatalf("creating the %s backend: %v", Name(), err)
	}
	return b
}

// Setenv sets $GOMLX_BACKEND to Name() for the test, for code that picks its
// backend automatically (aptlib.New(""), the notebooks' helpers).
func Setenv(t testing.TB) {
	t.Helper()
	t.Setenv(backend.EnvVar, Name())
}
