#!/usr/bin/env python3
"""Times onnxruntime and MattingKit's `run-model` on the fixture UNets at 320x320 and 512x512.

The fixture UNets (Tests/MattingImportersTests/Fixtures/ONNX/unet_opset11.onnx, 32x32, and
unet_dynamic_opset17.onnx, H x W symbolic) are re-exported with static input sizes (only the
declared input/output shapes change: every node is size-independent) into a temporary folder,
never committed. Each model is timed with onnxruntime's CPU provider (intra-op threads 1 and 2,
default graph optimisations, median of --repeat runs after a warm-up) and with
`run-model --repeat` (release build) on the same files and inputs; one table is printed.

Environment (the fixture venv; see Scripts/make-model-fixtures.py):
    /tmp/mk-venv/bin/pip install onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6
    swift build -c release --product run-model
    /tmp/mk-venv/bin/python Scripts/bench-onnx.py [--repeat 20] [--sizes 320,512]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "MattingImportersTests", "Fixtures", "ONNX")
MODELS = ["unet_opset11", "unet_dynamic_opset17"]


def resized_copy(name, size, out_dir):
    """The fixture with its input and output declared as [1, C, size, size]."""
    m = onnx.load(os.path.join(FIXTURES, name + ".onnx"))
    for value in list(m.graph.input) + list(m.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for d in dims[2:]:
                d.ClearField("dim_param")
                d.dim_value = size
    onnx.checker.check_model(m)
    path = os.path.join(out_dir, f"{name}_{size}.onnx")
    onnx.save_model(m, path)
    return path, m.graph.input[0].name, [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]


def time_ort(path, feeds, threads, repeat):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)  # warm-up
    times, cpu = [], []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    # Wall median, wall minimum, the outputs, and the median process CPU time per run (every thread).
    return statistics.median(times) * 1e3, min(times) * 1e3, session.run(None, feeds), statistics.median(cpu) * 1e3


def time_ours(binary, path, input_name, input_path, threads, repeat, out_dir):
    r = subprocess.run([binary, path, "--input", f"{input_name}={input_path}", "--output-dir", out_dir,
                        "--threads", str(threads), "--repeat", str(repeat)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"run-model failed: {r.stderr.strip()}")
    m = re.search(r"median ([0-9.]+) ms, min ([0-9.]+) ms", r.stdout)
    c = re.search(r"cpu: median ([0-9.]+) ms", r.stdout)
    # Wall median, wall minimum, and the median process CPU time per run (every thread).
    return float(m.group(1)), float(m.group(2)), float(c.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--sizes", default="320,512")
    ap.add_argument("--run-model", default=os.path.join(ROOT, ".build", "release", "run-model"))
    args = ap.parse_args()
    if not os.access(args.run_model, os.X_OK):
        sys.exit(f"{args.run_model} not found: swift build -c release --product run-model")
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}; "
          f"median of {args.repeat} runs after a warm-up")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            for size in [int(s) for s in args.sizes.split(",")]:
                path, input_name, shape = resized_copy(name, size, tmp)
                x = np.random.default_rng(size).random(shape, dtype=np.float32)
                input_path = os.path.join(tmp, f"{name}_{size}_input.npy")
                np.save(input_path, x)
                for threads in (1, 2):
                    ort_median, ort_min, ort_out, _ = time_ort(path, {input_name: x}, threads, args.repeat)
                    out_dir = os.path.join(tmp, f"out_{name}_{size}_{threads}")
                    our_median, our_min, _ = time_ours(args.run_model, path, input_name, input_path, threads,
                                                    args.repeat, out_dir)
                    ours = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
                    err = float(np.abs(ours - ort_out[0]).max() / max(np.abs(ort_out[0]).max(), 1e-6))
                    rows.append((f"{name} {size}x{size}", threads, ort_median, our_median, our_median / ort_median, err))
    print()
    print("| model | threads | onnxruntime ms | MattingKit ms | ratio (ours / ort) | max rel. error |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model, threads, o, m, ratio, err in rows:
        print(f"| {model} | {threads} | {o:.2f} | {m:.2f} | {ratio:.1f}x | {err:.1e} |")


if __name__ == "__main__":
    main()
