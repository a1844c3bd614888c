#include "textflag.h"

// func rowSum8AVX2(o, x *float32, stride, n int)
//
// o[r] = ((x[r][0] + x[r][1]) + x[r][2]) + ... + x[r][n-1] (from 0, one float32
// addition at a time, in order) for the eight rows r of x, row r at
// x + r*stride: each 8×8 block of the rows is transposed in registers so that
// lane r of vector j holds x[r][k+j], and the vectors are added in order
// into one accumulator: lane r sees exactly row r's sequence of additions.
// n is a multiple of 8.
TEXT ·rowSum8AVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ stride+16(FP), R9
	MOVQ n+24(FP), CX
	SHLQ $2, R9                 // row stride in bytes
	LEAQ (R9)(R9*1), R10        // 2 rows
	LEAQ (R10)(R9*1), R11       // 3 rows
	LEAQ (SI)(R9*4), BX         // row 4
	VXORPS Y15, Y15, Y15        // the sums, from 0

loop:
	CMPQ CX, $8
	JL   done
	// rows 0-3 -> u0..u3 in Y0..Y3
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R9*1), Y1
	VMOVUPS (SI)(R10*1), Y2
	VMOVUPS (SI)(R11*1), Y3
	VUNPCKLPS Y1, Y0, Y8        // t0 = r0[0] r1[0] r0[1] r1[1] | ...
	VUNPCKHPS Y1, Y0, Y9        // t1
	VUNPCKLPS Y3, Y2, Y10       // t2
	VUNPCKHPS Y3, Y2, Y11       // t3
	VSHUFPS $0x44, Y10, Y8, Y0  // u0 = r0[0] r1[0] r2[0] r3[0] | r0[4] ...
	VSHUFPS $0xEE, Y10, Y8, Y1  // u1: element 1
	VSHUFPS $0x44, Y11, Y9, Y2  // u2: element 2
	VSHUFPS $0xEE, Y11, Y9, Y3  // u3: element 3
	// rows 4-7 -> u4..u7 in Y4..Y7
	VMOVUPS (BX), Y4
	VMOVUPS (BX)(R9*1), Y5
	VMOVUPS (BX)(R10*1), Y6
	VMOVUPS (BX)(R11*1), Y7
	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VUNPCKLPS Y7, Y6, Y10
	VUNPCKHPS Y7, Y6, Y11
	VSHUFPS $0x44, Y10, Y8, Y4
	VSHUFPS $0xEE, Y10, Y8, Y5
	VSHUFPS $0x44, Y11, Y9, Y6
	VSHUFPS $0xEE, Y11, Y9, Y7
	// column j of the block = low halves (j < 4) or high halves (j >= 4)
	// of u(j%4) and u(j%4+4); add them in order j = 0..7.
	VPERM2F128 $0x20, Y4, Y0, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x20, Y5, Y1, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x20, Y6, Y2, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x20, Y7, Y3, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x31, Y4, Y0, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x31, Y5, Y1, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x31, Y6, Y2, Y12
	VADDPS Y12, Y15, Y15
	VPERM2F128 $0x31, Y7, Y3, Y12
	VADDPS Y12, Y15, Y15

	ADDQ $32, SI
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  loop

done:
	VMOVUPS Y15, (DI)
	VZEROUPPER
	RET
