// mk_f64_cf_sacg: flexible CG on the unknown pixels of a closed-form matting Laplacian,
// preconditioned by one V-cycle of smoothed aggregation on the image grid.
//
// Why: the slow modes of the matting Laplacian are functions locally affine in colour. A
// coarse space that holds them exactly — per block of pixels the four functions 1, r, g, b
// (Vaněk, Mandel, Brezina 1996: near-null-space candidates per aggregate) — keeps CG at a
// few dozen iterations to 1e-6 whatever the picture's size (Docs/Quality.md, the
// `amg-probe` section: 20–43 iterations in pyamg with fixed 4×4 or 5×5 blocks).
//
// Levels are grids of cells: level 0 the pixels (one unknown a cell), level 1 the
// `block` × `block` pixel blocks, below that 3 × 3 blocks of cells, each with up to four
// unknowns. On every level the operator couples cells at most 2 apart (level 0: the
// 3×3-window Laplacian; below, with aggregates at least 3 cells wide and a prolongation
// reaching 2 cells past its aggregate, PᵀAP reaches 2 aggregates), so it is stored as a
// 5 × 5 stencil of 4 × 4 blocks per cell, and cells in rows 3 or more apart are never
// coupled: the Gauss–Seidel sweeps run in bands of rows (the even bands on the pool, then
// the odd ones), cell by cell in reading order within a band. Every level's cells are in
// padded (reading) order, level 0's too (the system's unknowns come tile by tile). Vectors
// a smoother reads around a cell are kept as pictures padded by 2 cells (0 wherever there is
// no unknown), so no bounds are tested.
//
// Determinism: products, sweeps, the restriction (gathered per coarse cell) and the setup's
// tasks write only their own cells, each summing in a fixed order; the power iterations'
// dot products are per-chunk partial sums (chunks of a fixed size) added in chunk order;
// the rest of the setup and the outer loop's dot products are serial. FMA contraction is off (so the AVX2 copies of two setup loops
// give the same sums as the SSE2 ones).
#include <stdlib.h>
#include <string.h>
#include "cmk.h"
#include "cmk_threadpool.h"
#include "mk_multigrid.h"
#include "mk-two-isas.h"

#pragma clang fp contract(off)

enum {
    sa_max_levels = 12,
    sa_coarsest_unknowns = 400,  // the last level: a dense Cholesky factor (at most ~1.3 MB)
    sa_chunk = 2048,             // level 0's cells per task on the pool (sa_chunk_of)
    sa_band_rows = 4,            // rows of cells a Gauss–Seidel band holds (at least 2: sa_sweep)
    sa_power_iterations = 7,
};

// A candidate whose part orthogonal to the earlier ones is below this share of its norm
// is dropped (a nearly flat block: r, g, b ≈ multiples of 1).
static const double sa_drop = 1e-3;

// The cycle's vectors, smoothers and operators below level 0's product are Float: the
// preconditioner needs no more (the outer loop is flexible CG in Double, on the exact
// product), and Float halves what the sweeps stream.
typedef float sa_real;

typedef struct sa_level {
    int32_t w, h, pw;       // cells, and the padded picture's width w + 4
    int32_t offset[25];     // sa_offset(L, o): neighbour o's padded index less the cell's
    size_t padded;          // (w + 4)·(h + 4)
    int D;                  // unknowns a cell (1 on level 0, 4 below; absent ones are 0)
    size_t ncell;           // cells with unknowns
    int32_t* cell;          // their padded index
    int32_t* map;           // padded index → cell, or −1
    uint8_t* ndof;          // unknowns a cell (the first ndof of its D)
    size_t bands;           // rows of cells in bands of sa_band_rows: cells band_start[b] ..< band_start[b + 1]
    size_t* band_start;     // (cells are in padded order)
    int32_t* src;           // level 0: each cell's index among the system's unknowns
    float* A;               // per cell 25·D·D: [o][j][i] (blocks by columns), o = (dy + 2)·5 + dx + 2
    sa_real* invdiag;       // per cell D
    sa_real* block_inverse;  // per cell 16 (D = 4): its own 4 × 4 block's inverse (0 past ndof)
    double* B;              // per cell D × 4: the candidates in this level's basis
    sa_real* x;             // padded·D: the iterate
    sa_real* b;             // ncell·D: the right-hand side
    sa_real* r;             // ncell·D: scratch
    // To the next level (not on the last):
    int32_t* agg;           // per cell: its aggregate's padded index on the next level
    float* P;               // per cell, per unknown: 3 × 3 aggregates around agg × 4
    uint16_t* mask;         // per cell, per unknown: which of the 9 aggregates are nonzero
    size_t* agg_start;      // per padded aggregate g: its cells are members[agg_start[g]..<agg_start[g + 1]]
    int32_t* members;
    size_t* restrict_start;  // per coarse cell c and a, its aggregate (dy + 1)·3 + dx + 1: the fine unknowns
    int32_t* restrict_list;  // u reaching c, restrict_list[restrict_start[9c + a] ..< restrict_start[9c + a + 1]]
    // The last level:
    double* chol;           // nd × nd, nd = ncell·D (lower triangle)
    double* y;              // nd: the solve's scratch
} sa_level;

// The taps of a cell's stencil that a forward sweep has already updated when it reaches the
// cell (part 0, "lower") or updates after it (part 1, "upper"), for a cell in row rho of its
// band, the band even or odd (sa_split_taps): the 5-tap stencil rows (dy + 2) wholly in the
// part, as bits, and the cell's own row's two taps on the left (side −1) or right (+1); the
// same as neighbour indices o for the levels of blocks.
typedef struct sa_part {
    uint8_t rows;
    int8_t side;
    uint8_t count;
    uint8_t o[24];
} sa_part;

typedef struct sa_hierarchy {
    sa_level levels[sa_max_levels];
    sa_part part[2][2][sa_band_rows];  // [lower, upper][even, odd band][row in the band]
    size_t count;
    struct mk_threadpool* pool;
    size_t threads;       // the pool's workers (per-worker scratch)
    int pre[2], post[2];  // sweeps before / after the coarse correction: level 0, below
    int checks;             // test hook (mk_cf_mg_level.checks_galerkin): sa_coarsen checks P too
    double smooth_error;    // the largest sa_smooth_error over the levels (checks only; −1: out of memory)
} sa_hierarchy;

// A[cell k, unknown i; its neighbour o, unknown j].
static inline float sa_entry(const sa_level* L, size_t k, int o, int i, int j) {
    const int D = L->D;
    return L->A[(size_t) 25 * D * D * k + (size_t) o * D * D + (size_t) j * D + i];
}

static inline int32_t sa_offset(const sa_level* L, int o) { return (o / 5 - 2) * L->pw + (o % 5 - 2); }

// ---------------------------------------------------------------------------------------
// Cycle operations.

typedef struct sa_task {
    sa_level* L;
    sa_level* C;
    const double* in;
    double* out;
    size_t chunk;       // cells per task
    int backward;
    int phase;          // the sweep's bands: even (0) or odd (1)
    double* sums;       // power iterations: 3 partial sums a task
    double scale;
    const sa_part (*part)[2][sa_band_rows];  // the hierarchy's split taps (sa_presmooth)
} sa_task;

// Cells per task: about the same work (a cell of four unknowns costs 16 of level 0's).
static inline size_t sa_chunk_of(const sa_level* L) { return L->D == 1 ? sa_chunk : sa_chunk / 16; }

// fn(task, t) for the tasks t that cover `count` cells, on the pool if there are several.
static void sa_run(struct mk_threadpool* pool, size_t count, void (*fn)(void*, size_t, size_t), sa_task* task) {
    task->chunk = sa_chunk_of(task->L);
    const size_t chunks = (count + task->chunk - 1) / task->chunk;
    if (pool && chunks > 1) {
        mk_threadpool_run(pool, chunks, fn, task);
    } else {
        for (size_t t = 0; t < chunks; t++) fn(task, t, 0);
    }
}

// Four floats, loaded from any address (the stencils and pictures are not aligned to 16).
typedef float sa_v4 __attribute__((vector_size(16), aligned(4)));

static inline sa_v4 sa_load4(const float* p) {
    sa_v4 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

// Eight floats: two columns of a 4 × 4 block (sa_block_step).
typedef float sa_v8 __attribute__((vector_size(32), aligned(4)));

// Block b (4 × 4, by columns) times the four unknowns at xn, into the column sums s01
// (columns 0 and 1) and s23: lane for lane the products and adds of four 4-wide sums, 8 wide
// (one AVX register on the AVX2 copies).
static inline __attribute__((always_inline)) void sa_block_step(const float* b, const sa_real* xn, sa_v8* s01, sa_v8* s23) {
    const sa_v4 x = sa_load4(xn);
    sa_v8 b01, b23;  // (sa_v8 values stay out of function signatures: no AVX calling convention off the AVX2 copies)
    memcpy(&b01, b, sizeof(b01));
    memcpy(&b23, b + 8, sizeof(b23));
    *s01 += b01 * __builtin_shufflevector(x, x, 0, 0, 0, 0, 1, 1, 1, 1);
    *s23 += b23 * __builtin_shufflevector(x, x, 2, 2, 2, 2, 3, 3, 3, 3);
}

// (s0 + s1) + (s2 + s3) of the column sums.
static inline __attribute__((always_inline)) sa_v4 sa_block_sum(const sa_v8* s01, const sa_v8* s23) {
    return (__builtin_shufflevector(*s01, *s01, 0, 1, 2, 3) + __builtin_shufflevector(*s01, *s01, 4, 5, 6, 7))
         + (__builtin_shufflevector(*s23, *s23, 0, 1, 2, 3) + __builtin_shufflevector(*s23, *s23, 4, 5, 6, 7));
}

// (A x)[cell k, unknown i] for the iterate in L->x (D = 1: level 0). Each stencil row's first
// four taps as one 4-wide product, the rows in two independent sums (even, odd) so the adds
// do not wait on each other, the fifth column apart; a fixed order per cell.
static inline sa_real sa_row1_at(const float* restrict a, const sa_real* restrict x, ptrdiff_t pw) {
    const sa_v4 even = (sa_load4(a) * sa_load4(x) + sa_load4(a + 10) * sa_load4(x + 2 * pw)) + sa_load4(a + 20) * sa_load4(x + 4 * pw);
    const sa_v4 odd = sa_load4(a + 5) * sa_load4(x + pw) + sa_load4(a + 15) * sa_load4(x + 3 * pw);
    const sa_v4 s = even + odd;
    const sa_real last = ((a[4] * x[4] + a[9] * x[pw + 4]) + (a[14] * x[2 * pw + 4] + a[19] * x[3 * pw + 4])) + a[24] * x[4 * pw + 4];
    return ((s[0] + s[1]) + (s[2] + s[3])) + last;
}

static inline sa_real sa_row1(const sa_level* L, size_t k) { return sa_row1_at(L->A + 25 * k, L->x + L->cell[k] - 2 * L->pw - 2, L->pw); }

// (A x) at cell k's four unknowns (D = 4), without the cell's own block when `off` is set:
// 4-wide products, one sum per column of the blocks (four independent chains of adds).
static inline __attribute__((always_inline)) void sa_row4(const sa_level* L, size_t k, int off, sa_real out[4]) {
    const float* a = L->A + 400 * k;
    const sa_real* x = L->x + 4 * (size_t) L->cell[k];
    sa_v8 s01 = {0, 0, 0, 0, 0, 0, 0, 0}, s23 = s01;
    for (int o = 0; o < 25; o++) {
        if (off && o == 12) continue;
        sa_block_step(a + 16 * o, x + 4 * (ptrdiff_t) L->offset[o], &s01, &s23);
    }
    const sa_v4 s = sa_block_sum(&s01, &s23);
    for (int i = 0; i < 4; i++) out[i] = s[i];
}

// r = b − A x on a chunk of cells.
static void sa_residual_chunk(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    const size_t k1 = (t + 1) * task->chunk < L->ncell ? (t + 1) * task->chunk : L->ncell;
    if (L->D == 1) {
        for (size_t k = t * task->chunk; k < k1; k++) L->r[k] = L->b[k] - sa_row1(L, k);
        return;
    }
    for (size_t k = t * task->chunk; k < k1; k++) {
        sa_real ax[4];
        sa_row4(L, k, 0, ax);
        for (int i = 0; i < 4; i++) L->r[4 * k + i] = L->b[4 * k + i] - ax[i];
    }
}

// Task t of a pass over the bands of task->phase: band 2t + phase, its cells k0 ..< k1.
static inline void sa_band_cells(const sa_task* task, size_t t, size_t* band, size_t* k0, size_t* k1) {
    *band = 2 * t + (size_t) task->phase;
    *k0 = task->L->band_start[*band];
    *k1 = task->L->band_start[*band + 1];
}

// x = inv · rhs (a cell's inverted 4 × 4 block), each row in a fixed order.
static inline __attribute__((always_inline)) void sa_block_solve(const sa_real* inv, const sa_real rhs[4], sa_real* x) {
    for (int i = 0; i < 4; i++) x[i] = ((inv[4 * i] * rhs[0] + inv[4 * i + 1] * rhs[1]) + inv[4 * i + 2] * rhs[2]) + inv[4 * i + 3] * rhs[3];
}

// One Gauss–Seidel pass over band 2t + phase (its cells in order, or backwards); on the
// levels of four unknowns a cell, block Gauss–Seidel (the cell's 4 × 4 block inverted).
static inline __attribute__((always_inline)) void sa_sweep_band_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    size_t band, k0, k1;
    sa_band_cells(task, t, &band, &k0, &k1);
    if (L->D == 1) {
        // (The level's arrays in locals: the stores to x would otherwise reload them.)
        const float* restrict A = L->A;
        const sa_real* restrict b = L->b;
        const sa_real* restrict invdiag = L->invdiag;
        const int32_t* restrict cell = L->cell;
        sa_real* x = L->x;
        const ptrdiff_t pw = L->pw;
        const int backward = task->backward;
        for (size_t c = 0; c < k1 - k0; c++) {
            const size_t k = backward ? k1 - 1 - c : k0 + c;
            x[cell[k]] += (b[k] - sa_row1_at(A + 25 * k, x + cell[k] - 2 * pw - 2, pw)) * invdiag[k];
        }
        return;
    }
    for (size_t c = 0; c < k1 - k0; c++) {
        const size_t k = task->backward ? k1 - 1 - c : k0 + c;
        sa_real ax[4], rhs[4];
        sa_row4(L, k, 1, ax);
        for (int i = 0; i < 4; i++) rhs[i] = L->b[4 * k + i] - ax[i];
        sa_real* x = L->x + 4 * (size_t) L->cell[k];
        const sa_real* inv = L->block_inverse + 16 * k;
        sa_block_solve(inv, rhs, x);
    }
}

MK_TWO_ISAS(sa_sweep_band)

// A Gauss–Seidel pass: the even bands (rows of cells, sa_band_rows tall: two of them are
// never coupled), each in order, on the pool, then the odd ones; `backward` reverses all of
// it (the odd bands first, each backwards), so a forward pass then a backward one is
// symmetric. Each band is one task: the result does not depend on the thread count.
static void sa_sweep(const sa_hierarchy* H, sa_level* L, int backward) {
    void (*pass)(void*, size_t, size_t) = sa_sweep_band_for_cpu();
    for (int ph = 0; ph < 2; ph++) {
        sa_task task = {.L = L, .backward = backward, .phase = backward ? 1 - ph : ph};
        const size_t tasks = (L->bands + 1 - (size_t) task.phase) / 2;
        if (H->pool && tasks > 1 && L->ncell > sa_chunk_of(L)) {
            mk_threadpool_run(H->pool, tasks, pass, &task);
        } else {
            for (size_t t = 0; t < tasks; t++) pass(&task, t, 0);
        }
    }
}

// Whether neighbour o of a cell in row rho of a band of the given parity comes before the
// cell in a forward sweep: in the same band, the rows above and the cells to the left; in
// a neighbouring band (the stencil reaches 2 rows, a band is sa_band_rows ≥ 2 tall, so only
// the next band out, of the other parity), when that band is even and the cell's is odd.
static int sa_earlier(int parity, int rho, int o) {
    const int dy = o / 5 - 2, dx = o % 5 - 2, row = rho + dy;
    if (row >= 0 && row < sa_band_rows) return dy < 0 || (dy == 0 && dx < 0);
    return parity == 1;
}

static void sa_split_taps(sa_hierarchy* H) {
    for (int part = 0; part < 2; part++) {
        for (int parity = 0; parity < 2; parity++) {
            for (int rho = 0; rho < sa_band_rows; rho++) {
                sa_part* P = &H->part[part][parity][rho];
                memset(P, 0, sizeof(*P));
                P->side = part == 0 ? -1 : 1;
                for (int o = 0; o < 25; o++) {
                    if (o == 12 || sa_earlier(parity, rho, o) != (part == 0)) continue;
                    P->o[P->count++] = (uint8_t) o;
                    if (o / 5 != 2 && o % 5 == 0) P->rows |= (uint8_t) (1u << (o / 5));
                }
            }
        }
    }
}

// Σ a[o]·x[o] over a part of a 25-point row (level 0; a sa_part's rows and side): a the
// cell's row, x its neighbourhood's top-left corner. Each whole stencil row's first four
// taps 4-wide, a fixed order. (Inlined with constant rows by the callers' switches.)
static inline __attribute__((always_inline)) sa_real sa_part1(const float* restrict a, const sa_real* restrict x, ptrdiff_t pw,
                                                              unsigned rows, int side) {
    sa_v4 s = {0, 0, 0, 0};
    sa_real last = 0;
    for (int r = 0; r < 5; r++) {
        if (!(rows >> r & 1)) continue;
        s += sa_load4(a + 5 * r) * sa_load4(x + r * pw);
        last += a[5 * r + 4] * x[r * pw + 4];
    }
    const sa_real* x2 = x + 2 * pw;
    const sa_real own = side < 0 ? a[10] * x2[0] + a[11] * x2[1] : a[13] * x2[3] + a[14] * x2[4];
    return ((s[0] + s[1]) + (s[2] + s[3])) + (last + own);
}

// Level 0's cells k0 ..< k1 (one row of a band) in the forward pre-smoothing pass from x = 0
// (sa_presweep_band) with the lower part's rows, or the residual's upper part (sa_upper_band).
static inline __attribute__((always_inline)) void sa_row_pass1(const sa_level* L, size_t k0, size_t k1, unsigned rows, int upper) {
    const float* restrict A = L->A;
    const sa_real* restrict b = L->b;
    const sa_real* restrict invdiag = L->invdiag;
    const int32_t* restrict cell = L->cell;
    sa_real* restrict r = L->r;
    sa_real* x = L->x;
    const ptrdiff_t pw = L->pw;
    for (size_t k = k0; k < k1; k++) {
        const float* a = A + 25 * k;
        if (upper) {
            r[k] -= sa_part1(a, x + cell[k] - 2 * pw - 2, pw, rows, 1);
            continue;
        }
        const sa_real s = b[k] - sa_part1(a, x + cell[k] - 2 * pw - 2, pw, rows, -1);
        const sa_real xk = s * invdiag[k];
        x[cell[k]] = xk;
        r[k] = s - a[12] * xk;
    }
}

// sa_row_pass1 with the rows of bands of 4 (sa_split_taps) as constants, any other at run time.
#define SA_ROWS_CASE(m)                                                          \
    case m:                                                                      \
        if (upper) {                                                             \
            sa_row_pass1(L, k0, k1, m, 1);                                       \
        } else {                                                                 \
            sa_row_pass1(L, k0, k1, m, 0);                                       \
        }                                                                        \
        return;
static void sa_row_pass1_rows(const sa_level* L, size_t k0, size_t k1, unsigned rows, int upper) {
    switch (rows) {
    SA_ROWS_CASE(0x00) SA_ROWS_CASE(0x02) SA_ROWS_CASE(0x03) SA_ROWS_CASE(0x08)
    SA_ROWS_CASE(0x13) SA_ROWS_CASE(0x18) SA_ROWS_CASE(0x19) SA_ROWS_CASE(0x1b)
    default:
        if (upper) {
            sa_row_pass1(L, k0, k1, rows, 1);
        } else {
            sa_row_pass1(L, k0, k1, rows, 0);
        }
    }
}
#undef SA_ROWS_CASE

// Level 0's band `band` (cells k0 ..< k1), row by row: each row's cells found by bisection.
static void sa_band_pass1(const sa_level* L, size_t band, size_t k0, size_t k1, const sa_part* part, int upper) {
    size_t k = k0;
    for (int rho = 0; rho < sa_band_rows && k < k1; rho++) {
        const int32_t end = ((int32_t) band * sa_band_rows + rho + 3) * L->pw;  // past the row's padded cells
        size_t lo = k, hi = k1;
        while (lo < hi) {
            const size_t mid = lo + (hi - lo) / 2;
            if (L->cell[mid] < end) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        sa_row_pass1_rows(L, k, lo, part[rho].rows, upper);
        k = lo;
    }
}

// The same on a level of 4 × 4 blocks: Σ over the part's neighbours of block o times their x,
// one sum per block column as sa_row4.
static inline __attribute__((always_inline)) sa_v4 sa_part4(const float* restrict a, const sa_real* restrict x, const int32_t* offset, const sa_part* P) {
    sa_v8 s01 = {0, 0, 0, 0, 0, 0, 0, 0}, s23 = s01;
    for (int e = 0; e < P->count; e++) {
        const int o = P->o[e];
        sa_block_step(a + 16 * o, x + 4 * (ptrdiff_t) offset[o], &s01, &s23);
    }
    return sa_block_sum(&s01, &s23);
}

// Calls body(k, rho) for band `band`'s cells k0 ..< k1 (levels of blocks), rho each cell's
// row in the band.
#define SA_BAND_CELLS(L, band, k0, k1, body)                                          \
    do {                                                                              \
        int rho_ = 0;                                                                 \
        int32_t end_ = ((int32_t) (band) * sa_band_rows + 3) * (L)->pw;               \
        for (size_t k = (k0); k < (k1); k++) {                                        \
            while ((L)->cell[k] >= end_) {                                            \
                rho_++;                                                               \
                end_ += (L)->pw;                                                      \
            }                                                                         \
            const int rho = rho_;                                                     \
            body;                                                                     \
        }                                                                             \
    } while (0)

// The forward pre-smoothing pass from x = 0 on band 2t + phase, split: each cell's update
// needs only the neighbours already updated (x is 0 at the others), s = b − (lower part)·x,
// x_k = s / A_kk (block: the inverted block times s), and it leaves r_k = s − A_kk x_k, the
// residual's share of the cell and the earlier cells; sa_upper_band subtracts the rest once
// every cell is updated. x's earlier contents are never read.
static inline __attribute__((always_inline)) void sa_presweep_band_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    size_t band, k0, k1;
    sa_band_cells(task, t, &band, &k0, &k1);
    const sa_part* part = task->part[0][task->phase];
    if (L->D == 1) {
        sa_band_pass1(L, band, k0, k1, part, 0);
        return;
    }
    const float* restrict A = L->A;
    const sa_real* restrict b = L->b;
    sa_real* restrict r = L->r;
    sa_real* x = L->x;
    const int32_t* cell = L->cell;
    const sa_real* restrict inverse = L->block_inverse;
    SA_BAND_CELLS(L, band, k0, k1, {
        const float* a = A + 400 * k;
        sa_real* xk = x + 4 * (size_t) cell[k];
        const sa_v4 lower = sa_part4(a, xk, L->offset, part + rho);
        sa_real rhs[4];
        for (int i = 0; i < 4; i++) rhs[i] = b[4 * k + i] - lower[i];
        const sa_real* inv = inverse + 16 * k;
        sa_block_solve(inv, rhs, xk);
        const float* own = a + 16 * 12;
        const sa_v4 ax = (sa_load4(own) * xk[0] + sa_load4(own + 4) * xk[1]) + (sa_load4(own + 8) * xk[2] + sa_load4(own + 12) * xk[3]);
        for (int i = 0; i < 4; i++) r[4 * k + i] = rhs[i] - ax[i];
    });
}

MK_TWO_ISAS(sa_presweep_band)

// r −= (upper part)·x on band t: the residual b − A x after sa_presweep_band.
static inline __attribute__((always_inline)) void sa_upper_band_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    const size_t k0 = L->band_start[t], k1 = L->band_start[t + 1];
    const sa_part* part = task->part[1][t & 1];
    if (L->D == 1) {
        sa_band_pass1(L, t, k0, k1, part, 1);
        return;
    }
    const float* restrict A = L->A;
    sa_real* restrict r = L->r;
    const sa_real* x = L->x;
    const int32_t* cell = L->cell;
    SA_BAND_CELLS(L, t, k0, k1, {
        const sa_v4 upper = sa_part4(A + 400 * k, x + 4 * (size_t) cell[k], L->offset, part + rho);
        for (int i = 0; i < 4; i++) r[4 * k + i] -= upper[i];
    });
}

MK_TWO_ISAS(sa_upper_band)

#undef SA_BAND_CELLS

// One forward Gauss–Seidel pass from x = 0 and the residual r = b − A x after it, in
// about the work of one pass of full rows (not two: the sweep's rows with x = 0 at the later
// cells, then the residual's): the same bands and order as sa_sweep(H, L, 0) on x = 0.
static void sa_presmooth(const sa_hierarchy* H, sa_level* L) {
    const int parallel = H->pool && L->ncell > sa_chunk_of(L);
    void (*presweep)(void*, size_t, size_t) = sa_presweep_band_for_cpu();
    void (*upper)(void*, size_t, size_t) = sa_upper_band_for_cpu();
    sa_task task = {.L = L, .part = H->part};
    for (int ph = 0; ph < 2; ph++) {
        task.phase = ph;
        const size_t tasks = (L->bands + 1 - (size_t) ph) / 2;
        if (parallel && tasks > 1) {
            mk_threadpool_run(H->pool, tasks, presweep, &task);
        } else {
            for (size_t t = 0; t < tasks; t++) presweep(&task, t, 0);
        }
    }
    if (parallel && L->bands > 1) {
        mk_threadpool_run(H->pool, L->bands, upper, &task);
    } else {
        for (size_t t = 0; t < L->bands; t++) upper(&task, t, 0);
    }
}

// x += P x_coarse on a chunk of cells: per fine unknown, the aggregates of its mask in
// ascending order.
static void sa_prolong_chunk(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    const sa_level* C = task->C;
    const int D = L->D;
    const size_t k1 = (t + 1) * task->chunk < L->ncell ? (t + 1) * task->chunk : L->ncell;
    // (The arrays in locals: the stores to x would otherwise reload them.)
    sa_real* restrict xf = L->x;
    const sa_real* restrict xc = C->x;
    const float* restrict P = L->P;
    const uint16_t* restrict masks = L->mask;
    const uint8_t* restrict ndof = L->ndof;
    const int32_t* restrict cell = L->cell;
    const int32_t* restrict agg = L->agg;
    ptrdiff_t around[9];  // aggregate q's offset in C's x from the cell's own
    for (int q = 0; q < 9; q++) around[q] = 4 * ((ptrdiff_t) (q / 3 - 1) * C->pw + q % 3 - 1);
    for (size_t k = t * task->chunk; k < k1; k++) {
        sa_real* x = xf + (size_t) cell[k] * D;
        const sa_real* own = xc + 4 * (size_t) agg[k];
        for (int i = 0; i < ndof[k]; i++) {
            const float* p = P + 36 * (k * D + i);
            unsigned mask = masks[k * D + i];
            sa_v4 s = {0, 0, 0, 0};  // one sum per candidate J: independent adds
            while (mask) {
                const int q = __builtin_ctz(mask);
                mask &= mask - 1;
                s += sa_load4(p + 4 * q) * sa_load4(own + around[q]);
            }
            x[i] += (s[0] + s[1]) + (s[2] + s[3]);
        }
    }
}

// b_coarse = Pᵀ r on a chunk of coarse cells (task->L the coarse level, task->C the fine
// one): each coarse cell sums over the fine unknowns of the 3 × 3 aggregates around it whose
// prolongation reaches it, in a fixed order (sa_restriction_lists).
static void sa_restrict_chunk(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* C = task->L;
    const sa_level* F = task->C;
    const size_t k1 = (t + 1) * task->chunk < C->ncell ? (t + 1) * task->chunk : C->ncell;
    for (size_t c = t * task->chunk; c < k1; c++) {
        sa_real bc[4] = {0, 0, 0, 0};
        for (int a = 0; a < 9; a++) {
            const int q = 8 - a;  // c seen from its a-th aggregate
            for (size_t e = F->restrict_start[9 * c + a]; e < F->restrict_start[9 * c + a + 1]; e++) {
                const size_t u = (size_t) F->restrict_list[e];
                const float* p = F->P + 36 * u + 4 * q;
                for (int J = 0; J < 4; J++) bc[J] += p[J] * F->r[u];
            }
        }
        for (int J = 0; J < 4; J++) C->b[4 * c + J] = bc[J];
    }
}

// The restriction's lists: per coarse cell, the 3 × 3 aggregates around it (dy, then dx,
// ascending), in each the fine unknowns (by cell, then unknown) whose P row reaches the coarse
// cell, i.e. whose mask has the bit q of the cell seen from that aggregate. Built by scattering
// each fine unknown to the lists of its mask's coarse cells (counted first): list (c, a) only
// gets the unknowns of one aggregate, and they come in its members' order. Returns 0 when out
// of memory.
static int sa_restriction_lists(sa_level* F, const sa_level* C) {
    const int D = F->D;
    const size_t slots = 9 * C->ncell;
    ptrdiff_t around[9];  // aggregate q's padded index less the fine unknown's own
    for (int q = 0; q < 9; q++) around[q] = (ptrdiff_t) (q / 3 - 1) * C->pw + q % 3 - 1;
    F->restrict_start = calloc(slots + 1, sizeof(size_t));
    size_t* fill = malloc(sizeof(size_t) * (slots + 1));
    if (!F->restrict_start || !fill) {
        free(fill);
        return 0;
    }
    // c seen from aggregate q of a fine unknown is that aggregate's neighbour 8 − q.
    for (int pass = 0; pass < 2; pass++) {
        for (size_t s = 0; s < F->ncell; s++) {
            const size_t k = (size_t) F->members[s];
            const int32_t* map = C->map + F->agg[k];
            for (int i = 0; i < F->ndof[k]; i++) {
                const size_t u = k * D + i;
                for (unsigned m = F->mask[u]; m; m &= m - 1) {
                    const int q = __builtin_ctz(m);
                    const int32_t c = map[around[q]];
                    if (c < 0) continue;
                    const size_t slot = 9 * (size_t) c + 8 - q;
                    if (pass == 0) {
                        F->restrict_start[slot + 1]++;
                    } else {
                        F->restrict_list[fill[slot]++] = (int32_t) u;
                    }
                }
            }
        }
        if (pass == 0) {
            for (size_t e = 0; e < slots; e++) F->restrict_start[e + 1] += F->restrict_start[e];
            memcpy(fill, F->restrict_start, sizeof(size_t) * (slots + 1));
            F->restrict_list = malloc(sizeof(int32_t) * (F->restrict_start[slots] ? F->restrict_start[slots] : 1));
            if (!F->restrict_list) {
                free(fill);
                return 0;
            }
        }
    }
    free(fill);
    return 1;
}

static void sa_coarsest_solve(sa_level* L) {
    const size_t nd = L->ncell * L->D;
    const double* M = L->chol;
    double* y = L->y;
    for (size_t i = 0; i < nd; i++) {
        double s = L->b[i];
        for (size_t j = 0; j < i; j++) s -= M[i * nd + j] * y[j];
        y[i] = M[i * nd + i] > 0 ? s / M[i * nd + i] : 0;
    }
    for (size_t ii = 0; ii < nd; ii++) {
        const size_t i = nd - 1 - ii;
        double s = y[i];
        for (size_t j = i + 1; j < nd; j++) s -= M[j * nd + i] * y[j];
        y[i] = M[i * nd + i] > 0 ? s / M[i * nd + i] : 0;
    }
    for (size_t k = 0; k < L->ncell; k++) {
        for (int i = 0; i < L->D; i++) L->x[(size_t) L->cell[k] * L->D + i] = y[k * L->D + i];
    }
}

static void sa_vcycle(const sa_hierarchy* H, size_t l) {
    sa_level* L = (sa_level*) H->levels + l;
    const int D = L->D;
    if (l + 1 == H->count) {
        sa_coarsest_solve(L);
        return;
    }
    sa_level* C = (sa_level*) H->levels + l + 1;
    const int pre = H->pre[l > 0], post = H->post[l > 0];
    sa_task task = {.L = L, .C = C};
    if (pre == 1) {
        sa_presmooth(H, L);  // from x = 0, whatever x held
    } else {
        if (D == 1) {
            for (size_t k = 0; k < L->ncell; k++) L->x[L->cell[k]] = 0;
        } else {
            for (size_t k = 0; k < L->ncell; k++) {
                sa_real* x = L->x + (size_t) L->cell[k] * D;
                for (int i = 0; i < D; i++) x[i] = 0;
            }
        }
        for (int i = 0; i < pre; i++) sa_sweep(H, L, 0);
        if (pre > 0) {
            sa_run(H->pool, L->ncell, sa_residual_chunk, &task);
        } else {
            memcpy(L->r, L->b, sizeof(sa_real) * L->ncell * D);
        }
    }
    // Restriction Pᵀ r, gathered per coarse cell.
    sa_task gather = {.L = C, .C = L};
    sa_run(H->pool, C->ncell, sa_restrict_chunk, &gather);
    sa_vcycle(H, l + 1);
    sa_run(H->pool, L->ncell, sa_prolong_chunk, &task);
    for (int i = 0; i < post; i++) sa_sweep(H, L, 1);
}

// ---------------------------------------------------------------------------------------
// Setup.

static void sa_free_level(sa_level* L) {
    free(L->cell); free(L->map); free(L->ndof); free(L->band_start); free(L->src); free(L->A); free(L->invdiag); free(L->block_inverse);
    free(L->B); free(L->x); free(L->b); free(L->r); free(L->agg); free(L->P); free(L->mask); free(L->agg_start); free(L->members); free(L->restrict_start); free(L->restrict_list); free(L->chol); free(L->y);
    memset(L, 0, sizeof(*L));
}

// The level's bands and vectors. Needs w, h, pw, padded, D, ncell, cell (in padded order).
static int sa_finish_level(sa_level* L) {
    L->bands = ((size_t) L->h + sa_band_rows - 1) / sa_band_rows;
    L->band_start = calloc(L->bands + 1, sizeof(size_t));
    L->x = calloc(L->padded * L->D, sizeof(sa_real));
    L->b = calloc(L->ncell * L->D + 1, sizeof(sa_real));
    L->r = calloc(L->ncell * L->D + 1, sizeof(sa_real));
    if (!L->map) L->map = malloc(sizeof(int32_t) * L->padded);
    if (!L->band_start || !L->x || !L->b || !L->r || !L->map) return 0;
    for (int o = 0; o < 25; o++) L->offset[o] = sa_offset(L, o);
    for (size_t i = 0; i < L->padded; i++) L->map[i] = -1;
    for (size_t k = 0; k < L->ncell; k++) {
        L->map[L->cell[k]] = (int32_t) k;
        L->band_start[(size_t) (L->cell[k] / L->pw - 2) / sa_band_rows + 1]++;
    }
    for (size_t band = 0; band < L->bands; band++) L->band_start[band + 1] += L->band_start[band];
    return 1;
}

// Reorders `count` elements of `size` bytes in place, element e taking the former element
// perm[e] (cycle by cycle: level 0's rows are its largest array, so no second copy). 0 when
// out of memory (the array is then untouched).
static int sa_permute(void* array, size_t size, const int32_t* perm, size_t count) {
    char* a = array;
    uint8_t* done = calloc(count ? count : 1, 1);
    char* held = malloc(size);
    if (!done || !held) {
        free(done); free(held);
        return 0;
    }
    for (size_t e = 0; e < count; e++) {
        if (done[e]) continue;
        memcpy(held, a + size * e, size);
        size_t j = e;
        for (;;) {
            done[j] = 1;
            const size_t from = (size_t) perm[j];
            if (from == e) {
                memcpy(a + size * j, held, size);
                break;
            }
            memcpy(a + size * j, a + size * from, size);
            j = from;
        }
    }
    free(done); free(held);
    return 1;
}

// A power iteration's step on cells k0 ..< k1 of a level of D unknowns a cell (a constant at
// each call): r = −A x (as 0 − A x: the residual with b = 0), and the cells' sums (each in
// cell order) of |D⁻¹A x|² into sums[2] and, when `both` is set (the step whose estimate is
// kept), of xᵀA x and xᵀD x into sums[0], sums[1].
static inline __attribute__((always_inline)) void sa_power_cells(const sa_level* L, size_t k0, size_t k1, int D, int both, double sums[3]) {
    const sa_real zero = 0;
    const sa_real* restrict invdiag = L->invdiag;
    sa_real* restrict r = L->r;
    double xax = 0, xdx = 0, norm = 0;
    for (size_t k = k0; k < k1; k++) {
        sa_real ax[4];
        if (D == 1) {
            ax[0] = sa_row1(L, k);
        } else {
            sa_row4(L, k, 0, ax);
        }
        for (int i = 0; i < D; i++) {
            const size_t u = k * D + i;
            const sa_real ru = zero - ax[i];
            r[u] = ru;
            const double dr = (double) invdiag[u] * ru;
            norm += dr * dr;
            if (both) {
                const double xi = L->x[(size_t) L->cell[k] * D + i];
                xax -= xi * ru;
                xdx += invdiag[u] > 0 ? xi * xi / invdiag[u] : 0;
            }
        }
    }
    sums[0] = xax;
    sums[1] = xdx;
    sums[2] = norm;
}

// sa_power_cells on task t's chunk, its sums into task->sums + 3t; task->phase: `both`.
static inline __attribute__((always_inline)) void sa_power_chunk_body(void* context, size_t t, size_t worker) {
    (void) worker;
    sa_task* task = context;
    const sa_level* L = task->L;
    const size_t k0 = t * task->chunk, k1 = (t + 1) * task->chunk < L->ncell ? (t + 1) * task->chunk : L->ncell;
    double* sums = task->sums + 3 * t;
    if (L->D == 1) {
        if (task->phase) {
            sa_power_cells(L, k0, k1, 1, 1, sums);
        } else {
            sa_power_cells(L, k0, k1, 1, 0, sums);
        }
    } else if (task->phase) {
        sa_power_cells(L, k0, k1, 4, 1, sums);
    } else {
        sa_power_cells(L, k0, k1, 4, 0, sums);
    }
}

MK_TWO_ISAS(sa_power_chunk)

// x = D⁻¹A x / |D⁻¹A x| (r holds −A x) on a chunk of cells.
static inline __attribute__((always_inline)) void sa_power_scale_chunk_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    const sa_level* L = task->L;
    const size_t k1 = (t + 1) * task->chunk < L->ncell ? (t + 1) * task->chunk : L->ncell;
    const sa_real* restrict invdiag = L->invdiag;
    const sa_real* restrict r = L->r;
    const int32_t* restrict cell = L->cell;
    sa_real* restrict x = L->x;
    const double scale = task->scale;
    if (L->D == 1) {
        for (size_t k = t * task->chunk; k < k1; k++) x[cell[k]] = (sa_real) (-(double) invdiag[k] * r[k] * scale);
        return;
    }
    for (size_t k = t * task->chunk; k < k1; k++) {
        for (int i = 0; i < 4; i++) x[4 * (size_t) cell[k] + i] = (sa_real) (-(double) invdiag[4 * k + i] * r[4 * k + i] * scale);
    }
}

MK_TWO_ISAS(sa_power_scale_chunk)

// D⁻¹A's largest eigenvalue on level L: power iterations from a fixed start, the products
// and dot products on the pool (per-chunk partial sums added in chunk order: chunks are a
// fixed number of cells, so the estimate does not depend on the thread count), into
// *lambda: the Rayleigh quotient xᵀA x / xᵀD x of the last step's x (xᵀA x and xᵀD x are
// summed on that step only, and its x is not scaled: it is zeroed after). Returns 0 when
// out of memory.
static int sa_largest_eigenvalue(const sa_hierarchy* H, sa_level* L, double* lambda) {
    const int D = L->D;
    const size_t chunks = (L->ncell + sa_chunk_of(L) - 1) / sa_chunk_of(L);
    double* sums = malloc(sizeof(double) * 3 * (chunks ? chunks : 1));
    if (!sums) return 0;
    *lambda = 0;
    void (*power)(void*, size_t, size_t) = sa_power_chunk_for_cpu();
    void (*scale)(void*, size_t, size_t) = sa_power_scale_chunk_for_cpu();
    for (size_t k = 0; k < L->ncell; k++) {
        for (int i = 0; i < D; i++) {
            const size_t u = k * D + i;
            L->x[(size_t) L->cell[k] * D + i] = L->invdiag[u] > 0 ? (sa_real) ((double) ((u * 2654435761u) % 1000) / 1000.0 - 0.5) : 0;
        }
    }
    for (int it = 0; it < sa_power_iterations; it++) {
        const int last = it + 1 == sa_power_iterations;
        sa_task task = {.L = L, .sums = sums, .phase = last};
        sa_run(H->pool, L->ncell, power, &task);
        double norm = 0;
        for (size_t t = 0; t < chunks; t++) norm += sums[3 * t + 2];
        const int stop = last || !(norm > 0);
        if (stop && !last) {
            task.phase = 1;  // stopping early: this step's estimate is kept
            sa_run(H->pool, L->ncell, power, &task);
        }
        if (stop) {
            double xax = 0, xdx = 0;
            for (size_t t = 0; t < chunks; t++) {
                xax += sums[3 * t];
                xdx += sums[3 * t + 1];
            }
            *lambda = xdx > 0 ? xax / xdx : 0;
            break;
        }
        task.scale = 1 / __builtin_sqrt(norm);
        sa_run(H->pool, L->ncell, scale, &task);
    }
    free(sums);
    for (size_t k = 0; k < L->ncell; k++) memset(L->x + (size_t) L->cell[k] * D, 0, sizeof(sa_real) * D);
    return 1;
}

// The row step dy of d = dy·pw + dx, |dx|, |dy| ≤ 1 (pw ≥ 5): compares, not a division, in
// the setup's innermost loops.
static inline int32_t sa_aggregate_row(int32_t d, int32_t pw) { return d >= pw - 1 ? 1 : (d <= 1 - pw ? -1 : 0); }


// Aggregate q of a 3 × 3 (bit q of a P mask) as a position on a 5 × 5 ((q / 3)·5 + q % 3):
// the 3 × 3's mask spread to the 5 × 5's bits.
static inline unsigned sa_spread(unsigned m) { return (m & 7u) | (m & 0x38u) << 2 | (m & 0x1c0u) << 4; }
static const unsigned char sa_q5[9] = {0, 1, 2, 5, 6, 7, 10, 11, 12};  // q's position on the 5 × 5

// The (A P) row of level-0 cell k (D = 1: one unknown, a 25-entry stencil row) on the 5 × 5
// aggregates around its own, added into ap[0 ..< 100] (which is 0 where it returns no bit);
// returns the positions it touched. Each entry gets, neighbour by neighbour in stencil order,
// a·P[v] — the terms and order of the general row below, without its per-unknown loops.
// shift[o]: neighbour o's aggregate's q = 0 on the 5 × 5, for cell k's place in its aggregate
// (the table sa_galerkin_row_body builds); spread[m] = sa_spread(m).
static inline __attribute__((always_inline)) unsigned sa_ap_row1(const sa_level* F, size_t k, const signed char* shift,
                                                                   const unsigned* spread, double* ap) {
    // (The level's arrays in locals: the stores to ap would otherwise reload them.)
    const int32_t* restrict map = F->map + F->cell[k];
    const int32_t* restrict offset = F->offset;
    const float* restrict row = F->A + 25 * k;
    const uint16_t* restrict mask = F->mask;
    const float* restrict P = F->P;
    unsigned reach = 0;
#pragma clang loop unroll(full)  // (unrolled: no loop counter or index arithmetic)
    for (int o = 0; o < 25; o++) {
        const int32_t kn = map[offset[o]];
        if (kn < 0) continue;
        const double a = row[o];
        if (a == 0) continue;
        const unsigned m = mask[kn];
        reach |= spread[m] << shift[o];
        const float* p = P + 36 * (size_t) kn;
        double* t = ap + 4 * shift[o];
        // Row by row of the 3 × 3, all three aggregates of a row that has any (P is 0 outside
        // its mask: those terms are signed zeros, which change no sum).
        for (int qy = 0; qy < 3; qy++) {
            if (!(m >> (3 * qy) & 7u)) continue;
            for (int e = 0; e < 12; e++) t[20 * qy + e] += a * p[12 * qy + e];
        }
    }
    return reach;
}

// The (A P) rows of cell k's unknowns i in `need` (D = 4) into ap[100 i ..], as sa_ap_row1:
// per neighbour cell and aggregate q, Σ_j A[(k, i), (kn, j)] P[(kn, j), q] summed over all 4 j
// in order, then added. (Past a cell's ndof, A and P hold zeros, and a zero entry of A or P
// adds a signed 0: the sums' values are those of skipping it, as the row-by-row loop did.)
// The neighbour's map, aggregate and P rows are looked up once for all i.
static inline __attribute__((always_inline)) unsigned sa_ap_rows(const sa_level* F, size_t k, unsigned need, int32_t pwc,
                                                                   double* ap) {
    const int32_t* map = F->map + F->cell[k];
    const int32_t ak = F->agg[k];
    unsigned reach = 0;
    for (int o = 0; o < 25; o++) {
        const int32_t kn = map[F->offset[o]];
        if (kn < 0) continue;
        // The block (4 × 4, [j][i]: 0 past either cell's ndof) and the 4 P rows (0 past ndof).
        const float* block = F->A + (size_t) 400 * k + (size_t) 16 * o;
        const float* pn = F->P + 36 * (size_t) kn * 4;
        const uint16_t* mn = F->mask + (size_t) kn * 4;
        unsigned m = mn[0] | mn[1] | mn[2] | mn[3];
        double b[16];
        for (int e = 0; e < 16; e++) b[e] = block[e];
        const int32_t d = F->agg[kn] - ak;
        const int32_t dy = sa_aggregate_row(d, pwc), dx = d - dy * pwc;
        const int shift = (dy + 1) * 5 + dx + 1;
        reach |= sa_spread(m) << shift;
        double* t = ap + 4 * shift;
        for (; m; m &= m - 1) {
            const int q = __builtin_ctz(m);
            double pj[4][4];
            for (int j = 0; j < 4; j++) {
                for (int J = 0; J < 4; J++) pj[j][J] = pn[36 * j + 4 * q + J];
            }
            double* tq = t + 4 * sa_q5[q];
            for (int i = 0; i < 4; i++) {  // (a fixed count: unrolled, ap's row offsets constants)
                if (!(need >> i & 1)) continue;
                for (int J = 0; J < 4; J++) {
                    const double sum = b[i] * pj[0][J] + b[4 + i] * pj[1][J] + b[8 + i] * pj[2][J] + b[12 + i] * pj[3][J];
                    tq[100 * i + J] += sum;
                }
            }
        }
    }
    return reach;
}

enum {
    sa_galerkin_rows = 8,    // coarse rows of cells a task assembles
    sa_galerkin_cell = 208,  // doubles a cell of a task's scratch: its 13 blocks o ≥ 12
};

typedef struct sa_galerkin_state {
    const sa_level* F;
    sa_level* C;
    int a;            // F's cells an aggregate is wide (3 to 5)
    double* scratch;  // per worker: sa_galerkin_cell doubles per cell of sa_galerkin_rows coarse rows
} sa_galerkin_state;

// Rows Y0 ..< Y1 of C's cells (sa_galerkin_rows of them, task t): their operator rows
// Σ P[u, (c, I)] (A P)[u, :] over the fine unknowns u whose prolongation reaches them (those of
// the aggregate rows Y0 − 1 … Y1), each fine unknown's (A P) row on the 5 × 5 aggregates
// around its own, computed once per task (a fine unknown whose P spans two coarse rows of the
// task is not computed twice; one at a task's edge is, by both tasks); fine unknowns in a
// fixed order (aggregate by aggregate, row by row), so the sums do not depend on the thread
// count. Only the blocks o ≥ 12 (sa_galerkin_mirror fills the rest); written as Float, with
// each cell's inverse block and inverse diagonal.
static inline __attribute__((always_inline)) void sa_galerkin_row_body(void* context, size_t t, size_t worker) {
    const sa_galerkin_state* st = context;
    const sa_level* F = st->F;
    sa_level* C = st->C;
    const int D = F->D;
    const int32_t pwc = C->pw, Y0 = (int32_t) (sa_galerkin_rows * t) + 2;  // padded rows
    const int32_t Y1 = Y0 + sa_galerkin_rows < C->h + 2 ? Y0 + sa_galerkin_rows : C->h + 2;
    double* G = st->scratch + sa_galerkin_cell * (size_t) pwc * sa_galerkin_rows * worker;  // by row, padded column
    // Only the task's coarse cells are summed into (P reaches only aggregates that kept a
    // candidate, which are cells): zero their scratch, not the whole rows.
    for (int32_t Y = Y0; Y < Y1; Y++) {
        for (int32_t X = 2; X < pwc - 2; X++) {
            if (C->map[(size_t) Y * pwc + X] < 0) continue;
            memset(G + sa_galerkin_cell * ((size_t) (Y - Y0) * pwc + (size_t) X), 0, sizeof(double) * sa_galerkin_cell);
        }
    }
    // blocks[q]: the positions pos on the 5 × 5 aggregates around a fine unknown's own that are
    // blocks o ≥ 12 of the coarse cell q (of the 3 × 3 around it) — the ones computed here.
    unsigned blocks[9] = {0};
    for (int q = 0; q < 9; q++) {
        for (int pos = 0; pos < 25; pos++) {
            const int rx = pos % 5 - 2 - (q % 3 - 1), ry = pos / 5 - 2 - (q / 3 - 1);
            if (rx >= -2 && rx <= 2 && ry >= -2 && ry <= 2 && (ry + 2) * 5 + rx + 2 >= 12) blocks[q] |= 1u << pos;
        }
    }
    // Level 0 (D = 1): where each stencil neighbour's aggregate lies on the 5 × 5 around the
    // cell's own, by the cell's place (x mod a, y mod a) in its a × a aggregate — the row step
    // agg[kn] − agg[k] gives, without looking it up — and the masks' spread to the 5 × 5.
    const int aw = st->a;
    signed char shift[25][25];
    unsigned spread[512];
    if (D == 1) {
        for (int phase = 0; phase < aw * aw; phase++) {
            for (int o = 0; o < 25; o++) {
                const int dx = (phase % aw + o % 5 - 2 + aw) / aw - 1, dy = (phase / aw + o / 5 - 2 + aw) / aw - 1;
                shift[phase][o] = (signed char) ((dy + 1) * 5 + dx + 1);
            }
        }
        for (unsigned m = 0; m < 512; m++) spread[m] = sa_spread(m);
    }
    // ap[100 i ..< 100 (i + 1)]: the (A P) row of cell k's unknown i on the 5 × 5 aggregates
    // around its own (zeroed after use).
    double ap[400] = {0};
    for (int32_t gy = Y0 - 1; gy <= Y1; gy++) {
        // The rows of P's 3 × 3 aggregates that lie in Y0 ..< Y1.
        unsigned rowmask = 0;
        for (int qy = 0; qy < 3; qy++) {
            if (gy + qy - 1 >= Y0 && gy + qy - 1 < Y1) rowmask |= 7u << (3 * qy);
        }
        for (int32_t gx = 1; gx < pwc - 1; gx++) {
            const size_t g = (size_t) gy * pwc + gx;
            for (size_t s = F->agg_start[g]; s < F->agg_start[g + 1]; s++) {
                const size_t k = (size_t) F->members[s];
                unsigned need = 0;  // the cell's unknowns whose P reaches the task's rows
                for (int i = 0; i < F->ndof[k]; i++) {
                    if (F->mask[k * D + i] & rowmask) need |= 1u << i;
                }
                if (!need) continue;
                unsigned reach;
                if (D == 1) {
                    const int32_t x = F->cell[k] % F->pw - 2, y = F->cell[k] / F->pw - 2;
                    reach = sa_ap_row1(F, k, shift[(y % aw) * aw + x % aw], spread, ap);
                } else {
                    reach = sa_ap_rows(F, k, need, pwc, ap);
                }
                for (unsigned mi = need; mi; mi &= mi - 1) {
                    const int i = __builtin_ctz(mi);
                    const size_t u = k * D + i;
                    const double* apu = ap + 100 * i;
                    const float* p = F->P + 36 * u;
                    for (unsigned m = F->mask[u] & rowmask; m; m &= m - 1) {
                        const int q = __builtin_ctz(m);
                        const int qx = q % 3, qy = q / 3;
                        double* gc = G + sa_galerkin_cell * ((size_t) (gy + qy - 1 - Y0) * pwc + (size_t) (gx + qx - 1));
                        double pv[4];
                        for (int I = 0; I < 4; I++) pv[I] = p[4 * q + I];
                        for (unsigned mp = reach & blocks[q]; mp; mp &= mp - 1) {
                            const int pos = __builtin_ctz(mp);
                            const int o = pos - 5 * (qy - 1) - (qx - 1);
                            // Block column J (contiguous in I): each entry gets the one term it got
                            // row by row (a 0 of P adds a signed 0, which changes no sum).
                            for (int J = 0; J < 4; J++) {
                                const double a = apu[4 * pos + J];
                                double* gg = gc + 16 * (o - 12) + 4 * J;
                                for (int I = 0; I < 4; I++) gg[I] += pv[I] * a;
                            }
                        }
                    }
                    for (unsigned m = reach; m; m &= m - 1) {
                        for (int J = 0; J < 4; J++) ap[100 * i + 4 * __builtin_ctz(m) + J] = 0;
                    }
                }
            }
        }
    }
    for (int32_t Y = Y0; Y < Y1; Y++) {
        for (int32_t X = 2; X < pwc - 2; X++) {
            const int32_t c32 = C->map[(size_t) Y * pwc + X];
            if (c32 < 0) continue;
            const size_t c = (size_t) c32;
            const double* gc = G + sa_galerkin_cell * ((size_t) (Y - Y0) * pwc + (size_t) X);
            for (int e = 0; e < sa_galerkin_cell; e++) C->A[400 * c + 16 * 12 + e] = (float) gc[e];
            // The inverse of the cell's own block on its ndof unknowns (Gauss–Jordan; the block is
            // symmetric positive definite, so no pivoting), from the Float entries the sweeps use.
            const int nd = C->ndof[c];
            double M[16], N[16] = {0};
            for (int e = 0; e < 16; e++) M[e] = C->A[400 * c + 16 * 12 + e];
            for (int i = 0; i < nd; i++) N[5 * i] = 1;
            int ok = 1;
            for (int j = 0; j < nd && ok; j++) {
                const double pivot = M[5 * j];
                if (!(pivot > 0)) {
                    ok = 0;
                    break;
                }
                for (int e = 0; e < 4; e++) {
                    M[4 * j + e] /= pivot;
                    N[4 * j + e] /= pivot;
                }
                for (int i = 0; i < nd; i++) {
                    if (i == j) continue;
                    const double f = M[4 * i + j];
                    for (int e = 0; e < 4; e++) {
                        M[4 * i + e] -= f * M[4 * j + e];
                        N[4 * i + e] -= f * N[4 * j + e];
                    }
                }
            }
            for (int e = 0; e < 16; e++) C->block_inverse[16 * c + e] = 0;
            for (int i = 0; i < nd; i++) {
                for (int j = 0; j < nd; j++) {
                    const double d = C->A[400 * c + 16 * 12 + 5 * i];
                    C->block_inverse[16 * c + 4 * i + j] = ok ? N[4 * i + j] : (i == j && d > 0 ? 1 / d : 0);
                }
            }
            for (int I = 0; I < 4; I++) {
                const double d = gc[5 * I];
                C->invdiag[4 * c + I] = I < C->ndof[c] && d > 0 ? 1 / d : 0;
            }
        }
    }
}

MK_TWO_ISAS(sa_galerkin_row)

// PᵀAP is symmetric: sa_galerkin_row computes each cell's blocks o ≥ 12 (the neighbours
// from the cell on, in reading order); block o < 12 is the transpose of the neighbour's
// block 24 − o. Cells of one chunk write only their own blocks and read only blocks o > 12.
static void sa_galerkin_mirror(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_task* task = context;
    sa_level* C = task->L;
    const size_t k1 = (t + 1) * task->chunk < C->ncell ? (t + 1) * task->chunk : C->ncell;
    for (size_t c = t * task->chunk; c < k1; c++) {
        for (int o = 0; o < 12; o++) {
            const int32_t cn = C->map[C->cell[c] + sa_offset(C, o)];
            float* out = C->A + 400 * c + 16 * o;
            if (cn < 0) {
                memset(out, 0, sizeof(float) * 16);
                continue;
            }
            const float* in = C->A + 400 * (size_t) cn + 16 * (24 - o);
            for (int J = 0; J < 4; J++) {
                for (int I = 0; I < 4; I++) out[4 * J + I] = in[4 * I + J];
            }
        }
    }
}

typedef struct sa_smooth_state {
    sa_level* F;
    const sa_level* C;
    const double* tentative;  // per fine unknown, its 4 candidates' weights on its aggregate
    double omega;
    int a;                    // F's cells an aggregate is wide
    size_t chunk;             // fine cells per task
} sa_smooth_state;

// Row u's 36 entries as Float into P, and its mask (the aggregates with a nonzero entry).
static inline __attribute__((always_inline)) void sa_store_p_row(sa_level* F, size_t u, const double* p) {
    float* out = F->P + 36 * u;
    unsigned mask = 0;
    for (int q = 0; q < 9; q++) {
        int nonzero = 0;
        for (int J = 0; J < 4; J++) {
            out[4 * q + J] = (float) p[4 * q + J];
            nonzero |= out[4 * q + J] != 0;
        }
        mask |= (unsigned) nonzero << q;
    }
    F->mask[u] = (uint16_t) mask;
}

// Four doubles (a P row's entries on one aggregate), from any address.
typedef double sa_d4 __attribute__((vector_size(32), aligned(8)));

// Rows of the smoothed prolongation P = (I − ω D⁻¹A) P_tent for fine cells chunk·t ..<
// chunk·(t + 1) (each row written by its own cell's task: any thread order); row u on the
// 3 × 3 aggregates around u's own (A reaches 2 cells, at most one aggregate over), and its mask.
// Each entry gets, neighbour by neighbour in stencil order and within a neighbour unknown by
// unknown, p −= (ω d_u a)·t (on level 0, A's zero entries skipped). A neighbour's aggregate q comes from a
// table by the cell's place (x mod a, y mod a) in its a × a aggregate (the row step
// agg[kn] − agg[k] gives the same), and on the levels of four unknowns a neighbour cell is
// looked up once for all of them.
static inline __attribute__((always_inline)) void sa_smooth_chunk_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const sa_smooth_state* st = context;
    sa_level* F = st->F;
    const double* tentative = st->tentative;
    const double omega = st->omega;
    const int D = F->D, aw = st->a;
    const size_t k1 = (t + 1) * st->chunk < F->ncell ? (t + 1) * st->chunk : F->ncell;
    unsigned char around[25][25];  // [place][o]: neighbour o's aggregate's q on the 3 × 3
    for (int phase = 0; phase < aw * aw; phase++) {
        for (int o = 0; o < 25; o++) {
            const int dx = (phase % aw + o % 5 - 2 + aw) / aw - 1, dy = (phase / aw + o / 5 - 2 + aw) / aw - 1;
            around[phase][o] = (unsigned char) ((dy + 1) * 3 + dx + 1);
        }
    }
    const int32_t* offset = F->offset;
    for (size_t k = t * st->chunk; k < k1; k++) {
        const int32_t x = F->cell[k] % F->pw - 2, y = F->cell[k] / F->pw - 2;
        const unsigned char* qo = around[(y % aw) * aw + x % aw];
        const int32_t* map = F->map + F->cell[k];
        if (D == 1) {
            const float* row = F->A + 25 * k;
            double p[36] = {0};
            for (int J = 0; J < 4; J++) p[16 + J] = tentative[4 * k + J];
            const double w = omega * F->invdiag[k];
            for (int o = 0; o < 25; o++) {
                const int32_t kn = map[offset[o]];
                if (kn < 0) continue;
                const double av = row[o];
                if (av == 0) continue;
                const double wa = w * av;
                const double* tn = tentative + 4 * (size_t) kn;
                double* pq = p + 4 * qo[o];
                for (int J = 0; J < 4; J++) pq[J] -= wa * tn[J];
            }
            sa_store_p_row(F, k, p);
            continue;
        }
        // Four unknowns: per neighbour cell, its block's 16 terms into the four rows' entries
        // of its aggregate, held 4-wide; unknowns past either cell's ndof have a 0 weight w, a
        // 0 block entry or a 0 tentative row, whose terms are signed zeros (no sum changes), so
        // all 4 × 4 are added, and A's zero entries too.
        const int nd = F->ndof[k];
        double p[4][36] = {{0}};
        double w[4] = {0, 0, 0, 0};
        for (int i = 0; i < nd; i++) {
            for (int J = 0; J < 4; J++) p[i][16 + J] = tentative[4 * (k * D + i) + J];
            w[i] = omega * F->invdiag[k * D + i];
        }
        for (int o = 0; o < 25; o++) {
            const int32_t kn = map[offset[o]];
            if (kn < 0) continue;
            const float* block = F->A + (size_t) 400 * k + (size_t) 16 * o;  // [j][i]
            const int q = qo[o];
            sa_d4 acc[4];
            for (int i = 0; i < 4; i++) memcpy(&acc[i], p[i] + 4 * q, sizeof(sa_d4));
            for (int j = 0; j < 4; j++) {
                sa_d4 tn;
                memcpy(&tn, tentative + 4 * ((size_t) kn * D + j), sizeof(sa_d4));
                for (int i = 0; i < 4; i++) acc[i] -= (w[i] * (double) block[4 * j + i]) * tn;
            }
            for (int i = 0; i < 4; i++) memcpy(p[i] + 4 * q, &acc[i], sizeof(sa_d4));
        }
        for (int i = 0; i < nd; i++) sa_store_p_row(F, k * D + i, p[i]);
    }
}

MK_TWO_ISAS(sa_smooth_chunk)

// Test hook (mk_cf_mg_level.checks_galerkin): F's smoothed prolongation against its rows
// computed the plain way, (I − ω D⁻¹A) P_tent row by row — per fine unknown, per stencil
// neighbour (its aggregate from the row step of the aggregates' padded indices), per unknown
// of it, every term into a Double row of 36, then rounded to Float. Returns the largest
// |P − reference| relative to the row's largest reference entry; a mask that is not the
// reference row's nonzero aggregates counts as 1.
static double sa_smooth_error(const sa_level* F, const sa_level* C, const double* tentative, double omega) {
    const int D = F->D;
    double worst = 0;
    for (size_t k = 0; k < F->ncell; k++) {
        for (int i = 0; i < F->ndof[k]; i++) {
            const size_t u = k * D + i;
            double p[36] = {0};
            for (int J = 0; J < 4; J++) p[16 + J] = tentative[4 * u + J];
            const double w = omega * F->invdiag[u];
            for (int o = 0; o < 25; o++) {
                const int32_t kn = F->map[F->cell[k] + sa_offset(F, o)];
                if (kn < 0) continue;
                const int32_t d = F->agg[kn] - F->agg[k];
                const int32_t dy = sa_aggregate_row(d, C->pw), dx = d - dy * C->pw;
                const int q = (dy + 1) * 3 + dx + 1;
                for (int j = 0; j < F->ndof[kn]; j++) {
                    const double av = sa_entry(F, k, o, i, j);
                    for (int J = 0; J < 4; J++) p[4 * q + J] -= w * av * tentative[4 * ((size_t) kn * D + j) + J];
                }
            }
            double scale = 0, diff = 0;
            unsigned mask = 0;
            for (int e = 0; e < 36; e++) {
                const float ref = (float) p[e];
                if (ref != 0) mask |= 1u << (e / 4);
                scale = __builtin_fmax(scale, __builtin_fabs(ref));
                const double de = __builtin_fabs((double) F->P[36 * u + e] - ref);
                diff = de == de ? __builtin_fmax(diff, de) : __builtin_inf();
            }
            const double relative = mask != F->mask[u] ? 1 : (scale > 0 ? diff / scale : diff);
            if (!(relative <= worst)) worst = relative;  // (a NaN counts)
        }
    }
    return worst;
}

// Level C from level F with aggregates of a × a cells: the tentative prolongation (the
// candidates orthonormalised per aggregate), smoothed by one damped-Jacobi step of F's
// operator, and C's operator PᵀAP. Returns 0 when out of memory.
static int sa_coarsen(sa_hierarchy* H, sa_level* F, sa_level* C, int a) {
    const int D = F->D;
    C->w = (F->w + a - 1) / a;
    C->h = (F->h + a - 1) / a;
    C->pw = C->w + 4;
    C->padded = (size_t) C->pw * (size_t) (C->h + 4);
    C->D = 4;
    const size_t nf = F->ncell * D;
    F->agg = malloc(sizeof(int32_t) * (F->ncell ? F->ncell : 1));
    size_t* start = calloc(C->padded + 1, sizeof(size_t));
    int32_t* members = malloc(sizeof(int32_t) * (F->ncell ? F->ncell : 1));
    double* tentative = calloc(nf * 4 + 1, sizeof(double));
    if (!F->agg || !start || !members || !tentative) {
        free(start); free(members); free(tentative);
        return 0;
    }
    for (size_t k = 0; k < F->ncell; k++) {
        const int32_t x = F->cell[k] % F->pw - 2, y = F->cell[k] / F->pw - 2;
        F->agg[k] = (y / a + 2) * C->pw + x / a + 2;
        start[F->agg[k] + 1]++;
    }
    size_t aggregates = 0;  // with members: C's cells are some of them
    for (size_t i = 0; i < C->padded; i++) {
        aggregates += start[i + 1] > 0;
        start[i + 1] += start[i];
    }
    C->cell = malloc(sizeof(int32_t) * (aggregates + 1));
    C->ndof = malloc(aggregates + 1);
    C->B = calloc((aggregates + 1) * 16, sizeof(double));
    if (!C->cell || !C->ndof || !C->B) {
        free(start); free(members); free(tentative);
        return 0;
    }
    {
        size_t* fill = malloc(sizeof(size_t) * (C->padded + 1));
        if (!fill) {
            free(start); free(members); free(tentative);
            return 0;
        }
        memcpy(fill, start, sizeof(size_t) * (C->padded + 1));
        for (size_t k = 0; k < F->ncell; k++) members[fill[F->agg[k]]++] = (int32_t) k;
        free(fill);
    }
    // Per aggregate (in padded order, so row by row): modified Gram–Schmidt, twice, on its
    // unknowns' candidates; C's candidates are the R factor's rows.
    C->ncell = 0;
    enum { most = 64 };  // unknowns an aggregate holds at most: 5·5·1 on level 0, 3·3·4 below
    double V[most * 4];
    size_t rows[most];
    for (size_t g = 0; g < C->padded; g++) {
        size_t n = 0;
        for (size_t s = start[g]; s < start[g + 1]; s++) {
            const size_t k = (size_t) members[s];
            for (int i = 0; i < F->ndof[k] && n < most; i++) rows[n++] = k * D + i;
        }
        if (n == 0) continue;
        double R[16] = {0};
        int kept = 0;
        for (int j = 0; j < 4; j++) {
            double* v = V + most * kept;
            double norm0 = 0;
            for (size_t e = 0; e < n; e++) {
                v[e] = F->B[4 * rows[e] + j];
                norm0 += v[e] * v[e];
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < kept; i++) {
                    const double* q = V + most * i;
                    double dot = 0;
                    for (size_t e = 0; e < n; e++) dot += q[e] * v[e];
                    for (size_t e = 0; e < n; e++) v[e] -= dot * q[e];
                    R[4 * i + j] += dot;
                }
            }
            double norm = 0;
            for (size_t e = 0; e < n; e++) norm += v[e] * v[e];
            if (kept < (int) n && norm > 0 && norm > sa_drop * sa_drop * norm0) {
                const double scale = 1 / __builtin_sqrt(norm);
                for (size_t e = 0; e < n; e++) v[e] *= scale;
                R[4 * kept + j] = __builtin_sqrt(norm);
                kept++;
            }
        }
        if (kept == 0) continue;
        const size_t c = C->ncell++;
        C->cell[c] = (int32_t) g;
        C->ndof[c] = (uint8_t) kept;
        for (int i = 0; i < kept; i++) {
            for (int j = 0; j < 4; j++) C->B[16 * c + 4 * i + j] = R[4 * i + j];
            for (size_t e = 0; e < n; e++) tentative[4 * rows[e] + i] = V[most * i + e];
        }
    }
    F->agg_start = start;
    F->members = members;
    if (!sa_finish_level(C)) {
        free(tentative);
        return 0;
    }
    F->P = calloc(nf * 36 + 1, sizeof(float));
    F->mask = calloc(nf + 1, sizeof(uint16_t));
    C->A = calloc(C->ncell * 400 + 1, sizeof(float));
    C->invdiag = calloc(C->ncell * 4 + 1, sizeof(sa_real));
    if (!F->P || !F->mask || !C->A || !C->invdiag) {
        free(tentative);
        return 0;
    }
    // Smoothed prolongation P = (I − ω D⁻¹A) P_tent, ω = 4 / (3 λ(D⁻¹A)), on the pool.
    double lambda;
    if (!sa_largest_eigenvalue(H, F, &lambda)) {
        free(tentative);
        return 0;
    }
    const double omega = 4 / (3 * lambda);
    sa_smooth_state smooth = {.F = F, .C = C, .tentative = tentative, .omega = omega, .a = a, .chunk = sa_chunk_of(F)};
    const size_t chunks = (F->ncell + smooth.chunk - 1) / smooth.chunk;
    void (*smooth_chunk)(void*, size_t, size_t) = sa_smooth_chunk_for_cpu();
    if (H->pool && chunks > 1) {
        mk_threadpool_run(H->pool, chunks, smooth_chunk, &smooth);
    } else {
        for (size_t t = 0; t < chunks; t++) smooth_chunk(&smooth, t, 0);
    }
    if (H->checks) {
        const double e = sa_smooth_error(F, C, tentative, omega);
        if (!(e <= H->smooth_error)) H->smooth_error = e;
    }
    free(tentative);
    // C's operator PᵀAP and the sweeps' inverses, one coarse row of cells per task.
    const size_t workers = H->threads ? H->threads : 1;
    double* scratch = malloc(sizeof(double) * sa_galerkin_cell * (size_t) C->pw * sa_galerkin_rows * workers);
    C->block_inverse = calloc(C->ncell * 16 + 1, sizeof(sa_real));
    if (!scratch || !C->block_inverse) {
        free(scratch);
        return 0;
    }
    sa_galerkin_state gs = {.F = F, .C = C, .a = a, .scratch = scratch};
    const size_t tasks = ((size_t) C->h + sa_galerkin_rows - 1) / sa_galerkin_rows;
    void (*galerkin_row)(void*, size_t, size_t) = sa_galerkin_row_for_cpu();
    if (H->pool && tasks > 1) {
        mk_threadpool_run(H->pool, tasks, galerkin_row, &gs);
    } else {
        for (size_t t = 0; t < tasks; t++) galerkin_row(&gs, t, 0);
    }
    free(scratch);
    sa_task mirror = {.L = C};
    sa_run(H->pool, C->ncell, sa_galerkin_mirror, &mirror);
    return sa_restriction_lists(F, C);
}

// Test hook (mk_cf_mg_level.checks_galerkin): C's operator against PᵀAP summed the plain
// way — per fine unknown u, its (A P) row as a dense vector over C's unknowns (every stencil
// entry times every stored P entry, wherever its aggregate lies), then P[u, (c, I)] times that
// row added to entry ((c, I), (c', J)) for every coarse unknown it touches, the block found
// from the cells' distance — in Double. Returns the largest |C.A − PᵀAP| over a cell's 25
// blocks relative to the largest |PᵀAP| entry of that cell (a touched cell more than 2 away
// counts as 1), or −1 when out of memory.
static double sa_galerkin_error(const sa_level* F, const sa_level* C) {
    const int D = F->D;
    const int32_t pwc = C->pw;
    const size_t nc = C->ncell;
    double* ref = calloc(nc * 400 + 1, sizeof(double));
    double* row = calloc(nc * 4 + 1, sizeof(double));
    int32_t* touched = malloc(sizeof(int32_t) * (nc + 1));
    uint8_t* seen = calloc(nc + 1, 1);
    if (!ref || !row || !touched || !seen) {
        free(ref); free(row); free(touched); free(seen);
        return -1;
    }
    double worst = 0;
    for (size_t k = 0; k < F->ncell; k++) {
        for (int i = 0; i < F->ndof[k]; i++) {
            size_t nt = 0;
            for (int o = 0; o < 25; o++) {
                const int32_t kn = F->map[F->cell[k] + sa_offset(F, o)];
                if (kn < 0) continue;
                for (int j = 0; j < F->ndof[kn]; j++) {
                    const double a = sa_entry(F, k, o, i, j);
                    const float* p = F->P + 36 * ((size_t) kn * D + j);
                    for (int q = 0; q < 9; q++) {
                        const int32_t cc = C->map[F->agg[kn] + (q / 3 - 1) * pwc + q % 3 - 1];
                        if (cc < 0) continue;
                        if (!seen[cc]) {
                            seen[cc] = 1;
                            touched[nt++] = cc;
                        }
                        for (int J = 0; J < 4; J++) row[4 * (size_t) cc + J] += a * p[4 * q + J];
                    }
                }
            }
            const float* p = F->P + 36 * (k * D + i);
            for (int q = 0; q < 9; q++) {
                const int32_t c = C->map[F->agg[k] + (q / 3 - 1) * pwc + q % 3 - 1];
                if (c < 0) continue;
                for (size_t e = 0; e < nt; e++) {
                    const int32_t cc = touched[e];
                    const int32_t d = C->cell[cc] - C->cell[c] + 2 * pwc + 2;  // (dy + 2)·pwc + dx + 2
                    const int32_t dy = d / pwc - 2, dx = d % pwc - 2;
                    for (int I = 0; I < 4; I++) {
                        for (int J = 0; J < 4; J++) {
                            const double v = p[4 * q + I] * row[4 * (size_t) cc + J];
                            if (v == 0) continue;
                            if (d < 0 || dx < -2 || dx > 2 || dy < -2 || dy > 2) {
                                worst = 1;  // PᵀAP reaches a cell the 5 × 5 stencil cannot hold
                                continue;
                            }
                            ref[400 * (size_t) c + 16 * ((dy + 2) * 5 + dx + 2) + 4 * J + I] += v;
                        }
                    }
                }
            }
            for (size_t e = 0; e < nt; e++) {
                seen[touched[e]] = 0;
                for (int J = 0; J < 4; J++) row[4 * (size_t) touched[e] + J] = 0;
            }
        }
    }
    for (size_t c = 0; c < nc; c++) {
        double scale = 0, diff = 0;
        for (int e = 0; e < 400; e++) {
            const double r = ref[400 * c + e], got = C->A[400 * c + e];
            if (__builtin_fabs(r) > scale) scale = __builtin_fabs(r);
            if (__builtin_fabs(got - r) > diff) diff = __builtin_fabs(got - r);
        }
        const double relative = scale > 0 ? diff / scale : diff;
        if (!(relative <= worst)) worst = relative;  // (a NaN counts)
    }
    free(ref); free(row); free(touched); free(seen);
    return worst;
}

// The last level's dense Cholesky factor (a pivot that is not positive leaves its unknown at 0).
static int sa_factor(sa_level* L) {
    const int D = L->D;
    const size_t nd = L->ncell * D;
    double* M = calloc(nd * nd + 1, sizeof(double));
    if (!M) return 0;
    for (size_t k = 0; k < L->ncell; k++) {
        for (int i = 0; i < L->ndof[k]; i++) {
            for (int o = 0; o < 25; o++) {
                const int32_t kn = L->map[L->cell[k] + sa_offset(L, o)];
                if (kn < 0) continue;
                for (int j = 0; j < L->ndof[kn]; j++) {
                    M[(k * D + i) * nd + (size_t) kn * D + j] = sa_entry(L, k, o, i, j);
                }
            }
        }
    }
    for (size_t j = 0; j < nd; j++) {
        double d = M[j * nd + j];
        for (size_t s = 0; s < j; s++) d -= M[j * nd + s] * M[j * nd + s];
        const double scale = M[j * nd + j];
        if (!(d > 1e-12 * scale) || !(scale > 0)) {
            for (size_t i = j; i < nd; i++) M[i * nd + j] = 0;
            continue;
        }
        const double root = __builtin_sqrt(d);
        M[j * nd + j] = root;
        for (size_t i = j + 1; i < nd; i++) {
            double s = M[i * nd + j];
            for (size_t t = 0; t < j; t++) s -= M[i * nd + t] * M[j * nd + t];
            M[i * nd + j] = s / root;
        }
    }
    L->chol = M;
    L->y = malloc(sizeof(double) * (nd + 1));
    return L->y != NULL;
}

static void sa_precondition(void* context, const double* r, double* z) {
    sa_hierarchy* H = context;
    sa_level* L = H->levels;
    for (size_t k = 0; k < L->ncell; k++) L->b[k] = (sa_real) r[L->src[k]];
    sa_vcycle(H, 0);
    for (size_t k = 0; k < L->ncell; k++) z[L->src[k]] = L->x[L->cell[k]];
}

typedef struct sa_setup {
    sa_hierarchy* H;
    mk_cf_mg_level* top;
    const float* colour;
    int block;
    int failed;
} sa_setup;

static void sa_prepare(void* context) {
    sa_setup* s = context;
    sa_hierarchy* H = s->H;
    mk_cf_mg_level* top = s->top;
    sa_level* L = H->levels;
    const int32_t W = (int32_t) top->padded_width - 4;
    L->w = W;
    L->h = (int32_t) (top->n / (size_t) W);
    L->pw = W + 4;
    L->padded = (size_t) L->pw * (size_t) (L->h + 4);
    L->D = 1;
    L->ncell = top->m;
    L->cell = malloc(sizeof(int32_t) * (top->m ? top->m : 1));
    L->ndof = malloc(top->m ? top->m : 1);
    L->A = malloc(sizeof(float) * 25 * (top->m ? top->m : 1));
    L->invdiag = malloc(sizeof(sa_real) * (top->m ? top->m : 1));
    L->B = malloc(sizeof(double) * 4 * (top->m ? top->m : 1));
    if (!L->cell || !L->ndof || !L->A || !L->invdiag || !L->B || !mk_cf_mg_stencil_rows(top, L->A)) {
        s->failed = 1;
        return;
    }
    // A purely diagonal extra operator (information flow's known-to-unknown term alone) joins
    // level 0's centre entries, so the hierarchy is built on L + E, the system itself: L's
    // smooth modes are where a mass term changes L most (49 iterations at 1200×1800 without,
    // 15 with). With off-diagonal terms L alone converged in fewer (Docs/Quality.md, "ku-fast").
    const double* extra_diagonal = top->system.extra_is_diagonal ? top->system.extra_diagonal : NULL;
    for (size_t k = 0; k < top->m; k++) {
        const int32_t i = top->system.unknown[k];
        if (extra_diagonal) L->A[25 * k + 12] += (float) extra_diagonal[k];
        L->cell[k] = (i / W + 2) * L->pw + i % W + 2;
        L->ndof[k] = 1;
        L->invdiag[k] = L->A[25 * k + 12] > 0 ? 1 / L->A[25 * k + 12] : 0;
        L->B[4 * k] = 1;
        for (int c = 0; c < 3; c++) L->B[4 * k + 1 + c] = s->colour[3 * k + c];
    }
    // The system's unknowns come tile by tile: level 0's cells in padded order instead (the
    // bands' ranges), src[k] the unknown of cell k.
    // (The level's map, padded index → cell, is the sort's scratch: sa_finish_level refills it.)
    L->src = malloc(sizeof(int32_t) * (top->m ? top->m : 1));
    L->map = malloc(sizeof(int32_t) * L->padded);
    if (!L->src || !L->map) {
        s->failed = 1;
        return;
    }
    for (size_t i = 0; i < L->padded; i++) L->map[i] = -1;
    for (size_t k = 0; k < top->m; k++) L->map[L->cell[k]] = (int32_t) k;
    size_t next = 0;
    for (size_t i = 0; i < L->padded; i++) {
        if (L->map[i] >= 0) L->src[next++] = L->map[i];
    }
    if (!sa_permute(L->cell, sizeof(int32_t), L->src, top->m) || !sa_permute(L->A, sizeof(float) * 25, L->src, top->m)
        || !sa_permute(L->invdiag, sizeof(sa_real), L->src, top->m) || !sa_permute(L->B, sizeof(double) * 4, L->src, top->m)
        || !sa_finish_level(L)) {
        s->failed = 1;
        return;
    }
    H->count = 1;
    H->checks = top->checks_galerkin;
    H->smooth_error = 0;
    while (H->count < sa_max_levels) {
        sa_level* F = H->levels + H->count - 1;
        size_t unknowns = 0;
        for (size_t k = 0; k < F->ncell; k++) unknowns += F->ndof[k];
        if (unknowns <= sa_coarsest_unknowns) break;
        sa_level* C = F + 1;
        if (!sa_coarsen(H, F, C, H->count == 1 ? s->block : 3)) {
            s->failed = 1;
            return;
        }
        H->count++;
        if (C->ncell == F->ncell && F->D == 4) break;  // no longer shrinking
    }
    if (!sa_factor(H->levels + H->count - 1)) s->failed = 1;
    if (top->checks_galerkin && !s->failed) {
        top->galerkin_error = 0;
        for (size_t l = 1; l < H->count; l++) {
            const double e = sa_galerkin_error(H->levels + l - 1, H->levels + l);
            if (e < 0) {
                s->failed = 1;
                return;
            }
            if (!(e <= top->galerkin_error)) top->galerkin_error = e;
        }
        if (!(H->smooth_error <= top->galerkin_error)) top->galerkin_error = H->smooth_error;
    }
}

static void sa_precondition_or_diagonal(void* context, const double* r, double* z) {
    sa_setup* s = context;
    if (s->failed) {
        for (size_t k = 0; k < s->top->m; k++) z[k] = r[k] * s->top->inverse_diagonal[k];
    } else {
        sa_precondition(s->H, r, z);
    }
}

int mk_f64_cf_sacg(mk_cf_mg_level* level, const float* colour, int block, double* x, double tolerance,
                   int max_iterations, double* residual) {
    *residual = 0;
    if (level->m == 0) return 0;
    if (block < 3) block = 3;
    if (block > 5) block = 5;  // the 5 × 5 coarse stencil needs aggregates of 3 to 5 (the file's comment)
    // The fallback's diagonal is the system's, E's included (the hierarchy is L's alone unless
    // E is only a diagonal: sa_prepare).
    const double* extra_diagonal = level->system.extra_diagonal;
    for (size_t k = 0; k < level->m; k++) {
        const double dk = extra_diagonal ? level->diagonal[k] + extra_diagonal[k] : level->diagonal[k];
        level->inverse_diagonal[k] = dk > 0 ? 1 / dk : 0;
    }
    sa_hierarchy* H = calloc(1, sizeof(sa_hierarchy));
    if (!H) return -1;
    H->pool = level->system.pool;
    H->threads = level->system.threads;
    // V(1,1): one sweep either side on every level. Skipping either on the levels below
    // level 0 took 21 and 20 iterations instead of 16 on the 1200×1800 benchmark, for more
    // CPU time; one side only on level 0 too, 32–33 (Docs/Quality.md).
    H->pre[0] = H->pre[1] = H->post[0] = H->post[1] = 1;
    sa_split_taps(H);
    sa_setup setup = {.H = H, .top = level, .colour = colour, .block = block};
    const int iterations = mk_cf_fcg(level, x, tolerance, max_iterations, residual, sa_prepare, sa_precondition_or_diagonal, &setup);
    for (size_t l = 0; l < sa_max_levels; l++) sa_free_level(H->levels + l);
    free(H);
    return setup.failed ? -1 : iterations;
}

int mk_cf_sa_presmooth_check(mk_cf_mg_level* level, const float* colour, int block, double* worst) {
    *worst = 0;
    sa_hierarchy* H = calloc(1, sizeof(sa_hierarchy));
    if (!H) return -1;
    H->pool = level->system.pool;
    H->threads = level->system.threads;
    H->pre[0] = H->pre[1] = H->post[0] = H->post[1] = 1;
    sa_split_taps(H);
    sa_setup setup = {.H = H, .top = level, .colour = colour, .block = block < 3 ? 3 : (block > 5 ? 5 : block)};
    sa_prepare(&setup);
    int checked = setup.failed ? -1 : 0;
    uint32_t seed = 12345;
    for (size_t l = 0; checked >= 0 && l + 1 < H->count; l++) {
        sa_level* L = H->levels + l;
        const int D = L->D;
        const size_t nd = L->ncell * (size_t) D;
        sa_real* x_ref = malloc(sizeof(sa_real) * (nd + 1));
        sa_real* r_ref = malloc(sizeof(sa_real) * (nd + 1));
        if (!x_ref || !r_ref) {
            free(x_ref); free(r_ref);
            checked = -1;
            break;
        }
        for (size_t k = 0; k < L->ncell; k++) {
            for (int i = 0; i < D; i++) {
                seed = seed * 1664525u + 1013904223u;
                L->b[k * D + i] = i < L->ndof[k] ? (sa_real) ((double) (seed >> 8) / (1 << 23) - 1) : 0;
            }
        }
        // The reference: x = 0, a full forward sweep, then r = b − A x.
        for (size_t k = 0; k < L->ncell; k++) memset(L->x + (size_t) L->cell[k] * D, 0, sizeof(sa_real) * D);
        sa_sweep(H, L, 0);
        sa_task task = {.L = L};
        sa_run(H->pool, L->ncell, sa_residual_chunk, &task);
        for (size_t k = 0; k < L->ncell; k++) {
            memcpy(x_ref + k * D, L->x + (size_t) L->cell[k] * D, sizeof(sa_real) * D);
            memcpy(r_ref + k * D, L->r + k * D, sizeof(sa_real) * D);
        }
        // The split pass from an iterate of NaNs, which it must not read.
        for (size_t k = 0; k < L->ncell; k++) {
            for (int i = 0; i < D; i++) L->x[(size_t) L->cell[k] * D + i] = __builtin_nanf("");
        }
        sa_presmooth(H, L);
        double x_scale = 0, r_scale = 0, x_err = 0, r_err = 0;
        for (size_t k = 0; k < L->ncell; k++) {
            for (int i = 0; i < D; i++) {
                const double xs = L->x[(size_t) L->cell[k] * D + i], rs = L->r[k * D + i];
                const double dx = __builtin_fabs(xs - x_ref[k * D + i]), dr = __builtin_fabs(rs - r_ref[k * D + i]);
                x_scale = __builtin_fmax(x_scale, __builtin_fabs(x_ref[k * D + i]));
                r_scale = __builtin_fmax(r_scale, __builtin_fabs(r_ref[k * D + i]));
                x_err = dx == dx ? __builtin_fmax(x_err, dx) : __builtin_inf();
                r_err = dr == dr ? __builtin_fmax(r_err, dr) : __builtin_inf();
            }
        }
        const double e = __builtin_fmax(x_scale > 0 ? x_err / x_scale : x_err, r_scale > 0 ? r_err / r_scale : r_err);
        if (e > *worst || e != e) *worst = e == e ? e : __builtin_inf();
        free(x_ref); free(r_ref);
        checked++;
    }
    for (size_t l = 0; l < sa_max_levels; l++) sa_free_level(H->levels + l);
    free(H);
    return checked;
}
