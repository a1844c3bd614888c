#include "textflag.h"

// func erfAVX2(o, a *float32, n int, bad *uint8, c *[erfConsts][4]float64)
//
// Four lanes at a time: x = float64(a[i]); for 2^-28 <= |x| < 1.25 the two
// ranges of math.Erf (erf.go: x + x*(r/s), and erx + P/Q), with the very
// same float64 operations in the same order (no FMA), so float32 of the
// result is float32(math.Erf(x)) bit for bit. Other lanes (tiny, |x| >= 1.25,
// Inf, NaN) get o[i] = a[i] and their bit is set in bad[i/4]: the caller
// computes them with math.Erf. n is a multiple of 4.
TEXT ·erfAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ bad+24(FP), BX
	MOVQ c+32(FP), R8
	VMOVUPD 896(R8), Y15 // 28: |x| mask
	VMOVUPD 768(R8), Y14 // 24: 1.0

loop:
	CMPQ CX, $4
	JL   done
	VCVTPS2PD (SI), Y0
	VANDPD    Y15, Y0, Y1 // ax = |x|
	VMULPD    Y1, Y1, Y2  // z = ax*ax

	// r = pp0 + z*(pp1 + z*(pp2 + z*(pp3 + z*pp4)))
	VMULPD 128(R8), Y2, Y3
	VADDPD 96(R8), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD 64(R8), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD 32(R8), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD 0(R8), Y3, Y3

	// s = 1 + z*(qq1 + z*(qq2 + z*(qq3 + z*(qq4 + z*qq5))))
	VMULPD 288(R8), Y2, Y4
	VADDPD 256(R8), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD 224(R8), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD 192(R8), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD 160(R8), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD Y14, Y4, Y4
	VDIVPD Y4, Y3, Y3 // y = r/s
	VMULPD Y3, Y1, Y3 // ax*y
	VADDPD Y3, Y1, Y8 // ax + ax*y

	// s = ax - 1; P = pa0 + s*(...pa6); Q = 1 + s*(...qa6)
	VSUBPD Y14, Y1, Y5
	VMULPD 512(R8), Y5, Y6
	VADDPD 480(R8), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD 448(R8), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD 416(R8), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD 384(R8), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD 352(R8), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD 320(R8), Y6, Y6

	VMULPD 704(R8), Y5, Y7
	VADDPD 672(R8), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD 640(R8), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD 608(R8), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD 576(R8), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD 544(R8), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD Y14, Y7, Y7
	VDIVPD Y7, Y6, Y6     // P/Q
	VADDPD 736(R8), Y6, Y9 // erx + P/Q

	// ax < 0.84375 ? first range : second; then the sign of x.
	VCMPPD    $1, 832(R8), Y1, Y10 // LT_OS
	VBLENDVPD Y10, Y8, Y9, Y11
	VANDNPD   Y0, Y15, Y12         // sign bit of x
	VORPD     Y12, Y11, Y11

	// Lanes done here: 2^-28 <= ax < 1.25 (false for NaN); the others keep x.
	VCMPPD    $13, 800(R8), Y1, Y12 // GE_OS
	VCMPPD    $1, 864(R8), Y1, Y13  // LT_OS
	VANDPD    Y13, Y12, Y12
	VBLENDVPD Y12, Y11, Y0, Y11
	VMOVMSKPD Y12, AX
	XORL      $15, AX
	MOVB      AX, (BX)
	VCVTPD2PSY Y11, X11
	VMOVUPS   X11, (DI)

	ADDQ $16, SI
	ADDQ $16, DI
	INCQ BX
	SUBQ $4, CX
	JMP  loop

done:
	VZEROUPPER
	RET
