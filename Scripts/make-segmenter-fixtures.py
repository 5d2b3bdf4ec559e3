#!/usr/bin/env python3
"""Generates Tests/MattingKitTests/Fixtures/ModelSegmenter: small ONNX models that mimic the
interfaces of the model families ModelSegmenter's presets target, with onnxruntime's outputs.

Each model has random weights (fixed seeds) and the *interface* of its family, not its
architecture: input name, rank, layout, dynamic axes, output count and names, and whether the
sigmoid is inside the graph:

  modnet_like    input 'input' [batch_size, 3, height, width] (symbolic), one output 'output'
                 [batch_size, 1, height, width] ending in Sigmoid, opset 11 (as MODNet's export)
  u2net_like     input 'input.1' [1, 3, 32, 32] (static, as rembg's u2net/u2netp exports at 320),
                 seven sigmoid outputs; the fused one (d0) is declared FIRST but its name sorts
                 last, so "output index 0" must follow declaration order, not name order
  isnet_like     input 'input_image' [1, 3, 32, 32], six sigmoid outputs, opset 17
  bshm_like      input 'input_image' [height, width, 3] (rank 3, no batch), raw 0..255 BGR in,
                 'output_mask' [height, width] in 0..255 (as ModelScope's BSHM ONNX export)
  logits_nhwc    input 'image' [1, height, width, 3] (NHWC), output 'logits' [1, height, width, 2]
                 (two channels, no sigmoid) for layout, channel and sigmoid post-processing
  two_inputs, gray_input    interfaces a segmenter must reject

For every case: the 8-bit RGB image at the network size (<case>.image.npy, uint8 H×W×3), the
input tensor the reference pre-processing makes from it (<case>.input.npy: what each family's
reference code computes, in float64 then cast to float32 as those scripts do) and the reference
post-processing of onnxruntime's output for that tensor (<case>.alpha.npy, H×W, clamped to 0..1). manifest.json lists models, cases and versions.

Pinned environment (the versions these fixtures were generated with):
    python3.11 -m venv /tmp/mk-venv
    /tmp/mk-venv/bin/pip install onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6
    /tmp/mk-venv/bin/python Scripts/make-segmenter-fixtures.py

Deterministic: fixed seeds, single-threaded onnxruntime with graph optimisations off.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_fixtures import Builder  # noqa: E402  (shared with make-model-fixtures.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "MattingKitTests", "Fixtures", "ModelSegmenter")
SEED = 20261125

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def encoder_decoder(b, x, c):
    """A tiny UNet body on an NCHW value: conv, strided conv, resize back, skip add."""
    e1 = b.node("Relu", [b.conv(x, 3, c, pads=[1, 1, 1, 1])])
    e2 = b.node("Relu", [b.conv(e1, c, c, strides=[2, 2], pads=[1, 1, 1, 1])])
    scales = b.const(np.array([1, 1, 2, 2], np.float32))
    up = b.node("Resize", [e2, b.const(np.array([], np.float32)), scales], mode="linear",
                coordinate_transformation_mode="half_pixel")
    return b.node("Add", [up, e1])


def modnet_like():
    b = Builder("modnet_like", SEED + 1)
    body = encoder_decoder(b, "input", 6)
    body = b.node("InstanceNormalization", [body, b.const(np.ones(6, np.float32)), b.const(np.zeros(6, np.float32))],
                  epsilon=1e-5)
    out = b.node("Sigmoid", [b.conv(body, 6, 1, k=1)])
    b.nodes[-1].output[0] = "output"
    m = b.model([vi("input", ["batch_size", 3, "height", "width"])], [vi("output", ["batch_size", 1, "height", "width"])],
                11, ir_version=6)
    return m


def u2net_like():
    b = Builder("u2net_like", SEED + 2)
    body = encoder_decoder(b, "input.1", 6)
    sides = [b.conv(body, 6, 1, k=3, pads=[1, 1, 1, 1]) for _ in range(6)]
    fused = b.conv(b.node("Concat", sides, axis=1), 6, 1, k=1)
    names = ["fused_z"] + [f"side_{i}" for i in range(1, 7)]     # d0 first, sorting last
    for value, name in zip([fused] + sides, names):
        b.nodes.append(helper.make_node("Sigmoid", [value], [name], name="sig_" + name))
    m = b.model([vi("input.1", [1, 3, 32, 32])], [vi(n, [1, 1, 32, 32]) for n in names], 11, ir_version=6)
    return m


def isnet_like():
    b = Builder("isnet_like", SEED + 3)
    body = encoder_decoder(b, "input_image", 4)
    names = [f"d{i}" for i in range(1, 7)]
    for name in names:
        b.nodes.append(helper.make_node("Sigmoid", [b.conv(body, 4, 1, k=1)], [name], name="sig_" + name))
    return b.model([vi("input_image", [1, 3, 32, 32])], [vi(n, [1, 1, 32, 32]) for n in names], 17)


def bshm_like():
    b = Builder("bshm_like", SEED + 4)
    x = b.node("Transpose", ["input_image"], perm=[2, 0, 1])                     # 3×H×W
    x = b.node("Unsqueeze", [x, b.const(np.array([0], np.int64))])                # 1×3×H×W
    x = b.node("Div", [x, b.const(np.array(255.0, np.float32))])
    body = encoder_decoder(b, x, 4)
    y = b.node("Sigmoid", [b.conv(body, 4, 1, k=1)])
    y = b.node("Squeeze", [y, b.const(np.array([0, 1], np.int64))])               # H×W
    b.nodes.append(helper.make_node("Mul", [y, b.const(np.array(255.0, np.float32))], ["output_mask"], name="scale"))
    return b.model([vi("input_image", ["height", "width", 3])], [vi("output_mask", ["height", "width"])], 13, ir_version=7)


def logits_nhwc():
    b = Builder("logits_nhwc", SEED + 5)
    x = b.node("Transpose", ["image"], perm=[0, 3, 1, 2])
    body = encoder_decoder(b, x, 4)
    y = b.conv(body, 4, 2, k=1)
    b.nodes.append(helper.make_node("Transpose", [y], ["logits"], perm=[0, 2, 3, 1], name="to_nhwc"))
    return b.model([vi("image", [1, "height", "width", 3])], [vi("logits", [1, "height", "width", 2])], 13, ir_version=7)


def two_inputs():
    b = Builder("two_inputs", SEED + 6)
    y = b.node("Add", [b.conv("image", 3, 1, k=1), b.conv("trimap", 1, 1, k=1)])
    b.nodes[-1].output[0] = "alpha"
    return b.model([vi("image", [1, 3, "h", "w"]), vi("trimap", [1, 1, "h", "w"])], [vi("alpha", [1, 1, "h", "w"])], 13,
                   ir_version=7)


def gray_input():
    b = Builder("gray_input", SEED + 7)
    b.nodes.append(helper.make_node("Sigmoid", [b.conv("gray", 1, 1, k=1)], ["alpha"], name="sig"))
    return b.model([vi("gray", [1, 1, "h", "w"])], [vi("alpha", [1, 1, "h", "w"])], 13, ir_version=7)


# --- the reference pre-processing of each family, on an 8-bit RGB image at network size -----

def pre_modnet(img):            # ZHKKKe/MODNet onnx/inference_onnx.py: (im - 127.5) / 127.5, NCHW
    im = (img.astype(np.float64) - 127.5) / 127.5
    return np.transpose(im, (2, 0, 1))[None].astype(np.float32)


def pre_u2net(img):             # U-2-Net data_loader.ToTensorLab(flag=0): x / max(x), ImageNet mean/std
    im = img.astype(np.float64) / np.max(img)
    im = (im - IMAGENET_MEAN) / IMAGENET_STD
    return np.transpose(im, (2, 0, 1))[None].astype(np.float32)


def pre_isnet(img):             # DIS IS-Net/Inference.py: x / 255, normalize(mean 0.5, std 1.0)
    im = img.astype(np.float64) / 255.0 - 0.5
    return np.transpose(im, (2, 0, 1))[None].astype(np.float32)


def pre_bshm(img):              # raw 0..255, BGR (cv2.imread order), H×W×3, no batch
    return img[:, :, ::-1].astype(np.float32)


def pre_unit_nhwc(img):
    return (img.astype(np.float64) / 255.0)[None].astype(np.float32)


def norm_pred(d):               # U-2-Net u2net_test.normPRED
    return (d - d.min()) / (d.max() - d.min())


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


# case: (model, image height, width, pre-processing, post-processing on the raw output)
CASES = {
    "modnet_16x32": ("modnet_like", 32, 16, pre_modnet, lambda o: o[0, 0]),
    "modnet_32x16": ("modnet_like", 16, 32, pre_modnet, lambda o: o[0, 0]),
    "u2net_32x32": ("u2net_like", 32, 32, pre_u2net, lambda o: norm_pred(o[0, 0])),
    "isnet_32x32": ("isnet_like", 32, 32, pre_isnet, lambda o: norm_pred(o[0, 0])),
    "bshm_32x16": ("bshm_like", 16, 32, pre_bshm, lambda o: o / 255.0),
    "logits_16x32": ("logits_nhwc", 32, 16, pre_unit_nhwc, lambda o: sigmoid(o[0, :, :, 1])),
}


def test_image(h, w, seed):
    """Smooth gradients plus noise, so no channel is constant and the maximum is below 255."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([40 + 150 * x / max(w - 1, 1), 30 + 180 * y / max(h - 1, 1), 90 + 60 * np.sin(x / 5.0 + y / 7.0)], -1)
    return np.clip(base + rng.integers(-20, 21, size=(h, w, 3)), 0, 250).astype(np.uint8)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    manifest = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
                "generator": "Scripts/make-segmenter-fixtures.py", "models": {}, "cases": {}}
    for make in (modnet_like, u2net_like, isnet_like, bshm_like, logits_nhwc, two_inputs, gray_input):
        m = make()
        path = os.path.join(OUT, make.__name__ + ".onnx")
        onnx.save_model(m, path)
        s = session(path)
        manifest["models"][make.__name__] = {
            "inputs": [{"name": i.name, "shape": [d if isinstance(d, int) else str(d) for d in i.shape]} for i in s.get_inputs()],
            "outputs": [o.name for o in s.get_outputs()],   # declaration order
        }
    for i, (case, (model, h, w, pre, post)) in enumerate(sorted(CASES.items())):
        img = test_image(h, w, SEED + 100 + i)
        tensor = pre(img)
        s = session(os.path.join(OUT, model + ".onnx"))
        raw = s.run([s.get_outputs()[0].name], {s.get_inputs()[0].name: tensor})[0]
        alpha = np.clip(post(raw), 0, 1).astype(np.float32)
        for suffix, array in (("image", img), ("input", tensor), ("alpha", alpha)):
            np.save(os.path.join(OUT, f"{case}.{suffix}.npy"), np.ascontiguousarray(array))
        manifest["cases"][case] = {"model": model, "width": w, "height": h, "output": s.get_outputs()[0].name,
                                   "alpha_range": [float(alpha.min()), float(alpha.max())]}
        print(case, model, tensor.shape, "->", raw.shape, "alpha", alpha.min(), alpha.max())
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes")


if __name__ == "__main__":
    main()
