// A softmax row before its division: s[j] ← e^(scale·s[j] − m), m the row's largest
// scale·s[j], returning the sum of the new values. Attention runs it on every row of its
// score blocks (a ViT at 512², 1024 tokens, 6 heads, 4 layers: 25 M values a run) and the
// Softmax operator on rows along the last axis.
//
// Two passes over the row: the maximum, then the exponentials (mk-exp.h: below −87.34 the
// value is 0, no denormals) and their sum. The argument scale·s[j] − m is at most 0 (or NaN).
// A row whose maximum is +∞ or −∞ (everything masked) gives NaN, as onnxruntime does; a NaN
// in a row gives NaN there and in the sum.
//
// The sum adds lane-wise partial sums, then the lanes in a fixed order, then the tail, so
// it depends only on the row and the ISA path, never on threads.
#include "cmk.h"
#include "mk-exp.h"

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
        const mk_v4 e = mk_exp4_nonpositive(mk_load4(s + j) * mk_splat4(scale) - shift);
        mk_store4(s + j, e);
        acc = acc + e;
    }
    float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    if (j < n) {
        float in[4] = {0, 0, 0, 0}, out[4];
        for (size_t t = 0; j + t < n; t++) in[t] = s[j + t] * scale - top;
        mk_store4(out, mk_exp4_nonpositive(mk_load4(in)));
        for (size_t t = 0; j + t < n; t++) { s[j + t] = out[t]; sum += out[t]; }
    }
    return sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "mk-exp-vf.h"

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
        const __m256 e0 = mk_vf_exp_nonpositive(_mm256_fmsub_ps(_mm256_loadu_ps(s + j), vscale, shift));
        const __m256 e1 = mk_vf_exp_nonpositive(_mm256_fmsub_ps(_mm256_loadu_ps(s + j + 8), vscale, shift));
        _mm256_storeu_ps(s + j, e0);
        _mm256_storeu_ps(s + j + 8, e1);
        a0 = _mm256_add_ps(a0, e0);
        a1 = _mm256_add_ps(a1, e1);
    }
    for (; j + 8 <= n; j += 8) {
        const __m256 e = mk_vf_exp_nonpositive(_mm256_fmsub_ps(_mm256_loadu_ps(s + j), vscale, shift));
        _mm256_storeu_ps(s + j, e);
        a0 = _mm256_add_ps(a0, e);
    }
    if (j < n) {
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(mask),
                                       mk_vf_exp_nonpositive(_mm256_fmsub_ps(_mm256_maskload_ps(s + j, mask), vscale, shift)));
        _mm256_maskstore_ps(s + j, mask, e);
        a1 = _mm256_add_ps(a1, e);
    }
    return mk_vf_sum(_mm256_add_ps(a0, a1));
}

#pragma clang attribute pop

#else

float mk_f32_softmax_numerators_8__avx2_fma(size_t n, float scale, float* s) {
    return mk_f32_softmax_numerators_4__portable(n, scale, s);
}

#endif
