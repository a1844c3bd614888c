//go:build ignore

// Command asm writes kernel_amd64.s, the register-tile micro-kernels of package gemm
// and the FMA peak loops. Run from gobackend/gemm:
//
//	go run gen/asm.go > kernel_amd64.s
//
// It is plain text generation (no assembler library), so that go.mod stays clean.
package main

import (
	"fmt"
	"os"
	"strings"
)

var w strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }

// isa describes a vector instruction set: register prefix, lanes, number of registers.
type isa struct {
	name  string // "512" or "avx2"
	reg   string // "Z" or "Y"
	lanes int
	nregs int
}

var (
	avx512 = isa{"512", "Z", 16, 32}
	avx2   = isa{"avx2", "Y", 8, 16}
)

// kernel writes a micro-kernel computing an mr × (nv*lanes) tile of C:
//
//	C[r][j] = (load ? C[r][j] : 0) + sum_k a[k*mr + r] * b[k*nr + j]
//
// a is an A micro-panel (kc steps of mr values), b a B micro-panel (kc steps of nr values),
// c the tile's first element with ldc elements between rows.
//
// bnr is the B panel's width in floats (nr for a full tile; a narrower kernel reads the
// first nv vectors of a wider panel, as the tail of a row of tiles does).
func kernel(x isa, mr, nv, bnr int) { kernelOpt(x, mr, nv, bnr, opts{unroll: 4}) }

// opts are the micro-kernel variants tried while tuning.
type opts struct {
	suffix string
	bcst   bool // FMAs with an embedded broadcast of A (VFMADD231PS.BCST mem) instead of VBROADCASTSS
	prefB  int  // if > 0, prefetch the B panel this many bytes ahead once per unrolled step
	unroll int
	prefA  int // A prefetch distance in unrolled steps (0: 4)
	amr    int // if > 0, the A panel's height (a kernel for the last rows of a wider panel)
}

func kernelOpt(x isa, mr, nv, bnr int, o opts) {
	nr := nv * x.lanes
	vb := 4 * x.lanes // bytes per vector
	nacc := mr * nv
	accBase := x.nregs - nacc
	nbc := accBase - nv // broadcast registers available
	if nbc < 1 {
		panic("not enough registers")
	}
	acc := func(r, v int) string { return fmt.Sprintf("%s%d", x.reg, accBase+r*nv+v) }
	breg := func(v int) string { return fmt.Sprintf("%s%d", x.reg, v) }
	bc := 0
	name := fmt.Sprintf("k%s_%dx%d", x.name, mr, nr)
	if bnr != nr {
		name += fmt.Sprintf("of%d", bnr)
	}
	amr := mr
	if o.amr > 0 {
		amr = o.amr
		name += fmt.Sprintf("a%d", amr)
	}
	name += o.suffix
	p("")
	p("// func %s(kc int, a, b, c *float32, ldc int, load int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ kc+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R8")
	p("\tSHLQ $2, R8")
	// Prefetch the C tile: its rows are read (load) or written at the end, and a miss
	// there would stall the kernel after its FMAs instead of during them.
	p("\tMOVQ DX, R9")
	for r := 0; r < mr; r++ {
		for off := 0; off < nr*4; off += 64 {
			p("\tPREFETCHT0 %d(R9)", off)
		}
		if r < mr-1 {
			p("\tADDQ R8, R9")
		}
	}
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			if x.reg == "Z" {
				p("\tVPXORD %s, %s, %s", acc(r, v), acc(r, v), acc(r, v))
			} else {
				p("\tVXORPS %s, %s, %s", acc(r, v), acc(r, v), acc(r, v))
			}
		}
	}
	step := func(kOff int) {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(DI), %s", kOff*bnr*4+v*vb, breg(v))
		}
		for r := 0; r < mr; r++ {
			if o.bcst {
				for v := 0; v < nv; v++ {
					p("\tVFMADD231PS.BCST %d(SI), %s, %s", (kOff*amr+r)*4, breg(v), acc(r, v))
				}
				continue
			}
			br := fmt.Sprintf("%s%d", x.reg, nv+bc%nbc)
			bc++
			p("\tVBROADCASTSS %d(SI), %s", (kOff*amr+r)*4, br)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231PS %s, %s, %s", breg(v), br, acc(r, v))
			}
		}
	}
	unroll := o.unroll
	pa := o.prefA
	if pa == 0 {
		pa = 4
	}
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s_tail", name)
	p("%s_loop4:", name)
	for off := 0; off < unroll*amr*4; off += 64 {
		p("\tPREFETCHT0 %d(SI)", unroll*amr*4*pa+off)
	}
	if o.prefB > 0 {
		for off := 0; off < unroll*bnr*4; off += 64 {
			p("\tPREFETCHT0 %d(DI)", o.prefB+off)
		}
	}
	for u := 0; u < unroll; u++ {
		step(u)
	}
	p("\tADDQ $%d, SI", unroll*amr*4)
	p("\tADDQ $%d, DI", unroll*bnr*4)
	p("\tSUBQ $%d, CX", unroll)
	p("\tCMPQ CX, $%d", unroll)
	p("\tJGE %s_loop4", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_store", name)
	p("%s_loop1:", name)
	step(0)
	p("\tADDQ $%d, SI", amr*4)
	p("\tADDQ $%d, DI", bnr*4)
	p("\tDECQ CX")
	p("\tJNE %s_loop1", name)
	p("%s_store:", name)
	p("\tMOVQ load+40(FP), AX")
	p("\tTESTQ AX, AX")
	p("\tJEQ %s_noload", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("\tVADDPS %d(DX), %s, %s", v*vb, acc(r, v), acc(r, v))
			p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*vb)
		}
		if r < mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("%s_noload:", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*vb)
		}
		if r < mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

// peak writes a loop of n iterations of nacc independent FMAs (no memory traffic):
// the FMA throughput of one core.
func peak(x isa, nacc int) {
	name := "peak" + x.name
	p("")
	p("// func %s(n int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ n+0(FP), CX")
	p("\tVXORPS Y0, Y0, Y0")
	p("\tVXORPS Y1, Y1, Y1")
	for i := 0; i < nacc; i++ {
		if x.reg == "Z" {
			p("\tVPXORD %s%d, %s%d, %s%d", x.reg, 2+i, x.reg, 2+i, x.reg, 2+i)
		} else {
			p("\tVXORPS %s%d, %s%d, %s%d", x.reg, 2+i, x.reg, 2+i, x.reg, 2+i)
		}
	}
	p("%s_loop:", name)
	for i := 0; i < nacc; i++ {
		p("\tVFMADD231PS %s0, %s1, %s%d", x.reg, x.reg, x.reg, 2+i)
	}
	p("\tDECQ CX")
	p("\tJNE %s_loop", name)
	p("\tVZEROUPPER")
	p("\tRET")
}

// interleave4 is hand-written: the 4×4 SSE transpose that packs 4 contiguous runs
// (rows of a row-major A, columns of a transposed B) into a panel.
const interleave4 = `
// func interleave4(d *float32, w int, s *float32, rs int, n int)
// d[x*w + r] = s[r*rs + x] for r < 4 and x < n, n a multiple of 4 (w, rs in elements).
TEXT ·interleave4(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ w+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ rs+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHRQ $2, CX
	JEQ il4_done
	LEAQ (SI)(R9*1), R10
	LEAQ (SI)(R9*2), R11
	LEAQ (R10)(R9*2), R12
il4_loop:
	MOVUPS (SI), X0
	MOVUPS (R10), X1
	MOVUPS (R11), X2
	MOVUPS (R12), X3
	MOVAPS X0, X4
	UNPCKLPS X1, X4
	UNPCKHPS X1, X0
	MOVAPS X2, X5
	UNPCKLPS X3, X5
	UNPCKHPS X3, X2
	MOVAPS X4, X1
	MOVLHPS X5, X1
	MOVHLPS X4, X5
	MOVAPS X0, X3
	MOVLHPS X2, X3
	MOVHLPS X0, X2
	MOVUPS X1, (DI)
	MOVUPS X5, (DI)(R8*1)
	LEAQ (DI)(R8*2), R13
	MOVUPS X3, (R13)
	MOVUPS X2, (R13)(R8*1)
	ADDQ $16, SI
	ADDQ $16, R10
	ADDQ $16, R11
	ADDQ $16, R12
	LEAQ (DI)(R8*4), DI
	DECQ CX
	JNE il4_loop
il4_done:
	RET
`

// interleave8 is hand-written: the 8×8 AVX transpose that packs 8 contiguous runs, as
// interleave4 does 4 (half the loads and stores per element, fewer shuffles).
const interleave8 = `
// func interleave8(d *float32, w int, s *float32, rs int, n int)
// d[x*w + r] = s[r*rs + x] for r < 8 and x < n, n a multiple of 8 (w, rs in elements).
TEXT ·interleave8(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ w+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ rs+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ il8_done
	LEAQ (R9)(R9*2), R12
	ADDQ SI, R12
	LEAQ (SI)(R9*4), R13
il8_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R9*1), Y1
	VMOVUPS (SI)(R9*2), Y2
	VMOVUPS (R12), Y3
	VMOVUPS (R13), Y4
	VMOVUPS (R13)(R9*1), Y5
	VMOVUPS (R13)(R9*2), Y6
	VMOVUPS (R12)(R9*4), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	LEAQ (R8)(R8*2), AX
	ADDQ DI, AX
	LEAQ (DI)(R8*4), BX
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R8*1)
	VMOVUPS Y10, (DI)(R8*2)
	VMOVUPS Y11, (AX)
	VMOVUPS Y12, (BX)
	VMOVUPS Y13, (BX)(R8*1)
	VMOVUPS Y14, (BX)(R8*2)
	VMOVUPS Y15, (AX)(R8*4)
	ADDQ $32, SI
	ADDQ $32, R12
	ADDQ $32, R13
	LEAQ (BX)(R8*4), DI
	DECQ CX
	JNE il8_loop
	VZEROUPPER
il8_done:
	RET
`

// copyRuns is hand-written: it packs n runs of rows contiguous floats (columns of a
// transposed A, rows of a row-major B) into a panel of width w, 64 then 16 bytes at a time.
const copyRuns = `
// func copyRuns(d *float32, w int, s *float32, xs int, rows int, n int)
// d[x*w + r] = s[x*xs + r] for r < rows, x < n (w, xs in elements).
TEXT ·copyRuns(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DI
	MOVQ w+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ xs+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), BX
	MOVQ n+40(FP), CX
	TESTQ CX, CX
	JEQ cr_done
cr_outer:
	MOVQ BX, DX
	XORQ AX, AX
cr_vec16:
	CMPQ DX, $16
	JLT cr_vec
	MOVUPS (SI)(AX*1), X0
	MOVUPS 16(SI)(AX*1), X1
	MOVUPS 32(SI)(AX*1), X2
	MOVUPS 48(SI)(AX*1), X3
	MOVUPS X0, (DI)(AX*1)
	MOVUPS X1, 16(DI)(AX*1)
	MOVUPS X2, 32(DI)(AX*1)
	MOVUPS X3, 48(DI)(AX*1)
	ADDQ $64, AX
	SUBQ $16, DX
	JMP cr_vec16
cr_vec:
	CMPQ DX, $4
	JLT cr_scalar
	MOVUPS (SI)(AX*1), X0
	MOVUPS X0, (DI)(AX*1)
	ADDQ $16, AX
	SUBQ $4, DX
	JMP cr_vec
cr_scalar:
	TESTQ DX, DX
	JEQ cr_next
	MOVSS (SI)(AX*1), X0
	MOVSS X0, (DI)(AX*1)
	ADDQ $4, AX
	DECQ DX
	JMP cr_scalar
cr_next:
	ADDQ R9, SI
	ADDQ R8, DI
	DECQ CX
	JNE cr_outer
cr_done:
	RET
`

// copyRunsAVX is copyRuns with 32-byte moves (AVX): 128 bytes per step, then 32, 16
// and 4 (packFull's runs are 12, 16 or 32 floats).
const copyRunsAVX = `
// func copyRunsAVX(d *float32, w int, s *float32, xs int, rows int, n int)
// d[x*w + r] = s[x*xs + r] for r < rows, x < n (w, xs in elements).
TEXT ·copyRunsAVX(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DI
	MOVQ w+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ xs+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), BX
	MOVQ n+40(FP), CX
	TESTQ CX, CX
	JEQ cra_done
cra_outer:
	MOVQ BX, DX
	XORQ AX, AX
cra_vec32:
	CMPQ DX, $32
	JLT cra_vec8
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VMOVUPS 64(SI)(AX*1), Y2
	VMOVUPS 96(SI)(AX*1), Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ $128, AX
	SUBQ $32, DX
	JMP cra_vec32
cra_vec8:
	CMPQ DX, $8
	JLT cra_vec4
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	SUBQ $8, DX
	JMP cra_vec8
cra_vec4:
	CMPQ DX, $4
	JLT cra_scalar
	VMOVUPS (SI)(AX*1), X0
	VMOVUPS X0, (DI)(AX*1)
	ADDQ $16, AX
	SUBQ $4, DX
	JMP cra_vec4
cra_scalar:
	TESTQ DX, DX
	JEQ cra_next
	VMOVSS (SI)(AX*1), X0
	VMOVSS X0, (DI)(AX*1)
	ADDQ $4, AX
	DECQ DX
	JMP cra_scalar
cra_next:
	ADDQ R9, SI
	ADDQ R8, DI
	DECQ CX
	JNE cra_outer
	VZEROUPPER
cra_done:
	RET
`

func main() {
	p("// Code generated by gen/asm.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64")
	p("")
	p("#include \"textflag.h\"")
	// AVX-512: one VBROADCASTSS of A per row and k (12 loads), two vector loads of B, 24
	// FMAs; the B panel, which streams from L2 under the A panel, is prefetched two
	// unrolled steps ahead. Embedded broadcasts (VFMADD231PS.BCST mem: 24 loads fused
	// into the FMAs) were 1-2% faster on the processor of 2026-12-01 (family 6 model
	// 207) but 5-10% slower on every benchmark shape on that of 2026-12-02 (model 167,
	// where the micro-kernel alone went from 175 to 184-190 GFLOP/s without them): 26
	// loads per 24 FMAs are more than two load ports sustain there. The arithmetic is
	// the same either way (bit-identical results).
	kernelOpt(avx512, 12, 2, 32, opts{prefB: 1024, unroll: 4})
	kernelOpt(avx512, 12, 1, 32, opts{prefB: 1024, unroll: 4})
	// The last 4 or 8 rows of a 12-row A panel (M mod 12), full width: no FMAs on the
	// zero padding and no scratch tile.
	kernelOpt(avx512, 4, 2, 32, opts{prefB: 1024, unroll: 4, amr: 12})
	kernelOpt(avx512, 8, 2, 32, opts{prefB: 1024, unroll: 4, amr: 12})
	if os.Getenv("GEMM_TUNE") != "" {
		tuneVariants()
	}
	kernel(avx2, 6, 2, 16)
	kernel(avx2, 6, 1, 16)
	p("%s", interleave4)
	p("%s", interleave8)
	p("%s", copyRuns)
	p("%s", copyRunsAVX)
	peak(avx512, 24)
	peak(avx2, 12)
	os.Stdout.WriteString(w.String())
}

// tuneVariants writes the micro-kernel variants compared while tuning (GEMM_TUNE=1 go run
// gen/asm.go > kernel_amd64.s; they need Go declarations of their own to be called).
func tuneVariants() {
	kernelOpt(avx512, 12, 2, 32, opts{suffix: "v0", unroll: 4})
	kernelOpt(avx512, 12, 2, 32, opts{suffix: "bc", bcst: true, unroll: 4})
	kernelOpt(avx512, 12, 2, 32, opts{suffix: "pb", prefB: 1024, unroll: 4})
	kernelOpt(avx512, 12, 2, 32, opts{suffix: "u8", unroll: 8, prefA: 2})
	kernelOpt(avx512, 12, 2, 32, opts{suffix: "bcpb", bcst: true, prefB: 1024, unroll: 4})
	kernelOpt(avx512, 14, 2, 32, opts{suffix: "bc", bcst: true, unroll: 4})
}
