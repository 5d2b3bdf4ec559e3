// mk_f32_gemm_ukernel_8x32__avx512f: 8 rows × 32 columns of C in 16 zmm accumulators (two
// per row), two B registers and one broadcast register. Compiled for AVX-512F by the pragma
// below and only called after mk_cpu_supports_avx512f(). The body is written for any tile
// height MR ≤ MK_GEMM_AVX512_MAX_MR: 12×32 measured up to 5 % and 14×32 up to 15 % slower
// than 8×32 on Zen 5, 6×32 14 % slower on the conv-shaped GEMM (Docs/Kernels.md), so only
// 8×32 is instantiated and listed.
//
// mk_f32_igemm_ukernel_8x32__avx512f is its indirect (implicit-GEMM) twin: the same body with
// the MR A row pointers taken from the indirection buffer, tap by tap (see cmk.h), so its
// accumulators, k order and therefore its bits are those of the GEMM kernel on the im2col
// matrix of the same pointers.
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"

#define MK_GEMM_AVX512_MAX_MR 8

// MR is a compile-time constant at every call site: the row loops unroll fully and the
// accumulator array lives in registers (checked in the disassembly: 2·MR `vfmadd231ps` on zmm
// in the k loop, no stack traffic). Rows past mr alias the last real row (same values, same
// address), so the k loop has no branches. Columns past nc are masked: the packed panel is
// zero padded, so masked-off lanes only ever hold zeros or bias and are never stored.
// With nc ≤ 16 the second half of the panel is all padding; a half-width loop skips it
// (a 16-channel layer would otherwise pay for 32).
// `indirect` is a compile-time constant at every call site: 0 reads A at `a` with row stride
// `a_stride` (one pass of kc), 1 reads `ks` taps of MR pointers from `ind` (each plus
// `a_offset` unless it is `zero`), kc floats per tap.
static inline __attribute__((always_inline)) void mk_gemm_avx512_body(
    const size_t MR, const int indirect,
    size_t mr, size_t nc, size_t kc, size_t ks,
    const float* a, size_t a_stride,
    const float* const* ind, size_t a_offset, const float* zero,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    // Fixed-size arrays (not VLAs) so that, once the loops are unrolled, SROA keeps them in
    // registers; only the first MR entries are used.
    const float* ar[MK_GEMM_AVX512_MAX_MR];
    float* cr[MK_GEMM_AVX512_MAX_MR];
    ar[0] = a;
    cr[0] = c;
    #pragma clang loop unroll(full)
    for (size_t r = 1; r < MR; r++) {
        ar[r] = mr > r ? ar[r - 1] + a_stride : ar[r - 1];
        cr[r] = mr > r ? cr[r - 1] + c_stride : cr[r - 1];
    }
    if (!indirect) ks = 1;
    const __mmask16 m0 = mk_mask16(nc), m1 = mk_mask16(nc > 16 ? nc - 16 : 0);
    const int wide = nc > 16;

    __m512 acc0[MK_GEMM_AVX512_MAX_MR], acc1[MK_GEMM_AVX512_MAX_MR];
    if (flags & MK_GEMM_ACCUMULATE) {
        #pragma clang loop unroll(full)
        for (size_t r = 0; r < MR; r++) {
            acc0[r] = _mm512_maskz_loadu_ps(m0, cr[r]);
            acc1[r] = _mm512_maskz_loadu_ps(m1, cr[r] + 16);
        }
    } else {
        const __m512 b0 = bias ? _mm512_load_ps(bias) : _mm512_setzero_ps();
        const __m512 b1 = bias ? _mm512_load_ps(bias + 16) : _mm512_setzero_ps();
        #pragma clang loop unroll(full)
        for (size_t r = 0; r < MR; r++) { acc0[r] = b0; acc1[r] = b1; }
    }

    for (size_t t = 0; t < ks; t++) {
        if (indirect) {
            #pragma clang loop unroll(full)
            for (size_t r = 0; r < MR; r++) {
                const float* p = ind[t * MR + r];
                ar[r] = p == zero ? zero : p + a_offset;
            }
        }
        if (wide) {
            for (size_t k = 0; k < kc; k++) {
                const __m512 w0 = _mm512_load_ps(w);
                const __m512 w1 = _mm512_load_ps(w + 16);
                w += 32;
                #pragma clang loop unroll(full)
                for (size_t r = 0; r < MR; r++) {
                    const __m512 va = _mm512_set1_ps(ar[r][k]);
                    acc0[r] = _mm512_fmadd_ps(va, w0, acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(va, w1, acc1[r]);
                }
            }
        } else {
            for (size_t k = 0; k < kc; k++) {
                const __m512 w0 = _mm512_load_ps(w);
                w += 32;
                #pragma clang loop unroll(full)
                for (size_t r = 0; r < MR; r++) {
                    acc0[r] = _mm512_fmadd_ps(_mm512_set1_ps(ar[r][k]), w0, acc0[r]);
                }
            }
        }
    }

    if ((flags & MK_GEMM_ACTIVATE) &&
        !(activation->kind == MK_ACT_CLAMP && activation->lo == -__builtin_inff() && activation->hi == __builtin_inff())) {
        #pragma clang loop unroll(full)
        for (size_t r = 0; r < MR; r++) {
            acc0[r] = mk_activate_avx512(acc0[r], activation);
            acc1[r] = mk_activate_avx512(acc1[r], activation);
        }
    }

    // Highest row first: aliased rows hold identical values, so the order is immaterial.
    if (nc == 32) {
        #pragma clang loop unroll(full)
        for (size_t r = MR; r-- > 0;) {
            _mm512_storeu_ps(cr[r], acc0[r]);
            _mm512_storeu_ps(cr[r] + 16, acc1[r]);
        }
    } else {
        #pragma clang loop unroll(full)
        for (size_t r = MR; r-- > 0;) {
            _mm512_mask_storeu_ps(cr[r], m0, acc0[r]);
            _mm512_mask_storeu_ps(cr[r] + 16, m1, acc1[r]);
        }
    }
}

#define MK_GEMM_AVX512_INSTANCE(MR) \
    void mk_f32_gemm_ukernel_##MR##x32__avx512f( \
        size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, \
        const float* bias, float* c, size_t c_stride, uint32_t flags, const mk_activation* activation) \
    { \
        mk_gemm_avx512_body(MR, 0, mr, nc, kc, 1, a, a_stride, NULL, 0, NULL, w, bias, c, c_stride, flags, activation); \
    }

MK_GEMM_AVX512_INSTANCE(8)

void mk_f32_igemm_ukernel_8x32__avx512f(
    size_t mr, size_t nc, size_t kc, size_t ks,
    const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    mk_gemm_avx512_body(8, 1, mr, nc, kc, ks, NULL, 0, a, a_offset, zero, w, bias, c, c_stride, flags, activation);
}

float mk_f32_fma_peak_probe__avx512f(size_t iterations) {
    // 12 independent accumulator chains cover the FMA latency (4 cycles) × 2 512-bit pipes.
    __m512 x0 = _mm512_set1_ps(0.0f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
    __m512 x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
    const __m512 m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (size_t i = 0; i < iterations; i++) {
        x0 = _mm512_fmadd_ps(x0, m, b); x1 = _mm512_fmadd_ps(x1, m, b);
        x2 = _mm512_fmadd_ps(x2, m, b); x3 = _mm512_fmadd_ps(x3, m, b);
        x4 = _mm512_fmadd_ps(x4, m, b); x5 = _mm512_fmadd_ps(x5, m, b);
        x6 = _mm512_fmadd_ps(x6, m, b); x7 = _mm512_fmadd_ps(x7, m, b);
        x8 = _mm512_fmadd_ps(x8, m, b); x9 = _mm512_fmadd_ps(x9, m, b);
        x10 = _mm512_fmadd_ps(x10, m, b); x11 = _mm512_fmadd_ps(x11, m, b);
    }
    const __m512 s = _mm512_add_ps(
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)), _mm512_add_ps(x4, x5)),
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x6, x7), _mm512_add_ps(x8, x9)), _mm512_add_ps(x10, x11)));
    return _mm512_reduce_add_ps(s);
}

#pragma clang attribute pop

#else  // not x86_64: never dispatched (mk_cpu_supports_avx512f() is 0); keep the symbols.

#define MK_GEMM_AVX512_INSTANCE(MR) \
    void mk_f32_gemm_ukernel_##MR##x32__avx512f( \
        size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, \
        const float* bias, float* c, size_t c_stride, uint32_t flags, const mk_activation* activation) \
    { \
        (void) mr; (void) nc; (void) kc; (void) a; (void) a_stride; (void) w; (void) bias; \
        (void) c; (void) c_stride; (void) flags; (void) activation; __builtin_trap(); \
    }
MK_GEMM_AVX512_INSTANCE(8)

void mk_f32_igemm_ukernel_8x32__avx512f(
    size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias, float* c, size_t c_stride, uint32_t flags, const mk_activation* activation)
{
    (void) mr; (void) nc; (void) kc; (void) ks; (void) a; (void) a_offset; (void) zero; (void) w; (void) bias;
    (void) c; (void) c_stride; (void) flags; (void) activation; __builtin_trap();
}

float mk_f32_fma_peak_probe__avx512f(size_t iterations) { (void) iterations; return 0.0f; }

#endif
