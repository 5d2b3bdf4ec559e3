#!/usr/bin/env python3
"""Times Pillow and OpenCV on the codec benchmark's own files, next to MattingKit.

    python3 -m venv .venv && .venv/bin/pip install Pillow numpy opencv-python-headless
    .venv/bin/python Scripts/bench-codecs.py            # runs the Swift benchmark too
    .venv/bin/python Scripts/bench-codecs.py --no-swift # only Pillow/OpenCV (files must exist)

Measured with Python 3.11.7, Pillow 13.0.0, numpy 2.4.6, opencv-python-headless 5.0.0.

The inputs are written by the Swift benchmark (Benchmarks/.../CodecBenchmarks.swift) to
$TMPDIR/mattingkit-codec-bench/: photo-q95.jpg (1200x1800 RGB, quality 95, 4:2:0) and
photo-rgba.png (1200x1800 RGBA, zlib level 2). Every library decodes those same bytes
from memory and encodes the same pixels to memory with matching settings:

  * JPEG encode: quality 95, 4:2:0 chroma, no Huffman optimisation, baseline (all three).
  * PNG encode: zlib level 2. Filters differ and cannot be aligned through the Python
    APIs: MattingKit uses "Up" on every row; Pillow chooses adaptively among all five;
    OpenCV uses its own default filter and zlib strategy.
  * OpenCV returns BGR(A) channel order; no conversion is timed.

Each figure is the median of N runs (default 15) after one warm-up, in megapixels per
second (2.16 MP per picture). The Swift side's figures are package-benchmark's p50 wall
clock for the same operations.
"""
import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np
import PIL
from PIL import Image

FOLDER = os.path.join(os.environ.get("TMPDIR", "/tmp"), "mattingkit-codec-bench")
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MEGAPIXELS = 1200 * 1800 / 1e6


def median_seconds(function, runs):
    function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python_side(runs):
    jpeg = open(os.path.join(FOLDER, "photo-q95.jpg"), "rb").read()
    png = open(os.path.join(FOLDER, "photo-rgba.png"), "rb").read()
    rgba = np.array(Image.open(io.BytesIO(png)))
    rgb = np.ascontiguousarray(rgba[:, :, :3])
    assert rgba.shape == (1800, 1200, 4), rgba.shape
    pil_rgba, pil_rgb = Image.fromarray(rgba, "RGBA"), Image.fromarray(rgb, "RGB")
    bgra, bgr = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    jpeg_array, png_array = np.frombuffer(jpeg, np.uint8), np.frombuffer(png, np.uint8)

    def pil_decode(data):
        image = Image.open(io.BytesIO(data))
        image.load()
        return image

    def pil_encode(image, **options):
        buffer = io.BytesIO()
        image.save(buffer, **options)
        return buffer.getvalue()

    cases = {
        "decode jpeg-q95": (
            lambda: pil_decode(jpeg),
            lambda: cv2.imdecode(jpeg_array, cv2.IMREAD_COLOR)),
        "encode jpeg-q95": (
            lambda: pil_encode(pil_rgb, format="JPEG", quality=95, subsampling="4:2:0"),
            lambda: cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])),
        "decode png-rgba": (
            lambda: pil_decode(png),
            lambda: cv2.imdecode(png_array, cv2.IMREAD_UNCHANGED)),
        "encode png-rgba": (
            lambda: pil_encode(pil_rgba, format="PNG", compress_level=2),
            lambda: cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 2])),
    }
    results = {}
    for name, (pillow, opencv) in cases.items():
        results[name] = (MEGAPIXELS / median_seconds(pillow, runs), MEGAPIXELS / median_seconds(opencv, runs))
    sizes = {
        "Pillow png": len(pil_encode(pil_rgba, format="PNG", compress_level=2)),
        "OpenCV png": len(cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 2])[1]),
        "Pillow jpeg": len(pil_encode(pil_rgb, format="JPEG", quality=95, subsampling="4:2:0")),
        "OpenCV jpeg": len(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]),
        "MattingKit png": len(png), "MattingKit jpeg": len(jpeg),
    }
    return results, sizes


def swift_side():
    """Runs the benchmark package and reads each Codec benchmark's p50 wall clock (ms)."""
    command = ["swift", "package", "--allow-writing-to-package-directory", "benchmark",
               "--filter", "Codec.*", "--format", "markdown"]
    print("running:", " ".join(command), "(in Benchmarks/)", file=sys.stderr)
    output = subprocess.run(command, cwd=os.path.join(ROOT, "Benchmarks"), capture_output=True,
                            text=True, check=True).stdout
    return parse_swift(output)


def parse_swift(output):
    """{operation: MP/s} from package-benchmark's markdown tables (wall clock rows)."""
    results, current = {}, None
    for line in output.splitlines():
        match = re.search(r"Codec\.(decode|encode)\.([a-z0-9-]+)\.1200x1800", line)
        if match:
            current = f"{match.group(1)} {match.group(2)}"
        if current and line.startswith("| Time (wall clock)"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            p50 = float(cells[3].replace(",", ""))  # columns: metric, p0, p25, p50, ...
            unit = re.search(r"\((\w+)\)\s*\*?$", cells[0])
            scale = {"ns": 1e-9, "us": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0}.get(unit.group(1) if unit else "ms", 1e-3)
            results[current] = MEGAPIXELS / (p50 * scale)
            current = None
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-swift", action="store_true", help="do not run the Swift benchmark")
    parser.add_argument("--swift-output", help="parse this saved `--format markdown` output instead of running")
    args = parser.parse_args()
    swift = {}
    if args.swift_output:
        swift = parse_swift(open(args.swift_output).read())
    elif not args.no_swift:
        swift = swift_side()
    if not os.path.exists(os.path.join(FOLDER, "photo-q95.jpg")):
        sys.exit(f"no inputs in {FOLDER}: run the Swift codec benchmark first")
    python, sizes = python_side(args.runs)
    print(f"Pillow {PIL.__version__}, OpenCV {cv2.__version__}, numpy {np.__version__}; "
          f"median of {args.runs} runs; MP/s (2.16 MP per picture)\n")
    print("| operation | MattingKit | Pillow | OpenCV | MattingKit / Pillow | MattingKit / OpenCV |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (pillow, opencv) in python.items():
        ours = swift.get(name)
        cells = [f"{ours:.1f}" if ours else "–", f"{pillow:.1f}", f"{opencv:.1f}",
                 f"{ours / pillow:.2f}" if ours else "–", f"{ours / opencv:.2f}" if ours else "–"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nencoded sizes (bytes): " + ", ".join(f"{k} {v}" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
