#!/usr/bin/env python3
"""Times pymatting's closed-form alpha and multi-level foreground on a 1200x1800 synthetic
composite with ~7.5 % unknown, and saves the inputs so MattingKit measures the same files.

    .venv-refine/bin/pip install pymatting==1.1.16 numpy==2.4.6 scipy==1.17.1 numba==0.68.1
    .venv-refine/bin/python Scripts/bench-refine.py [--runs 3] [--out out/refine-bench]

Prints median seconds, SAD against the true alpha (sum of |alpha - truth| over all pixels,
alpha on the 0..1 scale) and peak memory (tracemalloc peak of NumPy/SciPy allocations
during the call, and the process's max RSS). Then run the Swift side:

    swift run -c release refine-bench out/refine-bench
"""
import argparse
import importlib.util
import os
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixtures", os.path.join(HERE, "make-refine-fixtures.py"))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)


def main():
    import pymatting

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "..", "out", "refine-bench"))
    parser.add_argument("--alpha-only", action="store_true",
                        help="reuse the saved inputs and time estimate_alpha_cf only (for interleaving with refine-bench)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.alpha_only:
        image = np.load(os.path.join(args.out, "image.npy")).astype(np.float64) / 255
        tri = np.load(os.path.join(args.out, "trimap.npy")).astype(np.float64) / 255
        truth = np.load(os.path.join(args.out, "alpha-true.npy"))
        small = fixtures.make_composite(64, 64, seed=1)
        pymatting.estimate_alpha_cf(small[0] / 255.0, small[2] / 255.0)
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            alpha = pymatting.estimate_alpha_cf(image, tri)
            print(f"estimate_alpha_cf: {time.perf_counter() - start:.3f} s, CPU {time.process_time() - start_cpu:.3f} s, "
                  f"SAD {np.abs(alpha - truth).sum():.1f}")
        return

    image8, alpha_true, trimap, fg_true = fixtures.make_composite(1800, 1200, seed=3, strands=250, band=6, veil_scale=0.5)
    unknown = np.mean((trimap != 0) & (trimap != 255))
    np.save(os.path.join(args.out, "image.npy"), image8)
    np.save(os.path.join(args.out, "trimap.npy"), trimap)
    np.save(os.path.join(args.out, "alpha-true.npy"), alpha_true)
    np.save(os.path.join(args.out, "foreground-true.npy"), fg_true)
    print(f"pymatting {pymatting.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"input 1200x1800, unknown {unknown * 100:.2f} %")

    image = image8.astype(np.float64) / 255
    tri = trimap.astype(np.float64) / 255
    # Warm-up (numba compiles on first use; its cache makes later processes fast).
    small = fixtures.make_composite(64, 64, seed=1)
    pymatting.estimate_alpha_cf(small[0] / 255.0, small[2] / 255.0)
    pymatting.estimate_foreground_ml(small[0] / 255.0, small[1])

    times, cpu, alpha = [], [], None
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        alpha = pymatting.estimate_alpha_cf(image, tri)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    sad = np.abs(alpha - alpha_true).sum()
    print(f"estimate_alpha_cf: median {statistics.median(times):.3f} s over {args.runs} runs {['%.3f' % t for t in times]}, SAD {sad:.1f} ({sad / 1000:.2f} k); CPU time median {statistics.median(cpu):.3f} s")
    np.save(os.path.join(args.out, "alpha-pymatting.npy"), alpha.astype(np.float32))

    ftimes, fcpu, fg = [], [], None
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fg = pymatting.estimate_foreground_ml(image, alpha_true)
        ftimes.append(time.perf_counter() - start)
        fcpu.append(time.process_time() - start_cpu)
    band = (alpha_true > 0.05) & (alpha_true < 0.95)
    err = np.abs(fg - fg_true)[band].mean()
    naive = np.abs(image - fg_true)[band].mean()
    print(f"estimate_foreground_ml: median {statistics.median(ftimes):.3f} s (CPU {statistics.median(fcpu):.3f} s), edge-band mean |F - F_true| {err:.4f} (F = image: {naive:.4f})")

    tracemalloc.start()
    pymatting.estimate_alpha_cf(image, tri)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    pymatting.estimate_foreground_ml(image, alpha_true)
    _, fpeak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak traced memory: estimate_alpha_cf {peak / 2**20:.0f} MiB, estimate_foreground_ml {fpeak / 2**20:.0f} MiB; process max RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
