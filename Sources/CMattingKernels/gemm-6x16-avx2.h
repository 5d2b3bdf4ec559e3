// The 6×16 AVX2+FMA GEMM microkernel's parts, shared by mk_f32_gemm_ukernel_6x16__avx2_fma
// (A rows at a stride) and mk_f32_igemm_ukernel_6x16__avx2_fma (A rows through an indirection
// buffer), which differ only in where their six A row pointers a0…a5 come from. Macros, not
// functions, so that both kernels keep the twelve accumulators in registers exactly as
// written. They use the kernels' own names: mr, nc, c, c_stride, bias, w, flags, activation.
// Include after mk-avx2.h, inside the AVX2+FMA target pragma.
#ifndef MK_GEMM_6X16_AVX2_H
#define MK_GEMM_6X16_AVX2_H

// C row pointers (rows past mr alias the last real row), the column masks for nc < 16, and the
// accumulators c00…c51, loaded from C (MK_GEMM_ACCUMULATE) or set to the bias (or zero).
#define MK_6X16_AVX2_BEGIN \
    float* c0 = c;                                                                                                       \
    float* c1 = mr > 1 ? c0 + c_stride : c0;                                                                             \
    float* c2 = mr > 2 ? c1 + c_stride : c1;                                                                             \
    float* c3 = mr > 3 ? c2 + c_stride : c2;                                                                             \
    float* c4 = mr > 4 ? c3 + c_stride : c3;                                                                             \
    float* c5 = mr > 5 ? c4 + c_stride : c4;                                                                             \
                                                                                                                         \
    const __m256i mask_lo = _mm256_loadu_si256((const __m256i*) &mk_mask_table[nc >= 8 ? 0 : 8 - nc]);                   \
    const __m256i mask_hi = _mm256_loadu_si256((const __m256i*) &mk_mask_table[nc >= 16 ? 0 : (nc <= 8 ? 8 : 16 - nc)]); \
                                                                                                                         \
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;                                                   \
    if (flags & MK_GEMM_ACCUMULATE) {                                                                                    \
        if (nc == 16) {                                                                                                  \
            c00 = _mm256_loadu_ps(c0); c01 = _mm256_loadu_ps(c0 + 8);                                                    \
            c10 = _mm256_loadu_ps(c1); c11 = _mm256_loadu_ps(c1 + 8);                                                    \
            c20 = _mm256_loadu_ps(c2); c21 = _mm256_loadu_ps(c2 + 8);                                                    \
            c30 = _mm256_loadu_ps(c3); c31 = _mm256_loadu_ps(c3 + 8);                                                    \
            c40 = _mm256_loadu_ps(c4); c41 = _mm256_loadu_ps(c4 + 8);                                                    \
            c50 = _mm256_loadu_ps(c5); c51 = _mm256_loadu_ps(c5 + 8);                                                    \
        } else {                                                                                                         \
            c00 = _mm256_maskload_ps(c0, mask_lo); c01 = _mm256_maskload_ps(c0 + 8, mask_hi);                            \
            c10 = _mm256_maskload_ps(c1, mask_lo); c11 = _mm256_maskload_ps(c1 + 8, mask_hi);                            \
            c20 = _mm256_maskload_ps(c2, mask_lo); c21 = _mm256_maskload_ps(c2 + 8, mask_hi);                            \
            c30 = _mm256_maskload_ps(c3, mask_lo); c31 = _mm256_maskload_ps(c3 + 8, mask_hi);                            \
            c40 = _mm256_maskload_ps(c4, mask_lo); c41 = _mm256_maskload_ps(c4 + 8, mask_hi);                            \
            c50 = _mm256_maskload_ps(c5, mask_lo); c51 = _mm256_maskload_ps(c5 + 8, mask_hi);                            \
        }                                                                                                                \
    } else {                                                                                                             \
        const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();                                            \
        const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();                                        \
        c00 = b0; c01 = b1; c10 = b0; c11 = b1; c20 = b0; c21 = b1;                                                      \
        c30 = b0; c31 = b1; c40 = b0; c41 = b1; c50 = b0; c51 = b1;                                                      \
    }

// One k step: two B vectors against the six A rows' element k.
#define MK_6X16_AVX2_STEP(k) \
        const __m256 w0 = _mm256_load_ps(w);                                                                      \
        const __m256 w1 = _mm256_load_ps(w + 8);                                                                  \
        w += 16;                                                                                                  \
        __m256 va;                                                                                                \
        va = _mm256_broadcast_ss(a0 + k); c00 = _mm256_fmadd_ps(va, w0, c00); c01 = _mm256_fmadd_ps(va, w1, c01); \
        va = _mm256_broadcast_ss(a1 + k); c10 = _mm256_fmadd_ps(va, w0, c10); c11 = _mm256_fmadd_ps(va, w1, c11); \
        va = _mm256_broadcast_ss(a2 + k); c20 = _mm256_fmadd_ps(va, w0, c20); c21 = _mm256_fmadd_ps(va, w1, c21); \
        va = _mm256_broadcast_ss(a3 + k); c30 = _mm256_fmadd_ps(va, w0, c30); c31 = _mm256_fmadd_ps(va, w1, c31); \
        va = _mm256_broadcast_ss(a4 + k); c40 = _mm256_fmadd_ps(va, w0, c40); c41 = _mm256_fmadd_ps(va, w1, c41); \
        va = _mm256_broadcast_ss(a5 + k); c50 = _mm256_fmadd_ps(va, w0, c50); c51 = _mm256_fmadd_ps(va, w1, c51);

// The activation (skipped for the identity clamp) and the stores, highest row first: aliased
// rows hold identical values, so the order is immaterial, but writing c0 last keeps the common
// full-tile case a straight line.
#define MK_6X16_AVX2_END \
    if (flags & MK_GEMM_ACTIVATE) {                                                                                             \
        if (!(activation->kind == MK_ACT_CLAMP && activation->lo == -__builtin_inff() && activation->hi == __builtin_inff())) { \
            c00 = mk_activate_avx2(c00, activation); c01 = mk_activate_avx2(c01, activation);                                   \
            c10 = mk_activate_avx2(c10, activation); c11 = mk_activate_avx2(c11, activation);                                   \
            c20 = mk_activate_avx2(c20, activation); c21 = mk_activate_avx2(c21, activation);                                   \
            c30 = mk_activate_avx2(c30, activation); c31 = mk_activate_avx2(c31, activation);                                   \
            c40 = mk_activate_avx2(c40, activation); c41 = mk_activate_avx2(c41, activation);                                   \
            c50 = mk_activate_avx2(c50, activation); c51 = mk_activate_avx2(c51, activation);                                   \
        }                                                                                                                       \
    }                                                                                                                           \
                                                                                                                                \
    if (nc == 16) {                                                                                                             \
        _mm256_storeu_ps(c5, c50); _mm256_storeu_ps(c5 + 8, c51);                                                               \
        _mm256_storeu_ps(c4, c40); _mm256_storeu_ps(c4 + 8, c41);                                                               \
        _mm256_storeu_ps(c3, c30); _mm256_storeu_ps(c3 + 8, c31);                                                               \
        _mm256_storeu_ps(c2, c20); _mm256_storeu_ps(c2 + 8, c21);                                                               \
        _mm256_storeu_ps(c1, c10); _mm256_storeu_ps(c1 + 8, c11);                                                               \
        _mm256_storeu_ps(c0, c00); _mm256_storeu_ps(c0 + 8, c01);                                                               \
    } else {                                                                                                                    \
        _mm256_maskstore_ps(c5, mask_lo, c50); _mm256_maskstore_ps(c5 + 8, mask_hi, c51);                                       \
        _mm256_maskstore_ps(c4, mask_lo, c40); _mm256_maskstore_ps(c4 + 8, mask_hi, c41);                                       \
        _mm256_maskstore_ps(c3, mask_lo, c30); _mm256_maskstore_ps(c3 + 8, mask_hi, c31);                                       \
        _mm256_maskstore_ps(c2, mask_lo, c20); _mm256_maskstore_ps(c2 + 8, mask_hi, c21);                                       \
        _mm256_maskstore_ps(c1, mask_lo, c10); _mm256_maskstore_ps(c1 + 8, mask_hi, c11);                                       \
        _mm256_maskstore_ps(c0, mask_lo, c00); _mm256_maskstore_ps(c0 + 8, mask_hi, c01);                                       \
    }

#endif
