// mk_f64_cf_pcg: Jacobi-preconditioned conjugate gradients on the unknown pixels of a
// closed-form matting Laplacian (MattingRefine's ConjugateGradient.swift calls it once per
// pyramid level). The Laplacian product is the per-ISA tile kernel; this file is the
// solver around it: the vector updates and the parallel regions, on MattingEngine's
// persistent thread pool instead of one Dispatch region (and its reference counting) per
// step.
//
// Determinism: every reduction is a per-tile partial sum (in the tile's unknown order),
// then a sum over tiles in tile order, so the result does not depend on the thread count
// or on which thread ran which tile. FMA contraction is off here so the arithmetic is the
// plain double expression of each update (the tile kernel contracts on its own path).
//
// An extra operator E (mk_cf_system.extra_product: the information-flow terms) is applied
// after each pass of the tile kernel, on the calling thread between parallel regions (it may
// run its own on the same pool); with it, the reductions the kernel's tile partials gave are
// taken again per tile from the compact vectors, so they keep the same order.
#include <string.h>
#include "cmk.h"
#include "cmk_threadpool.h"

#pragma clang fp contract(off)

typedef struct mk_cf_pcg_state {
    const mk_cf_system* system;
    double* p;        // full-size direction (zero at known pixels inside the loop)
    double* x;        // m: iterate
    double* r;        // m: residual
    double* q;        // m: L·d
    const double* inverse_diagonal;  // m
    double* d;        // m: compact copy of the direction
    double* partial;  // 2 per tile
    double step, beta;
} mk_cf_pcg_state;

static inline double* mk_cf_scratch(const mk_cf_system* s, size_t worker) {
    return s->scratch + worker * s->scratch_stride;
}

// The tiles of chunk `index` of `chunks` contiguous runs.
static inline void mk_cf_chunk(const mk_cf_system* s, size_t index, size_t chunks, size_t* t0, size_t* t1) {
    *t0 = s->tile_count * index / chunks;
    *t1 = s->tile_count * (index + 1) / chunks;
}

static size_t mk_cf_chunk_count(const mk_cf_system* s) {
    const size_t threads = s->pool ? s->threads : 1;
    return threads < s->tile_count ? threads : s->tile_count;
}

static void mk_cf_run(const mk_cf_system* s, size_t count, mk_parallel_fn fn, mk_cf_pcg_state* state) {
    if (s->pool) {
        mk_threadpool_run(s->pool, count, fn, state);
    } else {
        for (size_t i = 0; i < count; i++) fn(state, i, 0);
    }
}

// q = L·p on tile t; partial = Σ q² (the right-hand side's norm).
static void mk_cf_rhs_tile(void* context, size_t t, size_t worker) {
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    const size_t o = s->offsets[t], e = s->offsets[t + 1];
    (void) s->kernel(s->tiles + t, st->p, st->q + o, mk_cf_scratch(s, worker));
    double bb = 0;
    for (size_t k = o; k < e; k++) bb += st->q[k] * st->q[k];
    st->partial[2 * t] = bb;
}

// r = L·p on tile t (p holds the full iterate here; the sign is flipped later).
static void mk_cf_residual_tile(void* context, size_t t, size_t worker) {
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    (void) s->kernel(s->tiles + t, st->p, st->r + s->offsets[t], mk_cf_scratch(s, worker));
}

// b = c − q (c the system's right-hand side, 0 without one); partial = Σ b².
static void mk_cf_rhs_chunk(void* context, size_t index, size_t worker) {
    (void) worker;
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    size_t t0, t1;
    mk_cf_chunk(s, index, mk_cf_chunk_count(s), &t0, &t1);
    const double* c = s->rhs;
    for (size_t t = t0; t < t1; t++) {
        double bb = 0;
        for (size_t k = s->offsets[t]; k < s->offsets[t + 1]; k++) {
            const double b = c ? c[k] - st->q[k] : -st->q[k];
            bb += b * b;
        }
        st->partial[2 * t] = bb;
    }
}

// partial = Σ d·q per tile (after the extra operator has added its share to q).
static void mk_cf_dot_chunk(void* context, size_t index, size_t worker) {
    (void) worker;
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    size_t t0, t1;
    mk_cf_chunk(s, index, mk_cf_chunk_count(s), &t0, &t1);
    for (size_t t = t0; t < t1; t++) {
        double dq = 0;
        for (size_t k = s->offsets[t]; k < s->offsets[t + 1]; k++) dq += st->d[k] * st->q[k];
        st->partial[2 * t] = dq;
    }
}

// r = c − r (r = −r without a right-hand side); z = r / diag; d = z (compact and full-size); partials Σ r·z, Σ r².
static void mk_cf_start_chunk(void* context, size_t index, size_t worker) {
    (void) worker;
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    size_t t0, t1;
    mk_cf_chunk(s, index, mk_cf_chunk_count(s), &t0, &t1);
    const int32_t* unknown = s->unknown;
    for (size_t t = t0; t < t1; t++) {
        double rz = 0, rr = 0;
        for (size_t k = s->offsets[t]; k < s->offsets[t + 1]; k++) {
            const double rj = s->rhs ? s->rhs[k] - st->r[k] : -st->r[k];
            st->r[k] = rj;
            const double z = rj * st->inverse_diagonal[k];
            st->p[unknown[k]] = z;
            st->d[k] = z;
            rz += rj * z;
            rr += rj * rj;
        }
        st->partial[2 * t] = rz;
        st->partial[2 * t + 1] = rr;
    }
}

// q = L·d on tile t; partial = Σ d·q.
static void mk_cf_product_tile(void* context, size_t t, size_t worker) {
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    st->partial[2 * t] = s->kernel(s->tiles + t, st->p, st->q + s->offsets[t], mk_cf_scratch(s, worker));
}

// x += step·d; r −= step·q; partials Σ r²/diag, Σ r².
static void mk_cf_update_chunk(void* context, size_t index, size_t worker) {
    (void) worker;
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    size_t t0, t1;
    mk_cf_chunk(s, index, mk_cf_chunk_count(s), &t0, &t1);
    const double step = st->step;
    double* restrict x = st->x;
    double* restrict r = st->r;
    const double* restrict d = st->d;
    const double* restrict q = st->q;
    const double* restrict inverse = st->inverse_diagonal;
    for (size_t t = t0; t < t1; t++) {
        double a = 0, b = 0;
        for (size_t k = s->offsets[t]; k < s->offsets[t + 1]; k++) {
            x[k] += step * d[k];
            const double rk = r[k] - step * q[k];
            r[k] = rk;
            a += rk * rk * inverse[k];
            b += rk * rk;
        }
        st->partial[2 * t] = a;
        st->partial[2 * t + 1] = b;
    }
}

// d = r/diag + beta·d, compact and scattered into the full-size direction.
static void mk_cf_direction_chunk(void* context, size_t index, size_t worker) {
    (void) worker;
    mk_cf_pcg_state* st = context;
    const mk_cf_system* s = st->system;
    size_t t0, t1;
    mk_cf_chunk(s, index, mk_cf_chunk_count(s), &t0, &t1);
    const double beta = st->beta;
    double* restrict p = st->p;
    double* restrict d = st->d;
    const double* restrict r = st->r;
    const double* restrict inverse = st->inverse_diagonal;
    const int32_t* restrict unknown = s->unknown;
    const size_t k0 = s->offsets[t0], k1 = s->offsets[t1];
    for (size_t k = k0; k < k1; k++) {
        const double dk = r[k] * inverse[k] + beta * d[k];
        d[k] = dk;
        p[unknown[k]] = dk;
    }
}

static double mk_cf_sum(const mk_cf_pcg_state* st, size_t slot) {
    double s = 0;
    for (size_t t = 0; t < st->system->tile_count; t++) s += st->partial[2 * t + slot];
    return s;
}

int mk_f64_cf_pcg(const mk_cf_system* s, double* p, size_t n, double* x, const double* diagonal,
                  double tolerance, int max_iterations, double* workspace, double* residual) {
    const size_t m = s->offsets[s->tile_count];
    *residual = 0;
    if (m == 0) return 0;
    mk_cf_pcg_state st = {
        .system = s, .p = p, .x = x,
        .r = workspace, .q = workspace + m, .d = workspace + 2 * m,
        .inverse_diagonal = workspace + 3 * m, .partial = workspace + 4 * m,
    };
    double* inverse = workspace + 3 * m;
    const double* extra_diagonal = s->extra_diagonal;
    for (size_t k = 0; k < m; k++) {
        const double dk = extra_diagonal ? diagonal[k] + extra_diagonal[k] : diagonal[k];
        inverse[k] = dk > 0 ? 1 / dk : 0;
    }
    const size_t tiles = s->tile_count, chunks = mk_cf_chunk_count(s);
    const int extra = s->extra_product != NULL;

    // b = c − A_UK x_K (A = L + E): the product of p, which holds the known values and 0 at
    // the unknowns.
    mk_cf_run(s, tiles, mk_cf_rhs_tile, &st);
    if (extra) s->extra_product(s->extra_context, p, st.q);
    if (extra || s->rhs) mk_cf_run(s, chunks, mk_cf_rhs_chunk, &st);
    const double norm_b = __builtin_sqrt(mk_cf_sum(&st, 0));
    // b = 0 (every known pixel 0, say: a trimap with background only): x = 0 solves the
    // system (a minimiser even when no pixel is known); the start is not an answer.
    if (norm_b == 0) {
        memset(x, 0, sizeof(double) * m);
        return 0;
    }
    // r = c − A x with the full iterate in p; then p becomes the direction, zero at knowns.
    for (size_t k = 0; k < m; k++) p[s->unknown[k]] = x[k];
    mk_cf_run(s, tiles, mk_cf_residual_tile, &st);
    if (extra) s->extra_product(s->extra_context, p, st.r);
    memset(p, 0, sizeof(double) * n);
    mk_cf_run(s, chunks, mk_cf_start_chunk, &st);
    double rz = mk_cf_sum(&st, 0);
    double rel = __builtin_sqrt(mk_cf_sum(&st, 1)) / norm_b;
    int iterations = 0;
    while (iterations < max_iterations && rel > tolerance) {
        iterations++;
        mk_cf_run(s, tiles, mk_cf_product_tile, &st);
        if (extra) {
            s->extra_product(s->extra_context, p, st.q);
            mk_cf_run(s, chunks, mk_cf_dot_chunk, &st);
        }
        const double dq = mk_cf_sum(&st, 0);
        if (!(dq > 0)) break;
        st.step = rz / dq;
        mk_cf_run(s, chunks, mk_cf_update_chunk, &st);
        const double rz_new = mk_cf_sum(&st, 0);
        rel = __builtin_sqrt(mk_cf_sum(&st, 1)) / norm_b;
        st.beta = rz != 0 ? rz_new / rz : 0;
        rz = rz_new;
        mk_cf_run(s, chunks, mk_cf_direction_chunk, &st);
        if (s->on_iteration && s->on_iteration(s->on_iteration_context, iterations, rel)) break;
    }
    *residual = rel;
    return iterations;
}
