// mk_f32_gemm_ukernel_6x16__avx2_fma: 6 rows × 16 columns of C in 12 ymm accumulators,
// one broadcast register and two B registers (15 of 16 ymm: no spills in the k loop).
// Compiled for AVX2+FMA by the pragma below and only called after mk_cpu_supports_avx2_fma().
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "gemm-6x16-avx2.h"



void mk_f32_gemm_ukernel_6x16__avx2_fma(
    size_t mr, size_t nc, size_t kc,
    const float* a, size_t a_stride,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    // Rows past mr alias the last real row: they compute the same values and store them
    // to the same place, which keeps the k loop free of branches.
    const float* a0 = a;
    const float* a1 = mr > 1 ? a0 + a_stride : a0;
    const float* a2 = mr > 2 ? a1 + a_stride : a1;
    const float* a3 = mr > 3 ? a2 + a_stride : a2;
    const float* a4 = mr > 4 ? a3 + a_stride : a3;
    const float* a5 = mr > 5 ? a4 + a_stride : a4;
    MK_6X16_AVX2_BEGIN

    for (size_t k = 0; k < kc; k++) {
        MK_6X16_AVX2_STEP(k)
    }

    MK_6X16_AVX2_END
}

float mk_f32_fma_peak_probe__avx2_fma(size_t iterations) {
    // 10 independent accumulator chains cover the FMA latency (4 cycles) × 2 pipes on Zen 3.
    __m256 x0 = _mm256_set1_ps(0.0f), x1 = x0, x2 = x0, x3 = x0, x4 = x0;
    __m256 x5 = x0, x6 = x0, x7 = x0, x8 = x0, x9 = x0;
    const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (size_t i = 0; i < iterations; i++) {
        x0 = _mm256_fmadd_ps(x0, m, b); x1 = _mm256_fmadd_ps(x1, m, b);
        x2 = _mm256_fmadd_ps(x2, m, b); x3 = _mm256_fmadd_ps(x3, m, b);
        x4 = _mm256_fmadd_ps(x4, m, b); x5 = _mm256_fmadd_ps(x5, m, b);
        x6 = _mm256_fmadd_ps(x6, m, b); x7 = _mm256_fmadd_ps(x7, m, b);
        x8 = _mm256_fmadd_ps(x8, m, b); x9 = _mm256_fmadd_ps(x9, m, b);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                             _mm256_add_ps(_mm256_add_ps(x4, x5), _mm256_add_ps(_mm256_add_ps(x6, x7), _mm256_add_ps(x8, x9))));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

#pragma clang attribute pop

#else  // not x86_64: never dispatched (mk_cpu_supports_avx2_fma() is 0); keep the symbols.

void mk_f32_gemm_ukernel_6x16__avx2_fma(
    size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w,
    const float* bias, float* c, size_t c_stride, uint32_t flags, const mk_activation* activation)
{
    mk_f32_gemm_ukernel_6x16__portable(mr, nc, kc, a, a_stride, w, bias, c, c_stride, flags, activation);
}

float mk_f32_fma_peak_probe__avx2_fma(size_t iterations) { (void) iterations; return 0.0f; }

#endif
