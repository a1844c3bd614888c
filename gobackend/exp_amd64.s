#include "textflag.h"

// func expAVX2(o, a *float32, n int, bad *uint8, c *[expConsts][4]float64)
//
// Four lanes at a time, the FMA path of math.Exp's amd64 assembly
// ($GOROOT/src/math/exp_amd64.s, taken when the CPU has AVX and FMA) with
// the same operations in the same order: k = round(x*log2e); r = x - k*ln2u
// - k*ln2l (fused); r /= 16; Taylor series; four squarings; times 2^k. So
// float32 of the result is float32(math.Exp(x)) bit for bit. Lanes outside
// -103 <= x <= 88 (and NaN) get o[i] = a[i] and their bit in bad[i/4]: the
// caller computes them with math.Exp. n is a multiple of 4.
TEXT ·expAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ bad+24(FP), BX
	MOVQ c+32(FP), R8

loop:
	CMPQ CX, $4
	JL   done
	VCVTPS2PD (SI), Y0           // x
	VMULPD    0(R8), Y0, Y1      // x*log2e
	VCVTPD2DQY Y1, X2            // k (round to nearest, as CVTSD2SL)
	VCVTDQ2PD X2, Y1             // float64(k)
	VMOVAPD   Y0, Y3
	VFNMADD231PD 32(R8), Y1, Y3  // r = x - k*ln2u
	VFNMADD231PD 64(R8), Y1, Y3  // r -= k*ln2l
	VMULPD    96(R8), Y3, Y3     // r *= 0.0625

	VMOVUPD      128(R8), Y4     // c64
	VFMADD213PD  160(R8), Y3, Y4 // c56
	VFMADD213PD  192(R8), Y3, Y4 // c48
	VFMADD213PD  224(R8), Y3, Y4 // c40
	VFMADD213PD  256(R8), Y3, Y4 // c32
	VFMADD213PD  288(R8), Y3, Y4 // c24
	VFMADD213PD  320(R8), Y3, Y4 // 0.5
	VFMADD213PD  352(R8), Y3, Y4 // 1.0
	VMULPD       Y4, Y3, Y3
	VADDPD       384(R8), Y3, Y4 // + 2
	VMULPD       Y4, Y3, Y3
	VADDPD       384(R8), Y3, Y4
	VMULPD       Y4, Y3, Y3
	VADDPD       384(R8), Y3, Y4
	VMULPD       Y4, Y3, Y3
	VADDPD       384(R8), Y3, Y4
	VFMADD213PD  352(R8), Y4, Y3 // r*(r+2) + 1

	// times 2^k: (k + 1023) << 52
	VPMOVSXDQ X2, Y5
	VPADDQ    416(R8), Y5, Y5
	VPSLLQ    $52, Y5, Y5
	VMULPD    Y5, Y3, Y3

	// Lanes done here: -103 <= x <= 88 (false for NaN); the others keep x.
	VCMPPD    $13, 448(R8), Y0, Y6 // GE_OS
	VCMPPD    $2, 480(R8), Y0, Y7  // LE_OS
	VANDPD    Y7, Y6, Y6
	VBLENDVPD Y6, Y3, Y0, Y3
	VMOVMSKPD Y6, AX
	XORL      $15, AX
	MOVB      AX, (BX)
	VCVTPD2PSY Y3, X3
	VMOVUPS   X3, (DI)

	ADDQ $16, SI
	ADDQ $16, DI
	INCQ BX
	SUBQ $4, CX
	JMP  loop

done:
	VZEROUPPER
	RET
