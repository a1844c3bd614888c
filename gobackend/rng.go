package gobackend

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// rngStep is RNGBitGenerator (dropout's random bits) with simplego's
// algorithm (exec_special_ops.go, execRNGBitGenerator): a PCG seeded with the
// state's two first words fills the output's bytes from successive Uint64s,
// low byte first, and the new state is the PCG's marshalled state read the
// way simplego reads it. simplego does this one byte at a time; here eight
// bytes are written at once: the same bytes and the same new state.
type rngStep struct {
	state, newState, out int // value ids
	stateShape, shape    shapes.Shape
}

// planRNG returns the step for an RNGBitGenerator, or false.
func (b *Builder) planRNG(c *call) (*rngStep, bool) {
	if c.op != "RNGBitGenerator" || len(c.inputs) != 1 || len(c.outputs) != 2 || b.backend.minFuse < 0 {
		return nil, false
	}
	st, out := c.inputs[0].shape, c.outputs[1].shape
	if st.DType != dtypes.Uint64 || st.Size() < 2 || !c.outputs[0].shape.Equal(st) || out.Size() == 0 ||
		out.Size()*out.DType.Size() < b.backend.minFuse {
		return nil, false
	}
	return &rngStep{state: c.inputs[0].id, newState: c.outputs[0].id, out: c.outputs[1].id, stateShape: st, shape: out}, true
}

// rngRuns counts the RNGBitGenerator steps run (for tests).
var rngRuns atomic.Int64

func (e *Executable) runRNG(k int, s *rngStep, st *execState) error {
	data := e.backend.Backend
	sf, err := data.BufferData(st.bufs[s.state])
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): random state: %w", e.name, err)
	}
	state := sf.([]uint64)
	out, of, err := data.NewSharedBuffer(0, s.shape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): random bits: %w", e.name, err)
	}
	nsBuf, nsf, err := data.NewSharedBuffer(0, s.stateShape)
	if err != nil {
		return fmt.Errorf("gobackend Execute(%q): random state: %w", e.name, err)
	}
	v := reflect.ValueOf(of)
	bytes := unsafe.Slice((*byte)(v.UnsafePointer()), v.Len()*int(v.Type().Elem().Size()))
	rng := rand.NewPCG(state[0], state[1])
	i := 0
	for ; i+8 <= len(bytes); i += 8 {
		binary.LittleEndian.PutUint64(bytes[i:], rng.Uint64())
	}
	if i < len(bytes) {
		bits := rng.Uint64()
		for ; i < len(bytes); i++ {
			bytes[i] = byte(bits)
			bits >>= 8
		}
	}
	ns := nsf.([]uint64)
	// The words after the two first: simplego keeps them when it may reuse
	// the state's buffer (owned, last use), else its new buffer has zeros
	// (a fresh one; a recycled one would hold anything: they are unused).
	if v := s.state; st.owned[v] && e.lastUse[v] == k && !e.isOut[v] {
		copy(ns, state)
	} else {
		clear(ns)
	}
	m, err := rng.MarshalBinary()
	if err != nil || len(m) != 20 || string(m[:4]) != "pcg:" {
		return fmt.Errorf("gobackend Execute(%q): the PCG's marshalled state changed format (%d bytes)", e.name, len(m))
	}
	ns[0] = binary.LittleEndian.Uint64(m[4:12])
	ns[1] = binary.LittleEndian.Uint64(m[12:20])
	st.bufs[s.out], st.owned[s.out] = out, true
	st.bufs[s.newState], st.owned[s.newState] = nsBuf, true
	rngRuns.Add(1)
	return nil
}
