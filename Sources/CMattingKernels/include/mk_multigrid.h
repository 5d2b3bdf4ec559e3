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
/// - `prolongation_index`, `prolongation_weight`: 25 per unknown (mk_cf_mg_guided_prolongation)
///   from the next level; NULL on the last level. Restriction is the transpose.
/// - `work`: 8·m doubles of scratch.
typedef struct mk_cf_mg_level {
    mk_cf_system system;
    double* p;
    size_t n;
    size_t m;
    const double* diagonal;
    double* inverse_diagonal;
    const int32_t* prolongation_index;
    const double* prolongation_weight;
    double* work;
    int sweeps;     // damped-Jacobi sweeps before and after the coarse correction (≥ 1)
    double omega;   // their damping
} mk_cf_mg_level;

/// Guided prolongation from the next level: per fine unknown k (pixel unknown[k] of a
/// picture fine_width wide, colour fine_colour[3k…3k+2]) 25 (coarse unknown index, weight)
/// pairs over the 5×5 coarse pixels around its parent, index −1 for known or outside pixels.
/// The weights are the guided filter's (radius 1, regularisation `epsilon`) with the coarse
/// colour (3 planes wc × hc) as guide, evaluated with the fine pixel's colour: a coarse
/// correction that is locally affine in colour reaches the fine grid intact.
void mk_cf_mg_guided_prolongation(
    const int32_t* unknown, size_t m, int32_t fine_width, const float* fine_colour,
    const float* coarse_planes, int32_t wc, int32_t hc, const int32_t* coarse_index,
    double epsilon, int32_t* out_index, double* out_weight);

/// Solves level 0's L_UU x_U = −L_UK x_K by flexible CG preconditioned with one V-cycle
/// over `count` levels (damped Jacobi smoothing, guided prolongation with an
/// energy-minimising step, restriction its transpose, Jacobi-PCG on the last level).
/// `x`: the starting guess, in level 0's unknown order; on exit the iterate. Stops when
/// ‖r‖/‖b‖ ≤ `tolerance` or after `max_iterations`; writes the final relative residual to
/// `*residual` and returns the iterations done. Results do not depend on the thread count.
int mk_f64_cf_mgcg(mk_cf_mg_level* levels, size_t count, double* x, double tolerance, int max_iterations,
                   double* residual);

#ifdef __cplusplus
}
#endif
