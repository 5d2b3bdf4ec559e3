// CJPEG: a thin shim over libjpeg(-turbo) that owns setjmp/longjmp error handling.
//
// libjpeg's default error handler calls exit(); ours records the message and longjmps
// to a setjmp point inside the shim function that made the libjpeg call, so Swift
// frames are never unwound. Functions return a CJPEG_STATUS code. Not public API.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every shim function.
enum {
    CJPEG_OK = 0,
    /// The data is damaged or invalid (libjpeg's message says how).
    CJPEG_CORRUPT = 1,
    /// The data ended before the image did.
    CJPEG_TRUNCATED = 2,
    /// Memory could not be allocated.
    CJPEG_NO_MEMORY = 3,
    /// The data does not start with a JPEG SOI marker.
    CJPEG_NOT_JPEG = 4,
    /// The file uses a feature this shim does not decode (e.g. an unknown colour space).
    CJPEG_UNSUPPORTED = 5,
    /// The caller passed an invalid argument.
    CJPEG_INVALID_ARGUMENT = 6,
};

/// The colour model of the JPEG file's components.
enum {
    CJPEG_SPACE_GRAY = 1,
    CJPEG_SPACE_RGB = 2,    ///< YCbCr or RGB: decoded to RGB
    CJPEG_SPACE_CMYK = 3,   ///< CMYK or YCCK: decoded to RGB by the shim
};

/// Frees a buffer returned by cjpeg_encode.
void cjpeg_free(void *buffer);

/// An in-progress decode of one JPEG held in memory. Opaque.
typedef struct cjpeg_decoder cjpeg_decoder;

typedef struct cjpeg_header {
    /// Full-size dimensions from the SOF marker.
    uint32_t width;
    uint32_t height;
    /// Number of components in the file (1, 3 or 4).
    int components;
    /// CJPEG_SPACE_*.
    int color_space;
    /// Non-zero for progressive (or other multi-scan) files.
    int progressive;
    /// Non-zero if an Adobe APP14 marker was present (CMYK samples stored inverted).
    int adobe;
    /// Output size after scaling; set by cjpeg_decoder_start.
    uint32_t output_width;
    uint32_t output_height;
    /// Channels per output pixel: 1 (gray) or 3 (RGB); set by cjpeg_decoder_start.
    int output_channels;
} cjpeg_header;

/// Creates a decoder over `size` bytes at `data`, which must stay valid and unchanged until
/// cjpeg_decoder_destroy, and reads the header (markers up to the first SOS). APP1
/// markers are kept so cjpeg_decoder_exif can return EXIF data. Returns NULL only if
/// memory is exhausted; otherwise check cjpeg_decoder_status.
///
/// `max_scans` (0 means CJPEG_DEFAULT_MAX_SCANS) bounds the number of scans a progressive
/// file may have: libjpeg would otherwise spend unbounded time on a small hostile file
/// made of thousands of tiny scans. Exceeding it is reported as CJPEG_CORRUPT.
cjpeg_decoder *cjpeg_decoder_create(const uint8_t *data, size_t size, int max_scans);

/// cjpeg_decoder_create reading from `file` (positioned at its start; not closed, and it
/// must stay open until cjpeg_decoder_destroy) instead of memory: libjpeg reads it in
/// small buffers as it decodes, so the whole file is never held.
cjpeg_decoder *cjpeg_decoder_create_file(FILE *file, int max_scans);

/// Ordinary progressive files have about 10 scans; libjpeg-turbo's TurboJPEG API suggests 500.
#define CJPEG_DEFAULT_MAX_SCANS 500

int cjpeg_decoder_status(const cjpeg_decoder *decoder);
const char *cjpeg_decoder_message(const cjpeg_decoder *decoder);
cjpeg_header cjpeg_decoder_header(const cjpeg_decoder *decoder);

/// The payload of the first APP1 marker that starts with "Exif\0\0" (including that
/// prefix), or NULL. Owned by the decoder and valid until cjpeg_decoder_destroy (a copy:
/// libjpeg's own marker memory is freed when decoding finishes).
const uint8_t *cjpeg_decoder_exif(const cjpeg_decoder *decoder, size_t *size);

/// The payload of the `index`-th (from 0) APP2 marker, or NULL past the last one. ICC
/// profiles travel in APP2 markers that start with "ICC_PROFILE\0"; reassembling them is
/// the caller's job. Owned by the decoder and valid until cjpeg_decoder_destroy.
const uint8_t *cjpeg_decoder_app2(const cjpeg_decoder *decoder, int index, size_t *size);

/// Sets the DCT scale to `scale_num`/8 (1…8), starts decompression and fills in the
/// output size. Gray files decode to 1 channel, everything else to 3 (RGB).
int cjpeg_decoder_start(cjpeg_decoder *decoder, int scale_num);

/// The output size for scale `scale_num`/8 without starting (libjpeg's own rounding).
int cjpeg_decoder_scaled_size(cjpeg_decoder *decoder, int scale_num, uint32_t *width, uint32_t *height);

/// Decodes every row into `pixels` (8-bit, output_channels per pixel), rows `row_stride`
/// bytes apart, and reads to the end of the data. Call once, after cjpeg_decoder_start.
int cjpeg_decoder_read(cjpeg_decoder *decoder, uint8_t *pixels, size_t row_stride);

/// Decodes the next `count` rows into `pixels` (rows `row_stride` bytes apart); after the
/// last row, reads to the end of the data as cjpeg_decoder_read does. Call after
/// cjpeg_decoder_start, instead of (or before the rest of) cjpeg_decoder_read.
int cjpeg_decoder_read_rows(cjpeg_decoder *decoder, uint8_t *pixels, size_t row_stride, uint32_t count);

/// Frees the decoder and everything libjpeg allocated. NULL is ignored.
void cjpeg_decoder_destroy(cjpeg_decoder *decoder);

/// Encodes 8-bit pixels as a baseline JPEG in memory.
///
/// `channels` is 1 (gray), 3 (RGB) or 4 (CMYK, for tests; written with an Adobe marker,
/// samples as given). `ycck` non-zero stores 4-channel input as YCCK. `quality` is 1–100;
/// chroma is subsampled 2×2 (4:2:0, libjpeg's default) unless `full_chroma` is non-zero.
/// On success `*out` is a malloc'd buffer of `*out_size` bytes for the caller to free();
/// on failure nothing is allocated and `message` holds the reason.
int cjpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                 int channels, int ycck, int quality, int full_chroma, int progressive,
                 uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// A JPEG encoded a few rows at a time: the same bytes as cjpeg_encode (gray or RGB,
/// baseline, 4:2:0, not progressive) of the whole picture, with only libjpeg's band of MCU
/// rows and the output not yet taken held. Opaque.
typedef struct cjpeg_stream cjpeg_stream;

/// Starts a `width` × `height` JPEG of `channels` (1 or 3) at `quality` (1–100). SOI and
/// the JFIF APP0 marker are the first output (markers may be inserted after them). NULL for
/// invalid arguments or no memory; otherwise check cjpeg_stream_status.
cjpeg_stream *cjpeg_stream_create(uint32_t width, uint32_t height, int channels, int quality);

/// The status of the last call; failures are sticky.
int cjpeg_stream_status(const cjpeg_stream *stream);

/// libjpeg's message for the failure ("" if none). Owned by the stream.
const char *cjpeg_stream_message(const cjpeg_stream *stream);

/// Encodes the next `count` rows, `row_stride` bytes apart. Output accumulates for
/// cjpeg_stream_output.
int cjpeg_stream_write_rows(cjpeg_stream *stream, const uint8_t *pixels, size_t row_stride, uint32_t count);

/// After the last row: the rest of the file (to EOI), as output.
int cjpeg_stream_finish(cjpeg_stream *stream);

/// The bytes not yet consumed; owned by the stream, valid until the next call.
const uint8_t *cjpeg_stream_output(const cjpeg_stream *stream, size_t *size);

/// Forgets the output returned by cjpeg_stream_output (the caller has written it).
void cjpeg_stream_consume(cjpeg_stream *stream);

/// Frees the stream. NULL is ignored.
void cjpeg_stream_destroy(cjpeg_stream *stream);

#ifdef __cplusplus
}
#endif
