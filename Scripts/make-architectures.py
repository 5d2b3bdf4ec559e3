#!/usr/bin/env python3
"""Real matting architectures with random weights, written with onnx.helper in the op patterns
torch.onnx.export emits, and checked against onnxruntime through `run-model` (issue 14, "Real
architectures"). Models are generated into --out (default out/architectures/, ignored by git),
never committed; the same seed gives the same file (its SHA-256 is printed).

Architectures (so far):
  u2netp   U²-Netp (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure"): six
           encoder and five decoder RSU blocks (RSU-7/6/5/4 with max-pool ceil_mode and
           bilinear upsampling to the skip's size, RSU-4F with dilations 1/2/4/8), side outputs
           fused by a 1×1 conv, seven sigmoid outputs; Conv+ReLU (exports fold eval-mode
           BatchNorm into the conv), Resize linear pytorch_half_pixel with `sizes` from a
           Shape → Slice → Concat chain (F.interpolate(size=skip.shape[2:])) at opset 11.

  vitseg   a ViT segmenter (Dosovitskiy et al. 2021 backbone; SETR-style progressive-upsampling
           head, Zheng et al. 2021): 16×16 patch embedding, learned position embedding, 4
           pre-norm blocks (LayerNormalization at opset 17, 6-head attention as exports write
           it — MatMul, Reshape, Transpose, MatMul with Kᵀ, Div by √d, Softmax, MatMul — and an
           MLP with exact GELU written as Div/Erf/Add/Mul/Mul), tokens back to NCHW through a
           Shape/Gather/Concat chain, four ×2 bilinear stages of Conv+ReLU, 1×1 head, Sigmoid.

Check: onnxruntime 1.32 (CPU, 1 thread, optimisations off) and `run-model --threads T` on the
same seeded input; passes when max |ours − ort| ≤ 1e-4 × max |ort| on every output.

    /tmp/venv-engine/bin/pip install onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6
    swift build -c release --product run-model
    /tmp/venv-engine/bin/python Scripts/make-architectures.py [--size 320] [--threads 1,2]
"""
import argparse
import hashlib
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_fixtures import reference_outputs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261205


class Net:
    def __init__(self, name, seed):
        self.name, self.rng = name, np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def fresh(self, base):
        self.count += 1
        return f"{base}.{self.count}"

    def const(self, array):
        name = self.fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, **attrs):
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.fresh(op), **attrs))
        return out

    def conv(self, x, cin, cout, k=3, dilation=1):
        w = (self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = (0.05 * self.rng.standard_normal(cout)).astype(np.float32)
        pad = dilation * (k // 2)
        return self.node("Conv", [x, self.const(w), self.const(b)], kernel_shape=[k, k], dilations=[dilation, dilation],
                         pads=[pad] * 4, strides=[1, 1], group=1)

    def rebnconv(self, x, cin, cout, dilation=1):
        """REBNCONV: Conv 3×3 (dilated) + BatchNorm (folded by the exporter) + ReLU."""
        return self.node("Relu", [self.conv(x, cin, cout, dilation=dilation)])

    def pool(self, x):
        return self.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)

    def upsample_like(self, x, like):
        """F.interpolate(x, size=like.shape[2:], mode='bilinear') as torch exports it (opset 11)."""
        hw = self.node("Slice", [self.node("Shape", [like]), self.const(np.array([2], np.int64)),
                                 self.const(np.array([4], np.int64)), self.const(np.array([0], np.int64))])
        nc = self.node("Slice", [self.node("Shape", [x]), self.const(np.array([0], np.int64)),
                                 self.const(np.array([2], np.int64)), self.const(np.array([0], np.int64))])
        sizes = self.node("Concat", [nc, hw], axis=0)
        return self.node("Resize", [x, self.const(np.array([], np.float32)), self.const(np.array([], np.float32)), sizes],
                         mode="linear", coordinate_transformation_mode="pytorch_half_pixel", nearest_mode="floor")

    def cat(self, xs):
        return self.node("Concat", xs, axis=1)

    def rsu(self, x, height, cin, mid, cout):
        """RSU-L: encoder of height−1 REBNCONVs with pools, a dilated bottom, decoder with upsampling."""
        hxin = self.rebnconv(x, cin, cout)
        enc = [self.rebnconv(hxin, cout, mid)]
        for _ in range(height - 2):
            enc.append(self.rebnconv(self.pool(enc[-1]), mid, mid))
        d = self.rebnconv(self.cat([self.rebnconv(enc[-1], mid, mid, dilation=2), enc[-1]]), 2 * mid, mid)
        for i in range(height - 3, -1, -1):
            d = self.rebnconv(self.cat([self.upsample_like(d, enc[i]), enc[i]]), 2 * mid, cout if i == 0 else mid)
        return self.node("Add", [d, hxin])

    def rsu4f(self, x, cin, mid, cout):
        hxin = self.rebnconv(x, cin, cout)
        h1 = self.rebnconv(hxin, cout, mid)
        h2 = self.rebnconv(h1, mid, mid, 2)
        h3 = self.rebnconv(h2, mid, mid, 4)
        h4 = self.rebnconv(h3, mid, mid, 8)
        d3 = self.rebnconv(self.cat([h4, h3]), 2 * mid, mid, 4)
        d2 = self.rebnconv(self.cat([d3, h2]), 2 * mid, mid, 2)
        d1 = self.rebnconv(self.cat([d2, h1]), 2 * mid, cout)
        return self.node("Add", [d1, hxin])


def u2netp(size):
    n = Net("u2netp", SEED)
    x = "input.1"
    h1 = n.rsu(x, 7, 3, 16, 64)
    h2 = n.rsu(n.pool(h1), 6, 64, 16, 64)
    h3 = n.rsu(n.pool(h2), 5, 64, 16, 64)
    h4 = n.rsu(n.pool(h3), 4, 64, 16, 64)
    h5 = n.rsu4f(n.pool(h4), 64, 16, 64)
    h6 = n.rsu4f(n.pool(h5), 64, 16, 64)
    d5 = n.rsu4f(n.cat([n.upsample_like(h6, h5), h5]), 128, 16, 64)
    d4 = n.rsu(n.cat([n.upsample_like(d5, h4), h4]), 4, 128, 16, 64)
    d3 = n.rsu(n.cat([n.upsample_like(d4, h3), h3]), 5, 128, 16, 64)
    d2 = n.rsu(n.cat([n.upsample_like(d3, h2), h2]), 6, 128, 16, 64)
    d1 = n.rsu(n.cat([n.upsample_like(d2, h1), h1]), 7, 128, 16, 64)
    sides = [n.conv(d1, 64, 1)] + [n.upsample_like(n.conv(d, 64, 1), d1) for d in (d2, d3, d4, d5, h6)]
    fused = n.conv(n.cat(sides), 6, 1, k=1)
    outs = [n.node("Sigmoid", [s]) for s in [fused] + sides]
    graph = helper.make_graph(n.nodes, "u2netp", [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, size, size])],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, 1, size, size]) for o in outs], n.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=6,
                          producer_name="MattingKit make-architectures.py")
    onnx.checker.check_model(m)
    return m, x


def vitseg(size, dim=192, heads=6, depth=4, patch=16):
    n = Net("vitseg", SEED + 2)
    x = "pixel_values"
    hw = size // patch
    def linear(t, cin, cout):
        w = (n.rng.standard_normal((cin, cout)) / np.sqrt(cin)).astype(np.float32)
        return n.node("Add", [n.node("MatMul", [t, n.const(w)]), n.const((0.02 * n.rng.standard_normal(cout)).astype(np.float32))])
    def layer_norm(t):
        return n.node("LayerNormalization", [t, n.const((1 + 0.1 * n.rng.standard_normal(dim)).astype(np.float32)),
                                             n.const((0.02 * n.rng.standard_normal(dim)).astype(np.float32))], axis=-1, epsilon=1e-6)
    def heads_of(t):
        return n.node("Transpose", [n.node("Reshape", [t, n.const(np.array([1, -1, heads, dim // heads], np.int64))])], perm=[0, 2, 1, 3])
    emb = n.node("Conv", [x, n.const((n.rng.standard_normal((dim, 3, patch, patch)) / np.sqrt(3 * patch * patch)).astype(np.float32)),
                          n.const(np.zeros(dim, np.float32))], kernel_shape=[patch, patch], strides=[patch, patch])
    # x.flatten(2).transpose(1, 2)
    t = n.node("Transpose", [n.node("Reshape", [emb, n.const(np.array([1, dim, -1], np.int64))])], perm=[0, 2, 1])
    t = n.node("Add", [t, n.const((0.02 * n.rng.standard_normal((1, hw * hw, dim))).astype(np.float32))])
    for _ in range(depth):
        h = layer_norm(t)
        q, k, v = (heads_of(linear(h, dim, dim)) for _ in range(3))
        s = n.node("Div", [n.node("MatMul", [q, n.node("Transpose", [k], perm=[0, 1, 3, 2])]),
                           n.const(np.array(np.sqrt(dim // heads), np.float32))])
        a = n.node("MatMul", [n.node("Softmax", [s], axis=-1), v])
        a = n.node("Reshape", [n.node("Transpose", [a], perm=[0, 2, 1, 3]), n.const(np.array([1, -1, dim], np.int64))])
        t = n.node("Add", [t, linear(a, dim, dim)])
        m = linear(layer_norm(t), dim, 4 * dim)
        e = n.node("Erf", [n.node("Div", [m, n.const(np.array(1.4142135, np.float32))])])
        m = n.node("Mul", [n.node("Mul", [m, n.node("Add", [e, n.const(np.array(1, np.float32))])]), n.const(np.array(0.5, np.float32))])
        t = n.node("Add", [t, linear(m, 4 * dim, dim)])
    t = layer_norm(t)
    shape = n.node("Shape", [emb])
    side = n.node("Gather", [shape, n.const(np.array(2, np.int64))], axis=0)
    axis0 = n.const(np.array([0], np.int64))
    target = n.node("Concat", [n.const(np.array([1, dim], np.int64)), n.node("Unsqueeze", [side, axis0]),
                               n.node("Unsqueeze", [side, axis0])], axis=0)
    f = n.node("Reshape", [n.node("Transpose", [t], perm=[0, 2, 1]), target])
    c = dim
    for cout in (128, 64, 32, 16):
        f = n.rebnconv(f, c, cout)
        f = n.node("Resize", [f, n.const(np.array([], np.float32)), n.const(np.array([1, 1, 2, 2], np.float32))],
                   mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
        c = cout
    out = n.node("Sigmoid", [n.conv(f, c, 1, k=1)])
    graph = helper.make_graph(n.nodes, "vitseg", [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, size, size])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 1, size, size])], n.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8,
                          producer_name="MattingKit make-architectures.py")
    onnx.checker.check_model(m)
    return m, x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "architectures"))
    ap.add_argument("--run-model", default=os.path.join(ROOT, ".build", "release", "run-model"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    failed = False
    for make in (u2netp, vitseg):
        model, input_name = make(args.size)
        path = os.path.join(args.out, f"{make.__name__}_{args.size}.onnx")
        onnx.save_model(model, path)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        x = np.random.default_rng(SEED + 1).random((1, 3, args.size, args.size), dtype=np.float32)
        npy = os.path.join(args.out, f"{make.__name__}_{args.size}_input.npy")
        np.save(npy, x)
        want = reference_outputs(path, {input_name: x})
        names = list(want)
        for threads in [int(t) for t in args.threads.split(",")]:
            out_dir = os.path.join(args.out, f"{make.__name__}_{args.size}_t{threads}")
            r = subprocess.run([args.run_model, path, "--input", f"{input_name}={npy}", "--output-dir", out_dir,
                                "--threads", str(threads)], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{make.__name__}: run-model failed: {r.stderr.strip()}")
                failed = True
                continue
            worst = 0.0
            for name in names:
                got = np.load(os.path.join(out_dir, name.replace("/", "_") + ".npy"))
                err = float(np.abs(got - want[name]).max() / max(np.abs(want[name]).max(), 1e-6))
                worst = max(worst, err)
            ok = worst <= 1e-4
            failed |= not ok
            print(f"{make.__name__} {args.size}x{args.size} ({digest[:12]}…, {len(model.graph.node)} nodes), {threads} thread(s): "
                  f"max relative error {worst:.2e} over {len(names)} outputs — {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
