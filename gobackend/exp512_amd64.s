#include "textflag.h"

// func expAVX512(o, a *float32, n int, bad *uint8, c *[expConsts][8]float64)
//
// expAVX2 (exp_amd64.s) eight lanes at a time: the FMA path of math.Exp's
// amd64 assembly, the same operations in the same order, so float32 of the
// result is float32(math.Exp(x)) bit for bit. Lanes outside -103 <= x <= 88
// (and NaN) get o[i] = a[i] and their bit in bad[i/8]: the caller computes
// them with math.Exp. n is a multiple of 8.
TEXT ·expAVX512(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ bad+24(FP), BX
	MOVQ c+32(FP), R8

loop:
	CMPQ CX, $8
	JL   done
	VCVTPS2PD (SI), Z0            // x
	VMULPD    0(R8), Z0, Z1       // x*log2e
	VCVTPD2DQ Z1, Y2              // k (round to nearest)
	VCVTDQ2PD Y2, Z1              // float64(k)
	VMOVAPD   Z0, Z3
	VFNMADD231PD 64(R8), Z1, Z3   // r = x - k*ln2u
	VFNMADD231PD 128(R8), Z1, Z3  // r -= k*ln2l
	VMULPD    192(R8), Z3, Z3     // r *= 0.0625

	VMOVUPD      256(R8), Z4      // c64
	VFMADD213PD  320(R8), Z3, Z4  // c56
	VFMADD213PD  384(R8), Z3, Z4  // c48
	VFMADD213PD  448(R8), Z3, Z4  // c40
	VFMADD213PD  512(R8), Z3, Z4  // c32
	VFMADD213PD  576(R8), Z3, Z4  // c24
	VFMADD213PD  640(R8), Z3, Z4  // 0.5
	VFMADD213PD  704(R8), Z3, Z4  // 1.0
	VMULPD       Z4, Z3, Z3
	VADDPD       768(R8), Z3, Z4  // + 2
	VMULPD       Z4, Z3, Z3
	VADDPD       768(R8), Z3, Z4
	VMULPD       Z4, Z3, Z3
	VADDPD       768(R8), Z3, Z4
	VMULPD       Z4, Z3, Z3
	VADDPD       768(R8), Z3, Z4
	VFMADD213PD  704(R8), Z4, Z3  // r*(r+2) + 1

	// times 2^k: (k + 1023) << 52
	VPMOVSXDQ Y2, Z5
	VPADDQ    832(R8), Z5, Z5
	VPSLLQ    $52, Z5, Z5
	VMULPD    Z5, Z3, Z3

	// Lanes done here: -103 <= x <= 88 (false for NaN); the others keep x.
	VCMPPD    $13, 896(R8), Z0, K1 // GE_OS
	VCMPPD    $2, 960(R8), Z0, K2  // LE_OS
	KANDB     K2, K1, K1
	VBLENDMPD Z3, Z0, K1, Z3       // K1 ? exp : x
	KMOVB     K1, AX
	XORL      $255, AX
	MOVB      AX, (BX)
	VCVTPD2PS Z3, Y3
	VMOVUPS   Y3, (DI)

	ADDQ $32, SI
	ADDQ $32, DI
	INCQ BX
	SUBQ $8, CX
	JMP  loop

done:
	VZEROUPPER
	RET
