#!/usr/bin/env python3
"""pymatting's exact closed-form alpha as a command for Scripts/eval-quality.py:

    /tmp/venv-quality/bin/python Scripts/quality-pymatting.py IMAGE TRIMAP ALPHA_OUT.png

estimate_alpha_cf with its defaults (eps 1e-7, radius 1, ichol-preconditioned CG to 1e-7);
writes a 16-bit gray PNG.
"""
import sys

import numpy as np
from PIL import Image
import pymatting

image_path, trimap_path, out = sys.argv[1:4]
image = np.asarray(Image.open(image_path).convert("RGB")).astype(np.float64) / 255
trimap = np.asarray(Image.open(trimap_path).convert("L")).astype(np.float64) / 255
alpha = np.clip(pymatting.estimate_alpha_cf(image, trimap), 0, 1)
Image.fromarray(np.round(alpha * 65535).astype(np.uint16)).save(out)
