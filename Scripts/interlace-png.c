// Benchmark helper (Docs/Benchmarks.md, "Strips for interlaced PNGs"):
//   cc -O2 Scripts/interlace-png.c -lpng16 -o interlace-png
// Writes raw 8-bit RGB (width × height × 3 bytes on stdin) as an Adam7-interlaced PNG with
// libpng's default filters and compression, for the benchmark.
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: interlace-png WIDTH HEIGHT OUT.png < raw.rgb\n"); return 2; }
    png_uint_32 w = strtoul(argv[1], 0, 10), h = strtoul(argv[2], 0, 10);
    size_t stride = (size_t)w * 3;
    unsigned char *pixels = malloc(stride * h);
    if (!pixels || fread(pixels, 1, stride * h, stdin) != stride * h) { fprintf(stderr, "short input\n"); return 1; }
    png_bytep *rows = malloc(sizeof(png_bytep) * h);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + y * stride;
    FILE *out = fopen(argv[3], "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, 0, 0, 0);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) { fprintf(stderr, "libpng failed\n"); return 1; }
    png_init_io(png, out);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_set_interlace_handling(png);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(out);
    return 0;
}
