// mk_f32_igemm_ukernel_6x16__avx2_fma: the 6×16 GEMM microkernel with its A rows read through
// an indirection buffer (implicit GEMM, no im2col copy): for each of `ks` taps, six pointers to
// the rows' `kc` channels. Same accumulators, packed B layout, flags and activation as
// mk_f32_gemm_ukernel_6x16__avx2_fma. Compiled for AVX2+FMA by the pragma below and only
// called after mk_cpu_supports_avx2_fma().
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "gemm-6x16-avx2.h"

void mk_f32_igemm_ukernel_6x16__avx2_fma(
    size_t mr, size_t nc, size_t kc, size_t ks,
    const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    MK_6X16_AVX2_BEGIN

    for (size_t t = 0; t < ks; t++, a += 6) {
        const float* a0 = a[0];
        const float* a1 = a[1];
        const float* a2 = a[2];
        const float* a3 = a[3];
        const float* a4 = a[4];
        const float* a5 = a[5];
        if (a0 != zero) a0 += a_offset;
        if (a1 != zero) a1 += a_offset;
        if (a2 != zero) a2 += a_offset;
        if (a3 != zero) a3 += a_offset;
        if (a4 != zero) a4 += a_offset;
        if (a5 != zero) a5 += a_offset;
        for (size_t k = 0; k < kc; k++) {
            MK_6X16_AVX2_STEP(k)
        }
    }

    MK_6X16_AVX2_END
}

#pragma clang attribute pop

#else  // not x86_64: never dispatched (mk_cpu_supports_avx2_fma() is 0); keep the symbol.

void mk_f32_igemm_ukernel_6x16__avx2_fma(
    size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias, float* c, size_t c_stride, uint32_t flags, const mk_activation* activation)
{
    mk_f32_igemm_ukernel_6x16__portable(mr, nc, kc, ks, a, a_offset, zero, w, bias, c, c_stride, flags, activation);
}

#endif
