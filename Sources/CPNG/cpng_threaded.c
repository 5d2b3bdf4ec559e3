// cpng_encode_threaded: a PNG encoder that deflates horizontal bands of rows on several
// threads, for large pictures (a 12 MP RGBA cut-out spends ~0.5 s in zlib on one core). The
// bands are fixed by the picture's size, so the output bytes do not depend on the thread count.
//
// The "Up" filter is applied to every row (the encoder's default choice, see PNGCodec.swift).
// Each band is its own raw deflate stream (zlib strategy Z_FILTERED, as libpng uses for
// filtered rows); every band but the last ends with Z_SYNC_FLUSH, which closes it on a byte
// boundary without a final block, so the bands concatenate into one valid deflate stream
// (the technique of pigz). The zlib wrapper's Adler-32 is combined from the bands'
// checksums. Chunks (IHDR, IDAT, IEND) and their CRCs are written here; no libpng, so no
// longjmp either. Output decodes to exactly the input pixels with any PNG reader.
#include "cpng.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct band {
    const uint8_t *pixels;
    size_t row_stride, row_bytes;
    // When set, `pixels` holds RGB rows and each row is interleaved with these alpha rows
    // into RGBA on the fly (the bytes are those of the interleaved picture).
    const uint8_t *alpha;
    size_t alpha_stride;
    uint32_t y0, y1;
    int level;
    uint8_t *out;
    size_t size, capacity;
    uLong adler;
    int is_last;
    int status;
} band;

static int band_reserve(band *b, size_t extra) {
    if (b->capacity - b->size >= extra) return 1;
    size_t capacity = b->capacity ? b->capacity : 65536;
    while (capacity - b->size < extra) {
        if (capacity > SIZE_MAX / 2) return 0;
        capacity *= 2;
    }
    uint8_t *grown = realloc(b->out, capacity);
    if (grown == NULL) return 0;
    b->out = grown;
    b->capacity = capacity;
    return 1;
}

// Row `y` of the picture being encoded: the pixels themselves, or RGB + alpha interleaved into `scratch`.
static const uint8_t *band_row(const band *b, uint32_t y, uint8_t *scratch) {
    const uint8_t *color = b->pixels + (size_t)y * b->row_stride;
    if (b->alpha == NULL) return color;
    const uint8_t *alpha = b->alpha + (size_t)y * b->alpha_stride;
    const size_t width = b->row_bytes / 4;
    for (size_t x = 0; x < width; x++) {
        scratch[4 * x] = color[3 * x];
        scratch[4 * x + 1] = color[3 * x + 1];
        scratch[4 * x + 2] = color[3 * x + 2];
        scratch[4 * x + 3] = alpha[x];
    }
    return scratch;
}

// The scratch row for row `y` (by parity), or NULL without scratch.
static uint8_t *slot(uint8_t *scratch, uint32_t y, size_t row_bytes) {
    return scratch ? scratch + (y & 1) * row_bytes : NULL;
}

static void *band_deflate(void *argument) {
    band *b = argument;
    b->status = CPNG_NO_MEMORY;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, b->level, Z_DEFLATED, -15, 8, Z_FILTERED) != Z_OK) return NULL;
    uint8_t *row = malloc(b->row_bytes + 1);
    // Two interleaved rows (current and above, by row parity) when encoding RGB + alpha.
    uint8_t *scratch = b->alpha ? malloc(2 * b->row_bytes) : NULL;
    if (row == NULL || (b->alpha && scratch == NULL)) { free(row); free(scratch); deflateEnd(&z); return NULL; }
    // The whole band's worst case up front (about its input size; pages never written are
    // never touched), so the output is not copied as it grows. The bytes do not depend on it.
    const size_t bound = (size_t)deflateBound(&z, (uLong)(b->y1 - b->y0) * (uLong)(b->row_bytes + 1)) + 65536;
    b->out = malloc(bound);
    if (b->out == NULL) { free(row); free(scratch); deflateEnd(&z); return NULL; }
    b->capacity = bound;
    const uint8_t *above = b->y0 > 0 ? band_row(b, b->y0 - 1, slot(scratch, b->y0 - 1, b->row_bytes)) : NULL;
    b->adler = adler32(0L, Z_NULL, 0);
    int ok = 1;
    for (uint32_t y = b->y0; y < b->y1 && ok; y++) {
        const uint8_t *current = band_row(b, y, slot(scratch, y, b->row_bytes));
        row[0] = 2;  // Up
        if (y == 0) {
            memcpy(row + 1, current, b->row_bytes);
        } else {
            for (size_t x = 0; x < b->row_bytes; x++) row[x + 1] = (uint8_t)(current[x] - above[x]);
        }
        above = current;
        b->adler = adler32(b->adler, row, (uInt)(b->row_bytes + 1));
        z.next_in = row;
        z.avail_in = (uInt)(b->row_bytes + 1);
        const int flush = y + 1 < b->y1 ? Z_NO_FLUSH : (b->is_last ? Z_FINISH : Z_SYNC_FLUSH);
        // Until deflate leaves output space unused (all input taken and flushed), or, when
        // finishing, until the stream ends.
        for (;;) {
            if (!band_reserve(b, 65536)) { ok = 0; break; }
            size_t space = b->capacity - b->size;
            if (space > UINT32_MAX) space = UINT32_MAX;
            z.next_out = b->out + b->size;
            z.avail_out = (uInt)space;
            const int result = deflate(&z, flush);
            b->size += space - z.avail_out;
            if (result == Z_STREAM_ERROR) { ok = 0; break; }
            if (flush == Z_FINISH) {
                if (result == Z_STREAM_END) break;
            } else if (z.avail_out != 0) {
                break;
            }
        }
    }
    free(row);
    free(scratch);
    deflateEnd(&z);
    b->status = ok ? CPNG_OK : CPNG_NO_MEMORY;
    return NULL;
}

// One thread's share of the bands: first, first + step, first + 2·step, …
typedef struct worker_args { band *bands; size_t first, step, count; } worker_args;

static void *worker_run(void *argument) {
    worker_args *a = argument;
    for (size_t i = a->first; i < a->count; i += a->step) band_deflate(&a->bands[i]);
    return NULL;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

typedef struct writer { uint8_t *data; size_t size, capacity; int failed; } writer;

static void write_bytes(writer *w, const void *bytes, size_t count) {
    if (w->failed) return;
    if (w->capacity - w->size < count) {
        size_t capacity = w->capacity ? w->capacity : 65536;
        while (capacity - w->size < count) {
            if (capacity > SIZE_MAX / 2) { w->failed = 1; return; }
            capacity *= 2;
        }
        uint8_t *grown = realloc(w->data, capacity);
        if (grown == NULL) { w->failed = 1; return; }
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, bytes, count);
    w->size += count;
}

// One chunk made of `type` and the concatenation of two byte ranges (either may be empty).
static void write_chunk(writer *w, const char *type, const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    uint8_t header[8];
    put32(header, (uint32_t)(na + nb));
    memcpy(header + 4, type, 4);
    write_bytes(w, header, 8);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (na) { write_bytes(w, a, na); crc = crc32(crc, a, (uInt)na); }
    if (nb) { write_bytes(w, b, nb); crc = crc32(crc, b, (uInt)nb); }
    uint8_t trailer[4];
    put32(trailer, (uint32_t)crc);
    write_bytes(w, trailer, 4);
}

static int encode_threaded(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                           const uint8_t *alpha, size_t alpha_stride,
                           int channels, int compression_level, int threads,
                           uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    static const uint8_t color_types[5] = {0, 0, 4, 2, 6};
    if (channels < 1 || channels > 4 || width == 0 || height == 0 || width > 0x7fffffffu
        || height > 0x7fffffffu || compression_level < 0 || compression_level > 9 || threads < 1
        || row_stride < (size_t)width * (size_t)(alpha ? 3 : channels) || (alpha && (channels != 4 || alpha_stride < width))
        || (size_t)width * (size_t)channels > 0x7ffffffeu) {
        if (message_size) { strncpy(message, "invalid image or settings for PNG encoding", message_size - 1); message[message_size - 1] = 0; }
        return CPNG_INVALID_ARGUMENT;
    }
    const size_t row_bytes = (size_t)width * (size_t)channels;
    // The band layout depends on the picture only (about 4 MB of pixels per band, at least
    // 64 rows, at most 16 bands), never on `threads`, so the bytes are the same for any
    // thread count; threads only share the bands out (worker w takes bands w, w + T, …).
    size_t parts = (size_t)height * row_bytes / (4u << 20);
    if (parts > (size_t)height / 64) parts = (size_t)height / 64;
    if (parts > 16) parts = 16;
    if (parts < 1) parts = 1;
    band bands[16];
    memset(bands, 0, sizeof bands);
    for (size_t i = 0; i < parts; i++) {
        bands[i].pixels = pixels;
        bands[i].row_stride = row_stride;
        bands[i].row_bytes = row_bytes;
        bands[i].alpha = alpha;
        bands[i].alpha_stride = alpha_stride;
        bands[i].y0 = (uint32_t)((size_t)height * i / parts);
        bands[i].y1 = (uint32_t)((size_t)height * (i + 1) / parts);
        bands[i].level = compression_level;
        bands[i].is_last = i + 1 == parts;
    }
    size_t workers_count = (size_t)threads < parts ? (size_t)threads : parts;
    if (workers_count > 16) workers_count = 16;
    worker_args args[16];
    pthread_t workers[16];
    int started[16] = {0};
    for (size_t w = 0; w < workers_count; w++) {
        args[w].bands = bands;
        args[w].first = w;
        args[w].step = workers_count;
        args[w].count = parts;
    }
    for (size_t w = 1; w < workers_count; w++) started[w] = pthread_create(&workers[w], NULL, worker_run, &args[w]) == 0;
    worker_run(&args[0]);
    for (size_t w = 1; w < workers_count; w++) {
        if (started[w]) pthread_join(workers[w], NULL); else worker_run(&args[w]);
    }
    int status = CPNG_OK;
    uLong adler = bands[0].adler;
    for (size_t i = 0; i < parts; i++) {
        if (bands[i].status != CPNG_OK) status = bands[i].status;
        if (i > 0) adler = adler32_combine(adler, bands[i].adler, (z_off_t)((size_t)(bands[i].y1 - bands[i].y0) * (row_bytes + 1)));
    }
    writer w = {0};
    if (status == CPNG_OK) {
        // The file's exact size, allocated once: signature, IHDR, each band's IDAT chunks
        // (12 bytes of length, type and CRC around at most 1 MB each), the zlib header and
        // trailer, IEND.
        size_t total = 8 + 25 + (12 + 2 + 4) + 12;
        for (size_t i = 0; i < parts; i++) total += bands[i].size + 12 * ((bands[i].size + (1u << 20) - 1) >> 20);
        w.data = malloc(total);
        if (w.data == NULL) w.failed = 1; else w.capacity = total;
        static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
        write_bytes(&w, signature, 8);
        uint8_t ihdr[13];
        put32(ihdr, width);
        put32(ihdr + 4, height);
        ihdr[8] = 8; ihdr[9] = color_types[channels]; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
        write_chunk(&w, "IHDR", ihdr, 13, NULL, 0);
        // The zlib stream: header (deflate, 32 KB window, no dictionary), bands, Adler-32; cut
        // into IDAT chunks of at most 1 MB.
        const uint8_t zheader[2] = {0x78, 0x01};
        uint8_t ztrailer[4];
        put32(ztrailer, (uint32_t)adler);
        const size_t limit = 1u << 20;
        uint8_t pending[2 + 4];
        size_t npending = 2;
        memcpy(pending, zheader, 2);
        for (size_t i = 0; i < parts; i++) {
            const uint8_t *data = bands[i].out;
            size_t left = bands[i].size;
            while (left > 0) {
                const size_t take = left < limit ? left : limit;
                write_chunk(&w, "IDAT", pending, npending, data, take);
                npending = 0;
                data += take;
                left -= take;
            }
        }
        memcpy(pending + npending, ztrailer, 4);
        write_chunk(&w, "IDAT", pending, npending + 4, NULL, 0);
        write_chunk(&w, "IEND", NULL, 0, NULL, 0);
        if (w.failed) status = CPNG_NO_MEMORY;
    }
    for (size_t i = 0; i < parts; i++) free(bands[i].out);
    if (status != CPNG_OK) {
        free(w.data);
        if (message_size) { strncpy(message, "out of memory while encoding PNG", message_size - 1); message[message_size - 1] = 0; }
        return status;
    }
    *out = w.data;
    *out_size = w.size;
    return CPNG_OK;
}

int cpng_encode_threaded(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                         int channels, int compression_level, int threads,
                         uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    return encode_threaded(pixels, width, height, row_stride, NULL, 0, channels, compression_level, threads,
                           out, out_size, message, message_size);
}

int cpng_encode_threaded_rgb_alpha(const uint8_t *rgb, size_t rgb_stride, const uint8_t *alpha, size_t alpha_stride,
                                   uint32_t width, uint32_t height, int compression_level, int threads,
                                   uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    return encode_threaded(rgb, width, height, rgb_stride, alpha, alpha_stride, 4, compression_level, threads,
                           out, out_size, message, message_size);
}

// MARK: Streaming

// cpng_encode_threaded's file, produced row band by row band: the same bands (they depend on
// the picture only), each deflated on its own stream with the row above it as the Up filter's
// reference, the same 1 MB IDAT pieces, the same Adler-32 combined at the end. The bytes are
// identical; only one band's deflate state and the output not yet taken are held.

struct cpng_stream {
    uint32_t width, height;
    int channels, level, rgb_alpha;
    size_t row_bytes;
    size_t parts;
    size_t part;          // the band being deflated
    uint32_t next_row;    // rows received so far
    uint32_t band_end;    // first row of the next band
    z_stream z;
    int z_open;
    uLong adler;          // of the whole stream so far (combined band by band)
    uLong band_adler;
    size_t band_length;   // uncompressed bytes of the current band
    uint8_t *previous;    // the last row received (the Up filter's reference)
    uint8_t *row;         // filter byte + filtered row
    uint8_t *interleaved; // an RGBA row made from RGB + alpha
    uint8_t *held;        // compressed bytes of the current band not yet put in an IDAT
    size_t held_size, held_capacity;
    int wrote_zlib_header;
    writer out;           // finished bytes for the caller to take
    int status;
};

static void stream_fail(cpng_stream *s, int status) { if (s->status == CPNG_OK) s->status = status; }

/// Puts every full 1 MB piece of the held band bytes (all of them when `band_done`) into IDAT chunks.
static void stream_emit(cpng_stream *s, int band_done) {
    const size_t limit = 1u << 20;
    size_t offset = 0;
    while (s->held_size - offset >= limit || (band_done && s->held_size > offset)) {
        size_t take = s->held_size - offset;
        if (take > limit) take = limit;
        static const uint8_t zheader[2] = {0x78, 0x01};
        write_chunk(&s->out, "IDAT", zheader, s->wrote_zlib_header ? 0 : 2, s->held + offset, take);
        s->wrote_zlib_header = 1;
        offset += take;
    }
    if (offset > 0) {
        memmove(s->held, s->held + offset, s->held_size - offset);
        s->held_size -= offset;
    }
    if (s->out.failed) stream_fail(s, CPNG_NO_MEMORY);
}

/// Feeds one filtered row (with its filter byte) to the current band's deflate.
static void stream_deflate(cpng_stream *s, const uint8_t *data, size_t size, int flush) {
    s->z.next_in = (Bytef *)data;
    s->z.avail_in = (uInt)size;
    for (;;) {
        if (s->held_capacity - s->held_size < 65536) {
            size_t capacity = s->held_capacity ? s->held_capacity * 2 : (2u << 20);
            uint8_t *grown = realloc(s->held, capacity);
            if (grown == NULL) { stream_fail(s, CPNG_NO_MEMORY); return; }
            s->held = grown;
            s->held_capacity = capacity;
        }
        size_t space = s->held_capacity - s->held_size;
        if (space > UINT32_MAX) space = UINT32_MAX;
        s->z.next_out = s->held + s->held_size;
        s->z.avail_out = (uInt)space;
        const int result = deflate(&s->z, flush);
        s->held_size += space - s->z.avail_out;
        if (result == Z_STREAM_ERROR) { stream_fail(s, CPNG_NO_MEMORY); return; }
        if (flush == Z_FINISH) {
            if (result == Z_STREAM_END) break;
        } else if (s->z.avail_out != 0) {
            break;
        }
    }
}

cpng_stream *cpng_stream_create(uint32_t width, uint32_t height, int channels, int rgb_alpha, int compression_level) {
    if (channels < 1 || channels > 4 || width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu
        || compression_level < 0 || compression_level > 9 || (rgb_alpha && channels != 4)
        || (size_t)width * (size_t)channels > 0x7ffffffeu) return NULL;
    cpng_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->width = width;
    s->height = height;
    s->channels = channels;
    s->level = compression_level;
    s->rgb_alpha = rgb_alpha;
    s->row_bytes = (size_t)width * (size_t)channels;
    // The bands of encode_threaded.
    size_t parts = (size_t)height * s->row_bytes / (4u << 20);
    if (parts > (size_t)height / 64) parts = (size_t)height / 64;
    if (parts > 16) parts = 16;
    if (parts < 1) parts = 1;
    s->parts = parts;
    s->previous = malloc(s->row_bytes);
    s->row = malloc(s->row_bytes + 1);
    s->interleaved = rgb_alpha ? malloc(s->row_bytes) : NULL;
    if (s->previous == NULL || s->row == NULL || (rgb_alpha && s->interleaved == NULL)) {
        cpng_stream_destroy(s);
        return NULL;
    }
    s->status = CPNG_OK;
    static const uint8_t color_types[5] = {0, 0, 4, 2, 6};
    static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    write_bytes(&s->out, signature, 8);
    uint8_t ihdr[13];
    put32(ihdr, width);
    put32(ihdr + 4, height);
    ihdr[8] = 8; ihdr[9] = color_types[channels]; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
    write_chunk(&s->out, "IHDR", ihdr, 13, NULL, 0);
    s->adler = adler32(0L, Z_NULL, 0);
    if (s->out.failed) { cpng_stream_destroy(s); return NULL; }
    return s;
}

int cpng_stream_write_rows(cpng_stream *s, const uint8_t *pixels, size_t row_stride,
                           const uint8_t *alpha, size_t alpha_stride, uint32_t count) {
    if (s->status != CPNG_OK) return s->status;
    if ((count > 0 && pixels == NULL) || count > s->height - s->next_row
        || row_stride < (size_t)s->width * (size_t)(s->rgb_alpha ? 3 : s->channels)
        || (s->rgb_alpha && (alpha == NULL || alpha_stride < s->width))) return CPNG_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < count && s->status == CPNG_OK; i++) {
        const uint32_t y = s->next_row;
        if (!s->z_open) {
            const uint32_t y0 = (uint32_t)((size_t)s->height * s->part / s->parts);
            s->band_end = (uint32_t)((size_t)s->height * (s->part + 1) / s->parts);
            if (y != y0 || deflateInit2(&s->z, s->level, Z_DEFLATED, -15, 8, Z_FILTERED) != Z_OK) {
                stream_fail(s, CPNG_NO_MEMORY);
                break;
            }
            s->z_open = 1;
            s->band_adler = adler32(0L, Z_NULL, 0);
            s->band_length = 0;
        }
        const uint8_t *current = pixels + (size_t)i * row_stride;
        if (s->rgb_alpha) {
            const uint8_t *a = alpha + (size_t)i * alpha_stride;
            for (size_t x = 0; x < s->width; x++) {
                s->interleaved[4 * x] = current[3 * x];
                s->interleaved[4 * x + 1] = current[3 * x + 1];
                s->interleaved[4 * x + 2] = current[3 * x + 2];
                s->interleaved[4 * x + 3] = a[x];
            }
            current = s->interleaved;
        }
        s->row[0] = 2;  // Up
        if (y == 0) {
            memcpy(s->row + 1, current, s->row_bytes);
        } else {
            for (size_t x = 0; x < s->row_bytes; x++) s->row[x + 1] = (uint8_t)(current[x] - s->previous[x]);
        }
        memcpy(s->previous, current, s->row_bytes);
        s->band_adler = adler32(s->band_adler, s->row, (uInt)(s->row_bytes + 1));
        s->band_length += s->row_bytes + 1;
        const int is_last_band = s->part + 1 == s->parts;
        const int flush = y + 1 < s->band_end ? Z_NO_FLUSH : (is_last_band ? Z_FINISH : Z_SYNC_FLUSH);
        stream_deflate(s, s->row, s->row_bytes + 1, flush);
        s->next_row++;
        if (flush != Z_NO_FLUSH) {
            deflateEnd(&s->z);
            s->z_open = 0;
            s->adler = s->part == 0 ? s->band_adler
                                    : adler32_combine(s->adler, s->band_adler, (z_off_t)s->band_length);
            s->part++;
            stream_emit(s, 1);
        } else {
            stream_emit(s, 0);
        }
    }
    return s->status;
}

int cpng_stream_finish(cpng_stream *s) {
    if (s->status != CPNG_OK) return s->status;
    if (s->next_row != s->height) return CPNG_INVALID_ARGUMENT;
    uint8_t pending[2 + 4];
    size_t npending = 0;
    if (!s->wrote_zlib_header) { pending[0] = 0x78; pending[1] = 0x01; npending = 2; }
    put32(pending + npending, (uint32_t)s->adler);
    write_chunk(&s->out, "IDAT", pending, npending + 4, NULL, 0);
    write_chunk(&s->out, "IEND", NULL, 0, NULL, 0);
    if (s->out.failed) stream_fail(s, CPNG_NO_MEMORY);
    return s->status;
}

const uint8_t *cpng_stream_output(const cpng_stream *s, size_t *size) {
    *size = s->out.size;
    return s->out.data;
}

void cpng_stream_consume(cpng_stream *s) { s->out.size = 0; }

void cpng_stream_destroy(cpng_stream *s) {
    if (s == NULL) return;
    if (s->z_open) deflateEnd(&s->z);
    free(s->previous);
    free(s->row);
    free(s->interleaved);
    free(s->held);
    free(s->out.data);
    free(s);
}
