// Bounded im2col: copies a row segment of the implicit im2col matrix into a GEMM A tile.
// Portable C on purpose: it is a gather of contiguous channel runs, bound by memory.
#include <string.h>
#include "cmk.h"

void mk_f32_im2col_segment(
    float* dst, size_t dst_stride, size_t count,
    const float* image, int32_t height, int32_t width, size_t pixel_stride,
    size_t channel_offset, size_t group_channels,
    int32_t y0, int32_t x0, int32_t sx,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    size_t k0, size_t k1)
{
    const size_t icg = group_channels;
    // Whole rows of a dense input (one group, pixel stride = channels), e.g. a network's first
    // 3×3 convolution on 3 channels: taps with the same dy and consecutive dx read adjacent
    // pixels, so a kernel row of kw taps is one contiguous run of kw·icg floats. Copying runs
    // instead of 3-float taps cuts the per-tap bookkeeping that dominated such layers.
    if (k0 == 0 && k1 == tap_count * icg && pixel_stride == icg && channel_offset == 0 && tap_count <= 64) {
        size_t run_start[64], run_length[64], runs = 0;
        for (size_t t = 0; t < tap_count; t++) {
            if (runs > 0 && dy[t] == dy[t - 1] && dx[t] == dx[t - 1] + 1) { run_length[runs - 1]++; continue; }
            run_start[runs] = t;
            run_length[runs] = 1;
            runs++;
        }
        if (runs < tap_count) {
            for (size_t j = 0; j < count; j++) {
                float* row = dst + j * dst_stride;
                const int32_t xj = x0 + (int32_t) j * sx;
                for (size_t r = 0; r < runs; r++) {
                    const size_t t0 = run_start[r], len = run_length[r];
                    const int32_t iy = y0 + dy[t0], ix = xj + dx[t0];
                    float* d = row + t0 * icg;
                    if (iy >= 0 && iy < height && ix >= 0 && ix + (int32_t) len <= width) {
                        const float* src = image + ((size_t) iy * (size_t) width + (size_t) ix) * icg;
                        const size_t n = len * icg;
                        for (size_t i = 0; i < n; i++) d[i] = src[i];
                    } else {
                        for (size_t t = t0; t < t0 + len; t++, d += icg) {
                            const int32_t tx = xj + dx[t];
                            if (iy >= 0 && iy < height && tx >= 0 && tx < width) {
                                const float* src = image + ((size_t) iy * (size_t) width + (size_t) tx) * icg;
                                for (size_t i = 0; i < icg; i++) d[i] = src[i];
                            } else {
                                for (size_t i = 0; i < icg; i++) d[i] = 0.0f;
                            }
                        }
                    }
                }
            }
            return;
        }
    }
    const size_t t_begin = k0 / icg;
    size_t t_end = (k1 + icg - 1) / icg;
    if (t_end > tap_count) t_end = tap_count;
    for (size_t j = 0; j < count; j++) {
        float* row = dst + j * dst_stride;
        const int32_t xj = x0 + (int32_t) j * sx;
        for (size_t t = t_begin; t < t_end; t++) {
            const size_t c_lo = t * icg < k0 ? k0 - t * icg : 0;
            const size_t c_hi = (t + 1) * icg > k1 ? k1 - t * icg : icg;
            const size_t n = c_hi - c_lo;
            float* d = row + (t * icg + c_lo - k0);
            const int32_t iy = y0 + dy[t], ix = xj + dx[t];
            if (iy >= 0 && iy < height && ix >= 0 && ix < width) {
                const float* s = image + ((size_t) iy * (size_t) width + (size_t) ix) * pixel_stride
                    + channel_offset + c_lo;
                if (n <= 8) {
                    for (size_t i = 0; i < n; i++) d[i] = s[i];
                } else {
                    memcpy(d, s, n * sizeof(float));
                }
            } else {
                memset(d, 0, n * sizeof(float));
            }
        }
    }
}

void mk_f32_conv_indirection(
    const float** table, size_t mr, size_t tiles, size_t rows, size_t m0,
    const float* image, size_t image_stride, int32_t height, int32_t width, size_t pixel_stride,
    int32_t output_height, int32_t output_width, int32_t sy, int32_t sx, int32_t pad_top, int32_t pad_left,
    size_t tap_count, const int32_t* dy, const int32_t* dx, const float* zero)
{
    size_t m = m0;
    int32_t ox = (int32_t) (m0 % (size_t) output_width);
    size_t row_index = m0 / (size_t) output_width;
    int32_t oy = (int32_t) (row_index % (size_t) output_height);
    size_t n = row_index / (size_t) output_height;
    for (size_t r = 0; r < tiles * mr; r++) {
        const float** slot = table + (r / mr) * tap_count * mr + r % mr;
        const int32_t y0 = oy * sy - pad_top, x0 = ox * sx - pad_left;
        const float* base = image + n * image_stride;
        for (size_t t = 0; t < tap_count; t++) {
            const int32_t iy = y0 + dy[t], ix = x0 + dx[t];
            slot[t * mr] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                ? base + ((size_t) iy * (size_t) width + (size_t) ix) * pixel_stride : zero;
        }
        // Rows past the last repeat it (their results alias the last row's).
        if (r + 1 < rows) {
            m++;
            if (++ox == output_width) {
                ox = 0;
                if (++oy == output_height) { oy = 0; n++; }
            }
        }
    }
}
