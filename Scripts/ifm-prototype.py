#!/usr/bin/env python3
"""Information-flow matting terms on top of the closed-form Laplacian: a NumPy/SciPy prototype.

    /tmp/venv-quality/bin/python Scripts/ifm-prototype.py IMAGE TRIMAP ALPHA_OUT.png [options]
    $PY Scripts/eval-quality.py --require-trimap --label ifm \\
        --command "$PY Scripts/ifm-prototype.py {image} {trimap} {alpha}"

The energy of Aksoy, Aydın, Pollefeys, "Designing Effective Inter-Pixel Information Flow for
Natural Image Matting" (CVPR 2017), written from the paper and a reading of the authors' MATLAB
toolbox for its parameters (no code taken):

    E = αᵀ (σ_L L_local + σ_CM L_CM + σ_UU L_UU) α + σ_KU Σ_{p∈U} η_p (α_p − ŵ_p)²

with known pixels held fixed (hard constraints, as the closed-form solve here and pymatting's
estimate_alpha_cf do; the paper uses a soft λ = 100).

- L_local: the matting Laplacian (Levin et al.), 3×3 windows, ε (paper 1e-6; pymatting's CF 1e-7).
- Colour mixture (L_CM = (I − W)ᵀ(I − W) over the unknown rows): each unknown pixel's K_CM = 20
  nearest neighbours among all pixels in (r, g, b, x/w, y/h); weights w minimise
  ‖c_p − Σ w_q c_q‖² + ε_LLE‖w‖² subject to Σ w_q = 1, colours only.
- Known-to-unknown: K_KU = 7 nearest foreground and 7 nearest background pixels of each unknown
  pixel in (r, g, b, 10x/w, 10y/h); the same LLE weights over the 14; ŵ_p = the foreground
  weights' sum; confidence η_p = ‖Σ_F w c − Σ_B w c‖² / 3. σ_KU = 0.05. The paper drops this term
  for highly transparent mattes (a histogram test, `--ku auto`); it also trims the trimap first
  (patch- and edge-based), which is not done here.
- Intra-unknown: K_U = 5 nearest unknown pixels in (r, g, b, 0.05x/w, 0.05y/h) plus the nearest
  one with spatial weight 0.0005; affinity max(1 − ‖f_p − f_q‖₁ / 5, 0), symmetrised; L_UU = D − W.
  σ_UU = 0.01.

Solved by pymatting's CG with its incomplete-Cholesky preconditioner (of the local + diagonal
part) to relative residual --tol. Writes a 16-bit gray PNG, or .npy when ALPHA_OUT ends so.
"""
import argparse
import sys

import numpy as np
import scipy.sparse as sp
from PIL import Image
from scipy.spatial import cKDTree
import pymatting


def features(image, xy_weight):
    h, w, _ = image.shape
    y, x = np.mgrid[0:h, 0:w]
    f = np.concatenate([image.reshape(-1, 3),
                        (xy_weight * (x + 1) / w).reshape(-1, 1),
                        (xy_weight * (y + 1) / h).reshape(-1, 1)], axis=1)
    return f


def knn(feat, queries, pool, k, drop_self):
    """Indices (into the picture) of the k nearest pool pixels of each query pixel."""
    tree = cKDTree(feat[pool])
    kk = k + 1 if drop_self else k
    _, idx = tree.query(feat[queries], k=kk)
    idx = pool[idx.reshape(len(queries), kk)]
    if drop_self:
        # Remove the query itself where it is found; otherwise the farthest.
        is_self = idx == queries[:, None]
        order = np.argsort(is_self, axis=1, kind="stable")  # self (if found) moves last
        return np.take_along_axis(idx, order, 1)[:, :k]
    return idx


def lle_weights(points, neighbours, reg):
    """Batched: w minimising ‖p − Nᵀw‖² + reg‖w‖², Σw = 1. points (n,d), neighbours (n,k,d)."""
    n, k, _ = neighbours.shape
    gram = np.einsum("nkd,njd->nkj", neighbours, neighbours) + reg * np.eye(k)[None]
    rhs = np.concatenate([np.einsum("nkd,nd->nk", neighbours, points)[..., None],
                          np.ones((n, k, 1))], axis=2)
    sol = np.linalg.solve(gram, rhs)  # (n,k,2): G⁻¹Nᵀp, G⁻¹1
    a, b = sol[..., 0], sol[..., 1]
    mu = (1 - a.sum(1)) / b.sum(1)
    return a + mu[:, None] * b


def highly_transparent(image, is_fg, is_bg, is_unknown, shape):
    """The paper's histogram test: unknown colours poorly explained by a mix of nearby F and B."""
    from scipy import ndimage
    unk2 = is_unknown.reshape(shape)
    near = ndimage.binary_dilation(unk2, np.ones((21, 21), bool)).ravel()
    px = image.reshape(-1, 3)

    def hist(mask):
        hs = [np.histogram(px[mask, c], bins=10, range=(0, 1))[0] for c in range(3)]
        return np.concatenate(hs) / max(mask.sum(), 1)

    fh, bh, uh = hist(is_fg & near), hist(is_bg & near), hist(is_unknown)
    m = np.stack([fh, bh], 1)
    wts, *_ = np.linalg.lstsq(m, uh, rcond=None)
    err = np.sqrt(np.sum((m @ wts - uh) ** 2)) / uh.size
    return err > 0.0099, err


def ifm_alpha(image, trimap, cm=1.0, uu=0.01, ku=0.05, ku_mode="auto", eps=1e-6,
              k_cm=20, k_ku=7, k_uu=5, lle_reg=1e-10, tol=1e-7, maxiter=20000, log=None):
    h, w, _ = image.shape
    n = h * w
    is_fg, is_bg, is_known, is_unknown = pymatting.trimap_split(trimap)
    unk = np.flatnonzero(is_unknown)
    allpx = np.arange(n)
    colours = image.reshape(-1, 3)

    L = pymatting.cf_laplacian(image, epsilon=eps, is_known=is_known).tocsr()
    A = L
    rhs_extra = np.zeros(n)
    diag_extra = np.zeros(n)

    if cm > 0:
        f = features(image, 1.0)
        nb = knn(f, unk, allpx, k_cm, drop_self=True)
        wts = lle_weights(colours[unk], colours[nb], lle_reg)
        wts /= wts.sum(1, keepdims=True)
        rows = np.repeat(np.arange(len(unk)), k_cm + 1)
        cols = np.concatenate([unk[:, None], nb], 1).ravel()
        vals = np.concatenate([np.ones((len(unk), 1)), -wts], 1).ravel()
        M = sp.csr_matrix((vals, (rows, cols)), shape=(len(unk), n))  # rows of (I − W) on U
        A = A + cm * (M.T @ M)

    if uu > 0:
        f = features(image, 0.05)
        nb1 = knn(f, unk, unk, k_uu, drop_self=True)
        f2 = features(image, 0.0005)
        nb2 = knn(f2, unk, unk, max(1, -(-k_uu // 5)), drop_self=True)
        nb = np.concatenate([nb1, nb2], 1)
        f2s = f2.copy()
        f2s[:, 3:] /= 100
        d = np.abs(f2s[unk][:, None, :] - f2s[nb]).sum(2) / f2s.shape[1]
        aff = np.maximum(1 - d, 0)
        rows = np.repeat(unk, nb.shape[1])
        W = sp.csr_matrix((aff.ravel(), (rows, nb.ravel())), shape=(n, n))
        W = (W + W.T) / 2
        Luu = sp.diags(np.asarray(W.sum(1)).ravel()) - W
        A = A + uu * Luu

    use_ku = ku > 0 and (ku_mode == "on" or (ku_mode == "auto" and
                         not highly_transparent(image, is_fg, is_bg, is_unknown, (h, w))[0]))
    if use_ku:
        f = features(image, 10.0)
        fg_idx, bg_idx = np.flatnonzero(is_fg), np.flatnonzero(is_bg)
        nbf = knn(f, unk, fg_idx, k_ku, drop_self=False)
        nbb = knn(f, unk, bg_idx, k_ku, drop_self=False)
        nb = np.concatenate([nbf, nbb], 1)
        wts = lle_weights(colours[unk], colours[nb], lle_reg)
        a_hat = wts[:, :k_ku].sum(1)
        fc = np.einsum("nk,nkd->nd", wts[:, :k_ku], colours[nbf])
        bc = np.einsum("nk,nkd->nd", wts[:, k_ku:], colours[nbb])
        conf = ((fc - bc) ** 2).sum(1) / 3
        diag_extra[unk] = ku * conf
        rhs_extra[unk] = ku * conf * a_hat
        A = A + sp.diags(diag_extra)
    if log is not None:
        log["ku"] = bool(use_ku)

    A = A.tocsr()
    A_U = A[unk][:, unk]
    R = A[unk][:, is_known]
    b = rhs_extra[unk] - R @ is_fg[is_known].astype(np.float64)
    P = (L[unk][:, unk] + sp.diags(diag_extra[unk] + cm * 1.0 + uu * 0.0)).tocsr()
    precond = pymatting.ichol(P)
    x0 = np.clip(pymatting.estimate_alpha_cf(image, trimap, cg_kwargs={"rtol": 1e-4}).ravel()[unk], 0, 1)
    its = [0]

    def cb(*_):
        its[0] += 1

    xu = pymatting.cg(A_U, b, x0=x0, rtol=tol, maxiter=maxiter, M=precond, callback=cb)
    if log is not None:
        log["iterations"] = its[0]
        log["residual"] = float(np.linalg.norm(b - A_U @ xu) / np.linalg.norm(b))
    alpha = is_fg.astype(np.float64)
    alpha[unk] = xu
    return np.clip(alpha, 0, 1).reshape(h, w)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("image")
    ap.add_argument("trimap")
    ap.add_argument("out")
    ap.add_argument("--cm", type=float, default=1.0, help="σ_CM (0: no colour-mixture flow)")
    ap.add_argument("--uu", type=float, default=0.01, help="σ_UU (0: no intra-unknown flow)")
    ap.add_argument("--ku", type=float, default=0.05, help="σ_KU (0: no known-to-unknown flow)")
    ap.add_argument("--ku-mode", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--eps", type=float, default=1e-6, help="matting Laplacian ε")
    ap.add_argument("--k-cm", type=int, default=20)
    ap.add_argument("--tol", type=float, default=1e-7)
    args = ap.parse_args()
    image = np.asarray(Image.open(args.image).convert("RGB")).astype(np.float64) / 255
    trimap = np.asarray(Image.open(args.trimap).convert("L")).astype(np.float64) / 255
    log = {}
    alpha = ifm_alpha(image, trimap, cm=args.cm, uu=args.uu, ku=args.ku, ku_mode=args.ku_mode,
                      eps=args.eps, k_cm=args.k_cm, tol=args.tol, log=log)
    print(log, file=sys.stderr)
    if args.out.endswith(".npy"):
        np.save(args.out, alpha.astype(np.float32))
    else:
        Image.fromarray(np.round(alpha * 65535).astype(np.uint16)).save(args.out)


if __name__ == "__main__":
    main()
