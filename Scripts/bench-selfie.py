#!/usr/bin/env python3
"""Selfie-model latency: MediaPipe's own runtime against MattingKit's engine, same inputs.

Runs, interleaved, for `--rounds` rounds:
  * MediaPipe's legacy solution `mp.solutions.selfie_segmentation` (model_selection 0, the
    256x256 model) on the 512x512 sample photo: its full per-image cost (preprocessing on
    the image, TFLite/XNNPACK inference, mask resize back);
  * MattingKit's `run-model --repeat` on the exact 1x256x256x3 tensor MediaPipe fed the model
    (Tests/MattingImportersTests/Fixtures/MediaPipe/astronaut_portrait_input.npy): the model alone.
and prints medians and the ratio.

Versions: python 3.11, mediapipe==0.10.14, numpy (as installed with it).
Usage (from the repository root, after Scripts/fetch-models.sh and Scripts/fetch-sample.sh):
    swift build -c release --product run-model
    /path/to/venv-with-mediapipe/bin/python Scripts/bench-selfie.py [--rounds 5] [--repeat 50]
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np


def mediapipe_times(image_path, repeat, threads_note):
    import mediapipe as mp
    from PIL import Image

    rgb = np.asarray(Image.open(image_path).convert("RGB"))
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        seg.process(rgb)  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            seg.process(rgb)
            times.append(time.perf_counter() - start)
    return times


def ours(model, tensor, repeat, threads):
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [".build/release/run-model", model, "--input", f"input_1={tensor}", "--output-dir", out,
             "--threads", str(threads), "--repeat", str(repeat)],
            capture_output=True, text=True, check=True)
    median = re.search(r"median\s*[:=]?\s*([0-9.]+)\s*ms", run.stdout + run.stderr)
    if not median:
        raise SystemExit("could not read run-model's timing:\n" + run.stdout + run.stderr)
    return float(median.group(1)) / 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cache = os.environ.get("MATTINGKIT_MODEL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit", "models")
    model = os.path.join(cache, "selfie_segmentation.tflite")
    sample = os.path.join(os.path.dirname(cache), "samples", "astronaut.png")
    tensor = "Tests/MattingImportersTests/Fixtures/MediaPipe/astronaut_portrait_input.npy"
    mp_medians, our1, our2 = [], [], []
    for _ in range(args.rounds):
        mp_medians.append(statistics.median(mediapipe_times(sample, args.repeat, "")))
        our1.append(ours(model, tensor, args.repeat, 1))
        our2.append(ours(model, tensor, args.repeat, 2))
    mp_ms = statistics.median(mp_medians) * 1000
    o1, o2 = statistics.median(our1) * 1000, statistics.median(our2) * 1000
    print("| runtime | median ms | ratio to MediaPipe |")
    print("| --- | ---: | ---: |")
    print(f"| MediaPipe 0.10.14 solution (XNNPACK, whole process() call) | {mp_ms:.2f} | 1.00 |")
    print(f"| MattingKit engine, model only, 1 thread | {o1:.2f} | {o1 / mp_ms:.2f} |")
    print(f"| MattingKit engine, model only, 2 threads | {o2:.2f} | {o2 / mp_ms:.2f} |")


if __name__ == "__main__":
    main()
