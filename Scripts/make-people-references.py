#!/usr/bin/env python3
"""Makes the people items' reference masks (Scripts/quality-set/<name>-reference.png) and an
overlay to check them by eye.

    /tmp/venv-quality/bin/python Scripts/make-people-references.py NAME PHOTO MODEL_MASK OVERLAY

The reference is drawn from hand-drawn person outlines of the manifest's item NAME
("people": one polygon per person, in photo pixels, drawn a little outside each person on
the photo) and the model path's own mask (MODEL_MASK: `matte PHOTO --save-mask` with default
options, people filter off, thresholded at 128):

    reference = outlines ∩ (model mask ∪ the "fill" outlines shrunk by "inset" px ∪ the "exact" ones)

so the mask's parts that are no person are out (what the people filter is for), the parts of
people the model missed (only for the outlines listed in "fill", chosen on the overlay: those
where the model misses much of the person) are in up to the shrunk outline, those listed in
"exact" (tight outlines of a part the model misses: an ear, curls) are in as drawn, and where
the model is right its edge is kept. Edges are therefore only as good as the model's or the outline's: the set
scores whole-region mistakes (a crowd, a bus, a missed person), not hair. OVERLAY shows the
photo with the reference in green, the model's mask outside the outlines (what the
reference drops) in red, the filled-in parts the model missed in blue, and the outlines in
magenta; look at it before committing a reference.
"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    name, photo_path, mask_path, overlay_path = sys.argv[1:5]
    with open(os.path.join(HERE, "quality-set", "manifest.json")) as f:
        item = next(i for i in json.load(f)["items"] if i["name"] == name)
    photo = Image.open(photo_path).convert("RGB")
    model = np.asarray(Image.open(mask_path).convert("L")) >= 128

    def drawn(polygons):
        canvas = Image.new("L", photo.size, 0)
        draw = ImageDraw.Draw(canvas)
        for polygon in polygons:
            draw.polygon([tuple(p) for p in polygon], fill=255)
        return np.asarray(canvas) > 0

    inside = drawn(item["people"])
    fill = item.get("fill", {"inset": 0, "polygons": []})
    inset = fill["inset"]
    core = ndimage.binary_erosion(drawn(item["people"][i] for i in fill["polygons"]),
                                  np.ones((2 * inset + 1, 2 * inset + 1), bool), border_value=1)
    # "exact": outlines drawn tightly around a part of a person the model misses (an ear,
    # curls, a shoulder), taken as drawn, without the inset.
    core |= drawn(item["people"][i] for i in fill.get("exact", []))
    reference = inside & (model | core)
    Image.fromarray((reference * 255).astype(np.uint8)).save(os.path.join(HERE, "quality-set", item["reference_png"]), optimize=True)
    rgb = np.asarray(photo).astype(np.float64)
    tint = rgb.copy()
    tint[reference] = 0.5 * rgb[reference] + 0.5 * np.array([0, 255, 0])
    dropped = model & ~inside
    tint[dropped] = 0.4 * rgb[dropped] + 0.6 * np.array([255, 0, 0])
    filled = reference & ~model
    tint[filled] = 0.4 * rgb[filled] + 0.6 * np.array([0, 80, 255])
    out = Image.fromarray(tint.astype(np.uint8))
    draw = ImageDraw.Draw(out)
    for polygon in item["people"]:
        draw.line([tuple(p) for p in polygon] + [tuple(polygon[0])], fill=(255, 0, 255), width=2)
    out.save(overlay_path)
    print(f"{name}: model mask {model.mean() * 100:.1f} %, reference {reference.mean() * 100:.1f} %, "
          f"dropped {dropped.mean() * 100:.2f} %, filled {filled.mean() * 100:.2f} % of the picture")


if __name__ == "__main__":
    main()
