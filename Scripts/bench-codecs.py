#!/usr/bin/env python3
"""Times MattingKit, Pillow and OpenCV on the codec benchmark's own files, interleaved.

    python3 -m venv .venv && .venv/bin/pip install Pillow numpy opencv-python-headless
    (cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --filter 'Codec.*')
    .venv/bin/python Scripts/bench-codecs.py [--rounds 5 --runs 3]

Measured with Python 3.11.7, Pillow 13.0.0, numpy 2.4.6, opencv-python-headless 5.0.0.

The inputs are written by the Swift Codec benchmarks (Benchmarks/.../CodecBenchmarks.swift)
to $TMPDIR/mattingkit-codec-bench/: photo-q95.jpg (1200x1800 RGB, quality 95, 4:2:0) and
photo-rgba.png (1200x1800 RGBA, zlib level 2). Every library decodes those same bytes
from memory and encodes the same pixels to memory with matching settings:

  * JPEG encode: quality 95, 4:2:0 chroma, no Huffman optimisation, baseline (all three).
  * PNG encode: zlib level 2. Filters differ and cannot be aligned through the Python
    APIs: MattingKit uses "Up" on every row; Pillow and OpenCV choose adaptively per row.
  * OpenCV returns BGR(A) channel order; no conversion is timed.

MattingKit is timed by Benchmarks/Tools/codec-timer (release build, built here if needed),
the same operations as the package-benchmark Codec benchmarks. The machine is shared, so
the libraries are interleaved: each round runs every library `--runs` times per operation,
and a figure is the median over all rounds' runs, in megapixels per second (2.16 MP per
picture). `--swift-output FILE` adds package-benchmark's p50 from a saved
`--format markdown` run as a separate column.
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


def python_cases():
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
    sizes = {
        "MattingKit png": len(png), "MattingKit jpeg": len(jpeg),
        "Pillow png": len(pil_encode(pil_rgba, format="PNG", compress_level=2)),
        "OpenCV png": len(cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 2])[1]),
        "Pillow jpeg": len(pil_encode(pil_rgb, format="JPEG", quality=95, subsampling="4:2:0")),
        "OpenCV jpeg": len(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]),
    }
    return cases, sizes


def sample(function, runs):
    function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def build_timer():
    command = ["swift", "build", "-c", "release", "--product", "codec-timer"]
    build = subprocess.run(command, cwd=os.path.join(ROOT, "Benchmarks"), capture_output=True, text=True)
    if build.returncode != 0:
        sys.exit(f"{' '.join(command)} (in Benchmarks/) failed:\n{build.stdout[-4000:]}{build.stderr[-4000:]}")
    output = subprocess.run(command + ["--show-bin-path"], cwd=os.path.join(ROOT, "Benchmarks"),
                            check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(output, "codec-timer")


def mattingkit_round(timer, runs):
    """{operation: [seconds]} from one codec-timer process."""
    output = subprocess.run([timer, FOLDER, str(runs)], check=True, capture_output=True, text=True).stdout
    results = {}
    for line in output.splitlines():
        name, *times = line.split()
        results[name.replace("-", " ", 1)] = [float(t) for t in times]
    return results


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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs per library and operation in each round")
    parser.add_argument("--swift-output", help="also show p50s from this saved `benchmark --format markdown` output")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(FOLDER, "photo-q95.jpg")):
        sys.exit(f"no inputs in {FOLDER}: run the Swift Codec benchmarks first (see --help)")
    timer = build_timer()
    cases, sizes = python_cases()
    samples = {name: ([], [], []) for name in cases}
    for _ in range(args.rounds):
        ours = mattingkit_round(timer, args.runs)
        for name, (pillow, opencv) in cases.items():
            samples[name][0].extend(ours[name])
            samples[name][1].extend(sample(pillow, args.runs))
            samples[name][2].extend(sample(opencv, args.runs))
    package_benchmark = parse_swift(open(args.swift_output).read()) if args.swift_output else {}
    count = args.rounds * args.runs
    print(f"Pillow {PIL.__version__}, OpenCV {cv2.__version__}, numpy {np.__version__}; "
          f"median of {count} runs ({args.rounds} interleaved rounds of {args.runs}); MP/s, 2.16 MP per picture\n")
    extra = " package-benchmark p50 |" if package_benchmark else ""
    print("| operation | MattingKit | Pillow | OpenCV | MattingKit / Pillow | MattingKit / OpenCV |" + extra)
    print("| --- | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if extra else ""))
    for name, (ours, pillow, opencv) in samples.items():
        rates = [MEGAPIXELS / statistics.median(times) for times in (ours, pillow, opencv)]
        cells = [f"{rates[0]:.1f}", f"{rates[1]:.1f}", f"{rates[2]:.1f}",
                 f"{rates[0] / rates[1]:.2f}", f"{rates[0] / rates[2]:.2f}"]
        if package_benchmark:
            cells.append(f"{package_benchmark[name]:.1f}" if name in package_benchmark else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nencoded sizes (bytes): " + ", ".join(f"{k} {v}" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
