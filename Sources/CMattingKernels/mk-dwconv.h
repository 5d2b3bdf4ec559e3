// Shared by the depthwise microkernels of every ISA: the tap and column ranges that keep a
// kernel inside the picture (ISA-independent integer geometry, one copy). Private to this target.
#pragma once
#include "cmk.h"

// Taps [*lo, *hi) of a k-tap kernel with dilation d whose input index start + t·d lies in
// [0, limit); an empty range when none does.
static inline void mk_dw_tap_range(int32_t start, int32_t k, int32_t d, int32_t limit, int32_t* lo, int32_t* hi) {
    int32_t l = 0, h = k;
    while (l < k && start + l * d < 0) l++;
    while (h > l && start + (h - 1) * d >= limit) h--;
    *lo = l;
    *hi = h;
}

// Output columns [*lo, *hi) whose every horizontal tap is inside the row:
// ix0 = ox·sw − pad_left ≥ 0 and ix0 + (kw − 1)·dw ≤ W − 1 (lo ≤ hi ≤ output_width).
static inline void mk_dw_interior_columns(const mk_dwconv_params* p, int32_t* lo, int32_t* hi) {
    const int32_t sw = p->stride_width;
    int32_t l = (p->pad_left + sw - 1) / sw;
    const int32_t last = p->input_width - 1 - (p->kernel_width - 1) * p->dilation_width + p->pad_left;  // ox·sw ≤ last
    int32_t h = last < 0 ? 0 : last / sw + 1;
    if (h > p->output_width) h = p->output_width;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}
