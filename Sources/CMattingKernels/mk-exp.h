// e^x for x ≤ 0 (or NaN) on vectors, shared by the softmax numerators (vsoftmax.c) and the
// sigmoid (vsigmoid.c): 4 lanes in generic vectors, 8 with AVX2+FMA, 16 with AVX-512F.
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

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m256 mk_exp8_nonpositive(__m256 x) {
    // max(lo, x) keeps x's NaN (the second operand is returned when either is NaN).
    const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(MK_EXP_LO), _CMP_LT_OQ);
    const __m256 c = _mm256_max_ps(_mm256_set1_ps(MK_EXP_LO), x);
    const __m256 magic = _mm256_set1_ps(MK_EXP_MAGIC);
    const __m256 t = _mm256_fmadd_ps(c, _mm256_set1_ps(1.442695041f), magic);
    const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
    const __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(MK_EXP_LN2_HI), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(MK_EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(MK_EXP_C5);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(MK_EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(MK_EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(MK_EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(MK_EXP_C1));
    return _mm256_andnot_ps(tiny, _mm256_mul_ps(_mm256_fmadd_ps(r, p, _mm256_set1_ps(1.0f)), scale));
}

__attribute__((target("avx512f"))) static inline __m512 mk_exp16_nonpositive(__m512 x) {
    // max(lo, x) keeps x's NaN, as above.
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(MK_EXP_LO), _CMP_LT_OQ);
    const __m512 c = _mm512_max_ps(_mm512_set1_ps(MK_EXP_LO), x);
    const __m512 magic = _mm512_set1_ps(MK_EXP_MAGIC);
    const __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.442695041f), magic);
    const __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23));
    const __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(MK_EXP_LN2_HI), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(MK_EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(MK_EXP_C5);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(MK_EXP_C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(MK_EXP_C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(MK_EXP_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(MK_EXP_C1));
    return _mm512_maskz_mov_ps((__mmask16) ~tiny, _mm512_mul_ps(_mm512_fmadd_ps(r, p, _mm512_set1_ps(1.0f)), scale));
}

#endif
