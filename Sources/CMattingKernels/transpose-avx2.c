// mk_x32_transpose_ukernel_8x8__avx2: 32-bit tile transpose, 8×8 blocks in ymm registers
// (unpack, shuffle, 128-bit lane permute), edges element by element. Only moves bits: the
// float shuffles never change a value, NaN payloads included.
#include <assert.h>
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)

void mk_x32_transpose_ukernel_8x8__avx2(
    size_t rows, size_t cols, const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride) {
    assert(src != NULL && dst != NULL);
    size_t r = 0;
    for (; r + 8 <= rows; r += 8) {
        const float* s = (const float*)(src + r * src_stride);
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 x[8];
            for (int i = 0; i < 8; i++) x[i] = _mm256_loadu_ps(s + i * src_stride + c);
            const __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
            const __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
            const __m256 t4 = _mm256_unpacklo_ps(x[4], x[5]), t5 = _mm256_unpackhi_ps(x[4], x[5]);
            const __m256 t6 = _mm256_unpacklo_ps(x[6], x[7]), t7 = _mm256_unpackhi_ps(x[6], x[7]);
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
            const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
            const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
            const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
            const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
            const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
            const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
            float* d = (float*)(dst + c * dst_stride + r);
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + dst_stride, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * dst_stride, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * dst_stride, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (; c < cols; c++) {
            for (size_t i = 0; i < 8; i++) dst[c * dst_stride + r + i] = src[(r + i) * src_stride + c];
        }
    }
    for (; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) dst[c * dst_stride + r] = src[r * src_stride + c];
    }
}

#pragma clang attribute pop

#else
void mk_x32_transpose_ukernel_8x8__avx2(
    size_t rows, size_t cols, const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride) {
    mk_x32_transpose_ukernel_4x4__portable(rows, cols, src, src_stride, dst, dst_stride);
}
#endif
