// Drives the CPNG and CJPEG shims over files and every prefix of them, for
// AddressSanitizer/LeakSanitizer: error paths must neither leak nor touch freed memory.
// Built and run by Scripts/check-codec-shims.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjpeg.h"
#include "cpng.h"

/// Decodes `data` whole; returns the pixels (malloc'd, `*stride` bytes a row) or NULL.
static uint8_t *decode_png_whole(const uint8_t *data, size_t size, int keep16, size_t *stride) {
    uint8_t *result = NULL;
    cpng_decoder *d = cpng_decoder_create(data, size, 1u << 20);
    if (d == NULL) return NULL;
    if (cpng_decoder_status(d) == CPNG_OK && cpng_decoder_start(d, keep16) == CPNG_OK) {
        cpng_header h = cpng_decoder_header(d);
        *stride = (size_t)h.width * h.channels * (h.output_bit_depth / 8);
        if ((size_t)h.width * h.height <= (1u << 24)) {
            uint8_t *pixels = malloc(*stride * h.height + 1);
            if (cpng_decoder_read(d, pixels, *stride) == CPNG_OK) result = pixels; else free(pixels);
        }
    }
    cpng_decoder_destroy(d);
    return result;
}

/// Decodes `data` through cpng_decoder_start_passes and cpng_decoder_read_rows (a few rows
/// dropped with NULL, the rest read), places each pass's pixels where Adam7 puts them and,
/// checks that it fails where the whole decode (`whole` NULL) fails and otherwise gives
/// `whole`'s picture. Exits on a difference.
static void decode_png_passes(const uint8_t *data, size_t size, int keep16, const uint8_t *whole, const char *name) {
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    cpng_decoder *d = cpng_decoder_create(data, size, 1u << 20);
    if (d == NULL) return;
    if (cpng_decoder_status(d) == CPNG_OK && cpng_decoder_start_passes(d, keep16) == CPNG_OK) {
        cpng_header h = cpng_decoder_header(d);
        size_t pixel = (size_t)h.channels * (h.output_bit_depth / 8), stride = h.width * pixel;
        if ((size_t)h.width * h.height <= (1u << 24)) {
            uint8_t *picture = calloc(stride * h.height + 1, 1), *row = malloc(stride + 1);
            int ok = 1, dropped = 0;
            for (int p = 0; p < 7 && ok; p++) {
                if (!h.interlaced && p > 0) break;
                uint32_t cols = h.interlaced ? (h.width + dx[p] - 1 - x0[p]) / dx[p] : h.width;
                uint32_t rows = h.interlaced ? (h.height + dy[p] - 1 - y0[p]) / dy[p] : h.height;
                if (h.width <= (uint32_t)x0[p] || h.height <= (uint32_t)y0[p]) continue;
                for (uint32_t r = 0; r < rows && ok; r++) {
                    // Drop pass 2's first row (and its pixels) to exercise the NULL row.
                    if (p == 1 && r == 0 && h.interlaced) {
                        ok = cpng_decoder_read_rows(d, NULL, stride, 1) == CPNG_OK;
                        dropped = 1;
                        continue;
                    }
                    ok = cpng_decoder_read_rows(d, row, stride, 1) == CPNG_OK;
                    if (!ok) break;
                    size_t y = h.interlaced ? y0[p] + r * dy[p] : r;
                    for (uint32_t i = 0; i < cols; i++) {
                        size_t x = h.interlaced ? x0[p] + i * dx[p] : i;
                        memcpy(picture + y * stride + x * pixel, row + i * pixel, pixel);
                    }
                }
            }
            if (ok != (whole != NULL)) {
                fprintf(stderr, "%s (%zu bytes): the passes %s, the whole decode %s\n", name, size,
                        ok ? "succeed" : "fail", whole ? "succeeds" : "fails");
                exit(1);
            }
            if (ok && whole != NULL) {
                if (dropped)  // the dropped row's pixels: row 0, columns 4, 12, ...
                    for (size_t x = 4; x < h.width; x += 8) memcpy(picture + x * pixel, whole + x * pixel, pixel);
                if (memcmp(picture, whole, stride * h.height) != 0) {
                    fprintf(stderr, "%s: the passes differ from the whole decode\n", name);
                    exit(1);
                }
            }
            free(row);
            free(picture);
        }
    }
    cpng_decoder_destroy(d);
}

static void decode_png(const uint8_t *data, size_t size, int keep16, const char *name) {
    size_t stride = 0;
    uint8_t *whole = decode_png_whole(data, size, keep16, &stride);
    decode_png_passes(data, size, keep16, whole, name);
    free(whole);
}

static void decode_jpeg(const uint8_t *data, size_t size, int scale) {
    cjpeg_decoder *d = cjpeg_decoder_create(data, size, scale == 3 ? 2 : 0);
    if (d == NULL) return;
    size_t exif_size;
    (void)cjpeg_decoder_exif(d, &exif_size);
    if (cjpeg_decoder_status(d) == CJPEG_OK && cjpeg_decoder_start(d, scale) == CJPEG_OK) {
        cjpeg_header h = cjpeg_decoder_header(d);
        size_t stride = (size_t)h.output_width * h.output_channels;
        uint8_t *pixels = malloc(stride * h.output_height + 1);
        cjpeg_decoder_read(d, pixels, stride);
        free(pixels);
    }
    cjpeg_decoder_destroy(d);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); return 1; }
        uint8_t *data = malloc(1 << 22);
        size_t size = fread(data, 1, 1 << 22, f);
        fclose(f);
        for (size_t n = 0; n <= size; n++) {  // every prefix, the whole file last
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, data, n);
            decode_png(copy, n, (int)(n & 1), argv[i]);
            decode_jpeg(copy, n, 1 + (int)(n % 8));
            free(copy);
        }
        free(data);
    }
    // Encoders: success, and argument failures.
    uint8_t pixels[16 * 16 * 4];
    for (int i = 0; i < (int)sizeof pixels; i++) pixels[i] = (uint8_t)(i * 7);
    char message[256];
    for (int channels = 0; channels <= 5; channels++) {
        uint8_t *out; size_t out_size;
        if (cpng_encode(pixels, 16, 16, 64, channels, 2, CPNG_FILTER_UP, &out, &out_size, message, sizeof message) == CPNG_OK) cpng_free(out);
        if (cjpeg_encode(pixels, 16, 16, 64, channels, channels == 4, 90, 0, channels == 3, &out, &out_size, message, sizeof message) == CJPEG_OK) cjpeg_free(out);
    }
    puts("shim check finished");
    return 0;
}
