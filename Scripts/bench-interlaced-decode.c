// Benchmark helper (Docs/Benchmarks.md, "Strips for interlaced PNGs"):
//   cc -O2 -ISources/CPNG/include Scripts/bench-interlaced-decode.c Sources/CPNG/cpng.c -lpng16 -lz -o decode-cost
//   ./decode-cost photo.png
// CPU time of decoding an interlaced PNG held in memory: whole (cpng_decoder_read, libpng
// combines the passes) vs by rows as InterlacedPNGRows does (one decoder per non-empty pass,
// each dropping the earlier passes' rows, rows put together). Checks the pictures are equal.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "cpng.h"
static double cpu(void) { struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6; }
int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb"); fseek(f, 0, SEEK_END); size_t n = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n); if (fread(data, 1, n, f) != n) return 1; fclose(f);
    double t0 = cpu();
    cpng_decoder *d = cpng_decoder_create(data, n, 1u << 30); cpng_decoder_start(d, 0);
    cpng_header h = cpng_decoder_header(d); size_t c = h.channels, stride = (size_t)h.width * c;
    uint8_t *whole = malloc(stride * h.height);
    if (cpng_decoder_read(d, whole, stride) != CPNG_OK) return 2;
    cpng_decoder_destroy(d);
    double t1 = cpu();
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1}, dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    cpng_decoder *p[7]; uint32_t skip = 0;
    for (int k = 0; k < 7; k++) {
        p[k] = cpng_decoder_create(data, n, 1u << 30); cpng_decoder_start_passes(p[k], 0);
        if (skip) cpng_decoder_read_rows(p[k], NULL, stride, skip);
        skip += (h.width > (uint32_t)x0[k] && h.height > (uint32_t)y0[k]) ? (h.height - y0[k] + dy[k] - 1) / dy[k] : 0;
    }
    uint8_t *row = malloc(stride), *out = malloc(stride); size_t bad = 0;
    for (uint32_t y = 0; y < h.height; y++) {
        for (int k = 0; k < 7; k++) {
            if (y < (uint32_t)y0[k] || (y - y0[k]) % dy[k] || h.width <= (uint32_t)x0[k]) continue;
            if (cpng_decoder_read_rows(p[k], row, stride, 1) != CPNG_OK) return 3;
            for (uint32_t i = 0, x = x0[k]; x < h.width; i++, x += dx[k]) memcpy(out + x * c, row + i * c, c);
        }
        bad += memcmp(out, whole + y * stride, stride) != 0;
    }
    double t2 = cpu();
    printf("%ux%u: whole %.2f s CPU, by passes %.2f s CPU (%.2fx), rows differing: %zu\n", h.width, h.height, t1 - t0, t2 - t1, (t2 - t1) / (t1 - t0), bad);
    return 0;
}
