// Shared by the AVX2/FMA microkernels (gemm, dwconv): the fused activations on 8 lanes and
// the tail-mask table. Include after `#pragma clang attribute push(... target("avx2,fma"))`
// so these functions are compiled for AVX2 too. Private to this target.
#pragma once
#include <immintrin.h>
#include "cmk.h"

/// Eight values through a fused activation; the same definitions as mk_activate1.
static inline __m256 mk_activate_avx2(__m256 x, const mk_activation* act) {
    switch (act->kind) {
    case MK_ACT_HARDSWISH: {
        const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(x, _mm256_set1_ps(3.0f)),
                                                     _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
        return _mm256_mul_ps(_mm256_mul_ps(x, r), _mm256_set1_ps(1.0f / 6.0f));
    }
    case MK_ACT_LEAKY_RELU: {
        const __m256 neg = _mm256_mul_ps(x, _mm256_set1_ps(act->alpha));
        return _mm256_blendv_ps(neg, x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    }
    case MK_ACT_HARD_SIGMOID: {
        const __m256 y = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(act->alpha)), _mm256_set1_ps(act->beta));
        return _mm256_max_ps(_mm256_setzero_ps(), _mm256_min_ps(_mm256_set1_ps(1.0f), y));
    }
    default:
        return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(act->lo)), _mm256_set1_ps(act->hi));
    }
}

/// Eight -1s then eight 0s: `_mm256_loadu_si256(mk_mask_table + 8 - n)` masks the first n lanes.
static const int32_t mk_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
