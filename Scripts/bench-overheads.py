#!/usr/bin/env python3
"""Layout and concat overheads, interleaved against onnxruntime (issue 14, "Overheads").

Graphs (written to a temporary folder, never committed):
  conv1x1   one Conv 1024→1024, 1×1, bias, on 1×1024×64×64 NCHW (a 4096×1024×1024 GEMM plus
            the layout transposes at the graph's boundary)
  unet320   the fixture unet_dynamic_opset17 at 1×3×320×320 (Fixtures/ONNX)

Each round runs, in turn, every `--run-model` binary given (e.g. a build of the previous commit
and the current one) and onnxruntime 1.32 (CPU provider, default optimisations), on 1 and 2
threads; figures are medians over rounds of each tool's median of --repeat runs, so a burst of
load on the shared machine hits all alike. The last binary's `--profile` top kinds are printed.

    /tmp/venv-engine/bin/pip install onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6
    swift build -c release --product run-model
    /tmp/venv-engine/bin/python Scripts/bench-overheads.py --run-model before=/path/run-model \\
        --run-model after=.build/release/run-model [--rounds 5] [--repeat 10]
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
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conv1x1(out_dir):
    rng = np.random.default_rng(14)
    w = numpy_helper.from_array((rng.standard_normal((1024, 1024, 1, 1)) / 32).astype(np.float32), "w")
    b = numpy_helper.from_array((0.1 * rng.standard_normal(1024)).astype(np.float32), "b")
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[1, 1])
    graph = helper.make_graph([node], "conv1x1", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024, 64, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024, 64, 64])], [w, b])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = os.path.join(out_dir, "conv1x1.onnx")
    onnx.save_model(m, path)
    return path, "x", [1, 1024, 64, 64]


def unet320(out_dir):
    m = onnx.load(os.path.join(ROOT, "Tests", "MattingImportersTests", "Fixtures", "ONNX", "unet_dynamic_opset17.onnx"))
    for value in list(m.graph.input) + list(m.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for d in dims[2:]:
                d.ClearField("dim_param")
                d.dim_value = 320
    path = os.path.join(out_dir, "unet320.onnx")
    onnx.save_model(m, path)
    return path, m.graph.input[0].name, [1, 3, 320, 320]


def time_ort(path, feeds, threads, repeat):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def time_ours(binary, path, name, npy, threads, repeat, out_dir, profile=False):
    cmd = [binary, path, "--input", f"{name}={npy}", "--output-dir", out_dir, "--threads", str(threads),
           "--repeat", str(repeat)] + (["--profile"] if profile else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"run-model failed: {r.stderr.strip()}")
    return float(re.search(r"median ([0-9.]+) ms", r.stdout).group(1)), r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-model", action="append", default=[], help="label=path (repeatable)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    tools = [tuple(s.split("=", 1)) for s in (args.run_model or [f"ours={ROOT}/.build/release/run-model"])]
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}; "
          f"{args.rounds} interleaved rounds × median of {args.repeat} runs")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for make in (conv1x1, unet320):
            path, name, shape = make(tmp)
            x = np.random.default_rng(7).random(shape, dtype=np.float32)
            npy = os.path.join(tmp, make.__name__ + "_x.npy")
            np.save(npy, x)
            for threads in (1, 2):
                samples = {label: [] for label, _ in tools}
                samples["onnxruntime"] = []
                for _ in range(args.rounds):
                    for label, binary in tools:
                        samples[label].append(time_ours(binary, path, name, npy, threads, args.repeat, os.path.join(tmp, "o"))[0])
                    samples["onnxruntime"].append(time_ort(path, {name: x}, threads, args.repeat))
                med = {k: statistics.median(v) for k, v in samples.items()}
                rows.append((make.__name__, threads, med))
                _, profile = time_ours(tools[-1][1], path, name, npy, threads, args.repeat, os.path.join(tmp, "o"), profile=True)
                kinds = [l.strip() for l in profile.splitlines() if re.match(r"\s+[0-9.]+ us\s+\S+ \(\d+\)$", l)]
                print(f"{make.__name__}, {threads} thread(s), {tools[-1][0]} profile by kind: " + "; ".join(kinds[:5]))
        labels = [label for label, _ in tools]
        print()
        print("| graph | threads | " + " | ".join(f"{l} ms" for l in labels) + " | onnxruntime ms | "
              + " | ".join(f"{l} / ort" for l in labels) + " |")
        print("| --- " * (3 + 2 * len(labels)) + "|")
        for graph, threads, med in rows:
            ort_ms = med["onnxruntime"]
            print(f"| {graph} | {threads} | " + " | ".join(f"{med[l]:.1f}" for l in labels) + f" | {ort_ms:.1f} | "
                  + " | ".join(f"{med[l] / ort_ms:.2f}" for l in labels) + " |")


if __name__ == "__main__":
    main()
