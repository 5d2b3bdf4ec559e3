"""ONNX test networks for the importer and engine; imported by Scripts/make-model-fixtures.py.

Small UNet-shaped networks built with onnx.helper, random weights from a fixed seed, outputs
computed by onnxruntime (single thread, all graph optimisations off so the graph as written is
what runs). Written files (under Tests/MattingImportersTests/Fixtures/ONNX):

  <model>.onnx                      the model (external_data.onnx also has external_data.bin)
  <model>.<case>.<tensor>.npy       inputs and onnxruntime outputs for each evaluated case
  manifest.json                     per model: opsets, node/initializer counts, op types, storage
                                    of each initializer, inputs/outputs and cases (read by tests)
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SEED = 20241125


class Builder:
    """Collects nodes and initializers; alternates initializer storage (raw vs typed fields)."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0
        self.typed_next = False

    def fresh(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, name=None, typed=None):
        """An initializer; typed=True stores float_data/int64_data/int32_data instead of raw_data."""
        name = name or self.fresh("w")
        array = np.asarray(array)
        if typed is None:
            typed = self.typed_next
            self.typed_next = not self.typed_next
        if typed:
            dtype = helper.np_dtype_to_tensor_dtype(array.dtype)
            if array.dtype == np.float16:
                vals = array.view(np.uint16).flatten().astype(np.int32).tolist()
            else:
                vals = array.flatten().tolist()
            tensor = helper.make_tensor(name, dtype, array.shape, vals, raw=False)
        else:
            tensor = numpy_helper.from_array(array, name)
        self.inits.append(tensor)
        return name

    def weight(self, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        scale = scale or 1.0 / np.sqrt(max(fan_in, 1))
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32))

    def node(self, op, inputs, n_out=1, **attrs):
        outs = [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.fresh("n_" + op), **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, cin, cout, k=3, group=1, bias=True, **attrs):
        w = self.weight(cout, cin // group, k, k)
        ins = [x, w] + ([self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32))] if bias else [])
        return self.node("Conv", ins, kernel_shape=[k, k], group=group, **attrs)

    def batchnorm(self, x, c):
        r = self.rng
        scale = self.const((1 + 0.1 * r.standard_normal(c)).astype(np.float32))
        b = self.const((0.1 * r.standard_normal(c)).astype(np.float32))
        mean = self.const((0.1 * r.standard_normal(c)).astype(np.float32))
        var = self.const((0.5 + r.random(c)).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, b, mean, var], epsilon=1e-3)

    def model(self, inputs, outputs, opset, ir_version=8):
        graph = helper.make_graph(self.nodes, self.name, inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="MattingKit make-model-fixtures.py", ir_version=ir_version)
        onnx.checker.check_model(m)
        return m


def reference_outputs(path, feeds):
    """onnxruntime's outputs by name: CPU provider, one thread, graph optimisations off (the
    graph as written is what runs)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def unet_opset11():
    """Static 1×3×32×32 UNet: Conv variants, BN, activations, pools, Resize (opset 11), skip Concat."""
    b = Builder("unet_opset11", SEED + 1)
    x = "input"
    e1 = b.node("Relu", [b.batchnorm(b.conv(x, 3, 8, pads=[1, 1, 1, 1]), 8)])           # 8×32×32
    dw = b.conv(e1, 8, 8, group=8, pads=[1, 1, 1, 1])                                     # depthwise
    e1b = b.node("LeakyRelu", [dw], alpha=0.1)
    e2 = b.conv(e1b, 8, 16, strides=[2, 2], pads=[1, 1, 1, 1])                            # 16×16×16
    slope = b.const((0.25 + 0.05 * b.rng.standard_normal((16, 1, 1))).astype(np.float32))
    e2 = b.node("PRelu", [e2, slope])
    p = b.node("MaxPool", [e2], kernel_shape=[2, 2], strides=[2, 2])                     # 16×8×8
    d = b.conv(p, 16, 16, dilations=[2, 2], pads=[2, 2, 2, 2])                           # dilated
    lo, hi = b.const(np.array(-0.5, np.float32), typed=False), b.const(np.array(1.5, np.float32), typed=True)
    d = b.node("Clip", [d, lo, hi])
    roi = b.const(np.array([], np.float32), typed=False)
    scales = b.const(np.array([1, 1, 2, 2], np.float32), typed=True)
    up = b.node("Resize", [d, roi, scales], mode="linear", coordinate_transformation_mode="half_pixel")  # 16×16×16
    cat = b.node("Concat", [up, e2], axis=1)                                               # 32×16×16
    ct_w = b.weight(32, 8, 2, 2)                                                            # ConvTranspose: C_in, C_out/g, k, k
    ct_b = b.const((0.1 * b.rng.standard_normal(8)).astype(np.float32))
    u = b.node("ConvTranspose", [cat, ct_w, ct_b], kernel_shape=[2, 2], strides=[2, 2])  # 8×32×32
    u = b.node("Add", [u, e1])
    ap = b.node("AveragePool", [u], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    out = b.node("Sigmoid", [b.conv(ap, 8, 1, k=1)])
    m = b.model([helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
                [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 1, 32, 32])], 11, ir_version=6)
    m.graph.output[0].name = out
    return m, {"base": {"input": np.random.default_rng(SEED + 101).random((1, 3, 32, 32), dtype=np.float32)}}


def unet_dynamic_opset17():
    """Dynamic H/W UNet, opset 17: auto_pad, HardSigmoid/HardSwish, elementwise maths, Split,
    Slice, Pad, pools, ReduceMean, shape arithmetic feeding Resize sizes and Reshape."""
    b = Builder("unet_dynamic_opset17", SEED + 2)
    x = "image"
    c1 = b.conv(x, 3, 8, auto_pad="SAME_UPPER")                                            # 8×H×W
    c1 = b.node("HardSwish", [b.batchnorm(c1, 8)])
    c2 = b.conv(c1, 8, 16, strides=[2, 2], auto_pad="SAME_LOWER")                          # 16×H/2×W/2
    c2 = b.node("HardSigmoid", [c2], alpha=0.2, beta=0.5)
    s1, s2 = b.node("Split", [c2, b.const(np.array([8, 8], np.int64))], n_out=2, axis=1)
    t = b.node("Tanh", [s1])
    two = b.const(np.array(2.0, np.float32), typed=True)
    sq = b.node("Pow", [s2, two])
    mix = b.node("Sub", [b.node("Mul", [t, b.const(np.array(0.5, np.float32))]), sq])
    den = b.node("Add", [sq, b.const(np.array(1.0, np.float32))])
    mix = b.node("Div", [mix, den])
    mix = b.node("Identity", [mix])
    mix = b.node("Dropout", [mix])                                                          # inference: identity
    # Squeeze-excite with GlobalAveragePool, Flatten, Softmax, Reshape, Unsqueeze/Squeeze.
    g = b.node("GlobalAveragePool", [mix])                                                  # 8×1×1
    f = b.node("Flatten", [g], axis=1)                                                      # 1×8
    sm = b.node("Softmax", [f], axis=-1)
    r = b.node("Reshape", [sm, b.const(np.array([1, 8, 1], np.int64))])
    r = b.node("Unsqueeze", [r, b.const(np.array([3], np.int64))])                         # 1×8×1×1
    r = b.node("Squeeze", [r, b.const(np.array([3], np.int64))])
    r = b.node("Unsqueeze", [r, b.const(np.array([-1], np.int64))])
    se = b.node("Mul", [mix, b.node("Mul", [r, b.const(np.array(8.0, np.float32))])])
    # Pad then Slice back, Transpose round trip, MaxPool/AveragePool with ceil and strides.
    pad = b.node("Pad", [se, b.const(np.array([0, 0, 1, 2, 0, 0, 1, 2], np.int64))], mode="reflect")
    sl = b.node("Slice", [pad, b.const(np.array([1, 2], np.int64)), b.const(np.array([-1, -2], np.int64)),
                          b.const(np.array([2, 3], np.int64))])
    tr = b.node("Transpose", [b.node("Transpose", [sl], perm=[0, 2, 3, 1])], perm=[0, 3, 1, 2])
    mp = b.node("MaxPool", [tr], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])   # 8×H/4×W/4
    mean = b.node("ReduceMean", [mp], axes=[1], keepdims=1)                                 # 1×H/4×W/4
    mp = b.node("Add", [mp, mean])
    # Shape arithmetic: sizes = shape(mix) (N, C via a Cast round trip) -> Resize to H/2×W/2.
    shp = b.node("Shape", [mix])
    hw = b.node("Gather", [shp, b.const(np.array([2, 3], np.int64))], axis=0)
    nc = b.node("Gather", [shp, b.const(np.array([0, 1], np.int64))], axis=0)
    nc = b.node("Cast", [b.node("Cast", [nc], to=TensorProto.FLOAT)], to=TensorProto.INT64)
    sizes = b.node("Concat", [nc, hw], axis=0)
    up = b.node("Resize", [mp, "", "", sizes], mode="linear", coordinate_transformation_mode="align_corners")
    up = b.node("Concat", [up, mix], axis=1)                                                # 16×H/2×W/2
    ct = b.node("ConvTranspose", [up, b.weight(16, 8, 3, 3)], kernel_shape=[3, 3], strides=[2, 2],
                pads=[1, 1, 1, 1], output_padding=[1, 1])                                   # 8×H×W
    y = b.node("Relu", [b.node("Add", [ct, c1])])
    y = b.conv(y, 8, 1, k=1)
    # ConstantOfShape + Range chains: a per-row ramp added to the output.
    hshape = b.node("Gather", [b.node("Shape", [y]), b.const(np.array([2], np.int64))], axis=0)
    zeros = b.node("ConstantOfShape", [hshape], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
    h = b.node("Squeeze", [hshape, b.const(np.array([0], np.int64))])
    step = b.node("Constant", [], value=helper.make_tensor("s", TensorProto.INT64, [], [1]))
    ramp = b.node("Range", [b.const(np.array(0, np.int64)), h, step])
    ramp = b.node("Div", [b.node("Cast", [ramp], to=TensorProto.FLOAT), b.const(np.array(100.0, np.float32))])
    ramp = b.node("Add", [zeros, ramp])
    ramp = b.node("Reshape", [ramp, b.const(np.array([1, 1, -1, 1], np.int64))])
    out = b.node("Add", [b.node("Sigmoid", [y]), ramp])
    m = b.model([helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
                [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 1, "H", "W"])], 17)
    rng = np.random.default_rng(SEED + 102)
    return m, {"h32w32": {"image": rng.random((1, 3, 32, 32), dtype=np.float32)},
               "h48w40": {"image": rng.random((1, 3, 48, 40), dtype=np.float32)}}


def resize_modes_opset17():
    """One Resize per coordinate_transformation_mode and mode, all reading the same input."""
    b = Builder("resize_modes_opset17", SEED + 3)
    x = "x"
    outs = []
    roi_crop = b.const(np.array([0, 0, 0.1, 0.2, 1, 1, 0.9, 0.7], np.float32))
    scales_up = b.const(np.array([1, 1, 2, 1.5], np.float32), typed=True)
    scales_down = b.const(np.array([1, 1, 0.5, 0.75], np.float32), typed=False)
    for ctm in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"):
        for mode, extra in (("linear", {}), ("nearest", {"nearest_mode": "round_prefer_floor"}),
                            ("nearest", {"nearest_mode": "floor"}), ("cubic", {"cubic_coeff_a": -0.75})):
            roi = roi_crop if ctm == "tf_crop_and_resize" else ""
            for scales in (scales_up, scales_down):
                o = b.node("Resize", [x, roi, scales], mode=mode, coordinate_transformation_mode=ctm, **extra)
                outs.append(o)
    m = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 12])],
                [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, 2, "OH", "OW"]) for o in outs], 17)
    return m, {"base": {"x": np.random.default_rng(SEED + 103).random((1, 2, 8, 12), dtype=np.float32)}}


def resize_half_pixel_symmetric_opset19():
    """half_pixel_symmetric (added in opset 19) with linear and nearest, via `sizes`."""
    b = Builder("resize_half_pixel_symmetric_opset19", SEED + 7)
    sizes_up = b.const(np.array([1, 2, 13, 7], np.int64))
    sizes_down = b.const(np.array([1, 2, 5, 3], np.int64), typed=True)
    outs = [b.node("Resize", ["x", "", "", sizes], mode=mode, coordinate_transformation_mode="half_pixel_symmetric")
            for mode in ("linear", "nearest") for sizes in (sizes_up, sizes_down)]
    m = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 5])],
                [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, 2, "OH", "OW"]) for o in outs], 19, ir_version=9)
    return m, {"base": {"x": np.random.default_rng(SEED + 107).random((1, 2, 8, 5), dtype=np.float32)}}


def upsample_opset9():
    """Upsample (deprecated since opset 10), nearest and linear."""
    b = Builder("upsample_opset9", SEED + 4)
    s = b.const(np.array([1, 1, 2, 2], np.float32))
    a = b.node("Upsample", ["x", s], mode="nearest")
    c = b.node("Upsample", ["x", s], mode="linear")
    m = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 5])],
                [helper.make_tensor_value_info(a, TensorProto.FLOAT, [1, 2, 12, 10]),
                 helper.make_tensor_value_info(c, TensorProto.FLOAT, [1, 2, 12, 10])], 9, ir_version=4)
    return m, {"base": {"x": np.random.default_rng(SEED + 104).random((1, 2, 6, 5), dtype=np.float32)}}


def fp16_cast_opset17():
    """An fp16 weight (one in raw_data, one in int32_data) widened by Cast before a Conv."""
    b = Builder("fp16_cast_opset17", SEED + 5)
    w16 = b.const((b.rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float16), name="w_fp16_raw", typed=False)
    b16 = b.const((b.rng.standard_normal(4) * 0.1).astype(np.float16), name="b_fp16_int32_data", typed=True)
    w = b.node("Cast", [w16], to=TensorProto.FLOAT)
    bias = b.node("Cast", [b16], to=TensorProto.FLOAT)
    y = b.node("Conv", ["x", w, bias], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    m = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 4, 16, 16])], 17)
    return m, {"base": {"x": np.random.default_rng(SEED + 105).random((1, 3, 16, 16), dtype=np.float32)}}


def external_data_opset17():
    """Weights in external_data.bin beside the model (offsets aligned as onnx writes them)."""
    b = Builder("external_data_opset17", SEED + 6)
    y = b.node("Relu", [b.conv("x", 3, 8, pads=[1, 1, 1, 1])])
    y = b.conv(y, 8, 2, k=1)
    m = b.model([helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 2, 16, 16])], 17)
    return m, {"base": {"x": np.random.default_rng(SEED + 106).random((1, 3, 16, 16), dtype=np.float32)}}


def storage_of(t):
    if t.data_location == TensorProto.EXTERNAL:
        return "external"
    if t.HasField("raw_data"):
        return "raw"
    for field in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
        if len(getattr(t, field)):
            return field
    return "empty"


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    manifest = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__, "models": {}}
    builders = [unet_opset11, unet_dynamic_opset17, resize_modes_opset17, resize_half_pixel_symmetric_opset19,
                upsample_opset9, fp16_cast_opset17, external_data_opset17]
    for make in builders:
        model, cases = make()
        name = make.__name__
        path = os.path.join(out_dir, name + ".onnx")
        if name.startswith("external_data"):
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location="external_data.bin", size_threshold=0)
        else:
            onnx.save_model(model, path)
        reloaded = onnx.load(path, load_external_data=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        out_names = [o.name for o in session.get_outputs()]
        entry = {
            "file": name + ".onnx",
            "ir_version": reloaded.ir_version,
            "opsets": {o.domain: o.version for o in reloaded.opset_import},
            "nodes": len(reloaded.graph.node),
            "initializers": len(reloaded.graph.initializer),
            "op_types": sorted({n.op_type for n in reloaded.graph.node}),
            "op_counts": {},
            "initializer_storage": {t.name: storage_of(t) for t in reloaded.graph.initializer},
            "inputs": [{"name": i.name, "shape": [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]}
                       for i in reloaded.graph.input],
            "outputs": out_names,
            "cases": {},
        }
        for n in reloaded.graph.node:
            entry["op_counts"][n.op_type] = entry["op_counts"].get(n.op_type, 0) + 1
        # A few initializer values for the parser tests (first 4 elements as float/int).
        full = onnx.load(path)
        entry["initializer_samples"] = {
            t.name: {"dims": list(t.dims), "data_type": t.data_type,
                     "first": [float(v) for v in numpy_helper.to_array(t).flatten()[:4]]}
            for t in full.graph.initializer[:6]}
        for case, feeds in cases.items():
            results = session.run(None, feeds)
            files = {}
            for k, v in feeds.items():
                fn = f"{name}.{case}.{k}.npy"
                np.save(os.path.join(out_dir, fn), np.ascontiguousarray(v))
                files[k] = fn
            for k, v in zip(out_names, results):
                fn = f"{name}.{case}.{k}.npy"
                np.save(os.path.join(out_dir, fn), np.ascontiguousarray(v))
                files[k] = fn
            entry["cases"][case] = files
        manifest["models"][name] = entry
        print(name, entry["nodes"], "nodes", entry["initializers"], "initializers", entry["op_types"])
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
