// mk_x32_transpose_ukernel_4x4__portable: 32-bit tile transpose, 4×4 blocks through generic
// 128-bit vectors (SSE2 on x86_64, NEON on arm64), edges element by element.
#include <assert.h>
#include <string.h>
#include "cmk.h"

typedef uint32_t mk_u32x4 __attribute__((vector_size(16), aligned(4)));

void mk_x32_transpose_ukernel_4x4__portable(
    size_t rows, size_t cols, const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride) {
    assert(src != NULL && dst != NULL);
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const uint32_t* s = src + r * src_stride;
        size_t c = 0;
        for (; c + 4 <= cols; c += 4) {
            mk_u32x4 a, b, e, f;
            memcpy(&a, s + c, 16);
            memcpy(&b, s + src_stride + c, 16);
            memcpy(&e, s + 2 * src_stride + c, 16);
            memcpy(&f, s + 3 * src_stride + c, 16);
            const mk_u32x4 t0 = __builtin_shufflevector(a, b, 0, 4, 1, 5);
            const mk_u32x4 t1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
            const mk_u32x4 t2 = __builtin_shufflevector(e, f, 0, 4, 1, 5);
            const mk_u32x4 t3 = __builtin_shufflevector(e, f, 2, 6, 3, 7);
            const mk_u32x4 o0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
            const mk_u32x4 o1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
            const mk_u32x4 o2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
            const mk_u32x4 o3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
            uint32_t* d = dst + c * dst_stride + r;
            memcpy(d, &o0, 16);
            memcpy(d + dst_stride, &o1, 16);
            memcpy(d + 2 * dst_stride, &o2, 16);
            memcpy(d + 3 * dst_stride, &o3, 16);
        }
        for (; c < cols; c++) {
            for (size_t i = 0; i < 4; i++) dst[c * dst_stride + r + i] = s[i * src_stride + c];
        }
    }
    for (; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) dst[c * dst_stride + r] = src[r * src_stride + c];
    }
}
