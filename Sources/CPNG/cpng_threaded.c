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
    // Row `base` of the picture is the first row at `pixels` (and `alpha`): 0 for a whole
    // picture, the band's first row (or the row above it) for a band held on its own.
    uint32_t base;
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
    const uint8_t *color = b->pixels + (size_t)(y - b->base) * b->row_stride;
    if (b->alpha == NULL) return color;
    const uint8_t *alpha = b->alpha + (size_t)(y - b->base) * b->alpha_stride;
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

// The number of bands a picture of `height` rows of `row_bytes` bytes is deflated in: about
// 4 MB of pixels each, and at least 64 rows unless 64 rows are over 4 MB (then as many rows
// as fit in 4 MB, at least one). Small bands let the streaming encoder deflate several on
// other threads while holding only a few; every band restarts deflate's matching, which
// costs a fraction of a percent of the size at this band size.
static size_t band_count(uint32_t height, size_t row_bytes) {
    const size_t target = 4u << 20;
    size_t minimum_rows = target / row_bytes;
    if (minimum_rows > 64) minimum_rows = 64;
    if (minimum_rows < 1) minimum_rows = 1;
    size_t parts = (size_t)height * row_bytes / target;
    if (parts > (size_t)height / minimum_rows) parts = (size_t)height / minimum_rows;
    if (parts < 1) parts = 1;
    return parts;
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
    // The band layout depends on the picture only, never on `threads`, so the bytes are the
    // same for any thread count; threads only share the bands out (worker w takes bands w,
    // w + T, …).
    const size_t parts = band_count(height, row_bytes);
    band *bands = calloc(parts, sizeof *bands);
    if (bands == NULL) {
        if (message_size) { strncpy(message, "out of memory while encoding PNG", message_size - 1); message[message_size - 1] = 0; }
        return CPNG_NO_MEMORY;
    }
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
    if (workers_count > 64) workers_count = 64;
    worker_args args[64];
    pthread_t workers[64];
    int started[64] = {0};
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
    free(bands);
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
// the picture only), each copied as its rows come (with the row above it, the Up filter's
// reference) and deflated by band_deflate, on worker threads while later rows are made; the
// same 1 MB IDAT pieces, the same Adler-32 combined in band order. The bytes are identical;
// only a few bands (`slots`) are held at a time: one being filled, the others being deflated
// or waiting to be written in order.

// A band held by the stream: its rows (from the row above it), and its deflate.
typedef struct stream_slot {
    uint8_t *pixels;  // rows [base, y1) in the stream's input layout (RGB for rgb_alpha)
    uint8_t *alpha;   // the same rows' alpha, rgb_alpha streams only
    band job;
    int state;        // SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE
} stream_slot;

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct cpng_stream {
    uint32_t width, height;
    int channels, level, rgb_alpha;
    size_t row_bytes;   // of the PNG's rows
    size_t in_bytes;    // of a row given to cpng_stream_write_rows (RGB for rgb_alpha)
    size_t parts;
    size_t part;        // the band being filled
    size_t emitted;     // bands whose bytes are in `out`
    uint32_t next_row;  // rows received so far
    uLong adler;        // of the bands emitted, combined in order
    int wrote_zlib_header;
    stream_slot *slots;
    size_t slot_count;
    // Worker threads (none when the stream deflates on the caller's thread).
    pthread_t *workers;
    size_t worker_count;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stopping;
    writer out;         // finished bytes for the caller to take
    int status;
};

static void stream_fail(cpng_stream *s, int status) { if (s->status == CPNG_OK) s->status = status; }

static stream_slot *slot_of(const cpng_stream *s, size_t part) { return &s->slots[part % s->slot_count]; }

static void *stream_worker(void *argument) {
    cpng_stream *s = argument;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        // The oldest queued band: the one the writer waits for first.
        stream_slot *next = NULL;
        for (size_t part = s->emitted; part < s->part; part++) {
            stream_slot *slot = slot_of(s, part);
            if (slot->state == SLOT_QUEUED) { next = slot; break; }
        }
        if (next == NULL) {
            pthread_cond_wait(&s->changed, &s->lock);
            continue;
        }
        next->state = SLOT_RUNNING;
        pthread_mutex_unlock(&s->lock);
        band_deflate(&next->job);
        pthread_mutex_lock(&s->lock);
        next->state = SLOT_DONE;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/// Puts band `part` (deflated) into IDAT chunks of at most 1 MB, as encode_threaded does,
/// and frees its slot.
static void stream_emit(cpng_stream *s, stream_slot *slot) {
    band *b = &slot->job;
    if (b->status != CPNG_OK) stream_fail(s, b->status);
    if (s->status == CPNG_OK) {
        const size_t limit = 1u << 20;
        static const uint8_t zheader[2] = {0x78, 0x01};
        const uint8_t *data = b->out;
        size_t left = b->size;
        while (left > 0) {
            const size_t take = left < limit ? left : limit;
            write_chunk(&s->out, "IDAT", zheader, s->wrote_zlib_header ? 0 : 2, data, take);
            s->wrote_zlib_header = 1;
            data += take;
            left -= take;
        }
        const size_t length = (size_t)(b->y1 - b->y0) * (s->row_bytes + 1);
        s->adler = s->emitted == 0 ? b->adler : adler32_combine(s->adler, b->adler, (z_off_t)length);
        if (s->out.failed) stream_fail(s, CPNG_NO_MEMORY);
    }
    free(b->out);
    b->out = NULL;
    b->size = b->capacity = 0;
    slot->state = SLOT_FREE;
    s->emitted++;
}

/// Emits the deflated bands that are next in order. Called with the lock held (when there
/// are workers).
static void stream_collect(cpng_stream *s) {
    while (s->emitted < s->part && slot_of(s, s->emitted)->state == SLOT_DONE) stream_emit(s, slot_of(s, s->emitted));
}

cpng_stream *cpng_stream_create(uint32_t width, uint32_t height, int channels, int rgb_alpha, int compression_level,
                                int threads) {
    if (channels < 1 || channels > 4 || width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu
        || compression_level < 0 || compression_level > 9 || (rgb_alpha && channels != 4) || threads < 1
        || (size_t)width * (size_t)channels > 0x7ffffffeu) return NULL;
    cpng_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    s->width = width;
    s->height = height;
    s->channels = channels;
    s->level = compression_level;
    s->rgb_alpha = rgb_alpha;
    s->row_bytes = (size_t)width * (size_t)channels;
    s->in_bytes = (size_t)width * (size_t)(rgb_alpha ? 3 : channels);
    s->parts = band_count(height, s->row_bytes);
    s->status = CPNG_OK;
    // One band filling, one per worker deflating, one more so a finished band can wait for
    // an earlier one to be written; on the caller's thread, just the one being filled.
    size_t workers = (size_t)threads > 1 ? (size_t)threads : 0;
    if (workers > 16) workers = 16;
    if (workers > s->parts) workers = s->parts;
    s->slot_count = workers ? workers + 2 : 1;
    const size_t band_rows = (height + s->parts - 1) / s->parts + 1;
    s->slots = calloc(s->slot_count, sizeof *s->slots);
    if (s->slots == NULL) { cpng_stream_destroy(s); return NULL; }
    for (size_t i = 0; i < s->slot_count; i++) {
        s->slots[i].pixels = malloc(band_rows * s->in_bytes);
        s->slots[i].alpha = rgb_alpha ? malloc(band_rows * (size_t)width) : NULL;
        if (s->slots[i].pixels == NULL || (rgb_alpha && s->slots[i].alpha == NULL)) { cpng_stream_destroy(s); return NULL; }
    }
    if (workers) {
        s->workers = calloc(workers, sizeof *s->workers);
        if (s->workers == NULL) { cpng_stream_destroy(s); return NULL; }
        for (size_t i = 0; i < workers; i++) {
            if (pthread_create(&s->workers[i], NULL, stream_worker, s) != 0) break;
            s->worker_count++;
        }
        // Without any worker, deflate on the caller's thread (same bytes).
        if (s->worker_count == 0) s->slot_count = 1;
    }
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

/// Makes slot of band s->part ready to fill: waits for it to be free (writing out the bands
/// before it), and puts the last row of the band before it (the Up filter's reference) first.
static int stream_begin_band(cpng_stream *s) {
    stream_slot *slot = slot_of(s, s->part);
    if (s->worker_count) {
        pthread_mutex_lock(&s->lock);
        for (;;) {
            stream_collect(s);
            if (slot->state == SLOT_FREE || s->status != CPNG_OK) break;
            pthread_cond_wait(&s->changed, &s->lock);
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (s->status != CPNG_OK) return 0;
    band *b = &slot->job;
    const size_t part = s->part;
    const uint32_t y0 = (uint32_t)((size_t)s->height * part / s->parts);
    if (y0 > 0) {
        // The previous band's last row, still in its slot (the same slot without workers;
        // otherwise one at most slot_count - 1 bands back, whose rows stay until refilled).
        const stream_slot *before = slot_of(s, part - 1);
        const size_t index = (size_t)(y0 - 1 - before->job.base);
        memmove(slot->pixels, before->pixels + index * s->in_bytes, s->in_bytes);
        if (s->rgb_alpha) memmove(slot->alpha, before->alpha + index * s->width, s->width);
    }
    memset(b, 0, sizeof *b);
    b->y0 = y0;
    b->y1 = (uint32_t)((size_t)s->height * (part + 1) / s->parts);
    b->base = y0 > 0 ? y0 - 1 : 0;
    b->pixels = slot->pixels;
    b->row_stride = s->in_bytes;
    b->row_bytes = s->row_bytes;
    b->alpha = slot->alpha;
    b->alpha_stride = s->width;
    b->level = s->level;
    b->is_last = part + 1 == s->parts;
    slot->state = SLOT_FILLING;
    return 1;
}

int cpng_stream_write_rows(cpng_stream *s, const uint8_t *pixels, size_t row_stride,
                           const uint8_t *alpha, size_t alpha_stride, uint32_t count) {
    if (s->status != CPNG_OK) return s->status;
    if ((count > 0 && pixels == NULL) || count > s->height - s->next_row || row_stride < s->in_bytes
        || (s->rgb_alpha && (alpha == NULL || alpha_stride < s->width))) return CPNG_INVALID_ARGUMENT;
    uint32_t i = 0;
    while (i < count && s->status == CPNG_OK) {
        stream_slot *slot = slot_of(s, s->part);
        if (slot->state != SLOT_FILLING && !stream_begin_band(s)) break;
        band *b = &slot->job;
        // Copy as many of the band's rows as are given.
        uint32_t n = b->y1 - s->next_row;
        if (n > count - i) n = count - i;
        for (uint32_t k = 0; k < n; k++) {
            const size_t index = (size_t)(s->next_row + k - b->base);
            memcpy(slot->pixels + index * s->in_bytes, pixels + (size_t)(i + k) * row_stride, s->in_bytes);
            if (s->rgb_alpha) memcpy(slot->alpha + index * s->width, alpha + (size_t)(i + k) * alpha_stride, s->width);
        }
        s->next_row += n;
        i += n;
        if (s->next_row == b->y1) {
            // The band is complete: deflate it, here or on a worker.
            if (s->worker_count) {
                pthread_mutex_lock(&s->lock);
                slot->state = SLOT_QUEUED;
                s->part++;
                pthread_cond_broadcast(&s->changed);
                stream_collect(s);
                pthread_mutex_unlock(&s->lock);
            } else {
                band_deflate(b);
                slot->state = SLOT_DONE;
                s->part++;
                stream_emit(s, slot);
            }
        }
    }
    return s->status;
}

int cpng_stream_finish(cpng_stream *s) {
    if (s->status != CPNG_OK) return s->status;
    if (s->next_row != s->height) return CPNG_INVALID_ARGUMENT;
    if (s->worker_count) {
        pthread_mutex_lock(&s->lock);
        while (s->emitted < s->parts && s->status == CPNG_OK) {
            stream_slot *slot = slot_of(s, s->emitted);
            if (slot->state == SLOT_DONE) stream_emit(s, slot); else pthread_cond_wait(&s->changed, &s->lock);
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (s->status != CPNG_OK) return s->status;
    uint8_t pending[2 + 4];
    size_t npending = 0;
    if (!s->wrote_zlib_header) { pending[0] = 0x78; pending[1] = 0x01; npending = 2; }
    put32(pending + npending, (uint32_t)s->adler);
    write_chunk(&s->out, "IDAT", pending, npending + 4, NULL, 0);
    write_chunk(&s->out, "IEND", NULL, 0, NULL, 0);
    if (s->out.failed) stream_fail(s, CPNG_NO_MEMORY);
    return s->status;
}

const uint8_t *cpng_stream_output(cpng_stream *s, size_t *size) {
    // Take what the workers have finished meanwhile, in order.
    if (s->worker_count) {
        pthread_mutex_lock(&s->lock);
        stream_collect(s);
        pthread_mutex_unlock(&s->lock);
    }
    *size = s->out.size;
    return s->out.data;
}

void cpng_stream_consume(cpng_stream *s) { s->out.size = 0; }

void cpng_stream_destroy(cpng_stream *s) {
    if (s == NULL) return;
    if (s->worker_count) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < s->worker_count; i++) pthread_join(s->workers[i], NULL);
    }
    free(s->workers);
    if (s->slots) {
        for (size_t i = 0; i < s->slot_count; i++) {
            free(s->slots[i].pixels);
            free(s->slots[i].alpha);
            free(s->slots[i].job.out);
        }
        free(s->slots);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    free(s->out.data);
    free(s);
}
