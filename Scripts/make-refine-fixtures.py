#!/usr/bin/env python3
"""Makes the MattingRefine test fixtures: a synthetic composite with known alpha, its trimap,
and pymatting's closed-form alpha and multi-level foreground for it.

    python3 -m venv .venv-refine && .venv-refine/bin/pip install pymatting==1.1.16 numpy==2.4.6 scipy==1.17.1 numba==0.68.1
    .venv-refine/bin/python Scripts/make-refine-fixtures.py

Writes Tests/MattingRefineTests/Fixtures/refine-*.npy (NumPy .npy v1, little-endian) and
refine-versions.txt. Tests read them and never call Python. The composite generator is also
used by Scripts/bench-refine.py at 1200x1800.
"""
import os
import sys

import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "MattingRefineTests", "Fixtures")


def smooth_field(h, w, rng, waves=6, scale=1.0):
    """A sum of random low-frequency sinusoids, roughly in -1..1."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w))
    for _ in range(waves):
        fx, fy = rng.uniform(0.5, 3.0, 2) * scale
        phase = rng.uniform(0, 2 * np.pi)
        out += np.sin(2 * np.pi * (fx * xx / w + fy * yy / h) + phase)
    return out / waves


def ellipse_alpha(h, w, cx, cy, ax, ay, softness):
    """Anti-aliased ellipse: signed distance approximated by (1 - r) * min(ax, ay)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.sqrt(((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2)
    d = (1 - r) * min(ax, ay)
    return np.clip(d / softness + 0.5, 0, 1)


def draw_strand(alpha, points, width, opacity):
    """Max-blends an anti-aliased polyline of the given width (px) into alpha."""
    h, w = alpha.shape
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        pad = width + 2
        xa, xb = int(max(0, min(x0, x1) - pad)), int(min(w, max(x0, x1) + pad + 1))
        ya, yb = int(max(0, min(y0, y1) - pad)), int(min(h, max(y0, y1) + pad + 1))
        if xa >= xb or ya >= yb:
            continue
        yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float64)
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy + 1e-12
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / length2, 0, 1)
        dist = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
        a = np.clip(width / 2 - dist + 0.5, 0, 1) * opacity
        alpha[ya:yb, xa:xb] = np.maximum(alpha[ya:yb, xa:xb], a)


def make_composite(h, w, seed=1, strands=None, band=None, veil_scale=1.0):
    """Returns (image uint8 HxWx3, true alpha float32 HxW, trimap uint8 HxW, F float32 HxWx3).

    A head-and-shoulders silhouette with a 1.5 px soft edge, hair strands 0.7-1.8 px wide
    leaving the head, and a semi-transparent veil (alpha 0.15-0.6 gradient), composited over
    a contrasting textured background, quantised to 8 bits. Trimap: foreground = alpha > 0.99
    eroded by `band` px, background = outside alpha > 0.01 dilated by `band` px.
    """
    rng = np.random.default_rng(seed)
    s = min(h, w)
    if strands is None:
        strands = max(12, s // 4)
    if band is None:
        band = max(2, round(0.012 * s))
    cx, cy = w * 0.5, h * 0.36
    head_ax, head_ay = s * 0.17, s * 0.21
    alpha = np.maximum(
        ellipse_alpha(h, w, cx, cy, head_ax, head_ay, 1.5),
        ellipse_alpha(h, w, cx, h * 1.02, w * 0.42, h * 0.42, 1.5),
    )
    for _ in range(strands):
        theta = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)
        x, y = cx + head_ax * 0.97 * np.cos(theta), cy + head_ay * 0.97 * np.sin(theta)
        direction = theta + rng.uniform(-0.5, 0.5)
        length = rng.uniform(0.04, 0.12) * s
        steps = 12
        pts = [(x, y)]
        for _ in range(steps):
            direction += rng.uniform(-0.15, 0.15)
            x += np.cos(direction) * length / steps
            y += np.sin(direction) * length / steps
            pts.append((x, y))
        draw_strand(alpha, pts, rng.uniform(0.7, 1.8), rng.uniform(0.6, 1.0))
    # Veil: a semi-transparent region right of the shoulders.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    vx, vy = s * 0.12 * veil_scale, s * 0.16 * veil_scale
    veil = ellipse_alpha(h, w, w * 0.8, h * 0.62, vx, vy, 3.0)
    veil *= 0.15 + 0.45 * np.clip((xx - (w * 0.8 - vx)) / (2 * vx), 0, 1)
    alpha = np.maximum(alpha, veil)

    fg = np.stack([0.55 + 0.15 * smooth_field(h, w, rng), 0.35 + 0.1 * smooth_field(h, w, rng),
                   0.25 + 0.08 * smooth_field(h, w, rng)], axis=2)
    hair = np.stack([0.25, 0.16, 0.1])[None, None, :] + 0.05 * smooth_field(h, w, rng)[..., None]
    is_hair = (yy < cy + head_ay * 0.2)[..., None]
    fg = np.where(is_hair, hair, fg)
    bg = np.stack([0.25 + 0.2 * smooth_field(h, w, rng, scale=2), 0.55 + 0.2 * smooth_field(h, w, rng, scale=2),
                   0.75 + 0.15 * smooth_field(h, w, rng, scale=2)], axis=2)
    fg = np.clip(fg + rng.normal(0, 0.01, fg.shape), 0, 1)
    bg = np.clip(bg + rng.normal(0, 0.02, bg.shape), 0, 1)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    image8 = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)

    structure = np.ones((2 * band + 1, 2 * band + 1), bool)
    sure_fg = ndimage.binary_erosion(alpha > 0.99, structure, border_value=1)
    maybe = ndimage.binary_dilation(alpha > 0.01, structure)
    trimap = np.full((h, w), 128, np.uint8)
    trimap[sure_fg] = 255
    trimap[~maybe] = 0
    return image8, alpha.astype(np.float32), trimap, fg.astype(np.float32)


def main():
    import pymatting

    os.makedirs(FIXTURES, exist_ok=True)
    h, w = 96, 128
    image8, alpha, trimap, fg = make_composite(h, w, seed=7, strands=24, band=3)
    image = image8.astype(np.float64) / 255
    pm_alpha = pymatting.estimate_alpha_cf(image, trimap.astype(np.float64) / 255)
    pm_fg = pymatting.estimate_foreground_ml(image, alpha.astype(np.float64))
    np.save(os.path.join(FIXTURES, "refine-image.npy"), image8)
    np.save(os.path.join(FIXTURES, "refine-trimap.npy"), trimap)
    np.save(os.path.join(FIXTURES, "refine-true-alpha.npy"), alpha)
    np.save(os.path.join(FIXTURES, "refine-true-foreground.npy"), fg)
    np.save(os.path.join(FIXTURES, "refine-pymatting-alpha.npy"), pm_alpha.astype(np.float32))
    np.save(os.path.join(FIXTURES, "refine-pymatting-foreground.npy"), pm_fg.astype(np.float32))
    unknown = np.mean((trimap != 0) & (trimap != 255))
    sad = np.abs(pm_alpha - alpha).sum()
    with open(os.path.join(FIXTURES, "refine-versions.txt"), "w") as f:
        f.write("Generated by Scripts/make-refine-fixtures.py; do not edit.\n")
        import numba
        import scipy
        f.write(f"python {sys.version.split()[0]}, numpy {np.__version__}, pymatting {pymatting.__version__}, "
                f"scipy {scipy.__version__}, numba {numba.__version__}\n")
        f.write(f"size {w}x{h}, unknown {unknown:.4f}, pymatting cf SAD vs truth {sad:.3f}\n")
        f.write("estimate_alpha_cf(image, trimap/255) with defaults (eps 1e-7, r 1, ichol, rtol 1e-7);\n")
        f.write("estimate_foreground_ml(image, true_alpha) with defaults (reg 1e-5, 10/2 iterations, grad 1.0)\n")
    print(open(os.path.join(FIXTURES, "refine-versions.txt")).read())


if __name__ == "__main__":
    main()
