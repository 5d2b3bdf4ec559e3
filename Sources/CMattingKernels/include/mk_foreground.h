// Multi-level foreground estimation (MattingRefine's ForegroundEstimator): the per-level
// passes in portable C. Not public API.
//
// Pictures are interleaved RGB (3 floats a pixel) or single-channel, row-major, with a row
// stride in floats. Every function works on whole rows [y0, y1) so callers can split a level
// among threads by rows; a row's result never depends on how the rows were split.
//
// The arithmetic is Swift's: no FMA contraction (`#pragma clang fp contract(off)`), sums in
// the same order, `min(max(v, 0), 1)` with Swift's rule for NaN and signed zero, so the
// results are bit for bit those of the plain Swift loops they replace (kept as the reference
// in the tests).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One level of the pyramid: the picture, its matte and the colours being solved for.
///
/// `span_offsets` (height + 1 entries) and `spans` ([x0, x1) pairs, increasing, disjoint)
/// list the pixels the passes update on each row: row y's spans are
/// spans[2·span_offsets[y] …< 2·span_offsets[y + 1]]. NULL `span_offsets` means every pixel.
typedef struct mk_fg_level {
    int32_t width, height;
    float regularization, gradient_weight;
    const float* image;      ///< RGB
    size_t image_stride;
    const float* alpha;      ///< one channel
    size_t alpha_stride;
    float* foreground;       ///< RGB
    size_t foreground_stride;
    float* background;       ///< RGB
    size_t background_stride;
    const int32_t* span_offsets;
    const int32_t* spans;
} mk_fg_level;

/// One Gauss–Seidel update of rows [y0, y1) of `level`, each row left to right, only the
/// listed pixels: per pixel the 2×2 system for (F, B) of every channel with neighbours left,
/// right, up, down (replicated at the border), results clamped to 0…1. Rows read their
/// neighbour rows y0 − 1 and y1, which the caller must not update at the same time.
/// SSE2 (x86_64's baseline) keeps a pixel's 3 channels in one vector; elsewhere, and in
/// mk_f32_fg_sweep_rows__scalar (for the tests), one channel at a time. Same results.
void mk_f32_fg_sweep_rows(const mk_fg_level* level, int32_t y0, int32_t y1);
void mk_f32_fg_sweep_rows__scalar(const mk_fg_level* level, int32_t y0, int32_t y1);

/// Rows [y0, y1) of the level's starting colours: nearest-neighbour resampling of the coarser
/// level (`previous_foreground`, `previous_background`: RGB, packed, previous_width ×
/// previous_height; source pixel (columns[x], y·previous_height/height)), then, with spans,
/// every pixel not listed takes the photo's colour where it is seen (F = I where α = 1,
/// else B = I). `columns[x] = min(previous_width − 1, x·previous_width/width)`.
void mk_f32_fg_start_rows(
    const mk_fg_level* level, const float* previous_foreground, const float* previous_background,
    int32_t previous_width, int32_t previous_height, const int32_t* columns, int32_t y0, int32_t y1);

/// Rows [y0, y1) of a nearest-neighbour resampling with `channels` interleaved channels:
/// dst(x, y) = src(columns[x], min(src_height − 1, y·src_height/dst_height)).
void mk_f32_fg_nearest_rows(
    const float* src, size_t src_stride, int32_t src_height, int32_t channels,
    float* dst, size_t dst_stride, int32_t dst_width, int32_t dst_height,
    const int32_t* columns, int32_t y0, int32_t y1);

/// Sums of each colour over α > 0.9 (out[0…2]) and over α < 0.1 (out[3…5]) in raster order,
/// one Float accumulator each, and the two pixel counts (as Float, counted the same way).
void mk_f32_fg_means(
    const float* image, size_t image_stride, const float* alpha, size_t alpha_stride,
    int32_t width, int32_t height, float* sums, float* counts);

/// Words of one row of an active-pixel bit mask.
static inline size_t mk_fg_mask_words(int32_t width) { return ((size_t) width + 63) / 64; }

/// The pixels a level sweeps, as bits (bit x % 64 of word x / 64 of row y, rows of
/// mk_fg_mask_words(width) words): those within `margin` (Chebyshev) of a pixel that has
/// 0 < α < 1 or whose α differs from a 4-neighbour's (replicated at the border).
/// `margin` < 0 marks nothing. `seed` holds `width` bytes, `rows` and `active`
/// height · mk_fg_mask_words(width) words each.
void mk_fg_active_mask(
    const float* alpha, size_t alpha_stride, int32_t width, int32_t height, int64_t margin,
    uint8_t* seed, uint64_t* rows, uint64_t* active);

/// The runs of set bits of `mask` as spans (see mk_fg_level); returns the number of spans.
/// With NULL `spans` only counts them (`span_offsets` may be NULL too).
size_t mk_fg_mask_spans(const uint64_t* mask, int32_t width, int32_t height, int32_t* span_offsets, int32_t* spans);

#ifdef __cplusplus
}
#endif
