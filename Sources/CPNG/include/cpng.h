// CPNG: a thin shim over libpng that owns setjmp/longjmp error handling.
//
// libpng reports errors by longjmp; Swift frames must never be jumped over, so every
// libpng call happens inside one of these functions, each of which sets its own
// setjmp point. Functions return a CPNG_STATUS code; on failure the decoder (or the
// caller's message buffer) holds libpng's message. Not public API of MattingKit.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every shim function.
enum {
    CPNG_OK = 0,
    /// The data is damaged or invalid (libpng's message says how).
    CPNG_CORRUPT = 1,
    /// The data ended before the image did.
    CPNG_TRUNCATED = 2,
    /// Memory could not be allocated.
    CPNG_NO_MEMORY = 3,
    /// The bytes do not start with the PNG signature.
    CPNG_NOT_PNG = 4,
    /// A dimension exceeds the limit given to cpng_decoder_create.
    CPNG_TOO_LARGE = 5,
    /// The caller passed an invalid argument.
    CPNG_INVALID_ARGUMENT = 6,
};

/// Filter masks for cpng_encode (the same values as libpng's PNG_FILTER_*).
enum {
    CPNG_FILTER_NONE = 0x08,
    CPNG_FILTER_SUB = 0x10,
    CPNG_FILTER_UP = 0x20,
    CPNG_FILTER_AVG = 0x40,
    CPNG_FILTER_PAETH = 0x80,
    CPNG_FILTER_ALL = 0xF8,
};

/// Frees a buffer returned by cpng_encode.
void cpng_free(void *buffer);

/// An in-progress decode of one PNG held in memory. Opaque.
typedef struct cpng_decoder cpng_decoder;

/// What the header says and what cpng_decoder_read will deliver.
typedef struct cpng_header {
    uint32_t width;
    uint32_t height;
    /// Bit depth of the file's samples: 1, 2, 4, 8 or 16.
    int bit_depth;
    /// libpng colour type of the file (PNG_COLOR_TYPE_*).
    int color_type;
    /// Non-zero for Adam7 interlaced files.
    int interlaced;
    /// Non-zero if the file has a tRNS chunk.
    int has_trns;
    /// Channels per output pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA); set by start.
    int channels;
    /// Bits per output sample: 8, or 16 (host byte order) when 16-bit output was asked
    /// for and the file is 16-bit; set by start.
    int output_bit_depth;
} cpng_header;

/// Creates a decoder over `size` bytes at `data`, which must stay valid and unchanged
/// until cpng_decoder_destroy. Reads the signature and every chunk up to the first IDAT.
/// Widths or heights above `max_dimension` fail with CPNG_TOO_LARGE before any pixel
/// memory is allocated (libpng's user limits). Returns NULL only if memory is exhausted;
/// otherwise check cpng_decoder_status.
cpng_decoder *cpng_decoder_create(const uint8_t *data, size_t size, uint32_t max_dimension);

/// cpng_decoder_create reading from `file` (positioned at its start; not closed, and it
/// must stay open until cpng_decoder_destroy) instead of memory: the bytes are read as
/// libpng asks for them, so the whole file is never held.
cpng_decoder *cpng_decoder_create_file(FILE *file, uint32_t max_dimension);

/// The status of the last operation on `decoder`.
int cpng_decoder_status(const cpng_decoder *decoder);

/// libpng's message for the last failure ("" if none). Owned by the decoder.
const char *cpng_decoder_message(const cpng_decoder *decoder);

/// The header as read by cpng_decoder_create (and completed by cpng_decoder_start).
cpng_header cpng_decoder_header(const cpng_decoder *decoder);

/// The TIFF data of an eXIf chunk that precedes IDAT (no "Exif\0\0" prefix), or NULL.
/// Owned by the decoder.
const uint8_t *cpng_decoder_exif(const cpng_decoder *decoder, size_t *size);

/// The ICC profile of an iCCP chunk before IDAT, inflated, or NULL if there is none or
/// libpng rejected it (then cpng_decoder_icc_warning says why). Owned by the decoder.
/// libpng checks the profile's length, header and tag table and that its colour space
/// suits the colour type; it never allocates more than the 16 MB ancillary-chunk limit.
const uint8_t *cpng_decoder_icc(const cpng_decoder *decoder, size_t *size);

/// libpng's warning about an iCCP chunk it ignored ("iCCP: ..."), or NULL if none.
const char *cpng_decoder_icc_warning(const cpng_decoder *decoder);

/// The complete iCCP chunk (length, "iCCP", profile name "ICC Profile", compression 0, the
/// zlib-deflated `profile`, CRC) for inserting after IHDR. On success `*out` is a malloc'd
/// buffer of `*out_size` bytes for the caller to free with cpng_free.
int cpng_make_iccp_chunk(const uint8_t *profile, size_t size, uint8_t **out, size_t *out_size);

/// Sets up transformations: palette to RGB(A), tRNS to alpha, low bit depths to 8 bits,
/// interlace handling. With `keep_16_bit` zero, 16-bit samples are scaled to 8 bits with
/// rounding (libpng's png_set_scale_16, v·255/65535 rounded), otherwise they are kept in
/// host byte order. No gamma or colour-space conversion is ever applied.
int cpng_decoder_start(cpng_decoder *decoder, int keep_16_bit);

/// cpng_decoder_start without interlace handling: the rows cpng_decoder_read_rows delivers
/// of an Adam7 file are then its seven passes' reduced pictures as stored, pass after pass,
/// each top to bottom (PNG_PASS_ROWS(height, p) rows of PNG_PASS_COLS(width, p) pixels; a
/// pass with no column or no row is skipped), with the same transformations, so each pixel
/// has the bytes cpng_decoder_read gives it. Nothing changes for a file that is not interlaced.
int cpng_decoder_start_passes(cpng_decoder *decoder, int keep_16_bit);

/// Decodes every row into `pixels`, rows `row_stride` bytes apart (at least
/// width × channels × output_bit_depth / 8). Call once, after cpng_decoder_start.
int cpng_decoder_read(cpng_decoder *decoder, void *pixels, size_t row_stride);

/// Decodes the next `count` rows into `pixels`, rows `row_stride` bytes apart; after the
/// last row, reads to IEND as cpng_decoder_read does. `pixels` NULL decodes the rows and
/// drops them. Call after cpng_decoder_start (not interlaced files: the rows are the same
/// bytes cpng_decoder_read writes) or cpng_decoder_start_passes (interlaced files too: the
/// passes' rows as stored; `row_stride` must still hold a full-width row, which libpng
/// writes whole, only the pass's first PNG_PASS_COLS pixels meaningful), instead of
/// cpng_decoder_read.
int cpng_decoder_read_rows(cpng_decoder *decoder, void *pixels, size_t row_stride, uint32_t count);

/// Frees the decoder and everything libpng allocated. NULL is ignored.
void cpng_decoder_destroy(cpng_decoder *decoder);

/// Encodes 8-bit pixels (`channels` 1–4: gray, gray+alpha, RGB, RGBA) as a PNG in memory.
///
/// `compression_level` is zlib's 0–9; `filters` is a PNG_FILTER_* mask (0 means libpng's
/// default choice). On success `*out` is a malloc'd buffer of `*out_size` bytes for the
/// caller to free(); on failure nothing is allocated and `message` (of `message_size`
/// bytes) holds the reason.
int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                int channels, int compression_level, int filters,
                uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// Encodes like cpng_encode with the "Up" filter on every row, deflating horizontal bands
/// on up to `threads` threads. The bands (about 4 MB of pixels each and at least 64 rows,
/// fewer rows only when 64 rows are over 4 MB; one for small pictures) depend on the picture only, so the bytes are the same
/// for any `threads`. They differ from cpng_encode's (band boundaries restart deflate's
/// matching), the decoded pixels do not. No libpng involved; same ownership and errors.
int cpng_encode_threaded(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                         int channels, int compression_level, int threads,
                         uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// cpng_encode_threaded of the RGBA picture whose colours are the RGB rows `rgb` and whose
/// alpha is the single-channel rows `alpha` (strides in bytes), interleaved row by row as
/// the bands are deflated: the same bytes as interleaving first, without the RGBA copy.
int cpng_encode_threaded_rgb_alpha(const uint8_t *rgb, size_t rgb_stride, const uint8_t *alpha, size_t alpha_stride,
                                   uint32_t width, uint32_t height, int compression_level, int threads,
                                   uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// A PNG written row band by row band: the same bytes as cpng_encode_threaded (or
/// cpng_encode_threaded_rgb_alpha) of the whole picture. Each band (about 4 MB of pixels) is
/// copied as its rows come and deflated on one of the stream's own threads while later rows
/// are made; at most `threads` + 2 bands and the output not yet taken are held. Opaque.
typedef struct cpng_stream cpng_stream;

/// Starts a `width` × `height` PNG of `channels` (1–4) 8-bit samples; `rgb_alpha` non-zero
/// (with channels 4) takes RGB rows and alpha rows separately. The signature and IHDR are
/// the first output. `threads` > 1 starts that many threads (at most 16) that deflate
/// finished bands; 1 deflates each band on the caller's thread as it is finished. The bytes
/// do not depend on it. NULL for invalid arguments or no memory.
cpng_stream *cpng_stream_create(uint32_t width, uint32_t height, int channels, int rgb_alpha, int compression_level,
                                int threads);

/// Adds the next `count` rows (`alpha` only for rgb_alpha streams); the rows are copied.
/// Blocks while every band the stream holds is still being deflated. Compressed output
/// accumulates for cpng_stream_output. A failure is sticky.
int cpng_stream_write_rows(cpng_stream *stream, const uint8_t *pixels, size_t row_stride,
                           const uint8_t *alpha, size_t alpha_stride, uint32_t count);

/// After the last row: waits for the last bands, then the final IDAT (Adler-32) and IEND, as output.
int cpng_stream_finish(cpng_stream *stream);

/// The finished bytes not yet consumed (bands deflated meanwhile included, in order); owned
/// by the stream, valid until the next call.
const uint8_t *cpng_stream_output(cpng_stream *stream, size_t *size);

/// Forgets the output returned by cpng_stream_output (the caller has written it).
void cpng_stream_consume(cpng_stream *stream);

/// Frees the stream. NULL is ignored.
void cpng_stream_destroy(cpng_stream *stream);

#ifdef __cplusplus
}
#endif
