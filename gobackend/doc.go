// Package gobackend is the project's CPU backend for GoMLX ("go"): pure Go,
// no C library at run time. It runs matrix products on its own kernels
// (package gemm) and hands every other op to GoMLX's simplego, so every graph
// that runs on simplego runs here. It does not depend on the rest of the
// project (it could become its own module).
//
// # Road: an overlay on simplego
//
// Of the two roads (a standalone interpreter with kernels for the ops the
// graphs use, or an overlay that records the graph and gives simplego what it
// does not accelerate), this is the overlay:
//
//   - Builder records every op call: the op's name, its input ops, its static
//     arguments, and a replay closure that builds the same op on any
//     backends.Builder. Each op is also built on a shadow simplego Builder at
//     once, which checks the arguments and gives the output shapes (OpShape),
//     so errors surface where the graph is built, as with simplego. The ~97
//     recording methods are generated (gen_ops.go reads the backends.Builder
//     interface by reflection; `go generate ./gobackend` after a GoMLX
//     upgrade); only Parameter, Constant, Compile and the Builder's non-op
//     methods are written by hand (builder.go).
//   - Compile marks the live ops and picks the accelerated ones: every
//     float32 DotGeneral (and Dot) whose free axes (of each operand) and
//     contracting axes each merge into one strided index of the operands
//     (axes in order, axes of size 1 ignored) becomes a gemm.MulBatch call on
//     the operands' own memory: either operand transposed, contraction on
//     any axis, batch axes anywhere (batch axes that do not merge into one
//     stride become loops around MulBatch), without a transposing copy. An
//     operand made by a Reshape, or by a Transpose of a whole value, is read
//     from its source through strides, and the copy is dropped when nothing
//     else reads it (the attention layout [B,T,d] -> [B,n,T,dh]). A product
//     whose axes cannot be walked that way stays on simplego. The other
//     accelerated ops (broadcast.go) are float32 Add, Sub, Mul and Div with a
//     broadcast operand and BroadcastInDim: simplego walks those with a
//     per-element index iterator, here the axes are merged and each output row
//     is one loop (the same IEEE operations: bit-identical). Products run at
//     the earliest stage their inputs allow; broadcasts and every other op go
//     to the latest stage their consumers allow (shorter lifetimes: run
//     early, broadcasts of parameters raised the step's peak memory by 70%).
//     Each maximal group of other ops between accelerated ones is replayed on a fresh simplego Builder and
//     compiled as one executable (a segment) whose parameters are the values
//     it needs from outside and whose outputs are the values later steps or
//     the graph outputs need; constants are rebuilt in every segment that
//     reads them. A graph without accelerated products is compiled as
//     simplego's own executable (the shadow graph).
//   - Execute runs the steps in order. Buffers are simplego's (the Backend
//     embeds the simplego backend, so buffers, data transfer and capabilities
//     are simplego's); a product reads its operands' Go slices with
//     BufferData and writes a pooled NewSharedBuffer, with no copy. A value
//     is released (back to simplego's buffer pool) right after its last
//     reader, and a segment that is the last reader of a value it owns takes
//     it donated, so simplego can reuse it in place. The plan (strides,
//     donation and release lists) is made once at Compile; a run reuses a
//     pooled state and allocates little beyond what simplego's Execute does.
//
// Why the overlay: the graphs of the workbench use dozens of simplego's ops
// (gathers, scatters for the embedding gradient, reductions, iota, where,
// concatenation, RNG for dropout...), and every backbone family added later
// may use others; an interpreter would have to reimplement all of them
// before running anything, while the overlay runs everything from the first
// day and is exactly as correct as simplego for everything it does not
// accelerate: the ops of a segment run on simplego itself, so their results
// are bit-identical to simplego's. Only the products differ (summation order,
// within 1e-5 relative in float32; see numerics_test.go). The price is one
// segment per stage of the product chain (each a simplego Execute: a few
// microseconds), which is small against a training step.
//
// # Adding an accelerated op
//
// The recording already gives every op's name, inputs, static arguments and
// shapes at Compile. To accelerate one (say a fused element-wise chain, or a
// LayerNorm): write a plan function like planBinary (broadcast.go) that
// recognises the call and returns a prepared step, add a step kind next to
// dotStep and binStep with its run function (read inputs with BufferData,
// write a NewSharedBuffer), register it where Compile calls planBinary, and
// decide its stage (as early as possible like products, or as late as
// possible like broadcasts). Every accelerated op ends a segment, so it pays
// when the op is expensive on simplego; a chain of many small ones is better
// fused into one step. Test it
// against simplego on random inputs like numerics_test.go does. Ops that are
// not recognised keep running on simplego, so acceleration is never needed
// for correctness.
//
// # The deadlock of simplego's parallel scheduler
//
// simplego v0.26.0 runs a graph's independent ops in parallel when one graph
// runs at a time (its default, or "ops_parallel"): Executable.executeParallel
// starts each ready node with workersPool.WaitToStart, which blocks while
// numRunning >= 2 x maxParallelism (= 2 x NumCPU: 4 on two cores), and the
// node keeps its slot until it returns. Inside a node, DotGeneral (both the
// small-matrix path and the large path's split over the batch) and Erf on
// more than 4096 elements split their work with the same
// workersPool.WaitToStart and then wait for the pieces (sync.WaitGroup),
// still holding their own slot; only the large DotGeneral's recursive split
// uses StartIfAvailable and WorkerIsAsleep, which lend a slot while waiting.
// So as soon as 4 such nodes are running together, all slots are held by
// parents blocked in WaitToStart for their pieces' slots, and nothing ever
// frees one: every goroutine waits in sync.Cond.Wait. A training step's
// backward pass has many independent products and GELUs ready at once, so it
// reaches this quickly (TestSimplegoParallelDeadlock reproduces it with 16
// independent batched products). The project therefore creates simplego with
// "ops_sequential" (ops one after another, each still parallel inside, no
// nesting: no deadlock). This backend has no such path: its segments always
// run with ops_sequential (New adds it; "ops_parallel" is refused), and its
// products run in the calling goroutine, with whatever parallelism gemm
// uses inside, not on simplego's worker pool.
//
// # Names
//
// simplego registers itself as "go" in its init. This package imports
// simplego, so its init runs later and re-registers "go" as New; it also
// registers GoMLX's simplego as "simplego" (NewSimplego: ops_sequential
// unless the config picks the scheduling). A binary that links
// simplego but not this package still gets simplego for "go"; the project's
// backend policy (aptlib/backend) creates this backend directly with New.
package gobackend
