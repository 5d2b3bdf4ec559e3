// CJPEG: libjpeg behind functions that never exit() and never longjmp into their callers.
//
// Each entry point sets a setjmp point in the heap-allocated state before calling
// libjpeg; error_exit (and emit_message for warnings that mean damaged data) record
// the message and longjmp back there. All libjpeg memory comes from its pools and is
// released by jpeg_destroy_*, so an error path leaks nothing.
#include "cjpeg.h"

#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define CJPEG_MESSAGE_SIZE JMSG_LENGTH_MAX

typedef struct error_manager {
    struct jpeg_error_mgr base;  // must be first: libjpeg sees only this part
    jmp_buf jump;
    int status;
    char message[CJPEG_MESSAGE_SIZE];
} error_manager;

static void copy_message(char *buffer, size_t size, const char *text) {
    if (size == 0) return;
    strncpy(buffer, text ? text : "", size - 1);
    buffer[size - 1] = 0;
}

static void on_error_exit(j_common_ptr cinfo) {
    error_manager *errors = (error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, errors->message);
    int code = cinfo->err->msg_code;
    errors->status = code == JERR_OUT_OF_MEMORY ? CJPEG_NO_MEMORY
                   : code == JERR_INPUT_EMPTY || code == JERR_INPUT_EOF ? CJPEG_TRUNCATED
                   : code == JERR_CONVERSION_NOTIMPL || code == JERR_NOTIMPL
                          || code == JERR_NO_ARITH_TABLE ? CJPEG_UNSUPPORTED
                   : CJPEG_CORRUPT;
    longjmp(errors->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    // A warning. libjpeg recovers from damaged entropy data by filling in gray, which
    // would be silently partial output; we turn those into errors. Harmless warnings
    // (extra bytes between markers, unknown JFIF minor versions) are ignored.
    int code = cinfo->err->msg_code;
    int fatal = code == JWRN_JPEG_EOF || code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE
             || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC || code == JWRN_NOT_SEQUENTIAL
             || code == JWRN_BOGUS_PROGRESSION;
    if (!fatal) return;
    error_manager *errors = (error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, errors->message);
    errors->status = code == JWRN_JPEG_EOF ? CJPEG_TRUNCATED : CJPEG_CORRUPT;
    longjmp(errors->jump, 1);
}

static void install_errors(error_manager *errors) {
    jpeg_std_error(&errors->base);
    errors->base.error_exit = on_error_exit;
    errors->base.emit_message = on_emit_message;
    errors->status = CJPEG_OK;
    errors->message[0] = 0;
}

// MARK: Decoding

struct cjpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    error_manager errors;
    struct jpeg_progress_mgr progress;
    int max_scans;
    int created;
    int started;
    int status;
    cjpeg_header header;
    // Copies of the saved markers that callers ask for. libjpeg keeps its own in the image
    // pool, which jpeg_finish_decompress frees (and clears marker_list): pointers into it
    // would dangle once the pixels are read, so the decoder owns these until destroy.
    uint8_t *exif;
    size_t exif_size;
    uint8_t **app2;
    size_t *app2_sizes;
    int app2_count;
};

static uint8_t *copy_bytes(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (copy != NULL && size) memcpy(copy, data, size);
    return copy;
}

/// Copies the EXIF APP1 payload and every APP2 payload out of libjpeg's pool. 0 if out of memory.
static int keep_markers(cjpeg_decoder *decoder) {
    int app2 = 0;
    for (jpeg_saved_marker_ptr marker = decoder->cinfo.marker_list; marker != NULL; marker = marker->next)
        if (marker->marker == JPEG_APP0 + 2) app2++;
    if (app2 > 0) {
        decoder->app2 = calloc((size_t)app2, sizeof *decoder->app2);
        decoder->app2_sizes = calloc((size_t)app2, sizeof *decoder->app2_sizes);
        if (decoder->app2 == NULL || decoder->app2_sizes == NULL) return 0;
    }
    for (jpeg_saved_marker_ptr marker = decoder->cinfo.marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && decoder->exif == NULL && marker->data_length >= 6
            && memcmp(marker->data, "Exif\0\0", 6) == 0) {
            if ((decoder->exif = copy_bytes(marker->data, marker->data_length)) == NULL) return 0;
            decoder->exif_size = marker->data_length;
        } else if (marker->marker == JPEG_APP0 + 2) {
            uint8_t *copy = copy_bytes(marker->data, marker->data_length);
            if (copy == NULL) return 0;
            decoder->app2[decoder->app2_count] = copy;
            decoder->app2_sizes[decoder->app2_count++] = marker->data_length;
        }
    }
    return 1;
}

static int fail_decoder(cjpeg_decoder *decoder) {
    decoder->status = decoder->errors.status == CJPEG_OK ? CJPEG_CORRUPT : decoder->errors.status;
    return decoder->status;
}

/// Called by libjpeg between passes; stops files with too many scans.
static void on_progress(j_common_ptr common) {
    j_decompress_ptr cinfo = (j_decompress_ptr)common;
    cjpeg_decoder *decoder = (cjpeg_decoder *)cinfo->client_data;
    if (cinfo->input_scan_number > decoder->max_scans) {
        snprintf(decoder->errors.message, sizeof decoder->errors.message,
                 "too many scans (more than %d) in a progressive JPEG", decoder->max_scans);
        decoder->errors.status = CJPEG_CORRUPT;
        longjmp(decoder->errors.jump, 1);
    }
}

static cjpeg_decoder *read_header(cjpeg_decoder *decoder, int max_scans, const uint8_t *data, size_t size, FILE *file);

/// Fails `decoder` unless the `size` bytes at `data` start a JPEG; 1 if they do.
static int check_signature(cjpeg_decoder *decoder, const uint8_t *data, size_t size) {
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        decoder->status = size > 0 && size < 3 && data[0] == 0xFF && (size == 1 || data[1] == 0xD8)
            ? CJPEG_TRUNCATED : CJPEG_NOT_JPEG;
        copy_message(decoder->errors.message, sizeof decoder->errors.message,
                     decoder->status == CJPEG_TRUNCATED ? "the data ends inside the JPEG signature"
                                                        : "not a JPEG SOI marker");
        return 0;
    }
    return 1;
}

cjpeg_decoder *cjpeg_decoder_create(const uint8_t *data, size_t size, int max_scans) {
    cjpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    if (!check_signature(decoder, data, size)) return decoder;
    return read_header(decoder, max_scans, data, size, NULL);
}

cjpeg_decoder *cjpeg_decoder_create_file(FILE *file, int max_scans) {
    cjpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    uint8_t signature[3];
    const size_t got = fread(signature, 1, sizeof signature, file);
    if (!check_signature(decoder, signature, got)) return decoder;
    if (fseek(file, 0, SEEK_SET) != 0) {
        decoder->status = CJPEG_CORRUPT;
        copy_message(decoder->errors.message, sizeof decoder->errors.message, "cannot rewind the file");
        return decoder;
    }
    return read_header(decoder, max_scans, NULL, 0, file);
}

static cjpeg_decoder *read_header(cjpeg_decoder *decoder, int max_scans, const uint8_t *data, size_t size, FILE *file) {
    install_errors(&decoder->errors);
    decoder->cinfo.err = &decoder->errors.base;
    if (setjmp(decoder->errors.jump)) return (fail_decoder(decoder), decoder);
    jpeg_create_decompress(&decoder->cinfo);
    decoder->created = 1;
    decoder->max_scans = max_scans > 0 ? max_scans : CJPEG_DEFAULT_MAX_SCANS;
    decoder->cinfo.client_data = decoder;
    decoder->progress.progress_monitor = on_progress;
    decoder->cinfo.progress = &decoder->progress;
    if (file != NULL) jpeg_stdio_src(&decoder->cinfo, file);
    else jpeg_mem_src(&decoder->cinfo, data, (unsigned long)size);
    jpeg_save_markers(&decoder->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&decoder->cinfo, JPEG_APP0 + 2, 0xFFFF);  // ICC profile chunks
    jpeg_read_header(&decoder->cinfo, TRUE);

    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    decoder->header.width = cinfo->image_width;
    decoder->header.height = cinfo->image_height;
    decoder->header.components = cinfo->num_components;
    decoder->header.progressive = jpeg_has_multiple_scans(cinfo) ? 1 : 0;
    decoder->header.adobe = cinfo->saw_Adobe_marker ? 1 : 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: decoder->header.color_space = CJPEG_SPACE_GRAY; break;
    case JCS_YCbCr:
    case JCS_RGB: decoder->header.color_space = CJPEG_SPACE_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: decoder->header.color_space = CJPEG_SPACE_CMYK; break;
    default:
        decoder->status = CJPEG_UNSUPPORTED;
        copy_message(decoder->errors.message, sizeof decoder->errors.message,
                     "unsupported JPEG colour space");
        return decoder;
    }
    if (!keep_markers(decoder)) {
        decoder->status = CJPEG_NO_MEMORY;
        copy_message(decoder->errors.message, sizeof decoder->errors.message, "out of memory copying markers");
        return decoder;
    }
    decoder->status = CJPEG_OK;
    return decoder;
}

int cjpeg_decoder_status(const cjpeg_decoder *decoder) { return decoder->status; }

const char *cjpeg_decoder_message(const cjpeg_decoder *decoder) { return decoder->errors.message; }

cjpeg_header cjpeg_decoder_header(const cjpeg_decoder *decoder) { return decoder->header; }

const uint8_t *cjpeg_decoder_exif(const cjpeg_decoder *decoder, size_t *size) {
    *size = decoder->exif_size;
    return decoder->exif;
}

const uint8_t *cjpeg_decoder_app2(const cjpeg_decoder *decoder, int index, size_t *size) {
    *size = 0;
    if (index < 0 || index >= decoder->app2_count) return NULL;
    *size = decoder->app2_sizes[index];
    return decoder->app2[index];
}

static void configure_output(cjpeg_decoder *decoder, int scale_num) {
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    cinfo->scale_num = (unsigned)scale_num;
    cinfo->scale_denom = 8;
    switch (decoder->header.color_space) {
    case CJPEG_SPACE_GRAY: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case CJPEG_SPACE_RGB: cinfo->out_color_space = JCS_RGB; break;
    default: cinfo->out_color_space = JCS_CMYK; break;  // YCCK -> CMYK by libjpeg
    }
}

int cjpeg_decoder_scaled_size(cjpeg_decoder *decoder, int scale_num, uint32_t *width, uint32_t *height) {
    if (decoder->status != CJPEG_OK) return decoder->status;
    if (scale_num < 1 || scale_num > 8 || decoder->started) return CJPEG_INVALID_ARGUMENT;
    if (setjmp(decoder->errors.jump)) return fail_decoder(decoder);
    configure_output(decoder, scale_num);
    jpeg_calc_output_dimensions(&decoder->cinfo);
    *width = decoder->cinfo.output_width;
    *height = decoder->cinfo.output_height;
    return CJPEG_OK;
}

int cjpeg_decoder_start(cjpeg_decoder *decoder, int scale_num) {
    if (decoder->status != CJPEG_OK) return decoder->status;
    if (scale_num < 1 || scale_num > 8 || decoder->started) {
        decoder->status = CJPEG_INVALID_ARGUMENT;
        copy_message(decoder->errors.message, sizeof decoder->errors.message, "cjpeg_decoder_start: bad call");
        return decoder->status;
    }
    if (setjmp(decoder->errors.jump)) return fail_decoder(decoder);
    configure_output(decoder, scale_num);
    jpeg_start_decompress(&decoder->cinfo);
    decoder->started = 1;
    decoder->header.output_width = decoder->cinfo.output_width;
    decoder->header.output_height = decoder->cinfo.output_height;
    decoder->header.output_channels = decoder->header.color_space == CJPEG_SPACE_GRAY ? 1 : 3;
    return CJPEG_OK;
}

/// (a · b) / 255, rounded to nearest, for a, b in 0…255.
static inline uint8_t multiply255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

int cjpeg_decoder_read(cjpeg_decoder *decoder, uint8_t *pixels, size_t row_stride) {
    if (decoder->status != CJPEG_OK) return decoder->status;
    if (!decoder->started) {
        decoder->status = CJPEG_INVALID_ARGUMENT;
        copy_message(decoder->errors.message, sizeof decoder->errors.message, "cjpeg_decoder_read: bad call");
        return decoder->status;
    }
    return cjpeg_decoder_read_rows(decoder, pixels, row_stride,
                                   decoder->cinfo.output_height - decoder->cinfo.output_scanline);
}

int cjpeg_decoder_read_rows(cjpeg_decoder *decoder, uint8_t *pixels, size_t row_stride, uint32_t count) {
    if (decoder->status != CJPEG_OK) return decoder->status;
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    if (!decoder->started || (pixels == NULL && count > 0)
        || row_stride < (size_t)cinfo->output_width * (size_t)decoder->header.output_channels
        || count > cinfo->output_height - cinfo->output_scanline) {
        decoder->status = CJPEG_INVALID_ARGUMENT;
        copy_message(decoder->errors.message, sizeof decoder->errors.message, "cjpeg_decoder_read_rows: bad call");
        return decoder->status;
    }
    const JDIMENSION first = cinfo->output_scanline, end = first + count;
    if (setjmp(decoder->errors.jump)) return fail_decoder(decoder);
    const int cmyk = decoder->header.color_space == CJPEG_SPACE_CMYK;
    // Pool memory: freed by jpeg_destroy_decompress on every path.
    JSAMPARRAY scratch = cmyk
        ? (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, cinfo->output_width * 4, 1)
        : NULL;
    // Adobe (Photoshop) files store CMYK inverted: 0 means full ink. Plain CMYK files
    // store ink amounts. Either way R = (1 - C)(1 - K), G = (1 - M)(1 - K), B = (1 - Y)(1 - K).
    const int inverted = decoder->header.adobe;
    while (cinfo->output_scanline < end) {
        uint8_t *row = pixels + (size_t)(cinfo->output_scanline - first) * row_stride;
        if (!cmyk) {
            // Several rows per call: libjpeg then upsamples straight into our rows instead
            // of through its one-row spare buffer.
            JSAMPROW targets[16];
            JDIMENSION count = end - cinfo->output_scanline;
            if (count > 16) count = 16;
            for (JDIMENSION i = 0; i < count; i++) targets[i] = row + (size_t)i * row_stride;
            jpeg_read_scanlines(cinfo, targets, count);
            continue;
        }
        jpeg_read_scanlines(cinfo, scratch, 1);
        const uint8_t *s = scratch[0];
        for (JDIMENSION x = 0; x < cinfo->output_width; x++, s += 4, row += 3) {
            unsigned c = s[0], m = s[1], y = s[2], k = s[3];
            if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
            row[0] = multiply255(c, k);
            row[1] = multiply255(m, k);
            row[2] = multiply255(y, k);
        }
    }
    if (count > 0 && cinfo->output_scanline == cinfo->output_height) jpeg_finish_decompress(cinfo);
    return CJPEG_OK;
}

void cjpeg_decoder_destroy(cjpeg_decoder *decoder) {
    if (decoder == NULL) return;
    if (decoder->created) jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder->exif);
    for (int i = 0; i < decoder->app2_count; i++) free(decoder->app2[i]);
    free(decoder->app2);
    free(decoder->app2_sizes);
    free(decoder);
}

// MARK: Encoding

void cjpeg_free(void *buffer) { free(buffer); }

typedef struct encoder_state {
    struct jpeg_compress_struct cinfo;
    error_manager errors;
    unsigned char *buffer;
    unsigned long size;
} encoder_state;

int cjpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                 int channels, int ycck, int quality, int full_chroma, int progressive,
                 uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    if ((channels != 1 && channels != 3 && channels != 4) || width == 0 || height == 0
        || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION || quality < 1 || quality > 100
        || row_stride < (size_t)width * (size_t)channels) {
        copy_message(message, message_size, "invalid image or settings for JPEG encoding");
        return CJPEG_INVALID_ARGUMENT;
    }
    encoder_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        copy_message(message, message_size, "out of memory");
        return CJPEG_NO_MEMORY;
    }
    install_errors(&state->errors);
    state->cinfo.err = &state->errors.base;
    if (setjmp(state->errors.jump)) {
        copy_message(message, message_size, state->errors.message);
        int status = state->errors.status == CJPEG_OK ? CJPEG_CORRUPT : state->errors.status;
        jpeg_destroy_compress(&state->cinfo);
        free(state->buffer);  // jpeg_mem_dest's buffer is plain malloc memory
        free(state);
        return status;
    }
    jpeg_create_compress(&state->cinfo);
    struct jpeg_compress_struct *cinfo = &state->cinfo;
    jpeg_mem_dest(cinfo, &state->buffer, &state->size);
    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(cinfo);
    if (channels == 4) jpeg_set_colorspace(cinfo, ycck ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(cinfo, quality, TRUE);
    if (full_chroma) {
        for (int i = 0; i < cinfo->num_components; i++) {
            cinfo->comp_info[i].h_samp_factor = 1;
            cinfo->comp_info[i].v_samp_factor = 1;
        }
    }
    if (progressive) jpeg_simple_progression(cinfo);
    jpeg_start_compress(cinfo, TRUE);
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * row_stride);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    *out = state->buffer;
    *out_size = state->size;
    state->buffer = NULL;
    jpeg_destroy_compress(cinfo);
    free(state);
    return CJPEG_OK;
}

// MARK: Streaming encoding

// cjpeg_encode's settings (baseline, default Huffman tables, 4:2:0), with the rows given a
// few at a time and the compressed bytes handed out as libjpeg produces them: the same
// bytes, without the whole picture or the whole file held. Baseline JPEG with the standard
// tables needs no second pass, so libjpeg holds only a band of MCU rows.

struct cjpeg_stream {
    struct jpeg_compress_struct cinfo;
    struct jpeg_destination_mgr destination;
    error_manager errors;
    uint8_t chunk[65536];       // libjpeg's output buffer
    uint8_t *out;               // bytes finished and not yet taken
    size_t out_size, out_capacity;
    int out_failed;
    int status;
    char message[CJPEG_MESSAGE_SIZE];
};

static void stream_append(cjpeg_stream *s, const uint8_t *bytes, size_t count) {
    if (s->out_failed || count == 0) return;
    if (s->out_capacity - s->out_size < count) {
        size_t capacity = s->out_capacity ? s->out_capacity : 65536;
        while (capacity - s->out_size < count) capacity *= 2;
        uint8_t *grown = realloc(s->out, capacity);
        if (grown == NULL) { s->out_failed = 1; return; }
        s->out = grown;
        s->out_capacity = capacity;
    }
    memcpy(s->out + s->out_size, bytes, count);
    s->out_size += count;
}

static cjpeg_stream *stream_of(j_compress_ptr cinfo) {
    return (cjpeg_stream *)((char *)cinfo - offsetof(cjpeg_stream, cinfo));
}

static void stream_init_destination(j_compress_ptr cinfo) {
    cjpeg_stream *s = stream_of(cinfo);
    s->destination.next_output_byte = s->chunk;
    s->destination.free_in_buffer = sizeof s->chunk;
}

static boolean stream_empty_output_buffer(j_compress_ptr cinfo) {
    // libjpeg's contract: the whole buffer is full, whatever free_in_buffer says.
    cjpeg_stream *s = stream_of(cinfo);
    stream_append(s, s->chunk, sizeof s->chunk);
    if (s->out_failed) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
    s->destination.next_output_byte = s->chunk;
    s->destination.free_in_buffer = sizeof s->chunk;
    return TRUE;
}

static void stream_term_destination(j_compress_ptr cinfo) {
    cjpeg_stream *s = stream_of(cinfo);
    stream_append(s, s->chunk, sizeof s->chunk - s->destination.free_in_buffer);
    if (s->out_failed) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
}

cjpeg_stream *cjpeg_stream_create(uint32_t width, uint32_t height, int channels, int quality) {
    if ((channels != 1 && channels != 3) || width == 0 || height == 0 || width > JPEG_MAX_DIMENSION
        || height > JPEG_MAX_DIMENSION || quality < 1 || quality > 100) return NULL;
    cjpeg_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    install_errors(&s->errors);
    s->cinfo.err = &s->errors.base;
    if (setjmp(s->errors.jump)) {
        copy_message(s->message, sizeof s->message, s->errors.message);
        s->status = s->errors.status == CJPEG_OK ? CJPEG_CORRUPT : s->errors.status;
        return s;
    }
    jpeg_create_compress(&s->cinfo);
    struct jpeg_compress_struct *cinfo = &s->cinfo;
    s->destination.init_destination = stream_init_destination;
    s->destination.empty_output_buffer = stream_empty_output_buffer;
    s->destination.term_destination = stream_term_destination;
    cinfo->dest = &s->destination;
    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    // SOI and APP0 go out now (libjpeg writes frame headers with the first rows), so the
    // caller can put markers of its own after them, as JPEGCodec.inserting does.
    jpeg_start_compress(cinfo, TRUE);
    // libjpeg keeps what it wrote in `chunk` until the buffer fills: hand it out now.
    stream_append(s, s->chunk, sizeof s->chunk - s->destination.free_in_buffer);
    s->destination.next_output_byte = s->chunk;
    s->destination.free_in_buffer = sizeof s->chunk;
    if (s->out_failed) {
        copy_message(s->message, sizeof s->message, "out of memory");
        s->status = CJPEG_NO_MEMORY;
    }
    return s;
}

int cjpeg_stream_status(const cjpeg_stream *s) { return s->status; }

const char *cjpeg_stream_message(const cjpeg_stream *s) { return s->message; }

int cjpeg_stream_write_rows(cjpeg_stream *s, const uint8_t *pixels, size_t row_stride, uint32_t count) {
    if (s->status != CJPEG_OK) return s->status;
    struct jpeg_compress_struct *cinfo = &s->cinfo;
    if (count > cinfo->image_height - cinfo->next_scanline
        || row_stride < (size_t)cinfo->image_width * (size_t)cinfo->input_components) return CJPEG_INVALID_ARGUMENT;
    if (setjmp(s->errors.jump)) {
        copy_message(s->message, sizeof s->message, s->errors.message);
        s->status = s->errors.status == CJPEG_OK ? CJPEG_CORRUPT : s->errors.status;
        return s->status;
    }
    for (uint32_t i = 0; i < count; i++) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)i * row_stride);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    return CJPEG_OK;
}

int cjpeg_stream_finish(cjpeg_stream *s) {
    if (s->status != CJPEG_OK) return s->status;
    if (s->cinfo.next_scanline != s->cinfo.image_height) return CJPEG_INVALID_ARGUMENT;
    if (setjmp(s->errors.jump)) {
        copy_message(s->message, sizeof s->message, s->errors.message);
        s->status = s->errors.status == CJPEG_OK ? CJPEG_CORRUPT : s->errors.status;
        return s->status;
    }
    jpeg_finish_compress(&s->cinfo);
    return CJPEG_OK;
}

const uint8_t *cjpeg_stream_output(const cjpeg_stream *s, size_t *size) {
    *size = s->out_size;
    return s->out;
}

void cjpeg_stream_consume(cjpeg_stream *s) { s->out_size = 0; }

void cjpeg_stream_destroy(cjpeg_stream *s) {
    if (s == NULL) return;
    jpeg_destroy_compress(&s->cinfo);
    free(s->out);
    free(s);
}
