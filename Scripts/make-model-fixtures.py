#!/usr/bin/env python3
"""Generates the importer/engine reference fixtures in Tests/MattingImportersTests/Fixtures.

Reference outputs come from the models' own runtimes, never from our code:
  * MediaPipe 0.10.14 (its own TFLite build, XNNPACK delegate, its custom op
    Convolution2DTransposeBias) for the selfie segmentation models;
  * onnxruntime for small ONNX networks built here with onnx.helper.

Pinned environment (the versions these fixtures were generated with):
    python3.11 -m venv /tmp/mk-venv
    /tmp/mk-venv/bin/pip install mediapipe==0.10.14 onnx==1.22.0 onnxruntime==1.32.0 \
        numpy==2.4.6 opencv-contrib-python==5.1.0.95
    Scripts/fetch-models.sh                      # the selfie models (checked by SHA-256)
    /tmp/mk-venv/bin/python Scripts/make-model-fixtures.py [mediapipe|onnx|all]

The real photo is scikit-image's data/astronaut.png (Eileen Collins, NASA, public domain),
taken from the scikit-image wheel with `pip download --no-deps scikit-image==0.25.2` (only that
file is read from the wheel; scikit-image is not installed). The photo itself is not committed.

Everything is deterministic: fixed seeds, fixed synthetic formulas, single-threaded runtimes.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "MattingImportersTests", "Fixtures")
MODEL_DIR = os.environ.get("MATTINGKIT_MODEL_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mattingkit", "models")

SELFIE = {
    # variant: (file, tensor width, tensor height, sha256)
    0: ("selfie_segmentation.tflite", 256, 256,
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
    1: ("selfie_segmentation_landscape.tflite", 256, 144,
        "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd"),
}
ASTRONAUT_WHEEL = "scikit-image==0.25.2"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ----------------------------------------------------------------------------------------------
# (a) MediaPipe selfie segmentation
# ----------------------------------------------------------------------------------------------

def mediapipe_graph(variant, delegate="xnnpack"):
    """The solution's own graph (selfie_segmentation_cpu.binarypb), cut after the model.

    Same ImageToTensorCalculator options, op resolver, model loader and InferenceCalculator
    (XNNPACK delegate) as mp.solutions.selfie_segmentation; TensorsToFloatsCalculator exposes
    the model's input and output tensors to Python.
    """
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    _, w, h, _ = SELFIE[variant]
    config = f"""
input_stream: "image"
input_side_packet: "model_selection"
output_stream: "in_floats"
output_stream: "out_floats"
node {{
  calculator: "ImageToTensorCalculator"
  input_stream: "IMAGE:image"
  output_stream: "TENSORS:input_tensors"
  options {{ [mediapipe.ImageToTensorCalculatorOptions.ext] {{
    output_tensor_width: {w} output_tensor_height: {h} keep_aspect_ratio: false
    output_tensor_float_range {{ min: 0 max: 1 }} border_mode: BORDER_ZERO }} }}
}}
node {{ calculator: "TfLiteCustomOpResolverCalculator" output_side_packet: "OP_RESOLVER:op_resolver" }}
node {{
  calculator: "SelfieSegmentationModelLoader"
  input_side_packet: "MODEL_SELECTION:model_selection"
  output_side_packet: "MODEL:model"
}}
node {{
  calculator: "InferenceCalculator"
  input_stream: "TENSORS:input_tensors"
  output_stream: "TENSORS:output_tensors"
  input_side_packet: "MODEL:model"
  input_side_packet: "OP_RESOLVER:op_resolver"
  options {{ [mediapipe.InferenceCalculatorOptions.ext] {{ delegate {{ {delegate} {{ }} }} }} }}
}}
node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:input_tensors" output_stream: "FLOATS:in_floats" }}
node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:output_tensors" output_stream: "FLOATS:out_floats" }}
"""
    return text_format.Parse(config, calculator_pb2.CalculatorGraphConfig())


def run_mediapipe_model(image, variant, delegate="xnnpack"):
    """(model input NHWC float32, raw model output NHWC float32) for an RGB uint8 image.

    delegate "xnnpack" is what the solution uses; "tflite" runs TFLite's builtin CPU kernels
    (with MediaPipe's custom op), to measure how much two correct runtimes differ.
    """
    import mediapipe as mp
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import calculator_graph, image_frame, resource_util
    resource_util.set_resource_dir(os.path.dirname(os.path.dirname(mp.__file__)))
    graph = calculator_graph.CalculatorGraph(graph_config=mediapipe_graph(variant, delegate))
    result = {}
    for stream in ("in_floats", "out_floats"):
        graph.observe_output_stream(
            stream, lambda name, p: result.__setitem__(name, np.array(packet_getter.get_float_list(p), np.float32)))
    graph.start_run(input_side_packets={"model_selection": packet_creator.create_int(variant)})
    frame = packet_creator.create_image_frame(image_format=image_frame.ImageFormat.SRGB,
                                              data=np.ascontiguousarray(image))
    graph.add_packet_to_input_stream("image", frame.at(0))
    graph.close()
    _, w, h, _ = SELFIE[variant]
    return result["in_floats"].reshape(1, h, w, 3), result["out_floats"].reshape(1, h, w, 1)


def run_mediapipe_solution(image, variant):
    import mediapipe as mp
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=variant) as seg:
        return seg.process(image).segmentation_mask


def opencv_fixed_point_resize(image, out_w, out_h):
    """Our reading of MediaPipe's CPU ImageToTensorCalculator (OpenCV warpPerspective).

    The source coordinate of output pixel (x, y) is (x * w / W, y * h / H) (corners mapped to
    corners, no half-pixel offset), rounded to 1/32 pixel (OpenCV's INTER_BITS = 5); bilinear
    weights are the 15-bit fixed-point products of the 1/32 fractions; pixels outside the
    image are zero (BORDER_ZERO), which matters at the right/bottom edge when upscaling; the sum
    is rounded to 8 bits. The matrix is built as MediaPipe builds it, because its last-bit
    rounding decides exact ties of the 1/32 quantisation (computing x * w / W directly differs
    from MediaPipe at such ties for some landscape sizes).
    """
    h, w, _ = image.shape
    pad = np.zeros((h + 2, w + 2, 3), np.int64)
    pad[1:h + 1, 1:w + 1] = image
    # The matrix as MediaPipe builds it (corners of the image onto corners of the tensor,
    # cv::getPerspectiveTransform in double), inverted as cv::warpPerspective does; then per
    # pixel X = round(32 * (m00 x + m01 y + m02) / (m20 x + m21 y + m22)), as OpenCV computes.
    import cv2
    src = np.float32([[0, h], [0, 0], [w, 0], [w, h]])
    dst = np.float32([[0, out_h], [0, 0], [out_w, 0], [out_w, out_h]])
    _, m = cv2.invert(cv2.getPerspectiveTransform(src, dst))
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    den = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]
    den = np.where(den != 0, 32.0 / den, 0.0)
    X = np.rint((m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) * den).astype(np.int64)
    Y = np.rint((m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) * den).astype(np.int64)
    sx, ax, sy, ay = X >> 5, X & 31, Y >> 5, Y & 31

    def at(yy, xx):
        return pad[np.clip(yy, -1, h) + 1, np.clip(xx, -1, w) + 1]

    s = (at(sy, sx) * ((32 - ay) * (32 - ax) * 32)[..., None] + at(sy, sx + 1) * ((32 - ay) * ax * 32)[..., None]
         + at(sy + 1, sx) * (ay * (32 - ax) * 32)[..., None] + at(sy + 1, sx + 1) * (ay * ax * 32)[..., None])
    return np.clip((s + (1 << 14)) >> 15, 0, 255).astype(np.uint8)


def float_bilinear_resize(image, out_w, out_h, half_pixel):
    """Exact (float) bilinear with edge clamping, for comparison."""
    h, w, _ = image.shape
    ys, xs = np.arange(out_h, dtype=np.float64), np.arange(out_w, dtype=np.float64)
    if half_pixel:
        sy, sx = np.clip((ys + .5) * h / out_h - .5, 0, None), np.clip((xs + .5) * w / out_w - .5, 0, None)
    else:
        sy, sx = ys * h / out_h, xs * w / out_w
    y0, x0 = np.minimum(np.floor(sy).astype(int), h - 1), np.minimum(np.floor(sx).astype(int), w - 1)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (sy - y0)[:, None, None], (sx - x0)[None, :, None]
    src = image.astype(np.float64)
    top = src[y0][:, x0] * (1 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (1 - fx) + src[y1][:, x1] * fx
    return np.clip(np.rint(top * (1 - fy) + bottom * fy), 0, 255).astype(np.uint8)


def synthetic_portrait(h=300, w=200):
    """A deterministic 'person' image (integer formula, easy to regenerate in Swift).

    Background: R = x*255//(w-1), G = y*255//(h-1), B = 128. Head: ellipse centred (w/2, 0.37h)
    with radii (0.22w, 0.2h) filled (224, 172, 140). Body: y >= 0.57h and |x - w/2| < 0.4w filled
    (40, 60, 160). All comparisons in integers: ((x-cx)*ry)^2 + ((y-cy)*rx)^2 <= (rx*ry)^2.
    """
    ys, xs = np.mgrid[0:h, 0:w]
    img = np.stack([xs * 255 // (w - 1), ys * 255 // (h - 1), np.full_like(xs, 128)], -1)
    cx, cy, rx, ry = w // 2, h * 37 // 100, w * 22 // 100, h * 20 // 100
    head = ((xs - cx) * ry) ** 2 + ((ys - cy) * rx) ** 2 <= (rx * ry) ** 2
    body = (ys >= h * 57 // 100) & (np.abs(xs - cx) < w * 40 // 100)
    img[head] = (224, 172, 140)
    img[body] = (40, 60, 160)
    return img.astype(np.uint8)


def astronaut():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--python-version", "3.11",
                        "--platform", "manylinux_2_17_x86_64", "--only-binary=:all:", "-d", tmp, ASTRONAUT_WHEEL],
                       check=True)
        wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            data = z.read("skimage/data/astronaut.png")
    import cv2  # comes with mediapipe (opencv-contrib-python)
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[:, :, ::-1]), hashlib.sha256(data).hexdigest()


def make_mediapipe_fixtures():
    import mediapipe as mp
    for variant, (name, _, _, digest) in SELFIE.items():
        path = os.path.join(MODEL_DIR, name)
        if not os.path.exists(path) or sha256(path) != digest:
            sys.exit(f"{path} missing or wrong checksum: run Scripts/fetch-models.sh first")
    out_dir = os.path.join(FIXTURES, "MediaPipe")
    os.makedirs(out_dir, exist_ok=True)
    photo, photo_sha = astronaut()
    images = {"astronaut": photo, "synthetic": synthetic_portrait()}
    # (image, variant) pairs that are committed; others are only checked here.
    saved = [("astronaut", 0), ("synthetic", 0), ("astronaut", 1)]
    rng = np.random.default_rng(20241125)
    checks = {
        "noise_300x200": rng.integers(0, 256, (300, 200, 3), dtype=np.uint8),
        "noise_100x150": rng.integers(0, 256, (100, 150, 3), dtype=np.uint8),
        "noise_1000x700": rng.integers(0, 256, (1000, 700, 3), dtype=np.uint8),
        "noise_256x256": rng.integers(0, 256, (256, 256, 3), dtype=np.uint8),
        "noise_144x256": rng.integers(0, 256, (144, 256, 3), dtype=np.uint8),
        "noise_97x1203": rng.integers(0, 256, (97, 1203, 3), dtype=np.uint8),
        "noise_333x517": rng.integers(0, 256, (333, 517, 3), dtype=np.uint8),
        **images,
    }
    findings = {"mediapipe": mp.__version__, "astronaut_png_sha256": photo_sha, "preprocessing": [], "fixtures": []}
    one_over_255 = np.float32(1) / np.float32(255)
    for variant, (name, tw, th, _) in SELFIE.items():
        for label, image in checks.items():
            model_in, model_out = run_mediapipe_model(image, variant)
            q = np.rint(model_in[0] * 255).astype(np.int64)
            integral = bool(np.abs(model_in[0] * 255 - q).max() < 1e-3)
            ours = opencv_fixed_point_resize(image, tw, th).astype(np.int64)
            plain = float_bilinear_resize(image, tw, th, half_pixel=False).astype(np.int64)
            half = float_bilinear_resize(image, tw, th, half_pixel=True).astype(np.int64)
            record = {
                "variant": name, "image": label, "size": list(image.shape[:2]),
                "input_is_8bit_levels": integral,
                "input_equals_levels_times_float32_1_over_255": bool(np.array_equal(q.astype(np.float32) * one_over_255, model_in[0])),
                "input_equals_levels_divided_by_255": bool(np.array_equal(q.astype(np.float32) / np.float32(255), model_in[0])),
                "fixed_point_warp_mismatches": int((ours != q).sum()),
                "fixed_point_warp_max_diff": int(np.abs(ours - q).max()),
                "float_bilinear_no_offset_max_diff": int(np.abs(plain - q).max()),
                "float_bilinear_half_pixel_max_diff": int(np.abs(half - q).max()),
                "output_min": float(model_out.min()), "output_max": float(model_out.max()),
            }
            if image.shape[:2] == (th, tw):
                # Same size as the tensor: the solution's mask must be the raw output unchanged.
                mask = run_mediapipe_solution(image, variant)
                record["solution_mask_max_diff_vs_raw_output"] = float(np.abs(mask - model_out[0, :, :, 0]).max())
            findings["preprocessing"].append(record)
            print(json.dumps(record))
            if (label, variant) in saved:
                stem = f"{label}_{'portrait' if variant == 0 else 'landscape'}"
                np.save(os.path.join(out_dir, f"{stem}_input.npy"), model_in.astype("<f4"))
                np.save(os.path.join(out_dir, f"{stem}_output.npy"), model_out.astype("<f4"))
                mask = run_mediapipe_solution(image, variant)
                import cv2
                upsampled = cv2.resize(model_out[0, :, :, 0], (image.shape[1], image.shape[0]),
                                       interpolation=cv2.INTER_LINEAR)  # half-pixel centres, float
                findings["fixtures"].append({
                    "stem": stem, "model": name, "image_size": list(image.shape[:2]),
                    "input_shape": list(model_in.shape), "output_shape": list(model_out.shape),
                    "solution_mask_shape": list(mask.shape),
                    "output_sigmoid_range": [float(model_out.min()), float(model_out.max())],
                    "output_mean": float(model_out.mean()),
                    "solution_mask_vs_cv2_resize_linear_max_diff": float(np.abs(mask - upsampled).max()),
                    "xnnpack_vs_tflite_kernels_output_max_abs_diff": float(np.abs(
                        run_mediapipe_model(image, variant, "tflite")[1] - model_out).max()),
                })
    with open(os.path.join(out_dir, "findings.json"), "w") as f:
        json.dump(findings, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("mediapipe", "all"):
        make_mediapipe_fixtures()
    if what in ("onnx", "all"):
        import onnx_fixtures  # noqa: F401  (Scripts/onnx_fixtures.py)
        onnx_fixtures.main(os.path.join(FIXTURES, "ONNX"))
