#!/usr/bin/env python3
"""Reference outputs for MattingImage's resampling, colour conversion, CLAHE and sharpen.

Writes small .npy files to Tests/MattingImageTests/Fixtures/preprocess/. The Swift tests
compare against them and never call Python.

Versions used to generate the committed fixtures (pin them when regenerating):
    python 3.11.7, numpy==2.1.3, opencv-python-headless==4.10.0.84, Pillow==11.0.0
Regenerate:
    python3 -m venv /tmp/venv-pre
    /tmp/venv-pre/bin/pip install numpy==2.1.3 opencv-python-headless==4.10.0.84 Pillow==11.0.0
    /tmp/venv-pre/bin/python Scripts/make-preprocess-fixtures.py
"""
import os

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MattingImageTests", "Fixtures", "preprocess")


def photo_like(height, width, seed):
    """Deterministic RGB content with smooth regions, edges and texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255 * x / max(width - 1, 1)
    b = np.where((x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 3) ** 2, 220, 30)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (height, width, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def exact_lab(rgb8):
    """CIE L*a*b* (D65) in float64 with OpenCV's constants: the exact definition."""
    c = rgb8.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
    xyz = lin @ m.T
    xyz[..., 0] /= 0.950456
    xyz[..., 2] /= 1.088754
    f = lambda t: np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    fx, fy, fz = f(xyz[..., 0]), f(xyz[..., 1]), f(xyz[..., 2])
    lightness = np.where(xyz[..., 1] > 0.008856, 116 * fy - 16, 903.3 * xyz[..., 1])
    return np.stack([lightness, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def save(name, array):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(array))


def main():
    os.makedirs(OUT, exist_ok=True)
    src = photo_like(61, 97, 1)              # odd sizes, not multiples of 8
    big = photo_like(203, 157, 2)
    save("src", src)
    save("big", big)

    # Resampling. cv2.resize takes (width, height).
    save("area_37x23", cv2.resize(src, (37, 23), interpolation=cv2.INTER_AREA))
    save("area_int_24x16", cv2.resize(big[:192, :144], (36, 48), interpolation=cv2.INTER_AREA))
    save("linear_40x25", cv2.resize(src, (40, 25), interpolation=cv2.INTER_LINEAR))
    save("linear_150x90", cv2.resize(src, (150, 90), interpolation=cv2.INTER_LINEAR))
    # INTER_NEAREST has no half-pixel offset; INTER_NEAREST_EXACT is the centre-based one.
    save("nearest_40x25", cv2.resize(src, (40, 25), interpolation=cv2.INTER_NEAREST_EXACT))
    pil = Image.fromarray(src)
    save("lanczos_40x25", np.asarray(pil.resize((40, 25), Image.LANCZOS)))
    save("lanczos_150x90", np.asarray(pil.resize((150, 90), Image.LANCZOS)))

    # The same on float data (no fixed point, no rounding between passes): the exact test.
    srcf = src.astype(np.float32) / 255
    for name, size, interp in [("area_f_37x23", (37, 23), cv2.INTER_AREA),
                               ("linear_f_40x25", (40, 25), cv2.INTER_LINEAR),
                               ("linear_f_150x90", (150, 90), cv2.INTER_LINEAR)]:
        save(name, cv2.resize(srcf, size, interpolation=interp))
    for name, size in [("lanczos_f_40x25", (40, 25)), ("lanczos_f_150x90", (150, 90))]:
        planes = [np.asarray(Image.fromarray(np.ascontiguousarray(srcf[:, :, c]), mode="F").resize(size, Image.LANCZOS))
                  for c in range(3)]
        save(name, np.stack(planes, axis=-1).astype(np.float32))

    # Colour conversion.
    lab8 = cv2.cvtColor(src, cv2.COLOR_RGB2Lab)
    save("lab8", lab8)
    # Every 8-bit colour through OpenCV's fixed-point RGB2Lab: a 4096×4096 image would be
    # 48 MB, so keep a deterministic sample of 16384 colours.
    rng = np.random.default_rng(7)
    sample = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    save("lab8_sample_rgb", sample)
    save("lab8_sample", cv2.cvtColor(sample, cv2.COLOR_RGB2Lab))
    save("labf", cv2.cvtColor(src.astype(np.float32) / 255, cv2.COLOR_RGB2Lab))
    save("labf_exact", exact_lab(src).astype(np.float32))
    save("lab8_to_rgb", cv2.cvtColor(lab8, cv2.COLOR_Lab2RGB))

    # CLAHE exactly: on a given 8-bit plane (several sizes, divisible and not).
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    gray_big = cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)
    save("gray_big", gray_big)
    save("clahe_gray_big", clahe.apply(gray_big))
    save("clahe_gray_128x96", clahe.apply(np.ascontiguousarray(gray_big[:96, :128])))
    save("clahe_L", clahe.apply(np.ascontiguousarray(lab8[:, :, 0])))
    clahe4 = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(3, 5))
    save("clahe_gray_big_clip4_3x5", clahe4.apply(gray_big))

    # Sharpen and the whole enhance recipe.
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)
    save("sharpen", cv2.filter2D(src, -1, kernel))
    lab = cv2.cvtColor(big, cv2.COLOR_RGB2Lab)
    lab[:, :, 0] = clahe.apply(np.ascontiguousarray(lab[:, :, 0]))
    enhanced = cv2.filter2D(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), -1, kernel)
    save("enhance_big", enhanced)


if __name__ == "__main__":
    main()
