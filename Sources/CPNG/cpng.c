// CPNG: libpng behind functions that never longjmp into their callers.
//
// Every entry point below sets a setjmp point with png_jmpbuf before its first libpng
// call; our error handler records libpng's message and longjmps back there, so only C
// frames of this file and libpng are ever unwound. State that must survive a longjmp
// lives in the heap-allocated decoder, never in (non-volatile) locals.
#include "cpng.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CPNG_MESSAGE_SIZE 200

struct cpng_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t position;
    /// The file read from instead of `data` (cpng_decoder_create_file); not owned.
    FILE *file;
    /// Rows delivered so far by cpng_decoder_read_rows.
    uint32_t rows_read;
    /// Rows cpng_decoder_read_rows delivers in all: the height, or for an interlaced file
    /// started with cpng_decoder_start_passes the sum of its passes' heights.
    uint32_t stored_rows;
    /// Started by cpng_decoder_start_passes: an interlaced file's passes come as they are stored.
    int passes;
    int status;
    /// Set by the read callback when it runs out of data, so that the resulting
    /// libpng error is reported as truncation rather than corruption.
    int ran_out;
    /// Set when IHDR broke our per-side limit (libpng warns, then fails "Invalid IHDR data").
    int over_limit;
    int started;
    cpng_header header;
    const uint8_t *exif;
    size_t exif_size;
    const uint8_t *icc;
    size_t icc_size;
    char message[CPNG_MESSAGE_SIZE];
    /// The first warning about an iCCP chunk, if libpng dropped one.
    char icc_warning[CPNG_MESSAGE_SIZE];
};

static void copy_message(char *buffer, size_t size, const char *text) {
    if (size == 0) return;
    strncpy(buffer, text ? text : "", size - 1);
    buffer[size - 1] = 0;
}

// MARK: Decoding

static void decoder_error(png_structp png, png_const_charp text) {
    cpng_decoder *decoder = (cpng_decoder *)png_get_error_ptr(png);
    if (decoder != NULL) copy_message(decoder->message, sizeof decoder->message, text);
    png_longjmp(png, 1);
}

static void decoder_warning(png_structp png, png_const_charp text) {
    // Warnings (bad ancillary chunks, unknown profiles) do not stop decoding and the
    // pixels stay exact; they are deliberately not reported. The one we need is IHDR's
    // complaint about our size limit, which precedes its "Invalid IHDR data" error.
    cpng_decoder *decoder = (cpng_decoder *)png_get_error_ptr(png);
    if (decoder != NULL && text != NULL && strstr(text, "exceeds user limit") != NULL) decoder->over_limit = 1;
    // A dropped colour profile is reported to the caller (as a decoding warning).
    if (decoder != NULL && text != NULL && strncmp(text, "iCCP", 4) == 0 && decoder->icc_warning[0] == 0)
        copy_message(decoder->icc_warning, sizeof decoder->icc_warning, text);
}

static void decoder_read(png_structp png, png_bytep out, size_t count) {
    cpng_decoder *decoder = (cpng_decoder *)png_get_io_ptr(png);
    if (decoder->file != NULL) {
        if (fread(out, 1, count, decoder->file) != count) {
            if (ferror(decoder->file)) png_error(png, "cannot read the file");
            decoder->ran_out = 1;
            png_error(png, "the data ends before the image does");
        }
        return;
    }
    if (count > decoder->size - decoder->position) {
        decoder->ran_out = 1;
        png_error(png, "the data ends before the image does");
    }
    memcpy(out, decoder->data + decoder->position, count);
    decoder->position += count;
}

/// The status for a libpng error that just longjmp'd back to us.
static int failure_status(cpng_decoder *decoder) {
    if (decoder->ran_out) return CPNG_TRUNCATED;
    if (decoder->over_limit || strstr(decoder->message, "exceeds user limit") != NULL) return CPNG_TOO_LARGE;
    if (strstr(decoder->message, "Out of memory") != NULL
        || strstr(decoder->message, "out of memory") != NULL) return CPNG_NO_MEMORY;
    return CPNG_CORRUPT;
}

static cpng_decoder *read_header(cpng_decoder *decoder, uint32_t max_dimension);

/// Fails `decoder` unless the `size` bytes at `data` are the PNG signature; 1 if they are.
static int check_signature(cpng_decoder *decoder, const uint8_t *data, size_t size) {
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        decoder->status = size < 8 && size > 0 && png_sig_cmp((png_const_bytep)data, 0, size) == 0
            ? CPNG_TRUNCATED : CPNG_NOT_PNG;
        copy_message(decoder->message, sizeof decoder->message,
                     decoder->status == CPNG_TRUNCATED ? "the data ends inside the PNG signature"
                                                       : "not a PNG signature");
        return 0;
    }
    return 1;
}

cpng_decoder *cpng_decoder_create(const uint8_t *data, size_t size, uint32_t max_dimension) {
    cpng_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->data = data;
    decoder->size = size;
    if (!check_signature(decoder, data, size)) return decoder;
    return read_header(decoder, max_dimension);
}

cpng_decoder *cpng_decoder_create_file(FILE *file, uint32_t max_dimension) {
    cpng_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    uint8_t signature[8];
    const size_t got = fread(signature, 1, sizeof signature, file);
    if (!check_signature(decoder, signature, got)) return decoder;
    // libpng reads the signature itself, as from memory.
    if (fseek(file, 0, SEEK_SET) != 0) {
        decoder->status = CPNG_CORRUPT;
        copy_message(decoder->message, sizeof decoder->message, "cannot rewind the file");
        return decoder;
    }
    decoder->file = file;
    return read_header(decoder, max_dimension);
}

static cpng_decoder *read_header(cpng_decoder *decoder, uint32_t max_dimension) {
    decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, decoder, decoder_error, decoder_warning);
    if (decoder->png == NULL) {
        decoder->status = CPNG_NO_MEMORY;
        copy_message(decoder->message, sizeof decoder->message, "cannot create the libpng reader");
        return decoder;
    }
    decoder->info = png_create_info_struct(decoder->png);
    if (decoder->info == NULL) {
        decoder->status = CPNG_NO_MEMORY;
        copy_message(decoder->message, sizeof decoder->message, "cannot create the libpng info");
        return decoder;
    }
    if (setjmp(png_jmpbuf(decoder->png))) {
        decoder->status = failure_status(decoder);
        return decoder;
    }
    png_set_read_fn(decoder->png, decoder, decoder_read);
    // Fail in IHDR, before any row memory exists, when a side alone is over the limit.
    uint32_t limit = max_dimension == 0 || max_dimension > PNG_UINT_31_MAX ? PNG_UINT_31_MAX : max_dimension;
    png_set_user_limits(decoder->png, limit, limit);
    // Ancillary chunks (iCCP, text, ...) may not make libpng allocate more than 16 MB each.
    png_set_chunk_malloc_max(decoder->png, 16u << 20);
    // Do not compare an embedded ICC profile with sRGB: we never convert colours anyway.
    png_set_option(decoder->png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    png_read_info(decoder->png, decoder->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(decoder->png, decoder->info, &width, &height, &bit_depth, &color_type,
                 &interlace, NULL, NULL);
    decoder->header.width = width;
    decoder->header.height = height;
    decoder->header.bit_depth = bit_depth;
    decoder->header.color_type = color_type;
    decoder->header.interlaced = interlace != PNG_INTERLACE_NONE;
    decoder->header.has_trns = png_get_valid(decoder->png, decoder->info, PNG_INFO_tRNS) != 0;
    png_uint_32 exif_size = 0;
    png_bytep exif = NULL;
    if (png_get_eXIf_1(decoder->png, decoder->info, &exif_size, &exif) != 0 && exif != NULL) {
        decoder->exif = exif;
        decoder->exif_size = exif_size;
    }
    png_charp icc_name = NULL;
    int icc_compression = 0;
    png_bytep icc = NULL;
    png_uint_32 icc_size = 0;
    if (png_get_iCCP(decoder->png, decoder->info, &icc_name, &icc_compression, &icc, &icc_size) != 0 && icc != NULL) {
        decoder->icc = icc;
        decoder->icc_size = icc_size;
    }
    decoder->status = CPNG_OK;
    return decoder;
}

int cpng_decoder_status(const cpng_decoder *decoder) { return decoder->status; }

const char *cpng_decoder_message(const cpng_decoder *decoder) { return decoder->message; }

cpng_header cpng_decoder_header(const cpng_decoder *decoder) { return decoder->header; }

const uint8_t *cpng_decoder_exif(const cpng_decoder *decoder, size_t *size) {
    *size = decoder->exif_size;
    return decoder->exif;
}

const uint8_t *cpng_decoder_icc(const cpng_decoder *decoder, size_t *size) {
    *size = decoder->icc_size;
    return decoder->icc;
}

const char *cpng_decoder_icc_warning(const cpng_decoder *decoder) {
    return decoder->icc_warning[0] ? decoder->icc_warning : NULL;
}

static int start(cpng_decoder *decoder, int keep_16_bit, int combine_passes) {
    if (decoder->status != CPNG_OK) return decoder->status;
    if (decoder->started) {
        decoder->status = CPNG_INVALID_ARGUMENT;
        copy_message(decoder->message, sizeof decoder->message, "cpng_decoder_start called twice");
        return decoder->status;
    }
    if (setjmp(png_jmpbuf(decoder->png))) {
        decoder->status = failure_status(decoder);
        return decoder->status;
    }
    png_structp png = decoder->png;
    int color_type = decoder->header.color_type;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && decoder->header.bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (decoder->header.has_trns) png_set_tRNS_to_alpha(png);
    if (decoder->header.bit_depth == 16) {
        if (keep_16_bit) {
            // PNG stores big-endian samples; hand them over in host order.
            const uint16_t probe = 1;
            if (*(const uint8_t *)&probe == 1) png_set_swap(png);
        } else {
            png_set_scale_16(png);  // rounded, not truncated (png_set_strip_16)
        }
    }
    // Without interlace handling, png_read_row hands out an interlaced file's passes as
    // stored: each pass's reduced rows in turn, empty passes skipped.
    if (combine_passes) png_set_interlace_handling(png);
    png_read_update_info(png, decoder->info);
    decoder->header.channels = png_get_channels(png, decoder->info);
    decoder->header.output_bit_depth = png_get_bit_depth(png, decoder->info);
    decoder->stored_rows = decoder->header.height;
    if (decoder->header.interlaced && !combine_passes) {
        uint32_t rows = 0;
        for (int pass = 0; pass < 7; pass++)
            if (PNG_PASS_COLS(decoder->header.width, pass) != 0) rows += PNG_PASS_ROWS(decoder->header.height, pass);
        decoder->stored_rows = rows;
        decoder->passes = 1;
    }
    decoder->started = 1;
    return CPNG_OK;
}

int cpng_decoder_start(cpng_decoder *decoder, int keep_16_bit) { return start(decoder, keep_16_bit, 1); }

int cpng_decoder_start_passes(cpng_decoder *decoder, int keep_16_bit) { return start(decoder, keep_16_bit, 0); }

int cpng_decoder_read(cpng_decoder *decoder, void *pixels, size_t row_stride) {
    if (decoder->status != CPNG_OK) return decoder->status;
    const size_t row_bytes = (size_t)decoder->header.width * (size_t)decoder->header.channels
                           * (size_t)(decoder->header.output_bit_depth / 8);
    if (!decoder->started || decoder->passes || pixels == NULL || row_stride < row_bytes) {
        decoder->status = CPNG_INVALID_ARGUMENT;
        copy_message(decoder->message, sizeof decoder->message, "cpng_decoder_read: bad call");
        return decoder->status;
    }
    // One pointer per row; allocated before setjmp so it is freed on every path.
    png_bytep *rows = malloc(sizeof(png_bytep) * (decoder->header.height ? decoder->header.height : 1));
    if (rows == NULL) {
        decoder->status = CPNG_NO_MEMORY;
        copy_message(decoder->message, sizeof decoder->message, "cannot allocate row pointers");
        return decoder->status;
    }
    for (uint32_t y = 0; y < decoder->header.height; y++)
        rows[y] = (png_bytep)pixels + (size_t)y * row_stride;
    png_bytep *volatile rows_to_free = rows;
    if (setjmp(png_jmpbuf(decoder->png))) {
        free(rows_to_free);
        decoder->status = failure_status(decoder);
        return decoder->status;
    }
    png_read_image(decoder->png, rows);
    // Reads the chunks after IDAT up to IEND, so a damaged end is noticed too.
    png_read_end(decoder->png, NULL);
    free(rows);
    return CPNG_OK;
}

int cpng_decoder_read_rows(cpng_decoder *decoder, void *pixels, size_t row_stride, uint32_t count) {
    if (decoder->status != CPNG_OK) return decoder->status;
    const size_t row_bytes = (size_t)decoder->header.width * (size_t)decoder->header.channels
                           * (size_t)(decoder->header.output_bit_depth / 8);
    if (!decoder->started || (decoder->header.interlaced && !decoder->passes) || row_stride < row_bytes
        || count > decoder->stored_rows - decoder->rows_read) {
        decoder->status = CPNG_INVALID_ARGUMENT;
        copy_message(decoder->message, sizeof decoder->message, "cpng_decoder_read_rows: bad call");
        return decoder->status;
    }
    if (setjmp(png_jmpbuf(decoder->png))) {
        decoder->status = failure_status(decoder);
        return decoder->status;
    }
    for (uint32_t i = 0; i < count; i++) {
        // A NULL row: libpng still inflates, unfilters and transforms it, and drops it.
        png_read_row(decoder->png, pixels == NULL ? NULL : (png_bytep)pixels + (size_t)i * row_stride, NULL);
        decoder->rows_read++;
    }
    // After the last row, the chunks after IDAT up to IEND, as cpng_decoder_read.
    if (count > 0 && decoder->rows_read == decoder->stored_rows) png_read_end(decoder->png, NULL);
    return CPNG_OK;
}

void cpng_decoder_destroy(cpng_decoder *decoder) {
    if (decoder == NULL) return;
    if (decoder->png != NULL) png_destroy_read_struct(&decoder->png, decoder->info ? &decoder->info : NULL, NULL);
    free(decoder);
}

// MARK: Encoding

void cpng_free(void *buffer) { free(buffer); }

int cpng_make_iccp_chunk(const uint8_t *profile, size_t size, uint8_t **out, size_t *out_size) {
    *out = NULL;
    *out_size = 0;
    static const char name[] = "ICC Profile";  // 11 characters, then NUL and method 0
    const size_t head = 4 + 4 + sizeof name + 1;
    if (profile == NULL || size == 0 || size > 0x7fffffffu / 2) return CPNG_INVALID_ARGUMENT;
    uLong bound = compressBound((uLong)size);
    uint8_t *chunk = malloc(head + bound + 4);
    if (chunk == NULL) return CPNG_NO_MEMORY;
    uLongf deflated = bound;
    if (compress2(chunk + head, &deflated, profile, (uLong)size, 9) != Z_OK) {
        free(chunk);
        return CPNG_NO_MEMORY;
    }
    const size_t length = sizeof name + 1 + deflated;
    chunk[0] = (uint8_t)(length >> 24); chunk[1] = (uint8_t)(length >> 16);
    chunk[2] = (uint8_t)(length >> 8); chunk[3] = (uint8_t)length;
    memcpy(chunk + 4, "iCCP", 4);
    memcpy(chunk + 8, name, sizeof name);  // includes the NUL separator
    chunk[8 + sizeof name] = 0;            // compression method: deflate
    uLong crc = crc32(0L, chunk + 4, (uInt)(4 + length));
    uint8_t *end = chunk + 8 + length;
    end[0] = (uint8_t)(crc >> 24); end[1] = (uint8_t)(crc >> 16); end[2] = (uint8_t)(crc >> 8); end[3] = (uint8_t)crc;
    *out = chunk;
    *out_size = 8 + length + 4;
    return CPNG_OK;
}

typedef struct encoder_state {
    uint8_t *buffer;
    size_t size;
    size_t capacity;
    char message[CPNG_MESSAGE_SIZE];
} encoder_state;

static void encoder_error(png_structp png, png_const_charp text) {
    encoder_state *state = (encoder_state *)png_get_error_ptr(png);
    copy_message(state->message, sizeof state->message, text);
    png_longjmp(png, 1);
}

static void encoder_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void encoder_write(png_structp png, png_bytep data, size_t count) {
    encoder_state *state = (encoder_state *)png_get_io_ptr(png);
    if (count > state->capacity - state->size) {
        size_t capacity = state->capacity ? state->capacity : 65536;
        while (count > capacity - state->size) {
            if (capacity > SIZE_MAX / 2) png_error(png, "output too large");
            capacity *= 2;
        }
        uint8_t *grown = realloc(state->buffer, capacity);
        if (grown == NULL) png_error(png, "out of memory growing the output");
        state->buffer = grown;
        state->capacity = capacity;
    }
    memcpy(state->buffer + state->size, data, count);
    state->size += count;
}

static void encoder_flush(png_structp png) { (void)png; }

int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                int channels, int compression_level, int filters,
                uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4 || width == 0 || height == 0 || width > PNG_UINT_31_MAX
        || height > PNG_UINT_31_MAX || compression_level < 0 || compression_level > 9
        || row_stride < (size_t)width * (size_t)channels) {
        copy_message(message, message_size, "invalid image or settings for PNG encoding");
        return CPNG_INVALID_ARGUMENT;
    }
    encoder_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        copy_message(message, message_size, "out of memory");
        return CPNG_NO_MEMORY;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, state, encoder_error, encoder_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        if (png) png_destroy_write_struct(&png, NULL);
        free(state);
        copy_message(message, message_size, "cannot create the libpng writer");
        return CPNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        copy_message(message, message_size, state->message);
        png_destroy_write_struct(&png, &info);
        free(state->buffer);
        free(state);
        return CPNG_CORRUPT;
    }
    png_set_write_fn(png, state, encoder_write, encoder_flush);
    png_set_IHDR(png, info, width, height, 8, color_types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, compression_level);
    if (filters != 0) png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = state->buffer;
    *out_size = state->size;
    free(state);
    return CPNG_OK;
}
