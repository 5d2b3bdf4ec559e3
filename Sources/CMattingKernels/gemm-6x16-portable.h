// The portable 6×16 GEMM microkernel's parts, shared by mk_f32_gemm_ukernel_6x16__portable (A
// rows at a stride) and mk_f32_igemm_ukernel_6x16__portable (A rows through an indirection
// buffer), which differ only in where their A rows come from. Both run two passes of 6×8
// (`half`); these macros are a pass's start and end. They use the kernels' own names: mr, nc,
// c, c_stride, bias, flags, activation, half.
#ifndef MK_GEMM_6X16_PORTABLE_H
#define MK_GEMM_6X16_PORTABLE_H
#include "mk-portable.h"

// The pass's first column and width (breaking out of the pass loop past nc), and its
// accumulators acc[6][2], loaded from C (MK_GEMM_ACCUMULATE) or set to the bias (or zero).
#define MK_6X16_PORTABLE_BEGIN \
    const size_t col0 = half * 8;                                                     \
    if (col0 >= nc) break;                                                            \
    const size_t ncols = nc - col0 < 8 ? nc - col0 : 8;                               \
    mk_v4 acc[6][2];                                                                  \
    for (size_t r = 0; r < 6; r++) {                                                  \
        const size_t row = r < mr ? r : mr - 1;                                       \
        if (flags & MK_GEMM_ACCUMULATE) {                                             \
            float tmp[8] = {0};                                                       \
            memcpy(tmp, c + row * c_stride + col0, ncols * sizeof(float));            \
            acc[r][0] = mk_load4(tmp); acc[r][1] = mk_load4(tmp + 4);                 \
        } else if (bias) {                                                            \
            acc[r][0] = mk_load4(bias + col0); acc[r][1] = mk_load4(bias + col0 + 4); \
        } else {                                                                      \
            acc[r][0] = mk_splat4(0.0f); acc[r][1] = mk_splat4(0.0f);                 \
        }                                                                             \
    }

// The activation and the stores of the pass's real rows.
#define MK_6X16_PORTABLE_END \
    for (size_t r = 0; r < mr; r++) {                                                     \
        float tmp[8];                                                                     \
        mk_store4(tmp, acc[r][0]); mk_store4(tmp + 4, acc[r][1]);                         \
        if (flags & MK_GEMM_ACTIVATE) {                                                   \
            for (size_t j = 0; j < ncols; j++) tmp[j] = mk_activate1(tmp[j], activation); \
        }                                                                                 \
        memcpy(c + r * c_stride + col0, tmp, ncols * sizeof(float));                      \
    }

#endif
