// A softmax row before its division: s[j] ← e^(scale·s[j] − m), m the row's largest
// scale·s[j], returning the sum of the new values. Attention runs it on every row of its
// score blocks (a ViT at 512², 1024 tokens, 6 heads, 4 layers: 25 M values a run) and the
// Softmax operator on rows along the last axis.
//
// Two passes over the row: the maximum, then the exponentials and their sum. e^x is
// 2^n · (1 + r·p(r)) with x = n·ln 2 + r, |r| ≤ ln 2 / 2, an exact two-part ln 2 reduction
// and p of degree 4, fitted for the least largest relative error of 1 + r·p(r) on that
// interval (about 1e-7 in doubles, 1.6e-7 evaluated in floats). n is rounded by adding
// 1.5 · 2^23 + 127, which leaves n + 127 in the low bits of the sum: shifted into the
// exponent field they are 2^n, with no float-to-integer conversion. The argument
// scale·s[j] − m is at most 0 (or NaN), so only the lower end is clamped: below −87.34 the
// value is 0 (no denormals). A row whose maximum is +∞ or −∞ (everything masked) gives NaN,
// as onnxruntime does; a NaN in a row gives NaN there and in the sum.
//
// The sum adds lane-wise partial sums, then the lanes in a fixed order, then the tail, so
// it depends only on the row and the ISA path, never on threads.
#include "cmk.h"
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

// Portable: 4 lanes in generic vectors; n rounded by adding and subtracting 1.5 · 2^23.
typedef int32_t mk_si4 __attribute__((vector_size(16), aligned(4)));
static inline mk_si4 mk_splat4si(int32_t x) { return (mk_si4){x, x, x, x}; }

static inline mk_v4 mk_softmax_exp4(mk_v4 x) {
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
    const mk_v4 e = (r * scale) * p + scale;
    return (mk_v4)((mk_si4)e & ~tiny);
}

float mk_f32_softmax_numerators_4__portable(size_t n, float scale, float* s) {
    mk_v4 top4 = mk_splat4(-__builtin_inff());
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const mk_v4 x = mk_load4(s + j) * mk_splat4(scale);
        top4 = (mk_v4)(((mk_si4)top4 & ~(mk_si4)(x > top4)) | ((mk_si4)x & (mk_si4)(x > top4)));
    }
    float top = top4[0];
    for (int l = 1; l < 4; l++) top = top4[l] > top ? top4[l] : top;
    for (size_t t = j; t < n; t++) top = s[t] * scale > top ? s[t] * scale : top;
    const mk_v4 shift = mk_splat4(top);
    mk_v4 acc = mk_splat4(0.0f);
    for (j = 0; j + 4 <= n; j += 4) {
        const mk_v4 e = mk_softmax_exp4(mk_load4(s + j) * mk_splat4(scale) - shift);
        mk_store4(s + j, e);
        acc = acc + e;
    }
    float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    if (j < n) {
        float in[4] = {0, 0, 0, 0}, out[4];
        for (size_t t = 0; j + t < n; t++) in[t] = s[j + t] * scale - top;
        mk_store4(out, mk_softmax_exp4(mk_load4(in)));
        for (size_t t = 0; j + t < n; t++) { s[j + t] = out[t]; sum += out[t]; }
    }
    return sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline __m256 mk_softmax_exp8(__m256 x) {
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
    return _mm256_andnot_ps(tiny, _mm256_fmadd_ps(_mm256_mul_ps(r, scale), p, scale));
}

static inline float mk_hsum8(__m256 v) {
    const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    const __m128 s = _mm_add_ps(lo, hi);                        // lanes (0+4, 1+5, 2+6, 3+7)
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));        // (0+4)+(2+6), (1+5)+(3+7)
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

float mk_f32_softmax_numerators_8__avx2_fma(size_t n, float scale, float* s) {
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 lowest = _mm256_set1_ps(-__builtin_inff());
    __m256 t0 = lowest, t1 = lowest;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        t0 = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s + j), vscale), t0);
        t1 = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s + j + 8), vscale), t1);
    }
    for (; j + 8 <= n; j += 8) t0 = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s + j), vscale), t0);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), lane);
    if (j < n) {
        const __m256 x = _mm256_mul_ps(_mm256_maskload_ps(s + j, mask), vscale);
        t1 = _mm256_max_ps(_mm256_blendv_ps(lowest, x, _mm256_castsi256_ps(mask)), t1);
    }
    __m256 top8 = _mm256_max_ps(t0, t1);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(top8), _mm256_extractf128_ps(top8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    const __m256 shift = _mm256_set1_ps(_mm_cvtss_f32(m4));
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
        const __m256 e0 = mk_softmax_exp8(_mm256_fmsub_ps(_mm256_loadu_ps(s + j), vscale, shift));
        const __m256 e1 = mk_softmax_exp8(_mm256_fmsub_ps(_mm256_loadu_ps(s + j + 8), vscale, shift));
        _mm256_storeu_ps(s + j, e0);
        _mm256_storeu_ps(s + j + 8, e1);
        a0 = _mm256_add_ps(a0, e0);
        a1 = _mm256_add_ps(a1, e1);
    }
    for (; j + 8 <= n; j += 8) {
        const __m256 e = mk_softmax_exp8(_mm256_fmsub_ps(_mm256_loadu_ps(s + j), vscale, shift));
        _mm256_storeu_ps(s + j, e);
        a0 = _mm256_add_ps(a0, e);
    }
    if (j < n) {
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(mask),
                                       mk_softmax_exp8(_mm256_fmsub_ps(_mm256_maskload_ps(s + j, mask), vscale, shift)));
        _mm256_maskstore_ps(s + j, mask, e);
        a1 = _mm256_add_ps(a1, e);
    }
    return mk_hsum8(_mm256_add_ps(a0, a1));
}

#pragma clang attribute pop

#else

float mk_f32_softmax_numerators_8__avx2_fma(size_t n, float scale, float* s) {
    return mk_f32_softmax_numerators_4__portable(n, scale, s);
}

#endif
