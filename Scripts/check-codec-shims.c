// Drives the CPNG and CJPEG shims over files and every prefix of them, for
// AddressSanitizer/LeakSanitizer: error paths must neither leak nor touch freed memory.
// Built and run by Scripts/check-codec-shims.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjpeg.h"
#include "cpng.h"

static void decode_png(const uint8_t *data, size_t size, int keep16) {
    cpng_decoder *d = cpng_decoder_create(data, size, 1u << 20);
    if (d == NULL) return;
    if (cpng_decoder_status(d) == CPNG_OK && cpng_decoder_start(d, keep16) == CPNG_OK) {
        cpng_header h = cpng_decoder_header(d);
        size_t stride = (size_t)h.width * h.channels * (h.output_bit_depth / 8);
        if ((size_t)h.width * h.height <= (1u << 24)) {
            uint8_t *pixels = malloc(stride * h.height + 1);
            cpng_decoder_read(d, pixels, stride);
            free(pixels);
        }
    }
    cpng_decoder_destroy(d);
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
            decode_png(copy, n, (int)(n & 1));
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
