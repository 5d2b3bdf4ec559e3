// mk_f32_gemm_ukernel_6x16__avx2_fma: 6 rows × 16 columns of C in 12 ymm accumulators,
// one broadcast register and two B registers (15 of 16 ymm: no spills in the k loop).
// Compiled for AVX2+FMA by the pragma below and only called after mk_cpu_supports_avx2_fma().
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"



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
    float* c0 = c;
    float* c1 = mr > 1 ? c0 + c_stride : c0;
    float* c2 = mr > 2 ? c1 + c_stride : c1;
    float* c3 = mr > 3 ? c2 + c_stride : c2;
    float* c4 = mr > 4 ? c3 + c_stride : c3;
    float* c5 = mr > 5 ? c4 + c_stride : c4;

    const __m256i mask_lo = _mm256_loadu_si256((const __m256i*) &mk_mask_table[nc >= 8 ? 0 : 8 - nc]);
    const __m256i mask_hi = _mm256_loadu_si256((const __m256i*) &mk_mask_table[nc >= 16 ? 0 : (nc <= 8 ? 8 : 16 - nc)]);

    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (flags & MK_GEMM_ACCUMULATE) {
        if (nc == 16) {
            c00 = _mm256_loadu_ps(c0); c01 = _mm256_loadu_ps(c0 + 8);
            c10 = _mm256_loadu_ps(c1); c11 = _mm256_loadu_ps(c1 + 8);
            c20 = _mm256_loadu_ps(c2); c21 = _mm256_loadu_ps(c2 + 8);
            c30 = _mm256_loadu_ps(c3); c31 = _mm256_loadu_ps(c3 + 8);
            c40 = _mm256_loadu_ps(c4); c41 = _mm256_loadu_ps(c4 + 8);
            c50 = _mm256_loadu_ps(c5); c51 = _mm256_loadu_ps(c5 + 8);
        } else {
            c00 = _mm256_maskload_ps(c0, mask_lo); c01 = _mm256_maskload_ps(c0 + 8, mask_hi);
            c10 = _mm256_maskload_ps(c1, mask_lo); c11 = _mm256_maskload_ps(c1 + 8, mask_hi);
            c20 = _mm256_maskload_ps(c2, mask_lo); c21 = _mm256_maskload_ps(c2 + 8, mask_hi);
            c30 = _mm256_maskload_ps(c3, mask_lo); c31 = _mm256_maskload_ps(c3 + 8, mask_hi);
            c40 = _mm256_maskload_ps(c4, mask_lo); c41 = _mm256_maskload_ps(c4 + 8, mask_hi);
            c50 = _mm256_maskload_ps(c5, mask_lo); c51 = _mm256_maskload_ps(c5 + 8, mask_hi);
        }
    } else {
        const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
        const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
        c00 = b0; c01 = b1; c10 = b0; c11 = b1; c20 = b0; c21 = b1;
        c30 = b0; c31 = b1; c40 = b0; c41 = b1; c50 = b0; c51 = b1;
    }

    for (size_t k = 0; k < kc; k++) {
        const __m256 w0 = _mm256_load_ps(w);
        const __m256 w1 = _mm256_load_ps(w + 8);
        w += 16;
        __m256 va;
        va = _mm256_broadcast_ss(a0 + k); c00 = _mm256_fmadd_ps(va, w0, c00); c01 = _mm256_fmadd_ps(va, w1, c01);
        va = _mm256_broadcast_ss(a1 + k); c10 = _mm256_fmadd_ps(va, w0, c10); c11 = _mm256_fmadd_ps(va, w1, c11);
        va = _mm256_broadcast_ss(a2 + k); c20 = _mm256_fmadd_ps(va, w0, c20); c21 = _mm256_fmadd_ps(va, w1, c21);
        va = _mm256_broadcast_ss(a3 + k); c30 = _mm256_fmadd_ps(va, w0, c30); c31 = _mm256_fmadd_ps(va, w1, c31);
        va = _mm256_broadcast_ss(a4 + k); c40 = _mm256_fmadd_ps(va, w0, c40); c41 = _mm256_fmadd_ps(va, w1, c41);
        va = _mm256_broadcast_ss(a5 + k); c50 = _mm256_fmadd_ps(va, w0, c50); c51 = _mm256_fmadd_ps(va, w1, c51);
    }

    if (flags & MK_GEMM_ACTIVATE) {
        if (!(activation->kind == MK_ACT_CLAMP && activation->lo == -__builtin_inff() && activation->hi == __builtin_inff())) {
            c00 = mk_activate_avx2(c00, activation); c01 = mk_activate_avx2(c01, activation);
            c10 = mk_activate_avx2(c10, activation); c11 = mk_activate_avx2(c11, activation);
            c20 = mk_activate_avx2(c20, activation); c21 = mk_activate_avx2(c21, activation);
            c30 = mk_activate_avx2(c30, activation); c31 = mk_activate_avx2(c31, activation);
            c40 = mk_activate_avx2(c40, activation); c41 = mk_activate_avx2(c41, activation);
            c50 = mk_activate_avx2(c50, activation); c51 = mk_activate_avx2(c51, activation);
        }
    }

    // Highest row first: aliased rows hold identical values, so the order is immaterial,
    // but writing c0 last keeps the common full-tile case a straight line.
    if (nc == 16) {
        _mm256_storeu_ps(c5, c50); _mm256_storeu_ps(c5 + 8, c51);
        _mm256_storeu_ps(c4, c40); _mm256_storeu_ps(c4 + 8, c41);
        _mm256_storeu_ps(c3, c30); _mm256_storeu_ps(c3 + 8, c31);
        _mm256_storeu_ps(c2, c20); _mm256_storeu_ps(c2 + 8, c21);
        _mm256_storeu_ps(c1, c10); _mm256_storeu_ps(c1 + 8, c11);
        _mm256_storeu_ps(c0, c00); _mm256_storeu_ps(c0 + 8, c01);
    } else {
        _mm256_maskstore_ps(c5, mask_lo, c50); _mm256_maskstore_ps(c5 + 8, mask_hi, c51);
        _mm256_maskstore_ps(c4, mask_lo, c40); _mm256_maskstore_ps(c4 + 8, mask_hi, c41);
        _mm256_maskstore_ps(c3, mask_lo, c30); _mm256_maskstore_ps(c3 + 8, mask_hi, c31);
        _mm256_maskstore_ps(c2, mask_lo, c20); _mm256_maskstore_ps(c2 + 8, mask_hi, c21);
        _mm256_maskstore_ps(c1, mask_lo, c10); _mm256_maskstore_ps(c1 + 8, mask_hi, c11);
        _mm256_maskstore_ps(c0, mask_lo, c00); _mm256_maskstore_ps(c0 + 8, mask_hi, c01);
    }
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
