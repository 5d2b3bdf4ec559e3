// Shared by the AVX-512F microkernels (gemm, dwconv): the fused activations on 16 lanes and
// the tail masks. Include after `#pragma clang attribute push(... target("avx512f"))` so these
// functions are compiled for AVX-512F too. Private to this target.
#pragma once
#include <immintrin.h>
#include "cmk.h"

/// Sixteen values through a fused activation; the same definitions as mk_activate1.
static inline __m512 mk_activate_avx512(__m512 x, const mk_activation* act) {
    switch (act->kind) {
    case MK_ACT_HARDSWISH: {
        const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(x, _mm512_set1_ps(3.0f)),
                                                     _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
        return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.0f / 6.0f));
    }
    case MK_ACT_LEAKY_RELU: {
        // Lanes with x >= 0 keep x, the others take alpha·x.
        const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(act->alpha));
    }
    case MK_ACT_HARD_SIGMOID: {
        const __m512 y = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(act->alpha)), _mm512_set1_ps(act->beta));
        return _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), y));
    }
    default:
        return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(act->lo)), _mm512_set1_ps(act->hi));
    }
}

/// The first n (0…16) lanes.
static inline __mmask16 mk_mask16(size_t n) {
    return n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1u);
}
