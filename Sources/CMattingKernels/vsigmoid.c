// y = 1 / (1 + e^(−x)) on vectors: 4 lanes portable (SSE2 / NEON), 8 with AVX2+FMA, 16 with
// AVX-512F (masked tail). A model that ends in a sigmoid over a full-resolution map (the
// selfie model: 65,536 values a run) and squeeze-and-excitation gates run it; element by
// element with the C library's expf it cost about 10 ns a value.
//
// e = e^(−|x|) (mk-exp.h: relative error 1.6e-7, 0 below −87.34 so no denormal ever reaches
// an arithmetic instruction — on Intel cores one that does costs a microcode assist of a
// hundred cycles or more, which made the first AVX-512 version, whose 2^n could underflow
// gradually, spend most of its time there on the selfie model's strongly negative logits),
// f = e / (1 + e), and 1 − f for x > 0. So every output is in [0, 1]; where the exact
// sigmoid is below the smallest normal float (x < −87.34) the output is 0. NaN gives NaN.
#include "cmk.h"
#include "mk-exp.h"

static inline mk_v4 mk_sigmoid4(mk_v4 x) {
    const mk_si4 negative = (mk_si4)(x < mk_splat4(0.0f)), positive = (mk_si4)(x > mk_splat4(0.0f));
    const mk_v4 minus_abs = (mk_v4)(((mk_si4)x & negative) | ((mk_si4)(-x) & ~negative));  // −|x|, NaN kept
    const mk_v4 e = mk_exp4_nonpositive(minus_abs);
    const mk_v4 f = e / (e + mk_splat4(1.0f));
    return (mk_v4)(((mk_si4)(mk_splat4(1.0f) - f) & positive) | ((mk_si4)f & ~positive));
}

void mk_f32_vsigmoid_ukernel_4__portable(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) mk_store4(y + i, mk_sigmoid4(mk_load4(x + i)));
    if (i < n) {
        float in[4] = {0, 0, 0, 0}, out[4];
        for (size_t t = 0; i + t < n; t++) in[t] = x[i + t];
        mk_store4(out, mk_sigmoid4(mk_load4(in)));
        for (size_t t = 0; i + t < n; t++) y[i + t] = out[t];
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline __m256 mk_sigmoid8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 e = mk_exp8_nonpositive(_mm256_or_ps(x, sign));  // −|x|, NaN kept
    const __m256 f = _mm256_div_ps(e, _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
    const __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(f, _mm256_sub_ps(_mm256_set1_ps(1.0f), f), positive);
}

void mk_f32_vsigmoid_ukernel_8__avx2_fma(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, mk_sigmoid8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int) (n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + i, mask, mk_sigmoid8(_mm256_maskload_ps(x + i, mask)));
    }
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"

static inline __m512 mk_sigmoid16(__m512 x) {
    const __m512 minus_abs = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int) 0x80000000u)));  // −|x|, NaN kept
    const __m512 e = mk_exp16_nonpositive(minus_abs);
    const __m512 f = _mm512_div_ps(e, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
    const __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_sub_ps(f, positive, _mm512_set1_ps(1.0f), f);
}

void mk_f32_vsigmoid_ukernel_16__avx512f(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, mk_sigmoid16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = mk_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, mk_sigmoid16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#pragma clang attribute pop

#else

void mk_f32_vsigmoid_ukernel_8__avx2_fma(size_t n, const float* x, float* y) { mk_f32_vsigmoid_ukernel_4__portable(n, x, y); }

void mk_f32_vsigmoid_ukernel_16__avx512f(size_t n, const float* x, float* y) {
    (void) n; (void) x; (void) y;
    __builtin_trap();  // never dispatched: mk_cpu_supports_avx512f() is 0 here
}

#endif
