// e^x for x ≤ 0 (or NaN) on vectors, shared by the softmax numerators (vsoftmax.c) and the
// sigmoid (vsigmoid.c): 4 lanes in generic vectors here, 8 (AVX2+FMA) or 16 (AVX-512F) lanes
// in mk-exp-vf.h, the same steps on the lane-neutral names.
//
// e^x is 2^n · (1 + r·p(r)) with x = n·ln 2 + r, |r| ≤ ln 2 / 2, an exact two-part ln 2
// reduction and p of degree 4, fitted for the least largest relative error of 1 + r·p(r) on
// that interval (about 1e-7 in doubles, 1.6e-7 evaluated in floats). n is rounded by adding
// 1.5 · 2^23 + 127, which leaves n + 127 in the low bits of the sum: shifted into the exponent
// field they are 2^n, with no float-to-integer conversion. The result is formed as
// (1 + r·p) · 2^n, not r·2^n·p + 2^n: the same bits (scaling by a power of two commutes with
// rounding), but r·2^n is a denormal for n ≤ −123, and on Intel cores an operation that reads
// or makes a denormal takes a microcode assist of a hundred cycles or more. Only the lower end
// is clamped: the argument is raised to −87.34 (where n = −126 and r ≥ 0, so the product stays
// a normal float) and the value below it is 0, so no denormal reaches the caller either. NaN
// gives NaN. Private to this target.
#pragma once
#include "mk-portable.h"

#define MK_EXP_LO (-87.33654f)
// 1.5 · 2^23 + 127: a float in [2^23, 2^24) whose low bits, after adding x·log2 e, are n + 127.
#define MK_EXP_MAGIC 12583039.0f
#define MK_EXP_LN2_HI 0.693359375f
#define MK_EXP_LN2_LO (-2.12194440e-4f)
// p(r) = C1 + C2 r + C3 r² + C4 r³ + C5 r⁴, 1 + r·p(r) ≈ e^r on |r| ≤ ln 2 / 2.
#define MK_EXP_C1 0x1.fffff6p-1f
#define MK_EXP_C2 0x1.fffdc6p-2f
#define MK_EXP_C3 0x1.555a6ap-3f
#define MK_EXP_C4 0x1.573a4ap-5f
#define MK_EXP_C5 0x1.0fa80ep-7f

typedef int32_t mk_si4 __attribute__((vector_size(16), aligned(4)));
static inline mk_si4 mk_splat4si(int32_t x) { return (mk_si4){x, x, x, x}; }

static inline mk_v4 mk_exp4_nonpositive(mk_v4 x) {
    const mk_si4 tiny = (mk_si4)(x < mk_splat4(MK_EXP_LO));
    const mk_v4 c = (mk_v4)(((mk_si4)x & ~tiny) | ((mk_si4)mk_splat4(MK_EXP_LO) & tiny));
    const mk_v4 magic = mk_splat4(MK_EXP_MAGIC);
    const mk_v4 t = c * mk_splat4(1.442695041f) + magic;
    const mk_v4 scale = (mk_v4)((mk_si4)t << 23);
    const mk_v4 n = t - magic;
    const mk_v4 r = (c - n * mk_splat4(MK_EXP_LN2_HI)) - n * mk_splat4(MK_EXP_LN2_LO);
    mk_v4 p = mk_splat4(MK_EXP_C5);
    p = p * r + mk_splat4(MK_EXP_C4);
    p = p * r + mk_splat4(MK_EXP_C3);
    p = p * r + mk_splat4(MK_EXP_C2);
    p = p * r + mk_splat4(MK_EXP_C1);
    const mk_v4 e = (r * p + mk_splat4(1.0f)) * scale;
    return (mk_v4)((mk_si4)e & ~tiny);
}
