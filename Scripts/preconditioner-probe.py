#!/usr/bin/env python3
"""How many CG iterations, and how much work, other preconditioners need for the closed-form
matting system that MattingKit's alpha solver minimises (Levin et al. 2008).

For each input it builds the explicit sparse L_UU and b = -L_UK alpha_K from pymatting's
`cf_laplacian` (epsilon 1e-7, radius 1: the project's parameters), checks the exact answer
against the reference alpha (pymatting's `estimate_alpha_cf`), then runs preconditioned CG from
x = 0 to ||r|| / ||b|| <= 1e-6 and records the iteration at which 1e-3, 1e-4, 1e-5 and 1e-6
were first reached, setup and solve seconds (one thread), and the work:

- one "L product" = nnz(L_UU) multiply-adds (about 25 a row), the unit of everything below;
- a CG iteration = 1 product + 0.2 for the vector updates and dots (MattingKit's Jacobi-PCG
  loop is counted as 1.2 products an iteration) + the preconditioner's application:
  Jacobi 0; a triangular solve pair 2 nnz(factor) / nnz(L_UU); an AMG V-cycle the sum over
  levels of (pre + post smoother sweeps, each 1 nnz(A_l) for Jacobi, 2 for symmetric
  Gauss-Seidel, d for Chebyshev of degree d) + 1 residual nnz(A_l) + 2 nnz(P_l), plus the
  dense coarsest solve, all over nnz(L_UU);
- setup is converted to products by timing: setup seconds / seconds of one scipy CSR product
  of L_UU on the same thread (a rough figure: Python-level setup code, not a C one);
- memory: bytes a fine unknown of what the preconditioner stores besides L_UU (factors or
  P_l and A_l for l >= 1) in CSR with Float64 values and Int32 indices.

Preconditioners: Jacobi (the yardstick), pymatting's thresholded incomplete Cholesky `ichol`
(what estimate_alpha_cf uses; discard thresholds 1e-4 (its default) .. 1e-2), IC(0) and IC(1)
(static patterns, natural pixel order, numba), IC(0) and ichol in a 9-colour order (each
colour's unknowns uncoupled: parallel triangular solves for IC(0)), ichol of two row strips
factored apart (parallel two ways), smoothed-aggregation AMG from pyamg as a V(1,1)
preconditioner with several near-null-space candidates (constant; constant + the three colour
channels, the functions the matting Laplacian's slow modes are made of), strength thresholds
and smoothers (symmetric Gauss-Seidel, one forward / one backward pass, 9-colour Gauss-Seidel,
Jacobi, Chebyshev: the last three parallelise), root-node AMG, and aggregation of fixed 3x3 /
4x4 / 5x5 pixel blocks on the first level (geometric coarsening with colour-affine candidates,
like MattingKit's guided prolongation).

Versions measured with (7 Dec 2026): Python 3.11.7, numpy 2.4.6, scipy 1.17.1, numba 0.68.1,
pymatting 1.1.16, pyamg 5.4.1.

    python3 -m venv /tmp/venv-amg
    /tmp/venv-amg/bin/pip install pyamg==5.4.1 pymatting==1.1.16 numpy==2.4.6 scipy==1.17.1 numba==0.68.1
    /tmp/venv-amg/bin/python Scripts/bench-refine.py --runs 1 --out /tmp/amg-bench
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        /tmp/venv-amg/bin/python Scripts/preconditioner-probe.py /tmp/amg-bench \\
        ~/.cache/mattingkit/quality-set/real-{coffee,astronaut,chelsea}/npy [--only "NAME;=EXACT NAME"] [--json out.json] [--warm-dir DIR] [--ichol-kernel]

Then the tables of Docs/Quality.md (the JSON numbers are products of MattingKit's default
solve, Jacobi-PCG to 1e-3 over the pyramid, from refine-bench's per-level iterations):

    /tmp/venv-amg/bin/python Scripts/preconditioner-probe.py --table \
        '{"amg-bench": 168, "real-coffee": 101, "real-astronaut": 76, "real-chelsea": 96}' out.json...

An input folder holds image.npy (H x W x 3, 0..255), trimap.npy (0 background, 255 foreground,
anything else unknown) and alpha-pymatting.npy or alpha-ref.npy (the reference alpha, optional).
"""
import argparse
import contextlib
import io
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

TOLERANCES = (1e-3, 1e-4, 1e-5, 1e-6)
VECTOR_OVERHEAD = 0.2  # products' worth of vector updates and dots in one CG iteration


# ----------------------------------------------------------------------------- the system

def load_system(folder):
    from pymatting import cf_laplacian, trimap_split
    image = np.load(os.path.join(folder, "image.npy")).astype(np.float64) / 255
    tri8 = np.load(os.path.join(folder, "trimap.npy"))
    # MattingKit: 255 foreground, 0 background, anything else unknown (pymatting's split
    # thresholds at 0.9 / 0.1, the same on these 0 / 128 / 255 trimaps; checked below).
    is_fg = (tri8 == 255).ravel()
    is_bg = (tri8 == 0).ravel()
    is_known = is_fg | is_bg
    is_unknown = ~is_known
    fg2, _, known2, _ = trimap_split(tri8.astype(np.float64) / 255)
    assert np.array_equal(fg2, is_fg) and np.array_equal(known2, is_known)
    L = cf_laplacian(image, epsilon=1e-7, radius=1, is_known=is_known).tocsr()
    A = L[is_unknown][:, is_unknown].tocsr()
    A.sort_indices()
    b = -(L[is_unknown][:, is_known] @ is_fg[is_known].astype(np.float64))
    colours = image.reshape(-1, 3)[is_unknown]
    ys, xs = np.nonzero(is_unknown.reshape(tri8.shape))
    reference = None
    for name in ("alpha-pymatting.npy", "alpha-ref.npy"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            reference = np.load(path).astype(np.float64).ravel()
            break
    return dict(A=A, b=b, colours=colours, ys=ys, xs=xs, shape=tri8.shape, is_unknown=is_unknown,
                is_fg=is_fg, reference=reference)


# ----------------------------------------------------------------------------- CG

def pcg(A, b, apply_m, tol=1e-6, maxiter=20000, x0=None):
    """Preconditioned CG from x0 (default 0); returns x, the first iteration at which each
    tolerance of TOLERANCES was reached (None if not; ||b - A x|| / ||b||, as MattingKit's loop
    measures it), the final true relative residual and the iterations."""
    x = np.zeros_like(b) if x0 is None else x0.copy()
    r = b - A @ x
    nb = np.linalg.norm(b)
    z = apply_m(r)
    p = z.copy()
    rz = r @ z
    reached = {}
    it = 0
    rel = 1.0
    while it < maxiter:
        q = A @ p
        alpha = rz / (p @ q)
        x += alpha * p
        r -= alpha * q
        it += 1
        rel = np.linalg.norm(r) / nb
        for t in TOLERANCES:
            if t not in reached and rel <= t:
                reached[t] = it
        if rel <= tol:
            break
        z = apply_m(r)
        rz_new = r @ z
        p *= rz_new / rz
        p += z
        rz = rz_new
    true_rel = np.linalg.norm(b - A @ x) / nb
    return x, {t: reached.get(t) for t in TOLERANCES}, true_rel, it


# ----------------------------------------------------------------------------- IC(0)

@numba.njit(cache=True)
def _ic0(n, indptr, indices, data, shift, out):
    """IC(0) on the lower triangle (CSR rows, sorted, diagonal last in each row): out holds
    the factor's values in the same pattern. Returns 0, or -1 on a non-positive pivot."""
    for i in range(n):
        start, end = indptr[i], indptr[i + 1]
        for a in range(start, end):
            k = indices[a]
            v = data[a]
            if k == i:
                v = v * (1.0 + shift)
            # v -= sum over common columns j < k of L[i, j] L[k, j]
            pa, pb = start, indptr[k]
            eb = indptr[k + 1] - 1  # row k's diagonal excluded
            while pa < a and pb < eb:
                ja, jb = indices[pa], indices[pb]
                if ja == jb:
                    v -= out[pa] * out[pb]
                    pa += 1
                    pb += 1
                elif ja < jb:
                    pa += 1
                else:
                    pb += 1
            if k == i:
                if v <= 0.0:
                    return -1
                out[a] = np.sqrt(v)
            else:
                out[a] = v / out[indptr[k + 1] - 1]
    return 0


@numba.njit(cache=True)
def _lower_solve_pair(n, indptr, indices, data, r, y):
    # L y = r (row i's diagonal last), then L^T z = y in place (column sweep over the rows).
    for i in range(n):
        s = r[i]
        end = indptr[i + 1] - 1
        for a in range(indptr[i], end):
            s -= data[a] * y[indices[a]]
        y[i] = s / data[end]
    for i in range(n - 1, -1, -1):
        end = indptr[i + 1] - 1
        y[i] /= data[end]
        yi = y[i]
        for a in range(indptr[i], end):
            y[indices[a]] -= data[a] * yi
    return y


def _warm_ic0():
    small = sp.csr_matrix(np.array([[2.0, 0.0], [-1.0, 2.0]]))
    out = np.empty(3)
    _ic0(2, small.indptr, small.indices, small.data, 0.0, out)
    _lower_solve_pair(2, small.indptr, small.indices, out, np.ones(2), np.empty(2))


def ic0(A, level=0):
    """IC(level): level 0 keeps A's lower pattern; level 1 adds the fill of one elimination
    step (the pattern of P P^T, P = A's lower pattern), a static pattern set before the
    numeric factorisation (no thresholds)."""
    low = sp.tril(A, format="csr")
    if level >= 1:
        pattern = sp.csr_matrix((np.ones(low.nnz), low.indices, low.indptr), shape=low.shape)
        union = (sp.tril(pattern @ pattern.T, format="csr") + pattern).tocsr()
        union.sort_indices()  # all values >= 1: scipy keeps every entry
        n_ = low.shape[0]
        rows_u = np.repeat(np.arange(n_, dtype=np.int64), np.diff(union.indptr))
        rows_l = np.repeat(np.arange(n_, dtype=np.int64), np.diff(low.indptr))
        where = np.searchsorted(rows_u * n_ + union.indices, rows_l * n_ + low.indices)
        data = np.zeros(union.nnz)
        data[where] = low.data
        low = sp.csr_matrix((data, union.indices, union.indptr), shape=low.shape)
    low.sort_indices()
    out = np.empty_like(low.data)
    for shift in (0.0, 1e-4, 1e-3, 1e-2, 1e-1):
        if _ic0(low.shape[0], low.indptr, low.indices, low.data, shift, out) == 0:
            break
    else:
        raise RuntimeError("IC(0) broke down at every shift")
    n = low.shape[0]
    indptr, indices = low.indptr, low.indices

    def apply(r):
        return _lower_solve_pair(n, indptr, indices, out, r, np.empty_like(r))
    return apply, dict(factor_nnz=int(low.nnz), shift=shift,
                       factor=sp.csr_matrix((out, low.indices, low.indptr), shape=low.shape))


def factor_flops(factor_csc):
    """Multiply-adds of a column Cholesky with this factor's pattern: a column with m entries
    below the diagonal updates m(m+1)/2 entries of later columns (a lower bound for a
    thresholded factorisation, which also computes the entries it then discards)."""
    m = np.diff(factor_csc.indptr).astype(np.float64) - 1
    return float((m * (m + 1) / 2).sum())


def spgemm_flops(a, b):
    """Multiply-adds of the sparse product a @ b."""
    a = a.tocsc()
    b = b.tocsr()
    return float((np.diff(a.indptr).astype(np.float64) * np.diff(b.indptr)).sum())


# ----------------------------------------------------------------------------- AMG cost

SWEEP_COST = {"gauss_seidel": 2.0, "jacobi": 1.0}  # symmetric GS = forward + backward pass


def smoother_cost(smoother):
    name, opts = smoother if isinstance(smoother, tuple) else (smoother, {})
    iters = opts.get("iterations", 1)
    if name == "gauss_seidel":
        return (2.0 if opts.get("sweep", "forward") == "symmetric" else 1.0) * iters
    if name == "jacobi":
        return 1.0 * iters
    if name == "chebyshev":
        return float(opts.get("degree", 3)) * iters
    raise ValueError(name)


def vcycle_cost(ml, pre, post):
    nnz0 = ml.levels[0].A.nnz
    work = 0.0
    for level in ml.levels[:-1]:
        work += (smoother_cost(pre) + smoother_cost(post) + 1) * level.A.nnz + 2 * level.P.nnz
    nc = ml.levels[-1].A.shape[0]
    work += nc * nc  # dense pseudo-inverse product at the coarsest level
    return work / nnz0


def amg_memory(ml, n):
    nnz = sum(level.A.nnz for level in ml.levels[1:]) + sum(level.P.nnz for level in ml.levels[:-1])
    nc = ml.levels[-1].A.shape[0]
    return (12.0 * nnz + 8.0 * nc * nc) / n


def block_aggregates(sys_, size):
    """AggOp for fixed size x size pixel blocks of the unknowns (geometric first level)."""
    ys, xs = sys_["ys"], sys_["xs"]
    keys = (ys // size) * (sys_["shape"][1] // size + 1) + xs // size
    _, agg = np.unique(keys, return_inverse=True)
    n = len(ys)
    return sp.csr_matrix((np.ones(n), (np.arange(n), agg)), shape=(n, agg.max() + 1))


# ----------------------------------------------------------------------------- the runs

def product_seconds(A, v, count=7):
    """Median CPU seconds of one scipy CSR product A @ v."""
    times = []
    for _ in range(count):
        t0 = time.process_time()
        A @ v
        times.append(time.process_time() - t0)
    return float(np.median(times))


def run_all(sys_, only):
    import pyamg
    from pymatting import ichol
    A, b = sys_["A"], sys_["b"]
    n = A.shape[0]
    nnz = A.nnz
    # time one product (median of 15)
    v = np.random.default_rng(0).standard_normal(n)
    product_s = product_seconds(A, v, 15)
    ones = np.ones((n, 1))
    rgb = np.hstack([ones, sys_["colours"]])
    diag = A.diagonal()

    cases = []

    def jacobi():
        inv = 1 / diag
        return (lambda r: inv * r), 0.0, 8.0, {}
    cases.append(("Jacobi", jacobi))

    def make_ichol(matrix, th, wrap=lambda apply: apply):
        """pymatting's thresholded incomplete Cholesky of `matrix` (A, or A reordered or cut,
        `wrap` mapping the factor's solve back to A's order)."""
        def f():
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                dec = ichol(matrix.tocsc(), discard_threshold=th)
            fnnz = len(dec.Ltuple[0])
            factor = sp.csc_matrix(dec.Ltuple, shape=A.shape)
            return wrap(dec), 2.0 * fnnz / nnz, 16.0 * fnnz / n, dict(
                factor_nnz_per_row=fnnz / n, shifts_failed=buf.getvalue().count("PERFORMANCE WARNING"),
                setup_flop_products=factor_flops(factor) / nnz)
        return f

    def make_ic(matrix, level, wrap=lambda apply: apply):
        """IC(level) of `matrix` (see make_ichol)."""
        def f():
            apply, info = ic0(matrix, level=level)
            return wrap(apply), 2.0 * info["factor_nnz"] / nnz, 12.0 * info["factor_nnz"] / n, dict(
                factor_nnz_per_row=info["factor_nnz"] / n, shift=info["shift"],
                setup_flop_products=factor_flops(info["factor"].T.tocsc()) / nnz)
        return f

    for th in (1e-4, 1e-3, 1e-2):
        cases.append((f"ichol (pymatting) discard {th:g}", make_ichol(A, th)))
    cases.append(("IC(0)", make_ic(A, 0)))
    cases.append(("IC(1) (fill pattern of one step)", make_ic(A, 1)))

    # Nine colours (y mod 3, x mod 3): L couples pixels at most 2 apart in x and y, so no two
    # unknowns of one colour are coupled and each colour's rows of a triangular solve are
    # independent (9 parallel stages a solve instead of one serial sweep).
    colour = (sys_["ys"] % 3) * 3 + sys_["xs"] % 3
    perm = np.argsort(colour, kind="stable")
    Ap = A[perm][:, perm].tocsr()
    Ap.sort_indices()

    def permuted(apply_p):
        def apply(r):
            z = np.empty_like(r)
            z[perm] = apply_p(r[perm])
            return z
        return apply

    cases.append(("IC(0), 9-colour order", make_ic(Ap, 0, permuted)))
    cases.append(("ichol discard 1e-3, 9-colour order", make_ichol(Ap, 1e-3, permuted)))

    # Two row strips (top and bottom half of the picture) factored apart: the couplings across
    # the cut are dropped from the factor (block Jacobi between strips), so each core can
    # factor and solve its own strip.
    strip = (sys_["ys"] >= sys_["shape"][0] // 2).astype(np.int64)
    coo = A.tocoo()
    keep = strip[coo.row] == strip[coo.col]
    A2 = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=A.shape)
    A2.sort_indices()
    cases.append(("ichol discard 1e-3, 2 strips", make_ichol(A2, 1e-3)))
    cases.append(("ichol discard 1e-2, 2 strips", make_ichol(A2, 1e-2)))

    gs = ("gauss_seidel", {"sweep": "symmetric"})
    jac = ("jacobi", {"omega": 2.0 / 3.0})
    cheb2 = ("chebyshev", {"degree": 2})
    cheb3 = ("chebyshev", {"degree": 3})
    gsfb = [("gauss_seidel", {"sweep": "forward"}), ("gauss_seidel", {"sweep": "backward"})]

    def make_sa(B, strength, smoother, solver="sa", aggregate="standard", smooth=None):
        return make_sa_on(A, B, strength, smoother, solver, aggregate, smooth)

    def make_sa_on(A, B, strength, smoother, solver="sa", aggregate="standard", smooth=None):
        pre, post = smoother if isinstance(smoother, list) else (smoother, smoother)

        def f():
            kwargs = dict(B=B, strength=strength, presmoother=pre, postsmoother=post,
                          max_coarse=300, max_levels=12, keep=True)
            if smooth is not None:
                kwargs["smooth"] = smooth
            if solver == "sa":
                ml = pyamg.smoothed_aggregation_solver(A, aggregate=aggregate, **kwargs)
            else:
                ml = pyamg.rootnode_solver(A, aggregate=aggregate, **kwargs)
            M = ml.aspreconditioner(cycle="V")
            # setup multiply-adds: smoothing P (A_l T_l) and the Galerkin product P^T (A_l P_l)
            flops = 0.0
            for lv in ml.levels[:-1]:
                AP = lv.A @ lv.P
                flops += spgemm_flops(lv.A, lv.T) + spgemm_flops(lv.A, lv.P) + spgemm_flops(lv.P.T, AP)
            info = dict(levels=len(ml.levels), sizes=[lv.A.shape[0] for lv in ml.levels],
                        operator_complexity=ml.operator_complexity(), setup_flop_products=flops / nnz)
            return (lambda r: M @ r), vcycle_cost(ml, pre, post), amg_memory(ml, n), info
        return f

    def make_sa_coloured(smoother):
        # the hierarchy of the colour-ordered matrix: Gauss-Seidel on level 0 is then a
        # 9-colour Gauss-Seidel (each colour's rows independent, so parallel)
        inner = make_sa_on(Ap, rgb[perm], ("symmetric", {"theta": 0.0}), smoother)

        def f():
            apply_p, cost, mem, info = inner()
            return permuted(apply_p), cost, mem, info
        return f

    def blocks(size):
        # fixed size x size pixel blocks on level 0, standard aggregation below
        return [("predefined", {"AggOp": block_aggregates(sys_, size)})] + ["standard"] * 11

    sym0 = ("symmetric", {"theta": 0.0})
    sym25 = ("symmetric", {"theta": 0.25})
    sym08 = ("symmetric", {"theta": 0.08})
    evo = ("evolution", {"k": 2, "proj_type": "l2", "epsilon": 4.0})
    cases += [
        ("SA, B=1, sym θ0, SGS", make_sa(ones, sym0, gs)),
        ("SA, B=1+rgb, sym θ0, SGS", make_sa(rgb, sym0, gs)),
        ("SA, B=1+rgb, sym θ0.08, SGS", make_sa(rgb, sym08, gs)),
        ("SA, B=1+rgb, sym θ0, GS fwd/bwd", make_sa(rgb, sym0, gsfb)),
        ("SA, B=1+rgb, evolution, SGS", make_sa(rgb, evo, gs)),
        ("SA, B=1+rgb, sym θ0, Jacobi ω2/3", make_sa(rgb, sym0, jac)),
        ("SA, B=1+rgb, sym θ0, Chebyshev 2", make_sa(rgb, sym0, cheb2)),
        ("SA, B=1+rgb, sym θ0, Chebyshev 3", make_sa(rgb, sym0, cheb3)),
        ("SA, B=1+rgb, sym θ0, 9-colour GS fwd/bwd", make_sa_coloured(gsfb)),
        ("root-node, B=1+rgb, sym θ0, SGS", make_sa(rgb, sym0, gs, solver="rn")),
    ]
    for size, label, smoother in ((3, "SGS", gs), (3, "Chebyshev 2", cheb2), (4, "GS fwd/bwd", gsfb),
                                  (5, "GS fwd/bwd", gsfb), (5, "SGS", gs), (4, "SGS", gs)):
        cases.append((f"SA, B=1+rgb, {size}x{size} blocks then std, {label}",
                      make_sa(rgb, sym0, smoother, aggregate=blocks(size))))

    results = []
    for name, setup in cases:
        if only and not any(name == o[1:] if o.startswith("=") else o.lower() in name.lower() for o in only):
            continue
        product_s = product_seconds(A, v)  # again before each case: the machine's load varies
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            apply_m, m_cost, mem, info = setup()
        except Exception as error:  # a failed setup is a result too
            print(f"  {name}: setup failed: {error}", flush=True)
            results.append(dict(name=name, error=str(error)))
            continue
        setup_s = time.process_time() - c0
        apply_m(b)  # warm (numba compile of a new signature etc.)
        t1, c1 = time.perf_counter(), time.process_time()
        x, reached, true_rel, its = pcg(A, b, apply_m, x0=sys_.get("x0"))
        solve_s = time.process_time() - c1
        per_it = 1.0 + VECTOR_OVERHEAD + m_cost
        setup_products = setup_s / product_s if name != "Jacobi" else 0.0
        row = dict(name=name, iterations={str(t): reached[t] for t in TOLERANCES}, true_rel=true_rel,
                   setup_s=setup_s, solve_s=solve_s, per_iteration_products=per_it,
                   setup_products=setup_products, memory_bytes_per_unknown=mem, info=info,
                   cost_1e6=(reached[1e-6] * per_it + setup_products) if reached[1e-6] else None,
                   cost_1e3=(reached[1e-3] * per_it + setup_products) if reached[1e-3] else None,
                   solve_s_per_it=solve_s / max(its, 1), product_s=product_s)
        results.append(row)
        it = " ".join(f"{reached[t]}" for t in TOLERANCES)
        print(f"  {name}: iterations (1e-3..1e-6) {it}; true rel {true_rel:.2e}; setup {setup_s:.2f} s "
              f"({setup_products:.0f} products), solve {solve_s:.2f} s; per iteration {per_it:.2f} products; "
              f"to 1e-6 {row['cost_1e6'] if row['cost_1e6'] is None else round(row['cost_1e6'])} products; "
              f"{mem:.0f} B/unknown; {info}", flush=True)
    return dict(n=n, nnz=nnz, product_s=product_s, results=results)


def ichol_kernel(sys_, thresholds=(1e-3, 1e-2)):
    """CPU seconds of pymatting's numba kernel `_ichol` alone (best of 3, no allocation or
    conversion), per multiply-add of the factor it returns, next to one CSR product."""
    import pymatting  # noqa: F401  (loads the module that holds _ichol)
    kernel = sys.modules["pymatting.preconditioner.ichol"]._ichol
    A = sys_["A"].tocsc()
    A.sum_duplicates()
    n, nnz = A.shape[0], sys_["A"].nnz
    product_s = product_seconds(sys_["A"], np.ones(n), 15)
    for th in thresholds:
        cap = 120 * n
        Lv, Lr, Lp = np.empty(cap), np.empty(cap, np.int64), np.zeros(n + 1, np.int64)
        args = (n, A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64), Lv, Lr, Lp,
                th, 0.0, cap, 0.0, True)
        times = []
        for _ in range(3):
            Lp[:] = 0
            c0 = time.process_time()
            count = kernel(*args)
            times.append(time.process_time() - c0)
        if count < 0:
            print(f"  _ichol discard {th:g}: no factor without a shift ({count})")
            continue
        flops = factor_flops(sp.csc_matrix((Lv[:count], Lr[:count], Lp), shape=(n, n)))
        best = min(times)
        print(f"  _ichol discard {th:g}: {best * 1e3:.1f} ms = {best / product_s:.0f} products; "
              f"{flops / nnz:.0f} products of multiply-adds, {best / flops * 1e9:.1f} ns each; "
              f"one CSR product {product_s * 1e3:.2f} ms = {product_s / nnz * 1e9:.2f} ns a nonzero")


def check_exact(sys_):
    """The exact answer (a tight ichol-PCG solve) against the reference alpha."""
    from pymatting import ichol
    if sys_["reference"] is None:
        return None
    A, b = sys_["A"], sys_["b"]
    dec = ichol(A.tocsc())
    x, reached, true_rel, _ = pcg(A, b, dec, tol=1e-10)
    alpha = sys_["is_fg"].astype(np.float64)
    alpha[sys_["is_unknown"]] = x
    alpha = np.clip(alpha, 0, 1)
    return float(np.abs(alpha - sys_["reference"]).sum())


def table(paths, yardsticks):
    """Markdown tables from --json files (later files override earlier ones' cases).
    yardsticks: {input: products of MattingKit's default solve (Jacobi 1e-3, pyramid start)}."""
    merged = {}
    for path in paths:
        with open(path) as f:
            for name, res in json.load(f).items():
                into = merged.setdefault(name, dict(res, results=[]))
                into.update({k: v for k, v in res.items() if k not in ("results", "product_s")})
                known = {r["name"]: i for i, r in enumerate(into["results"])}
                for r in res["results"]:
                    if r["name"] in known:
                        into["results"][known[r["name"]]] = r
                    else:
                        into["results"].append(r)
    # one line a preconditioner across the inputs: iterations to 1e-6, products to 1e-6
    # (setup by multiply-adds – setup by CPU time), × the default solve's products
    names = list(merged)
    print("| preconditioner | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    order = [r["name"] for r in merged[names[0]]["results"]]
    for case in order:
        cells = []
        for name in names:
            r = next((r for r in merged[name]["results"] if r["name"] == case), None)
            y = yardsticks.get(name)
            if r is None or "error" in r or r["iterations"]["1e-06"] is None:
                cells.append("–")
                continue
            it6, per = r["iterations"]["1e-06"], r["per_iteration_products"]
            low = it6 * per + (r["info"].get("setup_flop_products", 0.0) if case != "Jacobi" else 0.0)
            high = it6 * per + (r["setup_products"] if case != "Jacobi" else 0.0)
            cells.append(f"{it6}: {low / y:.1f}–{high / y:.1f}×" if case != "Jacobi" else f"{it6}: {low / y:.1f}×")
        print(f"| {case} | " + " | ".join(cells) + " |")
    for name, res in merged.items():
        y = yardsticks.get(name)
        print(f"\n{name}: {res['n']} unknowns, {res['nnz'] / res['n']:.1f} nonzeros a row; "
              f"one product {res['product_s'] * 1e3:.2f} ms; default solve {y} products\n")
        print("| preconditioner | its to 1e-3 | its to 1e-6 | products an iteration (measured) | "
              "setup, products (multiply-adds / timed) | to 1e-6, products | × default | B/unknown |")
        print("|---|---|---|---|---|---|---|---|")
        for r in res["results"]:
            if "error" in r:
                print(f"| {r['name']} | setup failed: {r['error'][:60]} | | | | | | |")
                continue
            it3, it6 = r["iterations"]["0.001"], r["iterations"]["1e-06"]
            per = r["per_iteration_products"]
            measured = r["solve_s_per_it"] / r.get("product_s", res["product_s"])
            flop_setup = r["info"].get("setup_flop_products", 0.0) if r["name"] != "Jacobi" else 0.0
            timed_setup = r["setup_products"]
            low = it6 * per + flop_setup
            high = it6 * per + timed_setup
            ratio = f"{low / y:.1f}–{high / y:.1f}" if y else ""
            total = f"{low:.0f}–{high:.0f}" if r["name"] != "Jacobi" else f"{low:.0f}"
            if r["name"] == "Jacobi":
                ratio = f"{low / y:.1f}" if y else ""
            print(f"| {r['name']} | {it3} | {it6} | {per:.1f} ({measured:.1f}) | {flop_setup:.0f} / {timed_setup:.0f} "
                  f"| {total} | {ratio} | {r['memory_bytes_per_unknown']:.0f} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        # --table YARDSTICKS_JSON RUN.json...   (YARDSTICKS_JSON: '{"amg-bench": 168, ...}')
        table(sys.argv[3:], json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--only", default="", help="case names: substrings, or =exact name; separated by ';'")
    parser.add_argument("--json", default=None)
    parser.add_argument("--ichol-kernel", action="store_true",
                        help="only time pymatting's factorisation kernel alone on each input")
    parser.add_argument("--warm-dir", default=None,
                        help="start CG from DIR/<input>.f32 (raw Float32 alpha, e.g. refine-bench's "
                             "CF_SAVE with CF_FINEST_MAXIT=0: the pyramid's start for the finest level)")
    args = parser.parse_args()
    import pyamg
    import pymatting
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"numba {numba.__version__}, pymatting {pymatting.__version__}, pyamg {pyamg.__version__}")
    only = [o.strip() for o in args.only.split(";") if o.strip()]
    # compile (or load from numba's cache) outside the timed setups
    _warm_ic0()
    pymatting.ichol(sp.csc_matrix(np.array([[2.0, -1.0], [-1.0, 2.0]])))(np.ones(2))
    out = {}
    for folder in args.folders:
        folder = os.path.expanduser(folder)
        name = os.path.basename(os.path.normpath(folder))
        if name == "npy":
            name = os.path.basename(os.path.dirname(os.path.normpath(folder)))
        sys_ = load_system(folder)
        n = sys_["A"].shape[0]
        if args.ichol_kernel:
            print(name)
            ichol_kernel(sys_)
            continue
        if args.warm_dir:
            start = np.fromfile(os.path.join(args.warm_dir, name + ".f32"), dtype="<f4").astype(np.float64)
            sys_["x0"] = start[sys_["is_unknown"]]
            print(f"{name}: warm start, relative residual "
                  f"{np.linalg.norm(sys_['b'] - sys_['A'] @ sys_['x0']) / np.linalg.norm(sys_['b']):.3g}")
        sad = check_exact(sys_)
        print(f"{name}: {sys_['shape'][1]}x{sys_['shape'][0]}, {n} unknowns, nnz(L_UU) {sys_['A'].nnz} "
              f"({sys_['A'].nnz / n:.1f} a row); SAD(exact, reference alpha) {sad}", flush=True)
        res = run_all(sys_, only)
        res["sad_exact_vs_reference"] = sad
        print(f"  one scipy product of L_UU: {res['product_s'] * 1e3:.2f} ms", flush=True)
        out[name] = res
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
