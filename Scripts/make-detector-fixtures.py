#!/usr/bin/env python3
"""Generates Tests/MattingImportersTests/Fixtures/Detectors: MediaPipe's pose and face detectors
run by their own runtime (LiteRT, the TFLite interpreter) on the astronaut photo.

The models are the ones Scripts/fetch-models.sh installs (mediapipe==0.10.14, SHA-256 checked
here too). The pose and full-range face detectors store most weights sparse (DENSIFY), which is
what these fixtures check the importer against.

For each detector: <name>.image.npy, the photo resized to the model's input with Pillow's
bilinear filter (uint8 H×W×3; the model input is image / 127.5 - 1 in float32, as MediaPipe's
detectors expect [-1, 1]), and <name>.<output>.npy, LiteRT's raw outputs (float32) for that input.
manifest.json lists the versions and checksums.

Pinned environment (the versions these fixtures were generated with):
    python3.11 -m venv /tmp/venv-litert
    /tmp/venv-litert/bin/pip install ai-edge-litert==2.3.0 numpy==2.4.6 pillow==13.0.0
    Scripts/fetch-models.sh && Scripts/fetch-sample.sh
    /tmp/venv-litert/bin/python Scripts/make-detector-fixtures.py

Deterministic: single-threaded interpreter, fixed input.
"""
import hashlib
import json
import os
import sys

import numpy as np
from PIL import Image
import PIL
from ai_edge_litert.interpreter import Interpreter
import importlib.metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "MattingImportersTests", "Fixtures", "Detectors")
CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
MODEL_DIR = os.environ.get("MATTINGKIT_MODEL_DIR") or os.path.join(CACHE, "mattingkit", "models")
PHOTO = os.path.join(os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(CACHE, "mattingkit"), "samples", "astronaut.png")

DETECTORS = {
    # name: (input size, sha256 of the .tflite)
    "pose_detection": (224, "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    "face_detection_short_range": (128, "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"),
    "face_detection_full_range_sparse": (192, "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"),
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    photo = Image.open(PHOTO).convert("RGB")
    manifest = {"runtime": "ai-edge-litert " + importlib.metadata.version("ai-edge-litert"),
                "numpy": np.__version__, "pillow": PIL.__version__, "photo": "astronaut.png (scikit-image 0.25.2)",
                "photo_sha256": sha256(PHOTO), "detectors": {}}
    for name, (size, digest) in DETECTORS.items():
        path = os.path.join(MODEL_DIR, name + ".tflite")
        if sha256(path) != digest:
            sys.exit(f"{path}: SHA-256 mismatch; run Scripts/fetch-models.sh")
        image = np.asarray(photo.resize((size, size), Image.BILINEAR), dtype=np.uint8)
        x = (image.astype(np.float32) / np.float32(127.5) - np.float32(1.0))[None]
        interpreter = Interpreter(model_path=path, num_threads=1)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        np.save(os.path.join(OUT, f"{name}.image.npy"), image)
        outputs = {}
        for detail in interpreter.get_output_details():
            value = interpreter.get_tensor(detail["index"]).astype(np.float32)
            np.save(os.path.join(OUT, f"{name}.{detail['name']}.npy"), value)
            outputs[detail["name"]] = list(value.shape)
        manifest["detectors"][name] = {"input": size, "sha256": digest, "outputs": outputs}
        print(name, outputs)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
