#!/usr/bin/env python3
"""An experiment (Docs/Quality.md, "Trimap trimming before the solve"): trims a trimap the way
Shahrian et al. (CVPR 2013) and information-flow matting do, then runs this checkout's `matte`
on the trimmed trimap. Not part of the library: it was measured and not kept.

    Scripts/eval-quality.py --require-trimap --command \
        "$PY Scripts/trimap-trimming.py {image} {trimap} {alpha}"       # TRIM_T=9 by default

An unknown pixel within spatial distance d < τ of a known pixel whose colour differs from it by
less than τ − d (0…255 scale, Euclidean over RGB) takes that pixel's label; offsets are tried
nearest first. τ is TRIM_T (default 9, the papers'). Needs NumPy and Pillow.
"""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def trimmed(image, trimap, tau):
    """The trimap with unknown pixels that copy a nearby known pixel's colour made known."""
    image = image.astype(np.float32)
    h, w = trimap.shape
    out = trimap.copy()
    decided = (trimap == 0) | (trimap == 255)
    r = int(np.ceil(tau)) - 1
    offsets = sorted(((dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
                      if 0 < np.hypot(dy, dx) < tau), key=lambda o: o[0] ** 2 + o[1] ** 2)
    for dy, dx in offsets:
        d = np.hypot(dy, dx)
        y0, y1, x0, x1 = max(0, -dy), min(h, h - dy), max(0, -dx), min(w, w - dx)
        there = trimap[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
        colour = np.sqrt(((image[y0 + dy:y1 + dy, x0 + dx:x1 + dx] - image[y0:y1, x0:x1]) ** 2).sum(-1))
        take = ((there == 0) | (there == 255)) & (colour < tau - d) & ~decided[y0:y1, x0:x1]
        out[y0:y1, x0:x1][take] = there[take]
        decided[y0:y1, x0:x1] |= take
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: trimap-trimming.py IMAGE TRIMAP ALPHA_OUT [matte options...]")
    image, trimap, alpha = sys.argv[1:4]
    tau = float(os.environ.get("TRIM_T", "9"))
    try:
        photo = np.asarray(Image.open(image).convert("RGB"))
        tri = np.asarray(Image.open(trimap).convert("L"))
    except OSError as error:
        sys.exit(f"trimap-trimming: {error}")
    if tri.shape != photo.shape[:2]:
        sys.exit(f"trimap-trimming: {trimap} is {tri.shape[1]}x{tri.shape[0]}, {image} is {photo.shape[1]}x{photo.shape[0]}")
    path = alpha + ".trimmed.png"
    Image.fromarray(trimmed(photo, tri, tau)).save(path)
    matte = os.path.join(ROOT, ".build", "release", "matte")
    subprocess.run([matte, image, "--trimap", path, "-o", alpha + ".cutout.png", "--save-mask", alpha]
                   + sys.argv[4:], check=True)


if __name__ == "__main__":
    main()
