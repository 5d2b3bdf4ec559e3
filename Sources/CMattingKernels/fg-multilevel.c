// Multi-level foreground estimation's per-level passes (see include/mk_foreground.h).
// Baseline ISA only (SSE2 on x86_64, scalar elsewhere): the sweep is a Gauss–Seidel
// recurrence along each row (a pixel needs its left neighbour's new colours), so pixels of a
// row cannot share a vector; a pixel's three channels share one 4-lane vector instead, and
// AVX2/AVX-512 would have nothing more to fill.
#include "mk_foreground.h"

#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The Swift reference computes `a * b + c` as two rounded operations; so must we (arm64
// would otherwise fuse them).
#pragma clang fp contract(off)

// Swift's `min(max(v, 0), 1)`: `max(x, y)` is `y >= x ? y : x` and `min(x, y)` is
// `y < x ? y : x`, so NaN passes through and −0 becomes +0.
static inline float clamp_unit(float v) {
    const float t = 0.0f >= v ? 0.0f : v;
    return 1.0f < t ? 1.0f : t;
}

// Row y of a level and its up and down neighbours (replicated at the border).
typedef struct mk_fg_rows {
    const float *I, *A, *Au, *Ad, *Fu, *Fd, *Bu, *Bd;
    float *F, *B;
} mk_fg_rows;

static inline mk_fg_rows mk_fg_rows_at(const mk_fg_level* level, int32_t y) {
    const int32_t h = level->height;
    const int32_t yu = y > 0 ? y - 1 : 0, yd = y < h - 1 ? y + 1 : h - 1;
    mk_fg_rows rows = {
        .I = level->image + (size_t) y * level->image_stride,
        .A = level->alpha + (size_t) y * level->alpha_stride,
        .Au = level->alpha + (size_t) yu * level->alpha_stride,
        .Ad = level->alpha + (size_t) yd * level->alpha_stride,
        .Fu = level->foreground + (size_t) yu * level->foreground_stride,
        .Fd = level->foreground + (size_t) yd * level->foreground_stride,
        .Bu = level->background + (size_t) yu * level->background_stride,
        .Bd = level->background + (size_t) yd * level->background_stride,
        .F = level->foreground + (size_t) y * level->foreground_stride,
        .B = level->background + (size_t) y * level->background_stride,
    };
    return rows;
}

// The locals both sweeps start from: the level's width and weights, row y's pointers.
#define MK_FG_SWEEP_LOCALS(level, y) \
    const int32_t w = (level)->width; \
    const float reg = (level)->regularization, gw = (level)->gradient_weight; \
    const mk_fg_rows rows = mk_fg_rows_at((level), (y)); \
    const float *I = rows.I, *A = rows.A, *Au = rows.Au, *Ad = rows.Ad; \
    const float *Fu = rows.Fu, *Fd = rows.Fd, *Bu = rows.Bu, *Bd = rows.Bd; \
    float *F = rows.F, *B = rows.B

static void sweep_span_scalar(const mk_fg_level* level, int32_t y, int32_t x0, int32_t x1) {
    MK_FG_SWEEP_LOCALS(level, y);
    for (int32_t x = x0; x < x1; x++) {
        const int32_t xl = x > 0 ? x - 1 : 0, xr = x < w - 1 ? x + 1 : w - 1;
        const float a0 = A[x], a1 = 1.0f - a0;
        float a00 = a0 * a0, a11 = a1 * a1;
        const float a01 = a0 * a1;
        const float i0 = I[3 * x], i1 = I[3 * x + 1], i2 = I[3 * x + 2];
        float s00 = a0 * i0, s01 = a0 * i1, s02 = a0 * i2;
        float s10 = a1 * i0, s11 = a1 * i1, s12 = a1 * i2;
        // Neighbours left, right, up, down, in pymatting's order so the sums round the same way.
#define MK_FG_ADD(aj, Fj, Bj) do { \
            const float da = reg + gw * fabsf(a0 - (aj)); \
            a00 += da; \
            a11 += da; \
            s00 += da * (Fj)[0]; s01 += da * (Fj)[1]; s02 += da * (Fj)[2]; \
            s10 += da * (Bj)[0]; s11 += da * (Bj)[1]; s12 += da * (Bj)[2]; \
        } while (0)
        MK_FG_ADD(A[xl], F + 3 * xl, B + 3 * xl);
        MK_FG_ADD(A[xr], F + 3 * xr, B + 3 * xr);
        MK_FG_ADD(Au[x], Fu + 3 * x, Bu + 3 * x);
        MK_FG_ADD(Ad[x], Fd + 3 * x, Bd + 3 * x);
#undef MK_FG_ADD
        const float inverse = 1.0f / (a00 * a11 - a01 * a01);
        const float m00 = inverse * a11, m01 = -inverse * a01, m11 = inverse * a00;
        F[3 * x] = clamp_unit(m00 * s00 + m01 * s10);
        F[3 * x + 1] = clamp_unit(m00 * s01 + m01 * s11);
        F[3 * x + 2] = clamp_unit(m00 * s02 + m01 * s12);
        B[3 * x] = clamp_unit(m01 * s00 + m11 * s10);
        B[3 * x + 1] = clamp_unit(m01 * s01 + m11 * s11);
        B[3 * x + 2] = clamp_unit(m01 * s02 + m11 * s12);
    }
}

#if defined(__SSE2__)
// The same update with each pixel's three channels in one 4-lane vector (lane 3 unused):
// every lane does the scalar loop's operations in the scalar loop's order, so the results
// are identical. Loads and stores touch exactly the pixel's 3 floats (the last pixel of a
// picture has nothing after it), and the left neighbour's new colours stay in registers.
static inline __m128 load3(const float* p) {
    return _mm_movelh_ps(_mm_castpd_ps(_mm_load_sd((const double*) p)), _mm_load_ss(p + 2));
}

static inline void store3(float* p, __m128 v) {
    _mm_store_sd((double*) p, _mm_castps_pd(v));
    _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
}

// clamp_unit per lane: `v <= 0` is `0 >= v` (false for NaN), and its +0 replaces −0.
static inline __m128 clamp_unit4(__m128 v) {
    const __m128 one = _mm_set1_ps(1.0f);
    const __m128 t = _mm_andnot_ps(_mm_cmple_ps(v, _mm_setzero_ps()), v);
    const __m128 above = _mm_cmpgt_ps(t, one);
    return _mm_or_ps(_mm_and_ps(above, one), _mm_andnot_ps(above, t));
}

static void sweep_span(const mk_fg_level* level, int32_t y, int32_t x0, int32_t x1) {
    MK_FG_SWEEP_LOCALS(level, y);
    // The left neighbour (itself at x = 0): from memory at the span's start, then the pixel
    // just solved.
    const int32_t first_left = x0 > 0 ? x0 - 1 : 0;
    __m128 Fl = load3(F + 3 * first_left), Bl = load3(B + 3 * first_left);
    for (int32_t x = x0; x < x1; x++) {
        const int32_t xl = x > 0 ? x - 1 : 0, xr = x < w - 1 ? x + 1 : w - 1;
        const float a0 = A[x], a1 = 1.0f - a0;
        float a00 = a0 * a0, a11 = a1 * a1;
        const float a01 = a0 * a1;
        const __m128 i = load3(I + 3 * x);
        __m128 s0 = _mm_mul_ps(_mm_set1_ps(a0), i), s1 = _mm_mul_ps(_mm_set1_ps(a1), i);
#define MK_FG_ADD(aj, Fj, Bj) do { \
            const float da = reg + gw * fabsf(a0 - (aj)); \
            a00 += da; \
            a11 += da; \
            const __m128 d = _mm_set1_ps(da); \
            s0 = _mm_add_ps(s0, _mm_mul_ps(d, (Fj))); \
            s1 = _mm_add_ps(s1, _mm_mul_ps(d, (Bj))); \
        } while (0)
        MK_FG_ADD(A[xl], Fl, Bl);
        MK_FG_ADD(A[xr], load3(F + 3 * xr), load3(B + 3 * xr));
        MK_FG_ADD(Au[x], load3(Fu + 3 * x), load3(Bu + 3 * x));
        MK_FG_ADD(Ad[x], load3(Fd + 3 * x), load3(Bd + 3 * x));
#undef MK_FG_ADD
        const float inverse = 1.0f / (a00 * a11 - a01 * a01);
        const __m128 m00 = _mm_set1_ps(inverse * a11), m01 = _mm_set1_ps(-inverse * a01), m11 = _mm_set1_ps(inverse * a00);
        Fl = clamp_unit4(_mm_add_ps(_mm_mul_ps(m00, s0), _mm_mul_ps(m01, s1)));
        Bl = clamp_unit4(_mm_add_ps(_mm_mul_ps(m01, s0), _mm_mul_ps(m11, s1)));
        store3(F + 3 * x, Fl);
        store3(B + 3 * x, Bl);
    }
}
#else
#define sweep_span sweep_span_scalar
#endif

#define MK_FG_SWEEP_ROWS(name, span) \
    void name(const mk_fg_level* level, int32_t y0, int32_t y1) { \
        for (int32_t y = y0; y < y1; y++) { \
            if (!level->span_offsets) { \
                span(level, y, 0, level->width); \
                continue; \
            } \
            for (int32_t s = level->span_offsets[y]; s < level->span_offsets[y + 1]; s++) { \
                span(level, y, level->spans[2 * s], level->spans[2 * s + 1]); \
            } \
        } \
    }
MK_FG_SWEEP_ROWS(mk_f32_fg_sweep_rows, sweep_span)
MK_FG_SWEEP_ROWS(mk_f32_fg_sweep_rows__scalar, sweep_span_scalar)

void mk_f32_fg_start_rows(
    const mk_fg_level* level, const float* previous_foreground, const float* previous_background,
    int32_t previous_width, int32_t previous_height, const int32_t* columns, int32_t y0, int32_t y1
) {
    const int32_t w = level->width, h = level->height;
    for (int32_t y = y0; y < y1; y++) {
        int64_t sy = (int64_t) y * previous_height / h;
        if (sy > previous_height - 1) sy = previous_height - 1;
        const float* pf = previous_foreground + (size_t) sy * 3 * (size_t) previous_width;
        const float* pb = previous_background + (size_t) sy * 3 * (size_t) previous_width;
        float* F = level->foreground + (size_t) y * level->foreground_stride;
        float* B = level->background + (size_t) y * level->background_stride;
        if (!level->span_offsets) {
            for (int32_t x = 0; x < w; x++) {
                const size_t c = 3 * (size_t) columns[x];
                F[3 * x] = pf[c]; F[3 * x + 1] = pf[c + 1]; F[3 * x + 2] = pf[c + 2];
                B[3 * x] = pb[c]; B[3 * x + 1] = pb[c + 1]; B[3 * x + 2] = pb[c + 2];
            }
            continue;
        }
        const float* I = level->image + (size_t) y * level->image_stride;
        const float* A = level->alpha + (size_t) y * level->alpha_stride;
        int32_t s = level->span_offsets[y];
        const int32_t end = level->span_offsets[y + 1];
        int32_t x = 0;
        while (x < w) {
            // Unlisted pixels up to the next span: the seen colour is the photo's.
            const int32_t stop = s < end ? level->spans[2 * s] : w;
            for (; x < stop; x++) {
                const size_t c = 3 * (size_t) columns[x];
                if (A[x] == 1.0f) {
                    F[3 * x] = I[3 * x]; F[3 * x + 1] = I[3 * x + 1]; F[3 * x + 2] = I[3 * x + 2];
                    B[3 * x] = pb[c]; B[3 * x + 1] = pb[c + 1]; B[3 * x + 2] = pb[c + 2];
                } else {
                    F[3 * x] = pf[c]; F[3 * x + 1] = pf[c + 1]; F[3 * x + 2] = pf[c + 2];
                    B[3 * x] = I[3 * x]; B[3 * x + 1] = I[3 * x + 1]; B[3 * x + 2] = I[3 * x + 2];
                }
            }
            if (s == end) break;
            for (const int32_t span_end = level->spans[2 * s + 1]; x < span_end; x++) {
                const size_t c = 3 * (size_t) columns[x];
                F[3 * x] = pf[c]; F[3 * x + 1] = pf[c + 1]; F[3 * x + 2] = pf[c + 2];
                B[3 * x] = pb[c]; B[3 * x + 1] = pb[c + 1]; B[3 * x + 2] = pb[c + 2];
            }
            s++;
        }
    }
}

void mk_f32_fg_nearest_rows(
    const float* src, size_t src_stride, int32_t src_height, int32_t channels,
    float* dst, size_t dst_stride, int32_t dst_width, int32_t dst_height,
    const int32_t* columns, int32_t y0, int32_t y1
) {
    for (int32_t y = y0; y < y1; y++) {
        int64_t sy = (int64_t) y * src_height / dst_height;
        if (sy > src_height - 1) sy = src_height - 1;
        const float* s = src + (size_t) sy * src_stride;
        float* d = dst + (size_t) y * dst_stride;
        if (channels == 3) {
            for (int32_t x = 0; x < dst_width; x++) {
                const size_t c = 3 * (size_t) columns[x];
                d[3 * x] = s[c]; d[3 * x + 1] = s[c + 1]; d[3 * x + 2] = s[c + 2];
            }
        } else {
            for (int32_t x = 0; x < dst_width; x++) {
                for (int32_t k = 0; k < channels; k++) d[(size_t) channels * x + k] = s[(size_t) channels * columns[x] + k];
            }
        }
    }
}

void mk_f32_fg_means(
    const float* image, size_t image_stride, const float* alpha, size_t alpha_stride,
    int32_t width, int32_t height, float* sums, float* counts
) {
    float f0 = 0, f1 = 0, f2 = 0, b0 = 0, b1 = 0, b2 = 0, nf = 0, nb = 0;
    for (int32_t y = 0; y < height; y++) {
        const float* I = image + (size_t) y * image_stride;
        const float* A = alpha + (size_t) y * alpha_stride;
        for (int32_t x = 0; x < width; x++) {
            const float a = A[x];
            if (a > 0.9f) { f0 += I[3 * x]; f1 += I[3 * x + 1]; f2 += I[3 * x + 2]; nf += 1; }
            if (a < 0.1f) { b0 += I[3 * x]; b1 += I[3 * x + 1]; b2 += I[3 * x + 2]; nb += 1; }
        }
    }
    sums[0] = f0; sums[1] = f1; sums[2] = f2;
    sums[3] = b0; sums[4] = b1; sums[5] = b2;
    counts[0] = nf; counts[1] = nb;
}

// Sets bits [lo, hi) of a mask row.
static inline void set_bits(uint64_t* row, int32_t lo, int32_t hi) {
    while (lo < hi) {
        const int32_t word = lo >> 6, bit = lo & 63;
        const int32_t n = hi - lo < 64 - bit ? hi - lo : 64 - bit;
        const uint64_t ones = n == 64 ? ~(uint64_t) 0 : (((uint64_t) 1 << n) - 1) << bit;
        row[word] |= ones;
        lo += n;
    }
}

void mk_fg_active_mask(
    const float* alpha, size_t alpha_stride, int32_t width, int32_t height, int64_t margin,
    uint8_t* seed, uint64_t* rows, uint64_t* active
) {
    const size_t words = mk_fg_mask_words(width);
    memset(active, 0, words * (size_t) height * sizeof(uint64_t));
    if (margin < 0 || width == 0) return;
    // Beyond the picture's size a margin changes nothing (and cannot overflow below).
    const int64_t limit = width > height ? width : height;
    const int32_t m = (int32_t) (margin < limit ? margin : limit);
    memset(rows, 0, words * (size_t) height * sizeof(uint64_t));
    for (int32_t y = 0; y < height; y++) {
        const float* A = alpha + (size_t) y * alpha_stride;
        const float* Au = alpha + (size_t) (y > 0 ? y - 1 : 0) * alpha_stride;
        const float* Ad = alpha + (size_t) (y < height - 1 ? y + 1 : height - 1) * alpha_stride;
        // Seed: a fractional alpha, or one that differs from a 4-neighbour (NaN always does).
        // The ends of the row apart, so the interior loop has no clamping and vectorises.
#define MK_FG_SEED(x, l, r) (uint8_t) ((uint8_t) ((A[x] > 0.0f) & (A[x] < 1.0f)) | (uint8_t) (A[l] != A[x]) \
            | (uint8_t) (A[r] != A[x]) | (uint8_t) (Au[x] != A[x]) | (uint8_t) (Ad[x] != A[x]))
        seed[0] = MK_FG_SEED(0, 0, width > 1 ? 1 : 0);
        for (int32_t x = 1; x < width - 1; x++) seed[x] = MK_FG_SEED(x, x - 1, x + 1);
        if (width > 1) seed[width - 1] = MK_FG_SEED(width - 1, width - 2, width - 1);
#undef MK_FG_SEED
        // Dilate along the row: each run of seeds widened by m.
        uint64_t* row = rows + (size_t) y * words;
        for (int32_t x = 0; x < width;) {
            // Most of a row is not seeded: skip it 8 bytes at a time.
            uint64_t eight;
            if (x + 8 <= width && (memcpy(&eight, seed + x, 8), eight == 0)) { x += 8; continue; }
            if (!seed[x]) { x++; continue; }
            const int32_t start = x;
            while (x < width && seed[x]) x++;
            set_bits(row, start - m > 0 ? start - m : 0, x + m < width ? x + m : width);
        }
    }
    // Then along the columns: the union of the rows within m.
    for (int32_t y = 0; y < height; y++) {
        uint64_t* out = active + (size_t) y * words;
        const int32_t lo = y - m > 0 ? y - m : 0, hi = y + m < height - 1 ? y + m : height - 1;
        for (int32_t k = lo; k <= hi; k++) {
            const uint64_t* row = rows + (size_t) k * words;
            for (size_t i = 0; i < words; i++) out[i] |= row[i];
        }
    }
}

size_t mk_fg_mask_spans(const uint64_t* mask, int32_t width, int32_t height, int32_t* span_offsets, int32_t* spans) {
    const size_t words = mk_fg_mask_words(width);
    size_t count = 0;
    for (int32_t y = 0; y < height; y++) {
        if (span_offsets) span_offsets[y] = (int32_t) count;
        const uint64_t* row = mask + (size_t) y * words;
        int32_t x = 0;
        while (x < width) {
            // The next set bit at or after x, then the next clear one.
            size_t i = (size_t) x >> 6;
            uint64_t bits = row[i] & (~(uint64_t) 0 << (x & 63));
            while (!bits && ++i < words) bits = row[i];
            if (!bits) break;
            const int32_t start = (int32_t) (i * 64 + (size_t) __builtin_ctzll(bits));
            if (start >= width) break;
            bits = ~row[i] & (~(uint64_t) 0 << (start & 63));
            while (!bits && ++i < words) bits = ~row[i];
            int32_t stop = bits ? (int32_t) (i * 64 + (size_t) __builtin_ctzll(bits)) : width;
            if (stop > width) stop = width;
            if (spans) { spans[2 * count] = start; spans[2 * count + 1] = stop; }
            count++;
            x = stop;
        }
    }
    if (span_offsets) span_offsets[height] = (int32_t) count;
    return count;
}
