#!/usr/bin/env python3
"""Upscaled copies of the quality set's cutout and composite items, for measuring what a
resolution-dependent approximation does at about 1200 px (Docs/Quality.md, branch `ku-fast`).

    Scripts/upscale-quality-items.py [--set SET] [--out /tmp/set-up]

The image (8-bit), the true alpha and the true foreground are upscaled together with Lanczos
(the alpha clipped to 0..1), cutouts 3x and composites 2x; the trimap follows
make-quality-set.py's rule at the new size: sure = alpha > 0.99 eroded, maybe = alpha > 0.01
dilated, by the item's band times the factor (cutouts) or max(2, round(0.012 * min side))
(composites, make_composite's rule). Needs the venv of make-quality-set.py.
"""
import argparse, importlib.util, json, os
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mqs", os.path.join(HERE, "make-quality-set.py"))
mqs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mqs)
ITEMS = [("cutout-children-on-chelsea", 3), ("cutout-children-on-coffee", 3), ("cutout-tree-on-coffee", 3),
         ("cutout-tree-on-rocket", 3), ("composite-astronaut-on-rocket", 2), ("composite-chelsea-on-coffee", 2)]


def up(values, W, H):
    """Float planes (h×w or h×w×c) upscaled to W×H with Lanczos."""
    planes = values[..., None] if values.ndim == 2 else values
    out = [np.asarray(Image.fromarray(planes[..., c].astype(np.float32), "F").resize((W, H), Image.LANCZOS)) for c in range(planes.shape[2])]
    return np.stack(out, -1)[..., 0] if values.ndim == 2 else np.stack(out, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default=os.path.expanduser("~/.cache/mattingkit/quality-set"))
    parser.add_argument("--out", default="/tmp/set-up")
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(HERE, "quality-set", "manifest.json")))
    bands = {i["name"]: i.get("band") for i in manifest["items"] if "name" in i}
    for name, f in ITEMS:
        src = os.path.join(args.set, name)
        image8 = np.asarray(Image.open(os.path.join(src, "image.png")).convert("RGB"))
        alpha = np.load(os.path.join(src, "alpha.npy")).astype(np.float32)
        h, w = alpha.shape
        W, H = w * f, h * f
        image = np.asarray(Image.fromarray(image8).resize((W, H), Image.LANCZOS))
        a = np.clip(up(alpha, W, H), 0, 1).astype(np.float64)
        fg_path = os.path.join(src, "npy", "foreground-true.npy")
        fg = np.clip(up(np.load(fg_path), W, H), 0, 1) if os.path.exists(fg_path) else None
        info = json.load(open(os.path.join(src, "item.json")))
        band = bands[name] * f if info["kind"] == "cutout" else max(2, round(0.012 * min(H, W)))
        trimap = mqs.banded_trimap(a > 0.99, a > 0.01, band)
        info["source"] = f"{name} upscaled {f}x (image, alpha and foreground, Lanczos), band {band}"
        mqs.write_item(os.path.join(args.out, f"{name}-x{f}"), image, trimap, a, info, fg)
        print(f"{name}-x{f}: {W}x{H}, band {band}, unknown {100 * np.mean((trimap > 0) & (trimap < 255)):.1f} %")


if __name__ == "__main__":
    main()
