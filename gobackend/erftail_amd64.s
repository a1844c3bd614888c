#include "textflag.h"

// EXPPD(IN, OUT): OUT = math.Exp(IN) in four float64 lanes, by the FMA path
// of math.Exp's amd64 assembly, exactly as expAVX2 (exp_amd64.s) does it:
// the same operations in the same order. R8 holds expTable. Valid for the
// lanes math.Exp's normal path takes (here -37 < IN < 2). Scratch: Y10-Y13.
#define EXPPD(IN, OUT) \
	VMULPD       0(R8), IN, Y10;   \
	VCVTPD2DQY   Y10, X11;         \
	VCVTDQ2PD    X11, Y10;         \
	VMOVAPD      IN, OUT;          \
	VFNMADD231PD 32(R8), Y10, OUT; \
	VFNMADD231PD 64(R8), Y10, OUT; \
	VMULPD       96(R8), OUT, OUT; \
	VMOVUPD      128(R8), Y12;     \
	VFMADD213PD  160(R8), OUT, Y12; \
	VFMADD213PD  192(R8), OUT, Y12; \
	VFMADD213PD  224(R8), OUT, Y12; \
	VFMADD213PD  256(R8), OUT, Y12; \
	VFMADD213PD  288(R8), OUT, Y12; \
	VFMADD213PD  320(R8), OUT, Y12; \
	VFMADD213PD  352(R8), OUT, Y12; \
	VMULPD       Y12, OUT, OUT;    \
	VADDPD       384(R8), OUT, Y12; \
	VMULPD       Y12, OUT, OUT;    \
	VADDPD       384(R8), OUT, Y12; \
	VMULPD       Y12, OUT, OUT;    \
	VADDPD       384(R8), OUT, Y12; \
	VMULPD       Y12, OUT, OUT;    \
	VADDPD       384(R8), OUT, Y12; \
	VFMADD213PD  352(R8), Y12, OUT; \
	VPMOVSXDQ    X11, Y13;         \
	VPADDQ       416(R8), Y13, Y13; \
	VPSLLQ       $52, Y13, Y13;    \
	VMULPD       Y13, OUT, OUT

// HORNER(C, S, H): H = C + S*H (Go's c + s*(...), a multiply then an add).
#define HORNER(C, S, H) \
	VMULPD S, H, H; \
	VADDPD C, H, H

// func erfTailAVX2(o, x *float64, n int, c *[erfTailConsts][4]float64, e *[expConsts][4]float64)
//
// o[i] = 1 - r/x with r = Exp(-z*z-0.5625) * Exp((z-x)*(z+x)+R/S), z = x
// with the low 32 bits of its mantissa cleared, s = 1/(x*x) and R/S the
// rational of math.Erf for 1.25 <= x < 1/0.35 (ra, sa) or 1/0.35 <= x < 6
// (rb, sb): math.Erf's last finite range ($GOROOT/src/math/erf.go) with the
// same operations in the same order (Go does not contract them into FMAs
// on amd64), so o[i] == math.Erf(x[i]) bit for bit for x[i] in [1.25, 6).
// n is a multiple of 4.
TEXT ·erfTailAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R9
	MOVQ e+32(FP), R8

loop:
	CMPQ CX, $4
	JL   done
	VMOVUPD (SI), Y0              // x
	VMULPD  Y0, Y0, Y1
	VMOVUPD 64(R9), Y2            // 1
	VDIVPD  Y1, Y2, Y1            // s = 1/(x*x)

	// R, S for 1.25 <= x < 1/0.35: ra0..ra7 at 128.., sa1..sa8 at 384..
	VMULPD 352(R9), Y1, Y3        // s*ra7
	VADDPD 320(R9), Y3, Y3        // ra6 + s*ra7
	HORNER(288(R9), Y1, Y3)
	HORNER(256(R9), Y1, Y3)
	HORNER(224(R9), Y1, Y3)
	HORNER(192(R9), Y1, Y3)
	HORNER(160(R9), Y1, Y3)
	HORNER(128(R9), Y1, Y3)       // Ra
	VMULPD 608(R9), Y1, Y4        // s*sa8
	VADDPD 576(R9), Y4, Y4        // sa7 + s*sa8
	HORNER(544(R9), Y1, Y4)
	HORNER(512(R9), Y1, Y4)
	HORNER(480(R9), Y1, Y4)
	HORNER(448(R9), Y1, Y4)
	HORNER(416(R9), Y1, Y4)
	HORNER(384(R9), Y1, Y4)
	HORNER(Y2, Y1, Y4)            // Sa = 1 + s*(...)

	// R, S for x >= 1/0.35: rb0..rb6 at 640.., sb1..sb7 at 864..
	VMULPD 832(R9), Y1, Y5        // s*rb6
	VADDPD 800(R9), Y5, Y5        // rb5 + s*rb6
	HORNER(768(R9), Y1, Y5)
	HORNER(736(R9), Y1, Y5)
	HORNER(704(R9), Y1, Y5)
	HORNER(672(R9), Y1, Y5)
	HORNER(640(R9), Y1, Y5)       // Rb
	VMULPD 1056(R9), Y1, Y6       // s*sb7
	VADDPD 1024(R9), Y6, Y6       // sb6 + s*sb7
	HORNER(992(R9), Y1, Y6)
	HORNER(960(R9), Y1, Y6)
	HORNER(928(R9), Y1, Y6)
	HORNER(896(R9), Y1, Y6)
	HORNER(864(R9), Y1, Y6)
	HORNER(Y2, Y1, Y6)            // Sb

	VCMPPD    $1, 96(R9), Y0, Y7  // x < 1/0.35 (LT_OS)
	VBLENDVPD Y7, Y3, Y5, Y3      // R
	VBLENDVPD Y7, Y4, Y6, Y4      // S

	VANDPD  0(R9), Y0, Y5         // z
	VXORPD  1088(R9), Y5, Y6      // -z
	VMULPD  Y5, Y6, Y6            // -z*z
	VSUBPD  32(R9), Y6, Y6        // -z*z - 0.5625
	VSUBPD  Y0, Y5, Y7            // z - x
	VADDPD  Y0, Y5, Y8            // z + x
	VMULPD  Y8, Y7, Y7            // (z-x)*(z+x)
	VDIVPD  Y4, Y3, Y3            // R/S
	VADDPD  Y3, Y7, Y7            // (z-x)*(z+x) + R/S

	EXPPD(Y6, Y8)
	EXPPD(Y7, Y9)
	VMULPD  Y9, Y8, Y8            // r
	VDIVPD  Y0, Y8, Y8            // r/x
	VSUBPD  Y8, Y2, Y8            // 1 - r/x
	VMOVUPD Y8, (DI)

	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  loop

done:
	VZEROUPPER
	RET
