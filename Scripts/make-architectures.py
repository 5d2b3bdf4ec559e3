#!/usr/bin/env python3
"""Real matting architectures with random weights, written with onnx.helper in the op patterns
torch.onnx.export emits, and checked against onnxruntime through `run-model` (issue 14, "Real
architectures"). Models are generated into --out (default out/architectures/, ignored by git),
never committed; the same seed gives the same file (its SHA-256 is printed).

Architectures (full size: the size users run them at; the reduced test variant keeps every node
and divides the channel counts):
  u2netp   U²-Netp (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure"): six
           encoder and five decoder RSU blocks (RSU-7/6/5/4 with max-pool ceil_mode and
           bilinear upsampling to the skip's size, RSU-4F with dilations 1/2/4/8), 3×3 side
           outputs fused by a 1×1 conv, seven sigmoid outputs; Conv+ReLU (exports fold eval-mode
           BatchNorm into the conv), Resize linear pytorch_half_pixel with `sizes` from a
           Shape → Slice → Concat chain (F.interpolate(size=skip.shape[2:])) at opset 11. 320².
  u2net    U²-Net: the same graph with the full model's channel table (RSU-7 3→32→64 … RSU-4F
           512→256→512; decoder inputs 1024/1024/512/256/128). 320².
  isnet    ISNet (Qin et al. 2022, "Highly Accurate Dichotomous Image Segmentation"): a
           stride-2 3×3 stem to 64 channels, U²-Net's stages (stage 1 taking 64 channels), six
           3×3 side outputs upsampled to the input, six sigmoids, no fusion conv. 1024².
  modnet   MODNet (Ke et al. 2022): MobileNetV2 encoder (ReLU6 as Clip), SE block (Gemm-free:
           MatMul on the pooled vector, Expand), IBNorm (Slice → BatchNormalization and
           InstanceNormalization → Concat), low/high-resolution and fusion branches, Resize by
           scales 2, 1/2, 1/4; free batch/height/width as its export declares. 512².
  vitseg   a ViT segmenter (Dosovitskiy et al. 2021 backbone; SETR-style progressive-upsampling
           head, Zheng et al. 2021): 16×16 patch embedding, learned position embedding, 4
           pre-norm blocks (LayerNormalization at opset 17, 6-head attention as exports write
           it — MatMul, Reshape, Transpose, MatMul with Kᵀ, Div by √d, Softmax, MatMul — and an
           MLP with exact GELU written as Div/Erf/Add/Mul/Mul), tokens back to NCHW through a
           Shape/Gather/Concat chain, four ×2 bilinear stages of Conv+ReLU, 1×1 head, Sigmoid. 512².
  swinseg  a Swin-T backbone (Liu et al. 2021; windows of 8, shifted windows with torch.roll as
           Slice+Concat and the attention mask, relative-position bias as a constant, patch
           merging by strided Slices) with a BiRefNet-like decoder (Zheng et al. 2024: context
           concat of the coarser levels, ASPP with plain instead of deformable convs, lateral
           1×1 convs, image patches concatenated per level); logits out, opset 17. 512².

Check: onnxruntime 1.32 (CPU, 1 thread, optimisations off) and `run-model --threads T` on the
same seeded input; passes when max |ours − ort| ≤ 1e-4 × max |ort| on every output.

    python3 -m venv /tmp/venv-engine2
    /tmp/venv-engine2/bin/pip install onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6
    swift build -c release --product run-model
    /tmp/venv-engine2/bin/python Scripts/make-architectures.py [--arch u2net,isnet] [--size N] [--threads 1,2]

Test fixtures (reduced variants at 64², their seeded inputs and onnxruntime's outputs; the same
bytes on every run; manifest.json records each model file's SHA-256):
    /tmp/venv-engine2/bin/python Scripts/make-architectures.py --fixtures Tests/MattingImportersTests/Fixtures/Architectures
"""
import argparse
import hashlib
import json
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
    def __init__(self, name, seed, width=1):
        self.name, self.rng, self.width = name, np.random.default_rng(seed), width
        self.nodes, self.inits, self.count = [], [], 0

    def ch(self, c):
        """A paper's channel count scaled down for the reduced test variants (never below 2; the
        image's 3 channels stay)."""
        return c if self.width == 1 or c == 3 else max(2, c // self.width)

    def fresh(self, base):
        self.count += 1
        return f"{base}.{self.count}"

    def const(self, array):
        name = self.fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def ints(self, values):
        return self.const(np.array(values, np.int64))

    def node(self, op, inputs, **attrs):
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.fresh(op), **attrs))
        return out

    def conv(self, x, cin, cout, k=3, dilation=1, stride=1, group=1, bias=True, pad=None):
        w = (self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k))).astype(np.float32)
        ins = [x, self.const(w)]
        if bias:
            ins.append(self.const((0.05 * self.rng.standard_normal(cout)).astype(np.float32)))
        pad = dilation * (k // 2) if pad is None else pad
        return self.node("Conv", ins, kernel_shape=[k, k], dilations=[dilation, dilation],
                         pads=[pad] * 4, strides=[stride, stride], group=group)

    def rebnconv(self, x, cin, cout, dilation=1, stride=1):
        """REBNCONV: Conv 3×3 (dilated) + BatchNorm (folded by the exporter) + ReLU."""
        return self.node("Relu", [self.conv(x, cin, cout, dilation=dilation, stride=stride)])

    def pool(self, x):
        return self.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)

    def upsample_like(self, x, like, align_corners=False):
        """F.interpolate(x, size=like.shape[2:], mode='bilinear') as torch exports it (opset 11)."""
        hw = self.node("Slice", [self.node("Shape", [like]), self.ints([2]), self.ints([4]), self.ints([0])])
        nc = self.node("Slice", [self.node("Shape", [x]), self.ints([0]), self.ints([2]), self.ints([0])])
        sizes = self.node("Concat", [nc, hw], axis=0)
        mode = "align_corners" if align_corners else "pytorch_half_pixel"
        return self.node("Resize", [x, self.const(np.array([], np.float32)), self.const(np.array([], np.float32)), sizes],
                         mode="linear", coordinate_transformation_mode=mode, nearest_mode="floor")

    def scale(self, x, factor):
        """F.interpolate(x, scale_factor=factor, mode='bilinear', align_corners=False) at opset 11."""
        return self.node("Resize", [x, self.const(np.array([], np.float32)),
                                    self.const(np.array([1, 1, factor, factor], np.float32))],
                         mode="linear", coordinate_transformation_mode="pytorch_half_pixel", nearest_mode="floor")

    def cat(self, xs):
        return self.node("Concat", xs, axis=1)

    def rsu(self, x, height, cin, mid, cout):
        """RSU-L: encoder of height−1 REBNCONVs with pools, a dilated bottom, decoder with upsampling."""
        cin, mid, cout = self.ch(cin), self.ch(mid), self.ch(cout)
        hxin = self.rebnconv(x, cin, cout)
        enc = [self.rebnconv(hxin, cout, mid)]
        for _ in range(height - 2):
            enc.append(self.rebnconv(self.pool(enc[-1]), mid, mid))
        d = self.rebnconv(self.cat([self.rebnconv(enc[-1], mid, mid, dilation=2), enc[-1]]), 2 * mid, mid)
        for i in range(height - 3, -1, -1):
            d = self.rebnconv(self.cat([self.upsample_like(d, enc[i]), enc[i]]), 2 * mid, cout if i == 0 else mid)
        return self.node("Add", [d, hxin])

    def rsu4f(self, x, cin, mid, cout):
        cin, mid, cout = self.ch(cin), self.ch(mid), self.ch(cout)
        hxin = self.rebnconv(x, cin, cout)
        h1 = self.rebnconv(hxin, cout, mid)
        h2 = self.rebnconv(h1, mid, mid, 2)
        h3 = self.rebnconv(h2, mid, mid, 4)
        h4 = self.rebnconv(h3, mid, mid, 8)
        d3 = self.rebnconv(self.cat([h4, h3]), 2 * mid, mid, 4)
        d2 = self.rebnconv(self.cat([d3, h2]), 2 * mid, mid, 2)
        d1 = self.rebnconv(self.cat([d2, h1]), 2 * mid, cout)
        return self.node("Add", [d1, hxin])

    def model(self, inputs, outputs, opset, ir_version):
        graph = helper.make_graph(self.nodes, self.name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                                  [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version,
                              producer_name="MattingKit make-architectures.py")
        onnx.checker.check_model(m)
        return m


# The U²-Net family's stage tables (in, mid, out channels), from the papers.
U2NET = dict(enc=[(7, 3, 32, 64), (6, 64, 32, 128), (5, 128, 64, 256), (4, 256, 128, 512)], enc4f=[(512, 256, 512)] * 2,
             dec4f=(1024, 256, 512), dec=[(4, 1024, 128, 256), (5, 512, 64, 128), (6, 256, 32, 64), (7, 128, 16, 64)],
             sides=[64, 64, 128, 256, 512, 512])
U2NETP = dict(enc=[(7, 3, 16, 64), (6, 64, 16, 64), (5, 64, 16, 64), (4, 64, 16, 64)], enc4f=[(64, 16, 64)] * 2,
              dec4f=(128, 16, 64), dec=[(4, 128, 16, 64), (5, 128, 16, 64), (6, 128, 16, 64), (7, 128, 16, 64)],
              sides=[64] * 6)
# ISNet (Qin et al. 2022, "Highly Accurate Dichotomous Image Segmentation"): a stride-2 3×3 stem
# to 64 channels, then U²-Net's stages with stage 1 taking 64 channels; no fusion conv, 3×3 sides.
ISNET = dict(U2NET, enc=[(7, 64, 32, 64)] + U2NET["enc"][1:])


def u2_family(name, table, size, width, seed, isnet=False):
    n = Net(name, seed, width)
    x = "input.1" if not isnet else "input_image"
    h = n.conv(x, 3, n.ch(64), stride=2) if isnet else x
    enc = []
    for i, (height, cin, mid, cout) in enumerate(table["enc"]):
        enc.append(n.rsu(h, height, cin, mid, cout))
        h = n.pool(enc[-1])
    enc.append(n.rsu4f(h, *table["enc4f"][0]))
    enc.append(n.rsu4f(n.pool(enc[-1]), *table["enc4f"][1]))
    d = n.rsu4f(n.cat([n.upsample_like(enc[5], enc[4]), enc[4]]), *table["dec4f"])
    decs = [d]
    for (height, cin, mid, cout), skip in zip(table["dec"], reversed(enc[:4])):
        d = n.rsu(n.cat([n.upsample_like(d, skip), skip]), height, cin, mid, cout)
        decs.append(d)
    # side i reads decoder stage i (i = 1 is the last decoder stage), side 6 the bottom encoder stage.
    feats = list(reversed(decs)) + [enc[5]]
    k = 3 if isnet else 3
    sides = []
    for i, (f, c) in enumerate(zip(feats, table["sides"])):
        s = n.conv(f, n.ch(c), 1, k=k)
        sides.append(s if (i == 0 and not isnet) else n.upsample_like(s, x))
    if isnet:
        outs = [n.node("Sigmoid", [s]) for s in sides]
    else:
        fused = n.conv(n.cat(sides), 6, 1, k=1)
        outs = [n.node("Sigmoid", [s]) for s in [fused] + sides]
    return n.model([(x, [1, 3, size, size])], [(o, [1, 1, size, size]) for o in outs], opset=11, ir_version=6), x


def u2netp(size, width=1):
    return u2_family("u2netp", U2NETP, size, width, SEED)


def u2net(size, width=1):
    return u2_family("u2net", U2NET, size, width, SEED + 10)


def isnet(size, width=1):
    return u2_family("isnet", ISNET, size, width, SEED + 20, isnet=True)


def modnet(size, width=1):
    """MODNet (Ke et al. 2022, "MODNet: Real-Time Trimap-Free Portrait Matting via Objective
    Decomposition") as its inference export runs: a MobileNetV2 encoder (Conv+BN folded, ReLU6 as
    Clip 0…6), the low-resolution branch (SE block on the 1/32 features, two ×2 upsamplings with
    5×5 Conv+IBNorm+ReLU), the high-resolution branch (the image at 1/2 and 1/4 concatenated with
    encoder features) and the fusion branch, ending in a sigmoid matte. IBNorm splits the
    channels: the first half through BatchNorm (kept: a Slice stands between it and the conv), the
    second through InstanceNorm without affine parameters, then a Concat."""
    n = Net("modnet", SEED + 30, width)
    x = "input"
    relu6 = lambda t: n.node("Clip", [t, n.const(np.array(0, np.float32)), n.const(np.array(6, np.float32))])

    def ibnorm(t, c):
        bn = c // 2
        a = n.node("Slice", [t, n.ints([0]), n.ints([bn]), n.ints([1])])
        b = n.node("Slice", [t, n.ints([bn]), n.ints([np.iinfo(np.int64).max]), n.ints([1])])
        a = n.node("BatchNormalization", [a, n.const((1 + 0.1 * n.rng.standard_normal(bn)).astype(np.float32)),
                                          n.const((0.1 * n.rng.standard_normal(bn)).astype(np.float32)),
                                          n.const((0.1 * n.rng.standard_normal(bn)).astype(np.float32)),
                                          n.const((0.5 + n.rng.random(bn)).astype(np.float32))], epsilon=1e-5, momentum=0.9)
        b = n.node("InstanceNormalization", [b, n.const(np.ones(c - bn, np.float32)), n.const(np.zeros(c - bn, np.float32))],
                   epsilon=1e-5)
        return n.cat([a, b])

    def cir(t, cin, cout, k, stride=1, ibn=True, relu=True):
        t = n.conv(t, cin, cout, k=k, stride=stride)
        if ibn:
            t = ibnorm(t, cout)
        return n.node("Relu", [t]) if relu else t

    def inverted_residual(t, cin, cout, stride, expand):
        hidden = cin * expand
        h = t
        if expand != 1:
            h = relu6(n.conv(h, cin, hidden, k=1))
        h = relu6(n.conv(h, hidden, hidden, k=3, stride=stride, group=hidden))
        h = n.conv(h, hidden, cout, k=1)
        return n.node("Add", [t, h]) if stride == 1 and cin == cout else h

    c = n.ch
    # MobileNetV2 (Sandler et al. 2018): t, c, n, s.
    features = [relu6(n.conv(x, 3, c(32), stride=2))]
    cin = c(32)
    for t_, c_, reps, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(reps):
            features.append(inverted_residual(features[-1], cin, c(c_), s if i == 0 else 1, t_))
            cin = c(c_)
    features.append(relu6(n.conv(features[-1], cin, c(1280), k=1)))
    enc2x, enc4x, enc32x = features[1], features[3], features[18]
    enc_channels = [c(16), c(24), c(32), c(96), c(1280)]
    hr = c(32)

    # Low-resolution branch: SE block, then two ×2 stages.
    ch32 = enc_channels[4]
    w = n.node("GlobalAveragePool", [enc32x])
    shape = n.node("Shape", [enc32x])
    b_ = n.node("Unsqueeze", [n.node("Gather", [shape, n.const(np.array(0, np.int64))], axis=0)], axes=[0])
    c_ = n.node("Unsqueeze", [n.node("Gather", [shape, n.const(np.array(1, np.int64))], axis=0)], axes=[0])
    w = n.node("Reshape", [w, n.node("Concat", [b_, c_], axis=0)])
    fc1 = (n.rng.standard_normal((max(1, ch32 // 4), ch32)) / np.sqrt(ch32)).astype(np.float32)
    fc2 = (n.rng.standard_normal((ch32, max(1, ch32 // 4))) / np.sqrt(max(1, ch32 // 4))).astype(np.float32)
    w = n.node("Relu", [n.node("MatMul", [w, n.const(fc1.T.copy())])])
    w = n.node("Sigmoid", [n.node("MatMul", [w, n.const(fc2.T.copy())])])
    one = n.const(np.array([1], np.int64))
    w = n.node("Reshape", [w, n.node("Concat", [b_, c_, one, one], axis=0)])
    enc32x = n.node("Mul", [enc32x, n.node("Expand", [w, n.node("Shape", [enc32x])])])
    lr16x = cir(n.scale(enc32x, 2.0), ch32, enc_channels[3], 5)
    lr8x = cir(n.scale(lr16x, 2.0), enc_channels[3], enc_channels[2], 5)

    # High-resolution branch.
    img2x, img4x = n.scale(x, 0.5), n.scale(x, 0.25)
    e2 = cir(enc2x, enc_channels[0], hr, 1)
    hr4x = cir(n.cat([img2x, e2]), hr + 3, hr, 3, stride=2)
    e4 = cir(enc4x, enc_channels[1], hr, 1)
    hr4x = cir(n.cat([hr4x, e4]), 2 * hr, 2 * hr, 3)
    lr4x = n.scale(lr8x, 2.0)
    hr4x = cir(n.cat([hr4x, lr4x, img4x]), 3 * hr + 3, 2 * hr, 3)
    hr4x = cir(hr4x, 2 * hr, 2 * hr, 3)
    hr4x = cir(hr4x, 2 * hr, hr, 3)
    hr2x = cir(n.cat([n.scale(hr4x, 2.0), e2]), 2 * hr, 2 * hr, 3)
    hr2x = cir(hr2x, 2 * hr, hr, 3)
    hr2x = cir(hr2x, hr, hr, 3)
    hr2x = cir(hr2x, hr, hr, 3)

    # Fusion branch.
    lr4x = cir(n.scale(lr8x, 2.0), hr, hr, 5)
    f2x = cir(n.cat([n.scale(lr4x, 2.0), hr2x]), 2 * hr, hr, 3)
    f = cir(n.cat([n.scale(f2x, 2.0), x]), hr + 3, max(1, hr // 2), 3)
    f = cir(f, max(1, hr // 2), 1, 1, ibn=False, relu=False)
    out = n.node("Sigmoid", [f])
    # The reference export (onnx/export_onnx.py) declares batch, height and width dynamic.
    return n.model([(x, ["batch_size", 3, "height", "width"])], [(out, ["batch_size", 1, "height", "width"])],
                   opset=11, ir_version=6), x


def swinseg(size, width=1):
    """A Swin-backbone segmenter with a BiRefNet-like decoder. Backbone (Liu et al. 2021, "Swin
    Transformer"): 4×4 patch embedding, four stages of depths 2/2/6/2 (2/2/2/2 reduced) at
    C, 2C, 4C, 8C channels, windowed attention with a relative-position bias (a constant after
    export) and, on every second block, the cyclic shift (torch.roll → Slice+Concat) with its
    attention mask; patch merging by strided Slices, Concat, LayerNorm and a bias-free Linear.
    Decoder after BiRefNet (Zheng et al. 2024, "Bilateral Reference for High-Resolution
    Dichotomous Image Segmentation"): the coarser features resized (align_corners=True) and
    concatenated onto the 1/32 level as context, decoder blocks of Conv+ReLU, an ASPP (1×1,
    three dilated 3×3 and a global-pool branch; BiRefNet's deformable convs are plain convs
    here), lateral 1×1 convs added after upsampling, the image cut into patches
    (b c (hg h) (wg w) → b (c hg wg) h w) concatenated at each level, and a 1×1 head whose
    logits are the output (the caller applies the sigmoid, as rembg does for BiRefNet)."""
    n = Net("swinseg", SEED + 40, width)
    window = 8 if width == 1 else 4
    x = "input_image"
    C = n.ch(96) if width > 1 else 96
    depths = (2, 2, 6, 2) if width == 1 else (2, 2, 2, 2)
    heads = (3, 6, 12, 24) if width == 1 else (1, 2, 2, 4)
    def linear(t, cin, cout, bias=True):
        w = (n.rng.standard_normal((cin, cout)) / np.sqrt(cin)).astype(np.float32)
        t = n.node("MatMul", [t, n.const(w)])
        return n.node("Add", [t, n.const((0.02 * n.rng.standard_normal(cout)).astype(np.float32))]) if bias else t
    def layer_norm(t, c):
        return n.node("LayerNormalization", [t, n.const((1 + 0.1 * n.rng.standard_normal(c)).astype(np.float32)),
                                             n.const((0.02 * n.rng.standard_normal(c)).astype(np.float32))], axis=-1, epsilon=1e-5)
    def gelu(t):
        e = n.node("Erf", [n.node("Div", [t, n.const(np.array(1.4142135, np.float32))])])
        return n.node("Mul", [n.node("Mul", [t, n.node("Add", [e, n.const(np.array(1, np.float32))])]), n.const(np.array(0.5, np.float32))])
    def roll(t, s):
        """torch.roll(t, (s, s), dims=(1, 2)) on B×H×W×C, as exports write it."""
        for axis in (1, 2):
            a = n.node("Slice", [t, n.ints([-s]), n.ints([np.iinfo(np.int64).max]), n.ints([axis])])
            b = n.node("Slice", [t, n.ints([0]), n.ints([-s]), n.ints([axis])])
            t = n.node("Concat", [a, b], axis=axis)
        return t
    def roll_back(t, s):
        for axis in (1, 2):
            a = n.node("Slice", [t, n.ints([s]), n.ints([np.iinfo(np.int64).max]), n.ints([axis])])
            b = n.node("Slice", [t, n.ints([0]), n.ints([s]), n.ints([axis])])
            t = n.node("Concat", [a, b], axis=axis)
        return t
    def attention_mask(res, w, s):
        img = np.zeros((res, res))
        cnt = 0
        for hs in (slice(0, -w), slice(-w, -s), slice(-s, None)):
            for ws in (slice(0, -w), slice(-w, -s), slice(-s, None)):
                img[hs, ws] = cnt
                cnt += 1
        win = img.reshape(res // w, w, res // w, w).transpose(0, 2, 1, 3).reshape(-1, w * w)
        m = win[:, None, :] - win[:, :, None]
        return np.where(m != 0, -100.0, 0.0).astype(np.float32)          # nW × N × N
    def block(t, res, c, h, shift):
        w = min(window, res)
        shift = shift if res > window else 0
        nw, N = (res // w) ** 2, w * w
        y = n.node("Reshape", [layer_norm(t, c), n.ints([1, res, res, c])])
        if shift:
            y = roll(y, shift)
        y = n.node("Reshape", [y, n.ints([1, res // w, w, res // w, w, c])])
        y = n.node("Reshape", [n.node("Transpose", [y], perm=[0, 1, 3, 2, 4, 5]), n.ints([-1, N, c])])
        qkv = n.node("Reshape", [linear(y, c, 3 * c), n.ints([nw, N, 3, h, c // h])])
        qkv = n.node("Transpose", [qkv], perm=[2, 0, 3, 1, 4])
        q, k, v = (n.node("Gather", [qkv, n.const(np.array(i, np.int64))], axis=0) for i in range(3))
        q = n.node("Mul", [q, n.const(np.array((c // h) ** -0.5, np.float32))])
        a = n.node("MatMul", [q, n.node("Transpose", [k], perm=[0, 1, 3, 2])])
        a = n.node("Add", [a, n.const((0.02 * n.rng.standard_normal((1, h, N, N))).astype(np.float32))])
        if shift:
            a = n.node("Reshape", [a, n.ints([1, nw, h, N, N])])
            a = n.node("Add", [a, n.const(attention_mask(res, w, shift)[None, :, None])])
            a = n.node("Reshape", [a, n.ints([-1, h, N, N])])
        a = n.node("MatMul", [n.node("Softmax", [a], axis=-1), v])
        a = n.node("Reshape", [n.node("Transpose", [a], perm=[0, 2, 1, 3]), n.ints([nw, N, c])])
        a = linear(a, c, c)
        a = n.node("Reshape", [a, n.ints([1, res // w, res // w, w, w, c])])
        a = n.node("Reshape", [n.node("Transpose", [a], perm=[0, 1, 3, 2, 4, 5]), n.ints([1, res, res, c])])
        if shift:
            a = roll_back(a, shift)
        t = n.node("Add", [t, n.node("Reshape", [a, n.ints([1, res * res, c])])])
        return n.node("Add", [t, linear(gelu(linear(layer_norm(t, c), c, 4 * c)), 4 * c, c)])
    def merge(t, res, c):
        y = n.node("Reshape", [t, n.ints([1, res, res, c])])
        big = np.iinfo(np.int64).max
        parts = [n.node("Slice", [y, n.ints([r, q]), n.ints([big, big]), n.ints([1, 2]), n.ints([2, 2])])
                 for r, q in ((0, 0), (1, 0), (0, 1), (1, 1))]
        y = n.node("Reshape", [n.node("Concat", parts, axis=-1), n.ints([1, -1, 4 * c])])
        return linear(layer_norm(y, 4 * c), 4 * c, 2 * c, bias=False)
    def to_nchw(t, res, c):
        return n.node("Transpose", [n.node("Reshape", [t, n.ints([1, res, res, c])])], perm=[0, 3, 1, 2])

    emb = n.conv(x, 3, C, k=4, stride=4, pad=0)
    res = size // 4
    t = layer_norm(n.node("Transpose", [n.node("Reshape", [emb, n.ints([1, C, -1])])], perm=[0, 2, 1]), C)
    feats, c = [], C
    for stage, (depth, h) in enumerate(zip(depths, heads)):
        if stage:
            t, res, c = merge(t, res, c), res // 2, 2 * c
        for i in range(depth):
            t = block(t, res, c, h, window // 2 if i % 2 else 0)
        feats.append((to_nchw(layer_norm(t, c), res, c), c))

    # BiRefNet-like decoder.
    D = n.ch(64) if width > 1 else 64
    (x1, c1), (x2, c2), (x3, c3), (x4, c4) = feats
    x4 = n.cat([n.upsample_like(x1, x4, align_corners=True), n.upsample_like(x2, x4, align_corners=True),
                n.upsample_like(x3, x4, align_corners=True), x4])
    c4 = c1 + c2 + c3 + c4
    relu = lambda t: n.node("Relu", [t])
    def aspp(t, c):
        branches = [relu(n.conv(t, c, c, k=1))] + [relu(n.conv(t, c, c, dilation=d)) for d in (2, 4, 6)]
        g = relu(n.conv(n.node("GlobalAveragePool", [t]), c, c, k=1))
        branches.append(n.upsample_like(g, t, align_corners=True))
        return relu(n.conv(n.cat(branches), 5 * c, c, k=1))
    def patches(level_res):
        """The image cut into (size/level_res)² patches stacked on channels, then a 3×3 conv."""
        g = size // level_res
        p = n.node("Reshape", [x, n.ints([1, 3, g, level_res, g, level_res])])
        p = n.node("Reshape", [n.node("Transpose", [p], perm=[0, 1, 2, 4, 3, 5]), n.ints([1, 3 * g * g, level_res, level_res])])
        return relu(n.conv(p, 3 * g * g, D // 2))
    def dec_block(t, cin):
        t = relu(n.conv(t, cin, D))
        return relu(n.conv(aspp(t, D), D, D))
    r4 = size // 32
    p = dec_block(n.cat([x4, patches(r4)]), c4 + D // 2)
    for (xl, cl), r in ((feats[2], size // 16), (feats[1], size // 8), (feats[0], size // 4)):
        p = n.node("Add", [n.upsample_like(p, xl, align_corners=True), relu(n.conv(xl, cl, D, k=1))])
        p = dec_block(n.cat([p, patches(r)]), D + D // 2)
    out = n.upsample_like(n.conv(relu(n.conv(p, D, D // 2)), D // 2, 1, k=1), x, align_corners=True)
    return n.model([(x, [1, 3, size, size])], [(out, [1, 1, size, size])], opset=17, ir_version=8), x


def vitseg(size, width=1, dim=192, heads=6, depth=4, patch=16):
    n = Net("vitseg", SEED + 2)
    if width > 1:
        dim, heads, depth = 24, 2, 2
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
    for cout in (max(2, 128 // width), max(2, 64 // width), max(2, 32 // width), max(2, 16 // width)):
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



ARCHITECTURES = {  # name: (builder, size at which users run it, reduced test variant's size and width divisor)
    "u2netp": (u2netp, 320, 64, 8),
    "u2net": (u2net, 320, 64, 32),
    "isnet": (isnet, 1024, 64, 32),
    "modnet": (modnet, 512, 64, 16),
    "vitseg": (vitseg, 512, 64, 8),
    "swinseg": (swinseg, 512, 64, 32),
}


def onnxruntime_output_names(path):
    """The model's output names in onnxruntime's order (the order `session.run(None, …)` returns)."""
    return [o.name for o in ort.InferenceSession(path, providers=["CPUExecutionProvider"]).get_outputs()]


def check(name, model, input_name, size, out_dir, run_model, threads, seed_input=SEED + 1):
    """Saves the model and a seeded input, runs onnxruntime and run-model; returns (worst relative error per thread count, reference)."""
    path = os.path.join(out_dir, f"{name}.onnx")
    onnx.save_model(model, path)
    x = np.random.default_rng(seed_input).random((1, 3, size, size), dtype=np.float32)
    npy = os.path.join(out_dir, f"{name}.input.npy")
    np.save(npy, x)
    want = reference_outputs(path, {input_name: x})
    results = {}
    for t in threads:
        got_dir = os.path.join(out_dir, f"{name}_t{t}")
        r = subprocess.run([run_model, path, "--input", f"{input_name}={npy}", "--output-dir", got_dir,
                            "--threads", str(t)], capture_output=True, text=True)
        if r.returncode != 0:
            results[t] = r.stderr.strip()
            continue
        worst = 0.0
        for key, value in want.items():
            got = np.load(os.path.join(got_dir, key.replace("/", "_") + ".npy"))
            worst = max(worst, float(np.abs(got - value).max() / max(np.abs(value).max(), 1e-6)))
        results[t] = worst
    return path, x, want, results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default=",".join(ARCHITECTURES), help="comma-separated: " + ", ".join(ARCHITECTURES))
    ap.add_argument("--size", type=int, help="input side (default: each model's own size)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "architectures"))
    ap.add_argument("--run-model", default=os.path.join(ROOT, ".build", "release", "run-model"))
    ap.add_argument("--fixtures", metavar="DIR",
                    help="write the reduced variants, their inputs and onnxruntime's outputs to DIR (the test fixtures)")
    ap.add_argument("--no-check", action="store_true", help="only write the models")
    args = ap.parse_args()
    names = args.arch.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    if args.fixtures:
        write_fixtures(names, args.fixtures)
        return
    os.makedirs(args.out, exist_ok=True)
    failed = False
    for name in names:
        make, full, _, _ = ARCHITECTURES[name]
        size = args.size or full
        model, input_name = make(size)
        tag = f"{name}_{size}"
        path = os.path.join(args.out, f"{tag}.onnx")
        if args.no_check:
            onnx.save_model(model, path)
            print(f"{path}: {len(model.graph.node)} nodes, sha256 {hashlib.sha256(open(path, 'rb').read()).hexdigest()[:16]}")
            continue
        path, _, want, results = check(tag, model, input_name, size, args.out, args.run_model, threads)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        for t, r in results.items():
            ok = isinstance(r, float) and r <= 1e-4
            failed |= not ok
            text = f"max relative error {r:.2e} over {len(want)} outputs — {'ok' if ok else 'FAIL'}" if isinstance(r, float) \
                else f"run-model failed: {r}"
            print(f"{name} {size}x{size} ({digest[:12]}…, {len(model.graph.node)} nodes), {t} thread(s): {text}")
    sys.exit(1 if failed else 0)


def write_fixtures(names, directory):
    """Reduced variants (same graph structure, channels divided, small input) with onnxruntime's
    outputs; `manifest.json` records versions and sizes for the Swift tests."""
    os.makedirs(directory, exist_ok=True)
    manifest_path = os.path.join(directory, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {"models": {}}
    manifest["generator"] = {"command": "Scripts/make-architectures.py --fixtures Tests/MattingImportersTests/Fixtures/Architectures",
                             "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
                             "reference": "onnxruntime CPU, 1 thread, graph optimisations off"}
    for name in names:
        make, _, size, width = ARCHITECTURES[name]
        model, input_name = make(size, width)
        path = os.path.join(directory, f"{name}.onnx")
        onnx.save_model(model, path)
        x = np.random.default_rng(SEED + 1).random((1, 3, size, size), dtype=np.float32)
        np.save(os.path.join(directory, f"{name}.input.npy"), x)
        want = reference_outputs(path, {input_name: x})
        outputs = {}
        for i, (key, value) in enumerate(want.items()):
            file = f"{name}.output{i}.npy"
            np.save(os.path.join(directory, file), value.astype(np.float32))
            outputs[key] = file
        ops = {}
        for node in model.graph.node:
            ops[node.op_type] = ops.get(node.op_type, 0) + 1
        manifest["models"][name] = {"file": f"{name}.onnx", "input": input_name, "input_file": f"{name}.input.npy",
                                    "size": size, "width_divisor": width, "nodes": len(model.graph.node), "op_counts": ops,
                                    "outputs": outputs,
                                    "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
        print(f"{name}: {size}x{size}, widths / {width}, {len(model.graph.node)} nodes, {os.path.getsize(path) // 1024} KiB")
    json.dump(manifest, open(manifest_path, "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
