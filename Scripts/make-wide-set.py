#!/usr/bin/env python3
"""Crops of the quality set's people items at aspect ratios from 1:1 to 2.4:1, for choosing
which selfie model (square 256×256 or landscape 256×144) a photo of a given shape should go to
(Docs/Quality.md, "The landscape model for wide photos").

    Scripts/make-quality-set.py --items people-astronaut people-bus people-zidane   # once
    Scripts/make-wide-set.py OUT_DIR
    Scripts/eval-quality.py --set OUT_DIR --no-trimap -- --model ~/.cache/mattingkit/models/selfie_segmentation.tflite
    Scripts/eval-quality.py --set OUT_DIR --no-trimap -- --model ~/.cache/mattingkit/models/selfie_segmentation_landscape.tflite

Each item is a crop (x0, y0, x1, y1) of a people item's photo and of its hand-checked reference,
or "pair": the astronaut beside its mirror image (1024×512). The references were made partly
from the square model's own mask on the whole photo (see the items' item.json), which favours
the square model in these comparisons. Needs Pillow.
"""
import json
import os
import sys

from PIL import Image, ImageOps

# name: (people item, crop box or "pair")
CROPS = {
    "zidane-1x1": ("zidane", (280, 0, 1000, 720)),
    "zidane-1.1": ("zidane", (244, 0, 1036, 720)),
    "zidane-5x4": ("zidane", (190, 0, 1090, 720)),
    "zidane-4x3": ("zidane", (160, 0, 1120, 720)),
    "zidane-1.4": ("zidane", (136, 0, 1144, 720)),
    "zidane-3x2": ("zidane", (100, 0, 1180, 720)),
    "zidane-5x3": ("zidane", (40, 0, 1240, 720)),
    "zidane-16x9": ("zidane", (0, 0, 1280, 720)),
    "zidane-2.4": ("zidane", (0, 100, 1280, 633)),
    "astronaut-5x4": ("astronaut", (0, 0, 512, 410)),
    "astronaut-4x3": ("astronaut", (0, 0, 512, 384)),
    "astronaut-1.4": ("astronaut", (0, 0, 512, 366)),
    "astronaut-3x2": ("astronaut", (0, 0, 512, 341)),
    "astronaut-5x3": ("astronaut", (0, 0, 512, 307)),
    "astronaut-16x9": ("astronaut", (0, 0, 512, 288)),
    "astronaut-pair-2x1": ("astronaut", "pair"),
    "astronaut-2.4": ("astronaut", (0, 20, 512, 233)),
    "bus-5x4": ("bus", (0, 300, 810, 948)),
    "bus-4x3": ("bus", (0, 350, 810, 957)),
    "bus-3x2": ("bus", (0, 380, 810, 920)),
    "bus-3x2-top": ("bus", (0, 200, 810, 740)),
    "bus-5x3": ("bus", (0, 380, 810, 866)),
    "bus-5x3-top": ("bus", (0, 200, 810, 686)),
    "bus-16x9": ("bus", (0, 420, 810, 876)),
    "bus-2x1": ("bus", (0, 500, 810, 905)),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    source = os.path.join(cache, "mattingkit", "quality-set")
    for name, (item, box) in CROPS.items():
        folder = os.path.join(source, f"people-{item}")
        photo = Image.open(os.path.join(folder, "image.png")).convert("RGB")
        reference = Image.open(os.path.join(folder, "alpha.png")).convert("L")
        if box == "pair":
            w, h = photo.size
            pair_photo, pair_reference = Image.new("RGB", (2 * w, h)), Image.new("L", (2 * w, h))
            for canvas, im in ((pair_photo, photo), (pair_reference, reference)):
                canvas.paste(im, (0, 0))
                canvas.paste(ImageOps.mirror(im), (w, 0))
            photo, reference = pair_photo, pair_reference
        else:
            photo, reference = photo.crop(box), reference.crop(box)
        target = os.path.join(out, name)
        os.makedirs(target, exist_ok=True)
        photo.save(os.path.join(target, "image.png"))
        reference.save(os.path.join(target, "alpha.png"))
        with open(os.path.join(target, "item.json"), "w") as f:
            json.dump({"kind": "people", "reference": f"people-{item}'s reference, cropped {box}",
                       "aspect": round(photo.width / photo.height, 3)}, f, indent=1)
        print(f"{name}: {photo.width}×{photo.height} ({photo.width / photo.height:.2f}:1)")


if __name__ == "__main__":
    main()
