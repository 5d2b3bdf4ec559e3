#!/usr/bin/env python3
"""Operator-coverage ONNX fixtures for the ONNX → Graph converter (attribute vs. input forms
across opsets, layout-sensitive operators on NHWC-held values, transformer operators and the
patterns exporters write for them), with onnxruntime references.

Writes Tests/MattingImportersTests/Fixtures/ONNXOps/<model>.onnx, <model>.<tensor>.npy and
manifest.json (inputs and outputs per model). Same pinned venv as make-model-fixtures.py:
    /tmp/mk-venv/bin/python Scripts/onnx_op_fixtures.py
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_fixtures import Builder, reference_outputs  # noqa: E402

SEED = 20241126
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "MattingImportersTests", "Fixtures", "ONNXOps")


def outputs(names, ranks):
    """Output declarations with symbolic sizes of the right rank (onnxruntime infers them)."""
    return [helper.make_tensor_value_info(o, TensorProto.FLOAT, [f"{o}_d{i}" for i in range(r)])
            for o, r in zip(names, ranks)]


def i64(*v):
    return np.array(v, np.int64)


def f32(*v):
    return np.array(v, np.float32)


def legacy_opset10():
    """Attribute forms: Clip/Pad/Split/Squeeze/ReduceMean attrs, legacy Softmax and Resize."""
    b = Builder("legacy_opset10", SEED)
    x = "x"                                                                   # 1×4×9×11
    a = b.conv(x, 4, 6, strides=[2, 2], auto_pad="SAME_UPPER")                # 6×5×6
    c = b.node("Clip", [a], min=-0.5, max=0.7)
    e = b.node("Pad", [c], pads=[0, 0, 1, 2, 0, 0, 2, 1], mode="edge")        # 6×8×9
    k = b.node("Pad", [c], pads=[0, 1, 1, 0, 0, 0, 0, 1], mode="constant", value=0.3)  # 7×6×7
    s1, s2 = b.node("Split", [e], n_out=2, axis=1, split=[2, 4])
    ap = b.node("AveragePool", [s2], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                count_include_pad=1, ceil_mode=1)
    mp = b.node("MaxPool", [s1], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    sm = b.node("Softmax", [k], axis=1)
    rm = b.node("ReduceMean", [c], axes=[2, 3], keepdims=0)                  # 1×6
    sq = b.node("Squeeze", [b.node("Unsqueeze", [rm], axes=[0])], axes=[0])
    sl = b.node("Slice", [e, b.const(i64(1, -1)), b.const(i64(8, 0)), b.const(i64(3, 1)), b.const(i64(2, -1))])
    r1 = b.node("Resize", [c, b.const(f32(1, 1, 2, 3))], mode="nearest")
    r2 = b.node("Resize", [c, b.const(f32(1, 1, 0.5, 0.5))], mode="nearest")
    r3 = b.node("Resize", [c, b.const(f32(1, 1, 1.5, 2))], mode="linear")
    outs = [ap, mp, sm, sq, sl, r1, r2, r3]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 4, 9, 11])],
                outputs(outs, [4, 4, 4, 2, 4, 4, 4, 4]), 10, ir_version=5)
    return m, {"x": np.random.default_rng(SEED).standard_normal((1, 4, 9, 11)).astype(np.float32)}


def layout_opset13():
    """Input forms and layout-sensitive operators applied to NHWC-held values."""
    b = Builder("layout_opset13", SEED + 1)
    x = "x"                                                                   # 1×3×10×12
    c = b.conv(x, 3, 6, pads=[1, 1, 1, 1])                                    # 6×10×12 (NHWC inside)
    cat = b.node("Concat", [c, x], axis=1)                                    # 9×10×12, x still NCHW
    s1, s2 = b.node("Split", [cat, b.const(i64(4, 5))], n_out=2, axis=1)
    cl = b.node("Clip", [s1, b.const(f32(-0.3)), b.const(f32(0.4))])
    dw = b.conv(s2, 5, 5, group=5, dilations=[2, 2], pads=[2, 2, 2, 2])       # depthwise, dilated
    pr = b.node("PRelu", [dw, b.const((np.arange(5, dtype=np.float32).reshape(5, 1, 1) - 2) * 0.2)])
    bc = b.node("Add", [pr, b.const(np.linspace(-1, 1, 5, dtype=np.float32).reshape(5, 1, 1))])
    bw = b.node("Mul", [bc, b.const(np.linspace(0.5, 1.5, 12, dtype=np.float32))])  # broadcast over W
    per_c = b.node("ReduceMean", [bw], axes=[0, 2, 3], keepdims=0)           # [5], computed
    per_c = b.node("Unsqueeze", [per_c, b.const(i64(1, 2))])                 # [5, 1, 1]
    scaled = b.node("Mul", [bw, per_c])
    mx = b.node("Max", [scaled, bw, b.const(f32(-0.1))])
    mn = b.node("Min", [mx, b.const(f32(2.0))])
    sm = b.node("Softmax", [mn], axis=1)
    g = b.node("Gather", [sm, b.const(i64(2, 0))], axis=1)                   # 2×10×12
    tr = b.node("Transpose", [g], perm=[0, 2, 1, 3])                          # 1×10×2×12
    fl = b.node("Flatten", [tr], axis=2)                                      # 10×24
    shp = b.node("Shape", [cl])
    hw = b.node("Gather", [shp, b.const(i64(2, 3))], axis=0)
    new_shape = b.node("Concat", [b.const(i64(1, -1)), hw], axis=0)
    rs = b.node("Reshape", [cl, new_shape])                                   # 1×4×10×12 via Shape chain
    pad = b.node("Pad", [rs, b.const(i64(0, 0, 2, 1, 0, 0, 1, 3)), b.const(f32(0.0))], mode="reflect")
    rsum = b.node("ReduceSum", [pad, b.const(i64(1))], keepdims=1)
    sqz = b.node("Squeeze", [rsum, b.const(i64(1))])                          # 1×13×16
    inn = b.node("InstanceNormalization", [scaled, b.const(f32(1, 2, 0.5, 1, 1.5)), b.const(f32(0, 0.1, 0, -0.1, 0))],
                 epsilon=1e-5)
    gmp = b.node("GlobalMaxPool", [inn])
    ex = b.node("Exp", [b.node("Abs", [b.node("Neg", [gmp])])])
    ct = b.node("ConvTranspose", [cat, b.weight(9, 2, 3, 3), b.const(f32(0.1, -0.1, 0.2, 0.0, 0.3, -0.2))],
                kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 1], output_padding=[1, 1], group=3)
    rz1 = b.node("Resize", [cl, "", "", b.const(i64(1, 4, 7, 17))], mode="nearest",
                 coordinate_transformation_mode="pytorch_half_pixel", nearest_mode="round_prefer_ceil")
    rz2 = b.node("Resize", [cl, "", b.const(f32(1, 1, 0.6, 0.75))], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="ceil")
    ap = b.node("AveragePool", [cl], kernel_shape=[3, 2], strides=[2, 2], auto_pad="SAME_LOWER")
    outs = [fl, sqz, ex, ct, rz1, rz2, ap]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, 10, 12])],
                outputs(outs, [2, 3, 4, 4, 4, 4, 4]), 13)
    return m, {"x": np.random.default_rng(SEED + 1).standard_normal((1, 3, 10, 12)).astype(np.float32)}


def inputs_opset18():
    """Opset-18 forms: ReduceMean axes input, Pad axes input, Split num_outputs."""
    b = Builder("inputs_opset18", SEED + 2)
    x = "x"                                                                   # 1×6×7×8
    c = b.conv(x, 6, 6, k=1)
    rm = b.node("ReduceMean", [c, b.const(i64(-1))], keepdims=1)
    p = b.node("Pad", [c, b.const(i64(1, 2, 0, 1)), b.const(f32(-1.0)), b.const(i64(2, 3))], mode="constant")
    a, bb, cc = b.node("Split", [p], n_out=3, axis=1, num_outputs=3)
    ct = b.node("ConvTranspose", [c, b.weight(6, 3, 3, 3)], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    outs = [rm, a, bb, cc, ct]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 6, 7, 8])],
                outputs(outs, [4, 4, 4, 4, 4]), 18, ir_version=8)
    return m, {"x": np.random.default_rng(SEED + 2).standard_normal((1, 6, 7, 8)).astype(np.float32)}


def attention(b, t, wq, wk, wv, heads, dh, bq):
    """Multi-head self-attention as torch.onnx.export writes it (tokens [1, N, heads·dh])."""
    def split_heads(v):
        r = b.node("Reshape", [v, b.const(i64(1, -1, heads, dh))])
        return b.node("Transpose", [r], perm=[0, 2, 1, 3])                    # 1×heads×N×dh
    q = split_heads(b.node("Add", [b.node("MatMul", [t, wq]), bq]))
    k = split_heads(b.node("MatMul", [t, wk]))
    v = split_heads(b.node("MatMul", [t, wv]))
    kt = b.node("Transpose", [k], perm=[0, 1, 3, 2])
    s = b.node("Div", [b.node("MatMul", [q, kt]), b.const(np.array(np.sqrt(dh), np.float32))])
    o = b.node("MatMul", [b.node("Softmax", [s], axis=-1), v])
    o = b.node("Transpose", [o], perm=[0, 2, 1, 3])
    return b.node("Reshape", [o, b.const(i64(1, -1, heads * dh))])


def gelu_erf(b, x):
    """torch.nn.GELU() before opset 20: x · 0.5 · (1 + erf(x / √2))."""
    e = b.node("Erf", [b.node("Div", [x, b.const(np.array(1.4142135, np.float32))])])
    return b.node("Mul", [b.node("Mul", [x, b.node("Add", [e, b.const(np.array(1, np.float32))])]),
                          b.const(np.array(0.5, np.float32))])


def gelu_tanh(b, x):
    """torch.nn.GELU(approximate='tanh') before opset 20."""
    cube = b.node("Pow", [x, b.const(np.array(3, np.float32))])
    inner = b.node("Add", [x, b.node("Mul", [b.const(np.array(0.044715, np.float32)), cube])])
    t = b.node("Tanh", [b.node("Mul", [b.const(np.array(0.7978846, np.float32)), inner])])
    half = b.node("Mul", [b.const(np.array(0.5, np.float32)), x])
    return b.node("Mul", [half, b.node("Add", [b.const(np.array(1, np.float32)), t])])


def layer_norm_decomposed(b, x, c):
    """LayerNorm as exporters before opset 17 write it."""
    mean = b.node("ReduceMean", [x], axes=[-1], keepdims=1)
    d = b.node("Sub", [x, mean])
    var = b.node("ReduceMean", [b.node("Pow", [d, b.const(np.array(2, np.float32))])], axes=[-1], keepdims=1)
    n = b.node("Div", [d, b.node("Sqrt", [b.node("Add", [var, b.const(np.array(1e-5, np.float32))])])])
    g = b.const((1 + 0.1 * b.rng.standard_normal(c)).astype(np.float32))
    return b.node("Add", [b.node("Mul", [n, g]), b.const((0.1 * b.rng.standard_normal(c)).astype(np.float32))])


def transformer_opset17():
    """A ViT-style block on a conv stem, as exports write it: patch embedding → tokens,
    LayerNormalization (opset 17), attention, MLP with Gemm and both GELU forms, a decomposed
    LayerNorm, shape arithmetic back to NCHW, and Where/Equal/Expand/Tile/GatherElements."""
    b = Builder("transformer_opset17", SEED + 3)
    x = "x"                                                                   # 1×3×16×16
    c, heads, dh = 32, 4, 8
    p = b.conv(x, 3, c, k=4, strides=[4, 4])                                  # 1×32×4×4 (NHWC inside)
    shp = b.node("Shape", [p])
    scalar = lambda v: b.const(np.array(v, np.int64))                        # noqa: E731
    n_tok = b.node("Mul", [b.node("Gather", [shp, scalar(2)], axis=0), b.node("Gather", [shp, scalar(3)], axis=0)])
    tokens = b.node("Transpose", [b.node("Reshape", [p, b.node("Concat", [b.const(i64(1, c)), b.node("Unsqueeze", [n_tok, b.const(i64(0))])], axis=0)])],
                    perm=[0, 2, 1])                                           # 1×16×32
    ln = b.node("LayerNormalization", [tokens, b.const((1 + 0.1 * b.rng.standard_normal(c)).astype(np.float32)),
                                       b.const((0.1 * b.rng.standard_normal(c)).astype(np.float32))], axis=-1, epsilon=1e-6)
    att = attention(b, ln, b.weight(c, c), b.weight(c, c), b.weight(c, c), heads, dh,
                    b.const((0.1 * b.rng.standard_normal(c)).astype(np.float32)))
    t1 = b.node("Add", [tokens, b.node("MatMul", [att, b.weight(c, c)])])
    ln2 = layer_norm_decomposed(b, t1, c)
    flat = b.node("Reshape", [ln2, b.const(i64(-1, c))])                      # 16×32
    h = b.node("Gemm", [flat, b.weight(2 * c, c), b.const((0.1 * b.rng.standard_normal(2 * c)).astype(np.float32))], transB=1)
    h = gelu_erf(b, h)
    h = b.node("Gemm", [h, b.weight(2 * c, c)], alpha=0.5)
    h = gelu_tanh(b, h)
    t2 = b.node("Add", [t1, b.node("Unsqueeze", [h, b.const(i64(0))])])       # 1×16×32
    # Back to NCHW through computed shapes: [1, C, H, W] from Shape(p).
    img = b.node("Reshape", [b.node("Transpose", [t2], perm=[0, 2, 1]), shp])
    head = b.conv(img, c, 2, k=1)
    # Masks and index ops on a token tensor.
    idx = b.node("Range", [scalar(0), b.node("Gather", [b.node("Shape", [t2]), scalar(1)], axis=0), scalar(1)])
    parity = b.node("Sub", [idx, b.node("Mul", [b.node("Div", [idx, scalar(2)]), scalar(2)])])
    even = b.node("Equal", [parity, scalar(0)])                               # [16] bool
    mask = b.node("Expand", [b.node("Unsqueeze", [even, b.const(i64(-1))]), b.const(i64(1, 16, c))])
    sel = b.node("Where", [mask, t2, b.node("Neg", [t2])])
    tiled = b.node("Tile", [sel, b.const(i64(1, 2, 1))])                      # 1×32×32
    order = b.const(np.random.default_rng(SEED + 30).integers(-32, 32, size=(1, 32, 8)).astype(np.int64))
    ge = b.node("GatherElements", [tiled, order], axis=1)                     # 1×32×8
    cmp = b.node("Cast", [b.node("Greater", [ge, b.const(np.array(0.1, np.float32))])], to=TensorProto.FLOAT)
    outs = [head, ge, cmp]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, 16, 16])],
                outputs(outs, [4, 3, 3]), 17)
    return m, {"x": np.random.default_rng(SEED + 3).standard_normal((1, 3, 16, 16)).astype(np.float32)}


def forms_opset20():
    """Opset-20 Gelu (both forms), LayerNormalization over two axes without bias, MatMul with
    1-D operands and broadcast batches, Gemm with transA, beta and a run-time C."""
    b = Builder("forms_opset20", SEED + 4)
    x = "x"                                                                   # 2×3×8
    g1 = b.node("Gelu", [x])
    g2 = b.node("Gelu", [x], approximate="tanh")
    ln = b.node("LayerNormalization", [g1, b.const((1 + 0.1 * b.rng.standard_normal((3, 8))).astype(np.float32))], axis=-2)
    mv = b.node("MatMul", [g2, b.weight(8)])                                  # 2×3 (1-D b)
    vm = b.node("MatMul", [b.weight(3), ln])                                  # 2×8 (1-D a)
    bb = b.node("MatMul", [ln, b.weight(1, 8, 5)])                            # 2×3×5 (broadcast batch)
    a2 = b.node("Reshape", [x, b.const(i64(6, 8))])
    col = b.node("Transpose", [b.node("ReduceSum", [a2, b.const(i64(0))], keepdims=1)], perm=[1, 0])  # [8, 1], computed
    gm = b.node("Gemm", [a2, b.weight(6, 7), col], transA=1, alpha=1.5, beta=0.25)                    # 8×7
    outs = [mv, vm, bb, gm]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [2, 3, 8])], outputs(outs, [2, 2, 3, 2]), 20,
                ir_version=9)
    return m, {"x": np.random.default_rng(SEED + 4).standard_normal((2, 3, 8)).astype(np.float32)}


def pointwise_opset17():
    """1×1 convolutions on the NCHW graph input: a chain of them with activations stays
    channel-major (no layout transposes); one whose reader is a 3×3 convolution goes NHWC."""
    b = Builder("pointwise_opset17", SEED + 5)
    x = "x"                                                                   # 1×12×9×11
    a = b.node("Relu", [b.conv(x, 12, 20, k=1)])
    a = b.node("Sigmoid", [b.conv(a, 20, 3, k=1)])                            # channel-major chain → output
    c = b.conv(b.conv(x, 12, 8, k=1, bias=False), 8, 4, pads=[1, 1, 1, 1])     # pointwise then 3×3: NHWC
    outs = [a, c]
    m = b.model([helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 12, 9, 11])], outputs(outs, [4, 4]), 17)
    return m, {"x": np.random.default_rng(SEED + 5).standard_normal((1, 12, 9, 11)).astype(np.float32)}


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__, "models": {}}
    for make in (legacy_opset10, layout_opset13, inputs_opset18, transformer_opset17, forms_opset20,
                 pointwise_opset17):
        model, feeds = make()
        name = make.__name__
        path = os.path.join(OUT, name + ".onnx")
        onnx.save_model(model, path)
        results = reference_outputs(path, feeds)
        names = list(results)
        files = {}
        for k, v in list(feeds.items()) + list(results.items()):
            fn = f"{name}.{k}.npy"
            np.save(os.path.join(OUT, fn), np.ascontiguousarray(v))
            files[k] = fn
        manifest["models"][name] = {"inputs": list(feeds), "outputs": names, "files": files,
                                    "op_types": sorted({n.op_type for n in model.graph.node})}
        print(name, names)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
