#!/usr/bin/env python3
"""Per-shape convolution rates of the real architectures against the GEMM kernel's rate (issue 14,
"Conv efficiency").

For every distinct Conv shape in the chosen models (input/output channels, input size, kernel,
stride, dilation, groups; sizes taken from an onnxruntime run with every conv input as an extra
output), it times:
  - ours: `kernel-bench --conv ic,oc,k,stride,dilation,h,w` (the ConvolutionKernel alone on NHWC
    data, bias + ReLU fused; median of --repeat runs) on 1 and 2 threads;
  - the GEMM kernel: `kernel-bench --gemm 1024,1024,1024` on the same thread counts, the rate
    the issue's 80 % target is measured against;
  - onnxruntime 1.32 on a one-node ONNX graph of the same shape (onnx.helper; NCHW, its default
    optimisations, intra_op_num_threads = T; median of --repeat runs), for reference.
Rows carry the shape's share of the model's conv FLOPs, so the weak shapes that matter stand out.

Usage (from the package root; models from Scripts/make-architectures.py --no-check):
    swift build -c release --product kernel-bench
    /tmp/venv-engine2/bin/python Scripts/bench-conv-shapes.py [--models u2netp_320,isnet_1024,modnet_512]
        [--min-share 0.5] [--threads 1,2] [--repeat 9] [--isa avx2] [--im2col] [--cpu] [--no-ort] [--markdown]
`isnet_1024:256` keeps only the ISNet convs whose input is at least 256² (stage 1 and the stem).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "kernel-bench")
ARCH = os.path.join(ROOT, "out", "architectures")


def conv_shapes(path):
    """{(ic, oc, h, w, k, stride, dilation, group): count} for the model's Conv nodes."""
    model = onnx.load(path)
    init = {i.name: i for i in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    names = sorted({n.input[0] for n in convs})
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for name in names:
        if name not in known:
            probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(probe.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        dims = [d if isinstance(d, int) else int(re.search(r"\d+", os.path.basename(path).split("_")[-1]).group())
                for d in i.shape]
        dims[0] = 1
        dims[1] = 3
        feeds[i.name] = np.random.default_rng(0).standard_normal(dims).astype(np.float32)
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    shapes = {}
    for n in convs:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        w = init[n.input[1]].dims
        x = outs[n.input[0]].shape
        k = tuple(w[2:])
        if k[0] != k[1] or len(set(attrs.get("strides", [1, 1]))) != 1 or len(set(attrs.get("dilations", [1, 1]))) != 1:
            raise SystemExit(f"{path}: {n.name}: non-square conv not handled by this script")
        key = (x[1], w[0], x[2], x[3], k[0], attrs.get("strides", [1, 1])[0], attrs.get("dilations", [1, 1])[0],
               attrs.get("group", 1))
        shapes[key] = shapes.get(key, 0) + 1
    return shapes


def flops(key):
    ic, oc, h, w, k, s, d, g = key
    oh = (h + 2 * (k // 2) * d - d * (k - 1) - 1) // s + 1
    ow = (w + 2 * (k // 2) * d - d * (k - 1) - 1) // s + 1
    return 2.0 * oh * ow * oc * k * k * ic / g


def run_bench(args, extra):
    cmd = [BENCH, "--repeat", str(args.repeat), "--threads", args.threads] + extra
    if args.isa:
        cmd += ["--isa", args.isa]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rates = []
    for line in out.splitlines():
        m = re.search(r"threads=(\d+)\tmedian_s=([\d.]+)\tgflops=([\d.]+).*cpu_gflops=([\d.]+)", line)
        if m:
            rates.append((int(m.group(1)), float(m.group(2)), float(m.group(4 if args.cpu else 3))))
    return rates


def ort_time(key, threads, repeat):
    ic, oc, h, w, k, s, d, g = key
    pad = k // 2 * d
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, ic, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    rng = np.random.default_rng(1)
    wt = helper.make_tensor("w", TensorProto.FLOAT, [oc, ic // g, k, k],
                            rng.standard_normal(oc * ic // g * k * k).astype(np.float32).tobytes(), raw=True)
    b = helper.make_tensor("b", TensorProto.FLOAT, [oc], np.full(oc, 0.1, np.float32).tobytes(), raw=True)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k, k], strides=[s, s],
                              dilations=[d, d], pads=[pad] * 4, group=g),
             helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(nodes, "conv", [x], [y], [wt, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feed = {"x": rng.standard_normal((1, ic, h, w)).astype(np.float32)}
    sess.run(None, feed)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="u2netp_320,isnet_1024:256,modnet_512")
    p.add_argument("--min-share", type=float, default=0.5, help="skip shapes below this %% of a model's conv FLOPs")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--isa", default=None)
    p.add_argument("--no-ort", action="store_true")
    p.add_argument("--cpu", action="store_true",
                   help="rates per second of process CPU time (kernel-bench's cpu_gflops: per-core throughput, "
                        "steadier than wall time when other processes share the cores)")
    p.add_argument("--im2col", action="store_true",
                   help="also time each shape on the im2col lowering (`kernel-bench --im2col`), the one before "
                        "the indirect lowering, interleaved with it")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]

    gemm = {t: r for t, _, r in run_bench(args, ["--gemm", "1024,1024,1024"])}
    print(f"# gemm 1024x1024x1024 GFLOP/s: " + ", ".join(f"{t} thread(s) {gemm[t]:.1f}" for t in threads))
    print(f"# load average before: {os.getloadavg()}")
    header = ["model", "shape (ic→oc, in H×W, k/s, d)", "n", "% model conv FLOPs"]
    for t in threads:
        header += ([f"im2col {t}T GFLOP/s", f"im2col % GEMM {t}T"] if args.im2col else [])
        header += [f"ours {t}T GFLOP/s", f"% GEMM {t}T"] + ([] if args.no_ort else [f"ours/ort {t}T"])
    print(("| " + " | ".join(header) + " |") if args.markdown else "\t".join(header))
    if args.markdown:
        print("|" + "---|" * len(header))
    for spec in args.models.split(","):
        name, _, min_size = spec.partition(":")
        shapes = conv_shapes(os.path.join(ARCH, name + ".onnx"))
        total = sum(flops(k) * n for k, n in shapes.items())
        for key in sorted(shapes, key=lambda k: -flops(k) * shapes[k]):
            share = 100 * flops(key) * shapes[key] / total
            ic, oc, h, w, k, s, d, g = key
            if share < args.min_share or (min_size and min(h, w) < int(min_size)):
                continue
            if g > 1:  # depthwise / grouped: a different kernel, bound by memory, not GEMM-shaped
                print(f"# {name}: {ic}→{oc} {h}×{w} {k}×{k}/{s} g{g} ×{shapes[key]} ({share:.1f} %): grouped, not timed here")
                continue
            conv = ["--conv", f"{ic},{oc},{k},{s},{d},{h},{w}"]
            old = {t: r for t, _, r in run_bench(args, conv + ["--im2col"])} if args.im2col else {}
            rates = run_bench(args, conv)
            row = [name, f"{ic}→{oc} {h}×{w} {k}×{k}/{s}" + (f" d{d}" if d > 1 else "") + (f" g{g}" if g > 1 else ""),
                   str(shapes[key]), f"{share:.1f}"]
            for t, seconds, rate in rates:
                if args.im2col:
                    row += [f"{old[t]:.1f}", f"{100 * old[t] / gemm[t]:.0f}"]
                row += [f"{rate:.1f}", f"{100 * rate / gemm[t]:.0f}"]
                if not args.no_ort:
                    row.append(f"{seconds / ort_time(key, t, args.repeat):.2f}")
            print(("| " + " | ".join(row) + " |") if args.markdown else "\t".join(row), flush=True)
    print(f"# load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
