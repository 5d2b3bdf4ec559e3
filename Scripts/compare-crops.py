#!/usr/bin/env python3
"""Side-by-side crops of several mattes of one photo, to compare solvers by eye.

    /tmp/venv-quality/bin/python Scripts/compare-crops.py PHOTO OUT.png X0 Y0 X1 Y1 \
        [--scale 3] [--gain 1] [--alpha 0] LABEL=MASK.png [LABEL=MASK.png ...]

Each tile is the photo's crop [X0, X1) × [Y0, Y1) composited over pure green with one mask
(8-bit gray, the photo's size, e.g. `matte --save-mask`), enlarged SCALE times (nearest
neighbour, so pixels stay pixels), labelled. --gain G multiplies each tile's difference from
green by G, which makes a faint semi-transparent layer (a "ghost" of the background kept at
alpha 0.02–0.1) visible; --alpha G shows the mask itself instead, times G (white = alpha ≥ 1/G).
Needs NumPy and Pillow (the venv of Scripts/make-quality-set.py has them).
"""
import argparse

import numpy as np
from PIL import Image, ImageDraw

GREEN = np.array([0.0, 255.0, 0.0])


def tile(photo, mask, box, args, label):
    x0, y0, x1, y1 = box
    a = mask[y0:y1, x0:x1, None]
    if args.alpha > 0:
        pixels = np.repeat(np.minimum(a * args.alpha, 1) * 255, 3, axis=2)
    else:
        pixels = GREEN + args.gain * (photo[y0:y1, x0:x1] * a + GREEN * (1 - a) - GREEN)
    im = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    im = im.resize(((x1 - x0) * args.scale, (y1 - y0) * args.scale), Image.NEAREST)
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 0, 7 * len(label) + 6, 14], fill=(0, 0, 0))
    draw.text((3, 2), label, fill=(255, 255, 255))
    return im


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photo")
    parser.add_argument("out")
    parser.add_argument("box", nargs=4, type=int, metavar="X0 Y0 X1 Y1")
    parser.add_argument("masks", nargs="+", metavar="LABEL=MASK")
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--gain", type=float, default=1)
    parser.add_argument("--alpha", type=float, default=0)
    args = parser.parse_args()
    photo = np.asarray(Image.open(args.photo).convert("RGB")).astype(np.float64)
    tiles = []
    for item in args.masks:
        label, path = item.split("=", 1)
        mask = np.asarray(Image.open(path).convert("L")).astype(np.float64) / 255
        if mask.shape != photo.shape[:2]:
            raise SystemExit(f"{path}: {mask.shape[1]}×{mask.shape[0]}, the photo is {photo.shape[1]}×{photo.shape[0]}")
        tiles.append(tile(photo, mask, args.box, args, label))
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tiles[0].height), (255, 255, 255))
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 4
    sheet.save(args.out)


if __name__ == "__main__":
    main()
