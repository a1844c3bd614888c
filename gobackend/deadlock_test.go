package gobackend

import (
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// manyParallelProducts has 16 independent batched products, each followed by
// an Erf: the shape of a training step's backward pass, where many products
// (and GELU's Erf) are ready at once. See the package doc (the deadlock).
func manyParallelProducts(x *Node) *Node {
	var s *Node
	for i := 0; i < 16; i++ {
		y := MulScalar(x, float64(i))
		o := ReduceAllSum(Erf(DotGeneral(y, []int{2}, []int{0}, x, []int{1}, []int{0})))
		if s == nil {
			s = o
		} else {
			s = Add(s, o)
		}
	}
	return s
}

// finishes runs the graph 20 times on b and reports whether it finished in time.
func finishes(t *testing.T, b backends.Backend, timeout time.Duration) bool {
	x := randTensor(rand.New(rand.NewSource(1)), false, 4, 64, 64)
	done := make(chan error, 1)
	go func() {
		e, err := NewExec(b, manyParallelProducts)
		if err == nil {
			for range 20 {
				var outs []*tensors.Tensor
				if outs, err = e.Exec(x); err != nil {
					break
				}
				outs[0].FinalizeAll()
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(timeout):
		return false
	}
}

func TestNoDeadlockOnParallelProducts(t *testing.T) {
	b, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if !finishes(t, b, 2*time.Minute) {
		t.Fatal("the go backend did not finish (deadlock?)")
	}
}

// TestSimplegoParallelDeadlock shows the deadlock of simplego's parallel
// scheduler (ops_parallel, which is also its default when one graph runs at a
// time). Opt-in: it leaves the deadlocked goroutines behind.
func TestSimplegoParallelDeadlock(t *testing.T) {
	if os.Getenv("GOBACKEND_DEADLOCK_DEMO") == "" {
		t.Skip("set GOBACKEND_DEADLOCK_DEMO=1 to reproduce simplego's deadlock")
	}
	b, err := simplego.New("ops_parallel")
	if err != nil {
		t.Fatal(err)
	}
	if finishes(t, b, 20*time.Second) {
		t.Log("simplego with ops_parallel finished: no deadlock this time")
	} else {
		t.Log("simplego with ops_parallel deadlocked, as the package doc says")
	}
}
