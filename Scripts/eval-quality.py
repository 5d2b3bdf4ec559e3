#!/usr/bin/env python3
"""The quality harness: runs a matting command over a folder of items and scores its alphas.

    Scripts/make-quality-set.py                     # builds the development set (once)
    Scripts/eval-quality.py                         # matte --trimap on every item with a trimap
    Scripts/eval-quality.py --no-trimap             # matte's automatic (model) path
    Scripts/eval-quality.py -- --alpha-threshold 0 --erode 0 --no-feather
    Scripts/eval-quality.py --command 'CMD {image} {trimap} {alpha}' --label pymatting

Needs NumPy, SciPy and Pillow (the venv of Scripts/make-quality-set.py has them).

A set is a folder with one sub-folder per item, as make-quality-set.py writes:
    image.png     the photo (RGB)
    alpha.png     the reference alpha (8- or 16-bit gray; or alpha.npy, float 0..1)
    trimap.png    optional; 0 background, 255 foreground, anything else unknown
    item.json     optional; {"kind": "real" | "composite" | "cutout" | "synthetic" | "people" | "people-cutout", "reference": "..."}

The command is a template; placeholders: {image}, {trimap}, {alpha} (where the command must
write its alpha: an 8- or 16-bit gray PNG; or raw little-endian Float32 at {alpha}.f32, as
refine-bench's CF_SAVE writes), {out} (a cut-out path it may write),
{npy} (the item's npy/ folder, for refine-bench), {item} (the item's folder). Without
--command the harness builds and runs the `matte` program of this checkout:
    .build/release/matte {image} -o {out} --save-mask {alpha} [--trimap {trimap}] [EXTRA...]
where EXTRA is everything after `--`.

Metrics: those of Rhemann et al., "A Perceptually Motivated Online Benchmark for Image
Matting" (CVPR 2009), computed as the alphamatting.com benchmark and Deep Image Matting's
evaluation code (Xu et al. 2017) do, on alphas scaled to 0..1:
    SAD   Σ |α − α*| over the trimap's unknown pixels, ÷ 1000           (printed as "SAD")
    MSE   Σ (α − α*)² / (number of unknown pixels), × 1000               (printed as "MSE×1e3")
    Grad  Σ (|∇α| − |∇α*|)² over unknown pixels, ÷ 1000; ∇ by first-order Gaussian derivative
          filters, σ = 1.4, replicated borders                          (printed as "Grad")
    Conn  Σ |φ(α) − φ(α*)| over unknown pixels, ÷ 1000; φ(a) = 1 − (a − l)·[a − l ≥ 0.15], l
          the highest threshold (steps of 0.1) at which the pixel is still in the largest
          4-connected component of (α ≥ t) ∧ (α* ≥ t)                      (printed as "Conn")
    IoU   |{α ≥ 0.5} ∩ {α* ≥ 0.5}| / |{α ≥ 0.5} ∪ {α* ≥ 0.5}| over the whole picture
Items without a trimap are scored over every pixel (their "unknown" region is the picture).
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["real", "composite", "cutout", "synthetic", "people", "people-cutout"]  # item.json's "kind"
ROOT = os.path.normpath(os.path.join(HERE, ".."))


def default_set_dir():
    cache = os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit")
    return os.path.join(cache, "quality-set")


# ---------------------------------------------------------------------------- reading


def read_alpha(path):
    """An alpha as float64 0..1 from a .npy (float 0..1) or an 8/16-bit PNG."""
    if path.endswith(".npy"):
        return np.load(path).astype(np.float64)
    with Image.open(path) as im:
        a = np.asarray(im)
        if a.ndim == 3:  # an RGBA cut-out: take its alpha; a gray stored as RGB: its first channel
            a = a[..., 3] if a.shape[2] == 4 else a[..., 0]
        scale = 65535.0 if a.dtype == np.uint16 or a.max() > 255 else 255.0
        return a.astype(np.float64) / scale


def read_trimap(path):
    with Image.open(path) as im:
        t = np.asarray(im.convert("L"))
    return t


# ---------------------------------------------------------------------------- metrics


def gauss(x, sigma):
    return np.exp(-x ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))


def dgauss(x, sigma):
    return -x * gauss(x, sigma) / sigma ** 2


def gaussian_gradient(image, sigma=1.4):
    """Deep Image Matting's gaussgradient.m: 2-D first-order Gaussian derivative filters,
    half size from epsilon 1e-2, kernels normalised by the sum of absolute values,
    'replicate' borders, convolution."""
    epsilon = 1e-2
    half = int(np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon))))
    size = 2 * half + 1
    hx = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            u = [i - half, j - half]
            hx[i, j] = gauss(u[0], sigma) * dgauss(u[1], sigma)
    hx = hx / np.sqrt(np.sum(np.abs(hx) * np.abs(hx)))
    hy = hx.T
    gx = ndimage.convolve(image, hx, mode="nearest")
    gy = ndimage.convolve(image, hy, mode="nearest")
    return gx, gy


def largest_component(mask):
    labels, count = ndimage.label(mask, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    if count == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == np.argmax(sizes)


def connectivity_error(pred, target, region, step=0.1):
    """Deep Image Matting's compute_connectivity_error.m."""
    thresholds = np.arange(0, 1 + step, step)
    level = -np.ones(pred.shape)
    for i in range(1, len(thresholds)):
        omega = largest_component((pred >= thresholds[i]) & (target >= thresholds[i]))
        flag = (level == -1) & (~omega)
        level[flag] = thresholds[i - 1]
    level[level == -1] = 1
    pred_d = pred - level
    target_d = target - level
    pred_phi = 1 - pred_d * (pred_d >= 0.15)
    target_phi = 1 - target_d * (target_d >= 0.15)
    return np.sum(np.abs(pred_phi - target_phi) * region) / 1000


def metrics(pred, target, trimap):
    """SAD, MSE×1e3, Grad, Conn over the unknown region; IoU over the picture."""
    if trimap is not None:
        region = ((trimap != 0) & (trimap != 255)).astype(np.float64)
    else:
        region = np.ones(pred.shape)
    count = max(region.sum(), 1)
    diff = pred - target
    sad = np.sum(np.abs(diff) * region) / 1000
    mse = np.sum(diff ** 2 * region) / count * 1000
    pgx, pgy = gaussian_gradient(pred)
    tgx, tgy = gaussian_gradient(target)
    grad = np.sum((np.hypot(pgx, pgy) - np.hypot(tgx, tgy)) ** 2 * region) / 1000
    conn = connectivity_error(pred, target, region)
    p, t = pred >= 0.5, target >= 0.5
    union = np.sum(p | t)
    iou = np.sum(p & t) / union if union else 1.0
    return {"SAD": sad, "MSE×1e3": mse, "Grad": grad, "Conn": conn, "IoU": iou}


# ---------------------------------------------------------------------------- running


def build_matte():
    subprocess.run(["swift", "build", "-c", "release", "--product", "matte"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    return os.path.join(ROOT, ".build", "release", "matte")


def items_in(set_dir, names):
    out = []
    for name in sorted(os.listdir(set_dir)):
        folder = os.path.join(set_dir, name)
        if not os.path.isdir(folder) or (names and name not in names):
            continue
        info = {}
        if os.path.exists(os.path.join(folder, "item.json")):
            with open(os.path.join(folder, "item.json")) as f:
                info = json.load(f)
        ref = next((os.path.join(folder, f) for f in ("alpha.npy", "alpha.png")
                    if os.path.exists(os.path.join(folder, f))), None)
        if ref is None:
            continue
        trimap = os.path.join(folder, "trimap.png")
        out.append({"name": name, "folder": folder, "image": os.path.join(folder, "image.png"),
                    "reference": ref, "trimap": trimap if os.path.exists(trimap) else None,
                    "kind": info.get("kind", "?")})
    return out


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default=default_set_dir(), help="the set's folder (default: the cache)")
    parser.add_argument("--command", help="command template (see the module doc); default: this checkout's matte")
    parser.add_argument("--no-trimap", action="store_true", help="do not pass trimaps to matte (the model path)")
    parser.add_argument("--kind", choices=KINDS, help="only items of this kind")
    parser.add_argument("--require-trimap", action="store_true", help="only items with a trimap")
    parser.add_argument("--items", nargs="*", help="only these items")
    parser.add_argument("--label", default=None, help="a name for this run in the output")
    parser.add_argument("--json", help="also write the per-item results here")
    parser.add_argument("--keep", help="keep the alphas the command wrote in this folder")
    args = parser.parse_args(argv)

    items = items_in(args.set, args.items)
    if args.kind:
        items = [i for i in items if i["kind"] == args.kind]
    if args.require_trimap:
        items = [i for i in items if i["trimap"]]
    if not items:
        sys.exit(f"eval-quality: no items in {args.set} (run Scripts/make-quality-set.py)")
    if args.command:
        template = args.command
    else:
        matte = build_matte()
        template = shlex.quote(matte) + " {image} -o {out} --save-mask {alpha}"
        if not args.no_trimap:
            template += " {trimap_option}"
        template += "".join(" " + shlex.quote(e) for e in extra)

    label = args.label or (args.command or "matte " + " ".join(extra)).strip()
    print(f"# {label}")
    print("# SAD and Grad and Conn: sums over the unknown region ÷ 1000, alpha 0..1; "
          "MSE×1e3: mean over the unknown region × 1000; IoU at 0.5 over the picture")
    names = ["SAD", "MSE×1e3", "Grad", "Conn", "IoU"]
    nw = max([28] + [len(i["name"]) for i in items])  # column widths: the longest name and kind
    kw = max([9] + [len(i["kind"]) for i in items])
    print(f"{'item':<{nw}} {'kind':<{kw}} " + " ".join(f"{n:>8}" for n in names) + f" {'seconds':>8}")
    results = []
    work = args.keep or tempfile.mkdtemp(prefix="eval-quality-")
    os.makedirs(work, exist_ok=True)
    for item in items:
        alpha_path = os.path.join(work, item["name"] + "-alpha.png")
        out_path = os.path.join(work, item["name"] + "-cutout.png")
        trimap = item["trimap"] if not args.no_trimap else None
        fields = {
            "image": shlex.quote(item["image"]), "alpha": shlex.quote(alpha_path), "out": shlex.quote(out_path),
            "trimap": shlex.quote(trimap or ""), "npy": shlex.quote(os.path.join(item["folder"], "npy")),
            "item": shlex.quote(item["folder"]),
            "trimap_option": ("--trimap " + shlex.quote(trimap)) if trimap else "",
        }
        command = template.format(**fields)
        start = time.perf_counter()
        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(f"{item['name']:<{nw}} FAILED ({done.returncode}): {done.stderr.strip()[-300:]}")
            continue
        target = read_alpha(item["reference"])
        if not os.path.exists(alpha_path) and os.path.exists(alpha_path + ".f32"):
            # refine-bench's CF_SAVE: raw little-endian Float32, the picture's size.
            pred = np.fromfile(alpha_path + ".f32", dtype="<f4").astype(np.float64).reshape(target.shape)
        else:
            pred = read_alpha(alpha_path)
        tri = read_trimap(item["trimap"]) if item["trimap"] else None
        if pred.shape != target.shape:
            print(f"{item['name']:<{nw}} FAILED: alpha {pred.shape} vs reference {target.shape}")
            continue
        m = metrics(pred, target, tri)
        results.append({"item": item["name"], "kind": item["kind"], "seconds": seconds, **m})
        print(f"{item['name']:<{nw}} {item['kind']:<{kw}} " + " ".join(f"{m[n]:8.4f}" for n in names) + f" {seconds:8.2f}")
    for kind in KINDS + [None]:
        chosen = [r for r in results if kind is None or r["kind"] == kind]
        if not chosen:
            continue
        means = {n: statistics.fmean(r[n] for r in chosen) for n in names}
        print(f"{'mean ' + (kind or 'all') + f' ({len(chosen)})':<{nw + kw + 1}} "
              + " ".join(f"{means[n]:8.4f}" for n in names))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": label, "results": results}, f, indent=1)
    if len(results) != len(items):
        sys.exit(1)


if __name__ == "__main__":
    main()
