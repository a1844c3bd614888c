package gobackend

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/aptbench/apt/gobackend/gemm"
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
	words := len(bytes) / 8
	// The stream split over goroutines: part w starts from the state after
	// w*words/workers draws (pcgAdvance), so every word is the one the single
	// stream draws there; the last part leaves rng where the stream ends.
	workers := min(gemm.Threads(), max(1, len(bytes)/(4*fuseParallelMin)))
	if workers <= 1 {
		fillPCG(bytes[:8*words], rng)
	} else {
		parts := make([]*rand.PCG, workers)
		for w := range parts {
			parts[w] = rand.NewPCG(pcgAdvance(state[0], state[1], uint64(w*words/workers)))
		}
		rng = parts[workers-1] // where the stream ends, once filled
		gemm.Parallel(workers, func(w int) { fillPCG(bytes[8*(w*words/workers):8*((w+1)*words/workers)], parts[w]) })
	}
	i := 8 * words
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

// fillPCG writes successive Uint64s of p into b (a multiple of 8 bytes), low
// byte first.
func fillPCG(b []byte, p *rand.PCG) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], p.Uint64())
	}
}

// pcgAdvance returns the state of math/rand/v2's PCG seeded (hi, lo) after
// n draws: its step is the 128-bit LCG s -> s*mul + inc (pcg.go, next), and
// n steps compose to s -> s*A + C, computed by squaring (Brown, "Random
// number generation with arbitrary strides", 1994) in O(log n).
func pcgAdvance(hi, lo, n uint64) (uint64, uint64) {
	const (
		mulHi = 2549297995355413924
		mulLo = 4865540595714422341
		incHi = 6364136223846793005
		incLo = 1442695040888963407
	)
	type u128 struct{ hi, lo uint64 }
	mul := func(a, b u128) u128 {
		h, l := bits.Mul64(a.lo, b.lo)
		return u128{h + a.hi*b.lo + a.lo*b.hi, l}
	}
	add := func(a, b u128) u128 {
		l, c := bits.Add64(a.lo, b.lo, 0)
		h, _ := bits.Add64(a.hi, b.hi, c)
		return u128{h, l}
	}
	accMul, accAdd := u128{0, 1}, u128{}
	curMul, curAdd := u128{mulHi, mulLo}, u128{incHi, incLo}
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			accMul = mul(accMul, curMul)
			accAdd = add(mul(accAdd, curMul), curAdd)
		}
		curAdd = mul(add(curMul, u128{0, 1}), curAdd)
		curMul = mul(curMul, curMul)
	}
	s := add(mul(u128{hi, lo}, accMul), accAdd)
	return s.hi, s.lo
}
