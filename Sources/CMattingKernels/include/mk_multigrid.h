// Multigrid-preconditioned conjugate gradients for closed-form matting (cf-multigrid.c;
// MattingRefine's ClosedFormMatting+Multigrid.swift). Not public API.
#pragma once

#include "cmk.h"

#ifdef __cplusplus
extern "C" {
#endif

/// One level of the hierarchy, finest first.
/// - `system`: the level's tiles and product kernel (as for mk_f64_cf_pcg).
/// - `p`: `n` doubles, the level's full-size picture. Level 0's holds on entry the known
///   pixels' values (0 or 1) and 0 at the unknowns (clobbered); every other level's is all 0.
/// - `m` unknowns; `diagonal`: their L_ii; `inverse_diagonal`: m doubles of scratch.
/// - `prolongation_base`, `prolongation_weight`: per unknown, the next level's padded
///   position of the top-left of its 5×5 coarse stencil and the 25 weights
///   (mk_cf_mg_guided_prolongation); NULL on the last level. Restriction is the transpose.
/// - `padded`: (width + 4)·(height + 4) doubles of scratch, all 0 on entry: the level's
///   picture with a 2-pixel border, which the finer level's prolongation reads and its
///   restriction accumulates into (so neither needs indices nor branches);
///   `padded_index`: each unknown's position there; `padded_width`: width + 4;
///   `padded_count`: its size. Level 0 (never a coarse level) needs only `padded_width`.
/// - `work`: 9·m doubles of scratch.
typedef struct mk_cf_mg_level {
    mk_cf_system system;
    double* p;
    size_t n;
    size_t m;
    const double* diagonal;
    double* inverse_diagonal;
    const int32_t* prolongation_base;
    const float* prolongation_weight;
    double* padded;
    const int32_t* padded_index;
    size_t padded_width;
    size_t padded_count;
    double* work;
    /// Galerkin coarse operator (a level below the finest only; NULL: the level's own
    /// Laplacian): m × 132 floats of storage, row k the 11×11 stencil of PᵀAP around unknown
    /// k (11 rows of 12, the last of each 0), where A is the next finer level's operator and
    /// P its prolongation from here. mk_f64_cf_mgcg builds it when this level is its second
    /// level and uses it wherever this level serves as a coarse grid. `galerkin_padded`:
    /// (width + 11)·(height + 10) floats of scratch (5 columns left, 6 right, 5 rows above
    /// and below), all 0 on entry; `galerkin_index`: each unknown's position there;
    /// `galerkin_width`: width + 11.
    float* galerkin;
    float* galerkin_padded;
    const int32_t* galerkin_index;
    size_t galerkin_width;
    /// Test hook: nonzero asks mk_f64_cf_mgcg to check the Galerkin operator it builds,
    /// writing the relative difference ‖G x − Pᵀ(A(P x))‖ / ‖Pᵀ(A(P x))‖ for a fixed x
    /// (through the cycle's own prolongation, product and restriction) to `galerkin_error`.
    /// On the level given to mk_f64_cf_sacg: every coarse level's operator against PᵀAP
    /// summed entry by entry in Double, the largest difference in a cell's 25 blocks relative
    /// to that cell's largest entry, the largest over cells and levels; and every smoothed
    /// prolongation against its rows computed the plain way (cf-sa.c, `sa_smooth_error`: the
    /// largest difference relative to a row's largest entry, a wrong mask counting as 1).
    int checks_galerkin;
    double galerkin_error;
    int sweeps;       // damped-Jacobi sweeps before the coarse correction (≥ 0; see `chebyshev`)
    int post_sweeps;  // after it (≥ 1)
    double omega;     // their damping
    /// Chebyshev smoothing instead, on a level below the first of a solve (> 0: its degree,
    /// the steps either side): the polynomial in D⁻¹A that is smallest on [0.1·λ, λ],
    /// λ = `lambda_max` (D⁻¹A's largest eigenvalue; mk_f64_cf_mgcg estimates it per solve).
    int chebyshev;
    double lambda_max;
} mk_cf_mg_level;

/// Guided prolongation from the next level: per fine unknown k (pixel unknown[k] of a
/// picture fine_width wide, colour fine_colour[3k…3k+2]) 25 weights over the 5×5 coarse
/// pixels around its parent (row by row; 0 outside the picture) and, in out_base[k], the
/// position of the stencil's top-left in the coarse picture padded by 2 on every side
/// ((wc + 4) wide).
/// The weights are the guided filter's (radius 1, regularisation `epsilon`) with the coarse
/// colour (3 planes wc × hc) as guide, evaluated with the fine pixel's colour: a coarse
/// correction that is locally affine in colour reaches the fine grid intact. Runs in chunks
/// of unknowns on `pool` (NULL: the calling thread); each unknown's weights are its own, so
/// the result does not depend on the thread count.
void mk_cf_mg_guided_prolongation(
    const int32_t* unknown, size_t m, int32_t fine_width, const float* fine_colour,
    const float* coarse_planes, int32_t wc, int32_t hc,
    double epsilon, int32_t* out_base, float* out_weight, struct mk_threadpool* pool);

/// out[k] = Σ weights · (a padded coarse picture) over fine unknown k's stencil: the
/// prolongation of `level` (not the last) applied to any coarse picture, e.g. a coarse
/// alpha with its known values, to start the finer level.
void mk_cf_mg_prolong(const mk_cf_mg_level* level, const double* padded, double* out);

/// Solves level 0's L_UU x_U = −L_UK x_K by flexible CG preconditioned with one V-cycle
/// over `count` levels (damped Jacobi smoothing, guided prolongation with an
/// energy-minimising step, restriction its transpose, Jacobi-PCG on the last level).
/// `x`: the starting guess, in level 0's unknown order; on exit the iterate. Stops when
/// ‖r‖/‖b‖ ≤ `tolerance` or after `max_iterations`; writes the final relative residual to
/// `*residual` (the true one, b − L_UU x recomputed, not the recurrence's) and returns the
/// iterations done. Results do not depend on the thread count.
int mk_f64_cf_mgcg(mk_cf_mg_level* levels, size_t count, double* x, double tolerance, int max_iterations,
                   double* residual);

/// Flexible CG on level 0's L_UU x_U = −L_UK x_K (the loop of mk_f64_cf_mgcg) with any
/// preconditioner z = M(r) (`precondition`, on the calling thread; it may use the pool). With
/// the level's `system.extra_product` and `rhs` (cmk.h) the system is
/// (L + E)_UU x_U = c − (L + E)_UK x_K: E p is added after every product of L (the
/// preconditioner, e.g. mk_f64_cf_sacg's hierarchy, may stay L's).
/// `prepare`, if not NULL, runs once the right-hand side is formed and `top->p` is all 0
/// (it may run products of `top`, leaving `p` all 0). Uses `top->work` (9·m doubles: r, z at
/// 0 and m, d, q, b at 6·m, 7·m, 8·m) and `top->inverse_diagonal` (filled by the caller: the
/// fallback should the preconditioner turn out indefinite). Arguments and result as
/// mk_f64_cf_mgcg's.
int mk_cf_fcg(mk_cf_mg_level* top, double* x, double tolerance, int max_iterations, double* residual,
              void (*prepare)(void* context), void (*precondition)(void* context, const double* r, double* z),
              void* context);

/// The rows of level `fine`'s operator on its unknowns, probed with 25 products (one per
/// pixel class (x mod 5, y mod 5); L couples pixels at most 2 apart, so only for windows of
/// radius 1): rows[25·k + 5·(dy + 2) + dx + 2] = L[k, pixel(k) + (dx, dy)] (0 where that
/// pixel is known or outside). `fine->p` must be all 0 and is left so. Returns 0 when out
/// of memory.
int mk_cf_mg_probe_rows(mk_cf_mg_level* fine, float* rows);

/// The same rows as mk_cf_mg_probe_rows (to rounding), computed directly from the tiles'
/// window statistics instead of by 25 products: per unknown i, the windows of radius 1 holding
/// i whose centre is at least 1 from the border, each adding
/// δ_ij − (1 + (I_i − μ_k)ᵀ Δ_k⁻¹ (I_j − μ_k)) / 9 to the entry of each pixel j it holds
/// (Δ_k⁻¹ the tiles' `stats`, μ_k recomputed from their colour); entries at known pixels and
/// outside the picture 0. L's alone (not the system's extra operator). Tiles run on the
/// system's pool, each writing its own unknowns' rows: independent of the thread count.
/// Needs `padded_width` (width + 4), `n`, `m` and `system`; `p` is not used. Returns 0 when a
/// tile's radius is not 1 or when out of memory.
int mk_cf_mg_stencil_rows(const mk_cf_mg_level* fine, float* rows);

/// Solves level 0's system as mk_f64_cf_mgcg does, preconditioned instead by one V-cycle of
/// smoothed aggregation on the image grid (cf-sa.c): level 1's aggregates are `block` ×
/// `block` pixel blocks of unknowns, each with up to four coarse unknowns (the candidates 1,
/// r, g, b of its pixels, orthonormalised per block; `colour`: 3 floats per unknown, in
/// level 0's order), the prolongation smoothed by one damped-Jacobi step of the operator,
/// coarse operators PᵀAP; coarser levels aggregate 3 × 3 cells alike, down to a dense
/// Cholesky solve. Symmetric 9-colour Gauss–Seidel smoothing (on level 0 with the explicit
/// rows of its operator, from mk_cf_mg_stencil_rows; below, block Gauss–Seidel on each
/// cell's unknowns), the cycle in Float. `block`: 3 to 5 (clamped). Level 0 needs only `system`, `p`, `n`, `m`,
/// `diagonal`, `inverse_diagonal`, `padded_width` and `work`. Results do not depend on the
/// thread count. Returns −1 when out of memory (the iterate is then what the loop reached
/// with the diagonal as preconditioner). With the system's extra operator (the
/// information-flow terms) it solves (L + E)_UU x_U = c − (L + E)_UK x_K, the hierarchy
/// built on L alone (on L + E when the system's `extra_is_diagonal` says E is its diagonal),
/// the fallback diagonal L's plus `extra_diagonal`.
int mk_f64_cf_sacg(mk_cf_mg_level* level, const float* colour, int block, double* x, double tolerance,
                   int max_iterations, double* residual);

/// For tests: builds mk_f64_cf_sacg's hierarchy on `level` (as mk_f64_cf_sacg, which needs
/// the same fields) and, on every level but the last, from a seeded right-hand side, compares
/// the cycle's pre-smoothing pass (the forward sweep from x = 0 on the neighbours already
/// updated, then the residual from the others) with a full forward sweep from x = 0 followed
/// by r = b − A x. `worst`: the largest difference of x or r, relative to the largest |x| or
/// |r| of the reference on that level (infinity when the pass produced a NaN). Returns the
/// levels compared, −1 when out of memory.
int mk_cf_sa_presmooth_check(mk_cf_mg_level* level, const float* colour, int block, double* worst);

#ifdef __cplusplus
}
#endif
