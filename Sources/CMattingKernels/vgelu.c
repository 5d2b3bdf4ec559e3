// Exact GELU, y = x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), on vectors: the transformer MLP's
// activation over four times the model width per token (Swin-T at 512²: ~30 M values a run).
//
// With z = x / √2 and a = |z|, erfc(a) ≈ q = t · P(t) · e^(−a²), t = 1 / (1 + p·a)
// (Abramowitz & Stegun 7.1.26, absolute error ≤ 1.5e-7). Then 1 + erf(z) is q for z < 0 and
// 2 − q otherwise: the negative side never forms 1 − (1 − q), so small outputs keep their
// relative accuracy better than erf-then-add would. e^(−a²) is 2^n · p(r) with an exact
// two-part ln 2 reduction and a degree-6 Taylor polynomial (relative error < 2e-7 on
// |r| ≤ ln2/2), 2^n built in the exponent bits; below −87 it is 0 (the output is then
// below 1e-38 in magnitude anyway). NaN in gives NaN out; +∞ gives +∞.
#include "cmk.h"
#include "mk-portable.h"

#define MK_GELU_P 0.3275911f
#define MK_GELU_A1 0.254829592f
#define MK_GELU_A2 (-0.284496736f)
#define MK_GELU_A3 1.421413741f
#define MK_GELU_A4 (-1.453152027f)
#define MK_GELU_A5 1.061405429f

// Portable: 4 lanes in generic vectors (SSE2 / NEON); the exponent is rebuilt with integer
// vector ops, selections with comparison masks.
typedef int32_t mk_i4 __attribute__((vector_size(16), aligned(4)));
static inline mk_i4 mk_splat4i(int32_t x) { return (mk_i4){x, x, x, x}; }

static inline mk_v4 mk_gelu4(mk_v4 x) {
    const mk_v4 z = x * mk_splat4(0.70710678118654752f);
    const mk_i4 negative = (mk_i4)(z < mk_splat4(0.0f));
    const mk_v4 a = (mk_v4)(((mk_i4)z) & mk_splat4i(0x7fffffff));
    const mk_v4 t = mk_splat4(1.0f) / (mk_splat4(1.0f) + mk_splat4(MK_GELU_P) * a);
    mk_v4 poly = mk_splat4(MK_GELU_A5);
    poly = poly * t + mk_splat4(MK_GELU_A4);
    poly = poly * t + mk_splat4(MK_GELU_A3);
    poly = poly * t + mk_splat4(MK_GELU_A2);
    poly = poly * t + mk_splat4(MK_GELU_A1);
    // e^(−a²), with the argument clamped at −87 (where 2^n stays a normal float).
    mk_v4 e = -(a * a);
    const mk_i4 tiny = (mk_i4)(e < mk_splat4(-87.0f));
    e = (mk_v4)(((mk_i4)e & ~tiny) | ((mk_i4)mk_splat4(-87.0f) & tiny));
    const mk_v4 magic = mk_splat4(12582912.0f);  // 1.5 · 2^23: adding it rounds to an integer
    const mk_v4 shifted = e * mk_splat4(1.44269504088896341f) + magic;
    const mk_v4 n = shifted - magic;
    mk_v4 r = e - n * mk_splat4(0.693359375f);
    r = r - n * mk_splat4(-2.12194440e-4f);
    mk_v4 p = mk_splat4(1.0f / 720.0f);
    p = p * r + mk_splat4(1.0f / 120.0f);
    p = p * r + mk_splat4(1.0f / 24.0f);
    p = p * r + mk_splat4(1.0f / 6.0f);
    p = p * r + mk_splat4(0.5f);
    p = p * r + mk_splat4(1.0f);
    p = p * r + mk_splat4(1.0f);
    const mk_i4 bits = (((mk_i4)shifted - (mk_i4)magic) + mk_splat4i(127)) << 23;
    mk_v4 ex = p * (mk_v4)bits;
    ex = (mk_v4)((mk_i4)ex & ~tiny);
    const mk_v4 q = t * poly * ex;
    const mk_v4 twoMinus = mk_splat4(2.0f) - q;
    const mk_v4 onePlusErf = (mk_v4)(((mk_i4)q & negative) | ((mk_i4)twoMinus & ~negative));
    return mk_splat4(0.5f) * x * onePlusErf;
}

void mk_f32_vgelu_ukernel_4__portable(size_t n, const float* x, float* y) { mk_map4(n, x, y, mk_gelu4); }

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline __m256 mk_gelu8(__m256 x) {
    const __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
    const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z);
    const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(MK_GELU_P), a, _mm256_set1_ps(1.0f)));
    __m256 poly = _mm256_set1_ps(MK_GELU_A5);
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(MK_GELU_A4));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(MK_GELU_A3));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(MK_GELU_A2));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(MK_GELU_A1));
    // e^(−a²), the argument clamped at −87 (max keeps the second operand for NaN: −87).
    const __m256 e0 = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a));
    const __m256 tiny = _mm256_cmp_ps(e0, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    const __m256 e = _mm256_max_ps(e0, _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(e, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), e);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 ex = _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
    const __m256 q = _mm256_mul_ps(_mm256_mul_ps(t, poly), ex);
    const __m256 negative = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 onePlusErf = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), q), q, negative);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), onePlusErf);
}

void mk_f32_vgelu_ukernel_8__avx2_fma(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, mk_gelu8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);
        _mm256_maskstore_ps(y + i, mask, mk_gelu8(_mm256_maskload_ps(x + i, mask)));
    }
}

#pragma clang attribute pop

#else

void mk_f32_vgelu_ukernel_8__avx2_fma(size_t n, const float* x, float* y) {
    mk_f32_vgelu_ukernel_4__portable(n, x, y);
}

#endif
