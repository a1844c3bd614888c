// Package gobackend is the project's CPU backend for GoMLX ("go"): pure Go,
// no C library at run time. It runs matrix products on its own kernels
// (package gemm), fuses element-wise chains and runs reductions on both
// cores, and hands every other op to GoMLX's simplego, so every graph that
// runs on simplego runs here. It does not depend on the rest of the
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
//     whose axes cannot be walked that way stays on simplego. Then, among the
//     other ops, the float32 element-wise chains of one output shape are
//     fused (fuse.go, fuse_exec.go: see Fusion below) and float32 ReduceSum,
//     ReduceMax and ReduceMin over consecutive axes run as steps of their own
//     (reduce.go), as does RNGBitGenerator (rng.go: simplego's PCG stream,
//     written eight bytes at a time instead of one and, for large outputs,
//     by both cores, the second from the stream's state jumped ahead: the
//     same bits and new state), and Transpose as a blocked copy (transpose.go). What is
//     left of broadcast.go: float32 Add, Sub, Mul and Div with a broadcast
//     operand and BroadcastInDim that no fused group took
//     (simplego walks those with a per-element index iterator, here the axes
//     are merged and each output row is one loop: the same IEEE operations,
//     bit-identical). Products run at the earliest stage their inputs allow;
//     fused groups, reductions, broadcasts and every other op go to the
//     latest stage their consumers allow (shorter lifetimes: run early,
//     broadcasts of parameters raised the step's peak memory by 70%). The
//     steps are ordered topologically, keeping the recording order where it
//     can (a fused group's readers may have been recorded before its last
//     member). Each maximal group of other ops between accelerated ones is
//     replayed on a fresh simplego Builder and
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
// within 1e-5 relative in float32; see numerics_test.go); fused groups and
// reductions are bit-identical (fuse_test.go). The price is one segment per
// stage of the product chain (each a simplego Execute: a few microseconds),
// which is small against a training step.
//
// # Fusion
//
// simplego runs each element-wise op on its own: one pass over memory and one
// new buffer per op, scalar loops, one core. At Compile, planFusion
// (fuse.go) groups the live float32 element-wise calls that share one output
// shape: Neg, Abs, Sign, Exp, Expm1, Log, Log1p, Floor, Ceil, Round, Rsqrt,
// Sqrt, Logistic, Tanh, Erf, Identity; Add, Sub, Mul, Div, Max, Min, Pow; the
// six comparisons (their bool result is a 0/1 mask inside the group); Where;
// ConvertDType from float32, int32 or uint32 to float32 (dropout's random
// bits); BroadcastInDim. An operand from outside the group is read in place:
// of the group's shape, broadcast along axes of size 1 (the bias, the
// LayerNorm mean, the attention mask) through strides, or a single element
// (a learning rate); a one-element Constant is folded in. A call joins the
// group of one of its inputs unless another of its inputs depends on that
// group (recording order is topological, and each value carries the set of
// groups it depends on), so a group never has a path out and back in: the
// softmax's exp, its ReduceSum and the division are two groups and a
// reduction. Groups of fewer than min_fuse output elements (default
// DefaultMinFuse), or that only broadcast, are not fused.
//
// A group compiles to a register program (fuseStep): one instruction per
// member, registers of one chunk (fuseChunk = 1024 elements, 4 KiB) reused
// once read for the last time. Execute runs the whole program chunk by
// chunk, so intermediates stay in the L1/L2 cache and only the group's
// exports (values read outside it or graph outputs) are written to buffers;
// outputs of at least fuseParallelMin elements are split into
// gemm.Threads() contiguous ranges of chunks (gemm.Parallel: one part each). Each
// instruction is a tight loop over the chunk; Add, Sub, Mul and Div (vector
// or scalar operands) use AVX2 (fuse_amd64.s) when the CPU has it, as do
// Where, the comparisons (VCMPPS with the predicate of Go's operator, so
// NaN compares as in Go) and the loads of int32, uint32 and bool inputs
// (fuse2_amd64.s). Every op
// uses exactly simplego's float32 expression (transcendentals in float64 via
// package math, rounded to float32; VMULPS and friends are the same IEEE
// operation as MULSS), so fused results are bit-identical to simplego's, and
// element-wise results do not depend on the chunking or the thread count.
// Erf and Exp, most of the element-wise time of a BERT step (GELU and its
// gradient, the softmax), run four lanes at a time in float64 with AVX2:
// erf_amd64.s does math.Erf's two first ranges (|x| < 1.25) with the same
// polynomials and operations in the same order (Go does not contract them
// into FMAs on amd64), exp_amd64.s the FMA path of math.Exp's amd64
// assembly (taken on CPUs with AVX and FMA, and only used here on those);
// exp512_amd64.s is that exp eight lanes at a time where the CPU has
// AVX-512 (twice as fast; an eight-lane erf measured slower than the
// four-lane one: its two float64 divisions bound it either way);
// erftail_amd64.s does erf's range 1.25 <= |x| < 6 (its rationals and two
// exps by that same FMA path) on the lanes erfAVX2 left, gathered four at a
// time (about 8% of GELU's inputs: before, they took 60% of its erf time);
// the other lanes (|x| >= 6, tiny, NaN, Inf) are computed by math.Erf and
// math.Exp themselves. The float32 results are bit-identical to
// float32(math.Erf(x)) and float32(math.Exp(x)) (erf_test.go checks 3
// million values each, edges included).
// An export is written over a float32 input of the group's shape when this
// step is that input's last reader, the input is owned (an intermediate or a
// donated argument) and no instruction after the export reads it (element-
// wise in-place is safe within a chunk): with the intermediates that are no
// longer materialized, peak memory is not above simplego's.
//
// Reductions (reduce.go): a float32 ReduceSum/Max/Min over consecutive axes
// walks the operand as [outer, red, inner]; each output element is
// accumulated from 0 (-Inf, +Inf) in the operand's order, one float32
// operation at a time, exactly like simplego's loop: bit-identical. Row sums
// (last-axis reductions: softmax, LayerNorm) are done eight rows at a time
// with AVX2 (rowsum_amd64.s: each 8×8 block transposed in registers so that
// lane r adds row r's elements in order; the row's last n mod 8 after), row
// maxima and minima four at a time in Go (Go's max and min order NaN and
// signed zeros differently from VMAXPS / VMINPS); leading-axis reductions
// (bias gradients) add whole rows in order, eight lanes at a time with AVX2. The outputs are split over
// gemm.Threads() goroutines, each output computed by one: the result does not
// depend on the thread count. No summation order is changed anywhere.
//
// What is not fused yet: a reduction is not merged with the group that
// produces its operand (the exp of the softmax is written, then summed);
// Neg, Abs, Max, Min, Pow and the other unary ops are plain Go loops; and the
// ops left in segments (concatenations for the prefix, slices with a stride
// on the last axis, gathers other than whole rows, the embedding gradient's
// scatter) still run one at a time on one core in simplego. Slices run as
// row copies (transpose.go, planSlice) and the embedding lookup as one copy
// per row (gather.go). Transposes that no product reads through strides (the attention
// layouts of the backward pass, the gradients of the prefix concatenation)
// run as blocked copies on both cores (transpose.go), of any dtype simplego
// takes as a parameter.
//
// # Adding an accelerated op
//
// The recording already gives every op's name, inputs, static arguments and
// shapes at Compile. An element-wise float32 op joins the fusion: add its
// name to fuseUnary or fuseBinary (fuse.go) with a new fop, and its loop to
// unaryLoop or binaryOne (fuse_exec.go), written with the very expression
// simplego's exec_unary.go or gen_exec_binary.go uses; fusable decides which
// operand shapes it accepts. Any other op: write a plan function like
// planReduce (reduce.go) or planBinary (broadcast.go) that recognises the
// call and returns a prepared step, add a step kind next to dotStep, binStep,
// fuseStep and redStep with its run function (read inputs with BufferData,
// write a NewSharedBuffer), register it where Compile calls planReduce, and
// decide its stage (as early as possible like products, or as late as
// possible like the others), and its inputs for finishPlan's last uses.
// Every accelerated step ends a segment, so it pays when the op is expensive
// on simplego. Test it against simplego on random inputs like
// numerics_test.go and fuse_test.go do (odd sizes, 1-element axes, NaN and
// Inf). Ops that are not recognised keep running on simplego, so
// acceleration is never needed for correctness.
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
// uses inside, not on simplego's worker pool. Fused groups, reductions,
// transposes and the RNG split their work into parts with gemm.Parallel, on
// the same helper goroutines as the products (one pool, found awake between
// steps: gemm's spinWait; spawning goroutines per step and waking sleeping
// threads cost the perf-configuration step about 10%); the caller runs parts
// too, so a part that no helper takes is still run, and no part waits for
// anything else: no nesting, no slot held while waiting.
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
