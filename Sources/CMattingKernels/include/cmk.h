// CMattingKernels: per-ISA float32 microkernels and CPU feature detection for MattingEngine.
// Not public API. Names follow one grammar: mk_<dtype>_<op>_ukernel_<tile>__<isa>.
// Every microkernel is listed once in mk_ukernels.def (an X-macro file) which drives the
// Swift dispatch tables and the tests.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cmk_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------
// CPU features

/// Instruction-set paths a kernel can take.
typedef enum mk_isa {
    MK_ISA_PORTABLE = 0,  ///< plain C / generic 128-bit vectors: SSE2 on x86_64, NEON on arm64
    MK_ISA_AVX2_FMA = 1,  ///< x86_64 AVX2 + FMA3 (Haswell, Zen and later)
    MK_ISA_AVX512F = 2,   ///< x86_64 AVX-512F (Skylake-SP, Ice Lake, Zen 4 and later)
} mk_isa;

/// 1 if the running CPU (and OS) supports AVX2 and FMA3, else 0.
int mk_cpu_supports_avx2_fma(void);

/// 1 if the running CPU supports AVX-512F and the OS saves its state (XCR0 opmask, ZMM0–15
/// upper halves and ZMM16–31 enabled), else 0.
int mk_cpu_supports_avx512f(void);

// ---------------------------------------------------------------------------------------
// Fused output transform: applied by microkernels when they store their last K block.

typedef enum mk_activation_kind {
    MK_ACT_CLAMP = 0,         ///< y = min(max(x, lo), hi)  (identity: ±inf; relu; relu6; clip)
    MK_ACT_HARDSWISH = 1,     ///< y = x · min(max(x + 3, 0), 6) · (1/6)
    MK_ACT_LEAKY_RELU = 2,    ///< y = x ≥ 0 ? x : alpha · x
    MK_ACT_HARD_SIGMOID = 3,  ///< y = max(0, min(1, alpha · x + beta))
} mk_activation_kind;

typedef struct mk_activation {
    int32_t kind;  ///< an mk_activation_kind
    float lo, hi;  ///< bounds for MK_ACT_CLAMP
    float alpha, beta;
} mk_activation;

// ---------------------------------------------------------------------------------------
// GEMM microkernels: C[mr×nc] (=|+=) A[mr×kc] · W[kc×nc] (+ bias), then activation.
//
// A is row-major with a row stride of `a_stride` floats (unpacked input rows or a packed
// im2col tile). W is one packed panel of NR columns (the kernel's tile width, listed in
// mk_ukernels.def: 16 for the 6x16 kernels, 32 for the __avx512f ones): kc rows of NR floats,
// zero padded past the matrix's last column, 64-byte aligned. C has a row stride of
// `c_stride` floats. 1 ≤ mr ≤ MR, 1 ≤ nc ≤ NR, kc ≥ 1.
//
// flags: MK_GEMM_ACCUMULATE adds to C (a later K block) instead of starting from `bias`
// (NR floats, zero padded, 64-byte aligned; NULL means zeros); MK_GEMM_ACTIVATE applies
// `activation` before the store (the last K block). Each output's sum runs over k in
// increasing order, so a result never depends on how the caller split the M and N
// dimensions among threads.

#define MK_GEMM_ACCUMULATE 1u
#define MK_GEMM_ACTIVATE 2u

typedef void (*mk_f32_gemm_ukernel_fn)(
    size_t mr, size_t nc, size_t kc,
    const float* a, size_t a_stride,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation);

// Indirect GEMM (implicit-GEMM convolution): the same tile, packed B, flags and k order as
// the GEMM microkernels, but A's MR rows are gathered through pointers instead of a dense
// (im2col) matrix. `a` holds `ks` groups of MR pointers (tap-major: a[t·MR + r] is row r's
// input for tap t); every one of the MR must be valid (repeat the last row's for rows past
// mr). Each tap contributes `kc` consecutive floats from its pointer plus `a_offset` floats,
// except pointers equal to `zero` (a zero buffer of at least kc floats), read as they are.
// k runs tap by tap, kc per tap: ks · kc rows of the packed B panel.

typedef void (*mk_f32_igemm_ukernel_fn)(
    size_t mr, size_t nc, size_t kc, size_t ks,
    const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation);

// ---------------------------------------------------------------------------------------
// Depthwise convolution microkernels: one output row of an NHWC depthwise convolution,
// every channel, any kernel size, stride, dilation and padding.
//
// `input` points at image n ([height][width][channels]); `weights` are [kh][kw][cpad] and
// `bias` [cpad] with cpad = channels rounded up to a multiple of the kernel's channel block
// (at least 8: 8 for the 4c and 8c kernels, 16 for 16c), zero padded.

typedef struct mk_dwconv_params {
    int32_t input_height, input_width, channels;
    int32_t kernel_height, kernel_width;
    int32_t stride_height, stride_width;
    int32_t dilation_height, dilation_width;
    int32_t pad_top, pad_left;
    int32_t output_width;
    int32_t channel_stride;  ///< cpad: the row length of the packed weights
} mk_dwconv_params;

typedef void (*mk_f32_dwconv_ukernel_fn)(
    const float* input, int32_t output_y, float* output_row,
    const float* weights, const float* bias,
    const mk_dwconv_params* params, const mk_activation* activation);

// ---------------------------------------------------------------------------------------
// Convolution over few input channels (a network's first layer on RGB: 3 channels, where an
// im2col GEMM has K = 27 and spends as long gathering as multiplying), straight from NHWC
// pixels, one output row per call. Weights packed as [output block][ky][kx][ic][lanes]
// (blocks of the path's vector width, zero past output_channels); bias padded likewise.
// Each output is bias + Σ over (ky, kx, ic) in that order, whichever pixels the kernel
// groups, so results depend only on the geometry.

typedef struct mk_conv_hwc_params {
    int32_t input_height, input_width, input_channels;
    int32_t kernel_height, kernel_width;
    int32_t stride_height, stride_width;
    int32_t dilation_height, dilation_width;
    int32_t pad_top, pad_left;
    int32_t output_width, output_channels;
} mk_conv_hwc_params;

typedef void (*mk_f32_conv_hwc_ukernel_fn)(
    const float* input, int32_t output_y, float* output_row,
    const float* weights, const float* bias,
    const mk_conv_hwc_params* params, const mk_activation* activation);

// ---------------------------------------------------------------------------------------
// Closed-form matting Laplacian (MattingRefine): one tile's product (L p)_i, Double.
//
// The tile is an output rectangle [x0, x0+width) × [y0, y0+height) of a picture_width ×
// picture_height picture with (2·radius+1)² windows. `colour` holds the picture's 3 colour
// planes on the pixel grid [x0−2r, x0+width+2r) × [y0−2r, y0+height+2r) (0 outside the
// picture); `stats` 6 planes on the window-centre grid [x0−r, x0+width+r) × [y0−r, …):
// Δ_k⁻¹ as (00, 01, 02, 11, 12, 22) (μ_k is recomputed from `colour`). Per unknown pixel j: its global index
// `unknown[j]`, its index in the output rectangle `local[j]` and the number of windows
// holding it `count[j]`. The kernel writes (L p)_j to out[j] and returns Σ_j p_j (L p)_j,
// summed in j order. `scratch` holds mk_cf_laplacian_scratch_count(...) doubles.

typedef struct mk_cf_tile {
    int32_t x0, y0, width, height;
    int32_t picture_width, picture_height;
    int32_t radius, unknown_count;
    const float* colour;
    const double* stats;
    const int32_t* unknown;
    const int32_t* local;
    const double* count;
} mk_cf_tile;

typedef double (*mk_f64_cf_laplacian_ukernel_fn)(
    const mk_cf_tile* tile, const double* p, double* out, double* scratch);

/// The window statistics of a tile, once per solve, from `tile->colour`: μ_k into `mean`
/// (3 planes on the centre grid) and Δ_k⁻¹ into `inverse` (6 planes, the product's
/// `stats`); windows not inside the picture get zeros. `scratch` holds
/// 9 × (width + 4·radius) doubles. Same two ISA paths as the product.
typedef void (*mk_f64_cf_tile_stats_fn)(const mk_cf_tile* tile, double epsilon, double* mean, double* inverse, double* scratch);

/// One pyramid level's system for mk_f64_cf_pcg: the tiles holding unknown pixels, tile t's
/// unknowns being entries offsets[t] ..< offsets[t + 1] of `unknown` (global pixel indices),
/// the product kernel, and per-worker scratch (`scratch + worker · scratch_stride`, for
/// `threads` workers; `pool` NULL runs on the calling thread only).
typedef struct mk_cf_system {
    const mk_cf_tile* tiles;
    size_t tile_count;
    const size_t* offsets;
    const int32_t* unknown;
    mk_f64_cf_laplacian_ukernel_fn kernel;
    double* scratch;
    size_t scratch_stride;
    struct mk_threadpool* pool;
    size_t threads;
    /// Called on the calling thread after every iteration with the iterations done and the
    /// relative residual; a nonzero return stops the solve there (cancellation). NULL: none.
    int (*on_iteration)(void* context, int iterations, double residual);
    void* on_iteration_context;
    /// An extra symmetric operator E added to the Laplacian (A = L + E; MattingRefine's
    /// information-flow terms), NULL: none. Called on the calling thread, never inside one of
    /// the solver's parallel regions (so it may run its own on `pool`): for the full-size `p`,
    /// adds (E p)_{unknown[k]} to out[k] for every unknown k. Its result must not depend on
    /// the thread count if the solve's is not to.
    void (*extra_product)(void* context, const double* p, double* out);
    void* extra_context;
    /// E's diagonal on the unknowns (m doubles), added to the Jacobi preconditioner's (and to
    /// mk_f64_cf_sacg's fallback diagonal); NULL: none.
    const double* extra_diagonal;
    /// Nonzero when E is its diagonal alone (no off-diagonal entries): mk_f64_cf_sacg then builds
    /// its hierarchy on L + E, not on L alone. 0 with no extra operator.
    int extra_is_diagonal;
    /// A right-hand side c on the unknowns (m doubles): the solve is then
    /// A_UU x_U = c − A_UK x_K. NULL: c = 0.
    const double* rhs;
} mk_cf_system;

/// Solves L_UU x_U = −L_UK x_K by Jacobi-preconditioned conjugate gradients (with the system's
/// extra operator, right-hand side and diagonal: (L + E)_UU x_U = c − (L + E)_UK x_K; the
/// multigrid solvers' outer loop, mk_cf_fcg, applies E and c too, but their V-cycles are L's).
///
/// - `p`: `n` doubles, the full-size picture: on entry the known pixels' values (0 or 1)
///   and 0 at every unknown pixel; used as the direction vector (clobbered).
/// - `x`: the unknowns' starting guess in `unknown` order; on exit the iterate.
/// - `diagonal`: L_ii of the unknowns (Jacobi preconditioner; entries ≤ 0 get weight 0).
/// - Stops when ‖r‖/‖b‖ ≤ `tolerance` (b the right-hand side above), after `max_iterations`, or when
///   `system->on_iteration` returns nonzero; writes
///   the final relative residual to `*residual` (0 when b = 0 or there are no unknowns)
///   and returns the iterations done.
/// - `workspace`: 4·m + 2·tile_count doubles (m unknowns).
/// Results are independent of the thread count (per-tile partial sums in tile order).
int mk_f64_cf_pcg(const mk_cf_system* system, double* p, size_t n, double* x, const double* diagonal,
                  double tolerance, int max_iterations, double* workspace, double* residual);

/// The diagonal L_ii and window count n_i of a tile's unknown pixels (in `unknown` order)
/// from its statistics (`mean` and `inverse` as mk_f64_cf_tile_stats writes them), and
/// each pixel's index in the tile's rectangle (`local`). `scratch`: 2 × width doubles.
typedef void (*mk_f64_cf_tile_diagonal_fn)(const mk_cf_tile* tile, const double* mean, const double* inverse,
                                           double* diagonal, double* count, int32_t* local, double* scratch);

/// Doubles of scratch the Laplacian kernels need for tiles up to `max_side` × `max_side`.
static inline size_t mk_cf_laplacian_scratch_count(int32_t max_side, int32_t radius) {
    const size_t t = (size_t) max_side, r = (size_t) radius;
    const size_t pw = t + 4 * r, gw = t + 2 * r, k = 2 * r + 1;
    return pw * pw + 7 * pw + 4 * k * gw + 4 * gw + t;
}

// ---------------------------------------------------------------------------------------
// Transposed-convolution dot microkernels (few output channels per group): one phase of one
// output row. Output pixel j (0 ≤ j < count), at `out + j·out_pixel_stride`, reads input
// pixels (qy + dy[t], qx0 + j + dx[t]) for each tap t (taps outside the image skipped) and
// stores, for every group g and channel o, `bias[g·ocg + o] + Σ_t Σ_ic in · w` with `weights`
// laid out [groups][ocg][tap_count][icg]. No activation (the caller applies it to the row).

typedef struct mk_tconv_dot_params {
    int32_t input_height, input_width;
    int32_t channels;  ///< input pixel stride (all groups)
    int32_t groups, group_input_channels, group_output_channels;
} mk_tconv_dot_params;

typedef void (*mk_f32_tconv_dot_ukernel_fn)(
    const float* image, const mk_tconv_dot_params* params,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias);

// ---------------------------------------------------------------------------------------
// Element-wise microkernels: y[i] = f(x[i]) for i < n; y == x is allowed.

typedef void (*mk_f32_vunary_ukernel_fn)(size_t n, const float* x, float* y);

// A softmax row before its division (vsoftmax.c): s[j] ← e^(scale·s[j] − m) for j < n, m the
// largest scale·s[j]; returns the sum of the new values (in a fixed order per ISA path).
typedef float (*mk_f32_softmax_ukernel_fn)(size_t n, float scale, float* s);

// Layer normalisation of `rows` contiguous rows of n values (vlayernorm.c): y = (x − μ) /
// √(σ² + ε) · scale[k] + offset[k], μ and σ² each row's mean and biased variance; y == x allowed.
typedef void (*mk_f32_layernorm_ukernel_fn)(
    size_t rows, size_t n, const float* x, float* y, const float* scale, const float* offset, float epsilon);

// Instance normalisation's statistics (vlayernorm.c): for channels 0..<n of `pixels` rows of
// `stride` floats from x, each channel's mean and 1 / √(σ² + ε), σ² its biased variance; sums
// in pixel order (two passes).
void mk_f32_channel_moments(size_t pixels, size_t stride, const float* x, size_t n, float epsilon,
                            float* mean, float* inverse);

// y[r·n + k] = (x[r·n + k] − center[k]) · scale[k] + shift[k] for `rows` rows of n values;
// y == x allowed.
void mk_f32_center_scale_shift_rows(size_t rows, size_t n, const float* x, float* y, const float* center,
                                    const float* scale, const float* shift);

// ---------------------------------------------------------------------------------------
// Transpose microkernels on 32-bit elements (bit patterns, never arithmetic):
// dst[c · dst_stride + r] = src[r · src_stride + c] for r < rows, c < cols. The caller
// blocks the matrix into tiles that fit in L1 and hands tiles to threads; the kernel walks
// its tile in 8×8 blocks (edges element by element). src and dst must not overlap.

typedef void (*mk_x32_transpose_ukernel_fn)(
    size_t rows, size_t cols, const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride);

// ---------------------------------------------------------------------------------------
// Declarations of every microkernel (see mk_ukernels.def).

#define MK_GEMM_UKERNEL(name, isa, mr, nr) \
    void name(size_t, size_t, size_t, const float*, size_t, const float*, const float*, \
              float*, size_t, uint32_t, const mk_activation*);
#define MK_IGEMM_UKERNEL(name, isa, mr, nr) \
    void name(size_t, size_t, size_t, size_t, const float* const*, size_t, const float*, \
              const float*, const float*, float*, size_t, uint32_t, const mk_activation*);
#define MK_DWCONV_UKERNEL(name, isa, cb) \
    void name(const float*, int32_t, float*, const float*, const float*, \
              const mk_dwconv_params*, const mk_activation*);
#define MK_CONV_HWC_UKERNEL(name, isa, lanes) \
    void name(const float*, int32_t, float*, const float*, const float*, \
              const mk_conv_hwc_params*, const mk_activation*);
#define MK_CF_LAPLACIAN_UKERNEL(name, isa) \
    double name(const mk_cf_tile*, const double*, double*, double*);
#define MK_CF_STATS_KERNEL(name, isa) void name(const mk_cf_tile*, double, double*, double*, double*);
#define MK_CF_DIAGONAL_KERNEL(name, isa) \
    void name(const mk_cf_tile*, const double*, const double*, double*, double*, int32_t*, double*);
#define MK_TCONV_DOT_UKERNEL(name, isa, cb) \
    void name(const float*, const mk_tconv_dot_params*, int32_t, int32_t, size_t, float*, size_t, \
              size_t, const int32_t*, const int32_t*, const float*, const float*);
#define MK_VUNARY_UKERNEL(name, isa, lanes) void name(size_t, const float*, float*);
#define MK_TRANSPOSE_UKERNEL(name, isa, block) void name(size_t, size_t, const uint32_t*, size_t, uint32_t*, size_t);
#define MK_SOFTMAX_UKERNEL(name, isa, lanes) float name(size_t, float, float*);
#define MK_LAYERNORM_UKERNEL(name, isa, lanes) \
    void name(size_t, size_t, const float*, float*, const float*, const float*, float);
#include "mk_ukernels.def"
#undef MK_TRANSPOSE_UKERNEL
#undef MK_SOFTMAX_UKERNEL
#undef MK_LAYERNORM_UKERNEL
#undef MK_VUNARY_UKERNEL
#undef MK_GEMM_UKERNEL
#undef MK_IGEMM_UKERNEL
#undef MK_DWCONV_UKERNEL
#undef MK_CONV_HWC_UKERNEL
#undef MK_TCONV_DOT_UKERNEL
#undef MK_CF_LAPLACIAN_UKERNEL
#undef MK_CF_STATS_KERNEL
#undef MK_CF_DIAGONAL_KERNEL

// ---------------------------------------------------------------------------------------
// Packing (portable C; memory bound).

/// Copies rows of an implicit im2col matrix into `dst` (row-major, row stride `dst_stride`).
///
/// Row j (0 ≤ j < count) is the output pixel at input coordinates y0 + dy[t], x0 + j·sx + dx[t]
/// for each tap t; its columns are the taps' `group_channels` input channels (starting at
/// channel `channel_offset`, pixel stride `pixel_stride`), tap-major, restricted to the
/// column range [k0, k1). Taps that fall outside the image contribute zeros.
void mk_f32_im2col_segment(
    float* dst, size_t dst_stride, size_t count,
    const float* image, int32_t height, int32_t width, size_t pixel_stride,
    size_t channel_offset, size_t group_channels,
    int32_t y0, int32_t x0, int32_t sx,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    size_t k0, size_t k1);

/// Fills an indirect GEMM's pointer table for output pixels m0 ..< m0 + rows of a convolution
/// (pixel m is image m / (output_height·output_width), row, column in that order): for tile i
/// (mr rows each, `tiles` of them), tap t, row r, table[(i·tap_count + t)·mr + r] points at
/// input pixel (oy·sy − pad_top + dy[t], ox·sx − pad_left + dx[t]) of `image` (images
/// `image_stride` floats apart, pixels `pixel_stride` apart), or is `zero` where that pixel is
/// outside the image. Rows from `rows` up to tiles·mr repeat the last row.
void mk_f32_conv_indirection(
    const float** table, size_t mr, size_t tiles, size_t rows, size_t m0,
    const float* image, size_t image_stride, int32_t height, int32_t width, size_t pixel_stride,
    int32_t output_height, int32_t output_width, int32_t sy, int32_t sx, int32_t pad_top, int32_t pad_left,
    size_t tap_count, const int32_t* dy, const int32_t* dx, const float* zero);

/// A peak-FMA probe: `iterations` × 10 independent 8-wide FMAs (AVX2); returns a checksum.
float mk_f32_fma_peak_probe__avx2_fma(size_t iterations);

/// A peak-FMA probe: `iterations` × 12 independent 16-wide FMAs (AVX-512F); returns a checksum.
float mk_f32_fma_peak_probe__avx512f(size_t iterations);

#ifdef __cplusplus
}
#endif
