#!/usr/bin/env python3
"""Prototype: a per-person, per-pixel person mask from MediaPipe's pose-landmark model
(pose_landmark_full.tflite, mediapipe==0.10.14, installed by Scripts/fetch-models.sh), and ways
of combining it with the model path's matte, scored by IoU on the quality set's people items.

Pipeline, as MediaPipe's pose graphs do it for one still photo:
  pose detector (224×224 letterbox, SSD anchors, weighted NMS; as PersonDetector.swift)
  → ROI per detection (pose_detection_to_roi.pbtxt: centre = keypoint 0 (hips' midpoint), side
    = 2 × |kp1 − kp0| in pixels, rotation = 90° − atan2(−(y1 − y0), x1 − x0), square, × 1.25)
  → the landmark model on the ROI rotated upright, 256×256, RGB in 0…1 (pose_landmark_by_roi)
  → its segmentation output (Identity_2, 256×256 logits) through a sigmoid, warped back into
    the photo (zero outside the ROI).

The selfie side is today's output: `matte IMAGE --save-mask` (default options), run here.
Combinations are applied to that final matte (not to the coarse mask before refinement as the
library would): a quick estimate of whether the idea can move the whole-region mistakes.

    python3 -m venv /tmp/venv-people
    /tmp/venv-people/bin/pip install ai-edge-litert==2.3.0 numpy pillow scipy
    swift build -c release --product matte
    /tmp/venv-people/bin/python Scripts/people-landmark-prototype.py --overlays /tmp/people-seg

`--study` (Docs/Quality.md, "Person-mask gate on twelve photos"): every people item, today's
mattes read from an `eval-quality.py --keep` folder (`--masks`), person regions from the pose
detector's windows (W), the whole photo (P1) and the full-range face detector (F, a body
region derived from each face: `face_roi`), and the gate variants scored per item, split one
person / groups:

    /tmp/venv-quality/bin/python Scripts/eval-quality.py --kind people --no-trimap --keep /tmp/gate-off
    /tmp/venv-people/bin/python Scripts/people-landmark-prototype.py --study --masks /tmp/gate-off
"""
import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np
from PIL import Image
from scipy import ndimage
from ai_edge_litert.interpreter import Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
MODEL_DIR = os.environ.get("MATTINGKIT_MODEL_DIR") or os.path.join(CACHE, "mattingkit", "models")
SET_DIR = os.path.join(os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(CACHE, "mattingkit"), "quality-set")
ITEMS = ["people-astronaut", "people-bus", "people-zidane"]


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -100, 100)))


class PoseDetector:
    side = 224
    model = "pose_detection.tflite"
    groups = [(8, 2), (16, 2), (32, 6)]
    keypoints = 4

    def __init__(self, min_score=0.5):
        self.net = Interpreter(model_path=os.path.join(MODEL_DIR, self.model), num_threads=2)
        self.net.allocate_tensors()
        self.min_score = min_score
        anchors = []
        for stride, per in self.groups:
            cells = (self.side + stride - 1) // stride
            for y in range(cells):
                for x in range(cells):
                    anchors += [((x + 0.5) / cells, (y + 0.5) / cells)] * per
        self.anchors = np.array(anchors, np.float32)

    def detect(self, photo):
        """photo: H×W×3 uint8. Returns [(score, face box (x, y, w, h), 4 keypoints (x, y))] in
        the photo's normalised coordinates."""
        h, w = photo.shape[:2]
        s = self.side
        scale = s / max(w, h)
        nw, nh = max(1, min(s, round(w * scale))), max(1, min(s, round(h * scale)))
        x0, y0 = (s - nw) // 2, (s - nh) // 2
        small = np.asarray(Image.fromarray(photo).resize((nw, nh), Image.BOX), np.float32)
        x = np.zeros((1, s, s, 3), np.float32)
        x[0, y0:y0 + nh, x0:x0 + nw] = small / 127.5 - 1
        self.net.set_tensor(self.net.get_input_details()[0]["index"], x)
        self.net.invoke()
        outs = {tuple(d["shape"]): self.net.get_tensor(d["index"]) for d in self.net.get_output_details()}
        n = len(self.anchors)
        boxes = outs[(1, n, 4 + 2 * self.keypoints)][0] / s
        scores = sigmoid(outs[(1, n, 1)][0, :, 0])
        found = []
        for i in np.nonzero(scores >= self.min_score)[0]:
            r, (ax, ay) = boxes[i], self.anchors[i]
            cx, cy, bw, bh = r[0] + ax, r[1] + ay, r[2], r[3]
            kps = [(r[4 + 2 * k] + ax, r[5 + 2 * k] + ay) for k in range(self.keypoints)]
            found.append((float(scores[i]), (cx - bw / 2, cy - bh / 2, bw, bh), kps))
        found = suppressed(found)

        def to_photo(p):
            return ((p[0] * s - x0) / scale / w, (p[1] * s - y0) / scale / h)
        result = []
        for score, (bx, by, bw, bh), kps in found:
            c = to_photo((bx, by))
            result.append((score, (c[0], c[1], bw * s / scale / w, bh * s / scale / h), [to_photo(k) for k in kps]))
        return result

    def detect_in_squares(self, photo):
        """As PersonDetector.peopleInSquares: the whole photo and three squares along its long side."""
        found = self.detect(photo)
        h, w = photo.shape[:2]
        side, long = min(w, h), max(w, h)
        if side == long:
            return found
        for start in sorted({0, (long - side) // 2, long - side}):
            rx, ry = (start, 0) if w > h else (0, start)
            crop = photo[ry:ry + side, rx:rx + side]
            for score, (bx, by, bw, bh), kps in self.detect(crop):
                def to_photo(p):
                    return ((p[0] * side + rx) / w, (p[1] * side + ry) / h)
                c = to_photo((bx, by))
                found.append((score, (c[0], c[1], bw * side / w, bh * side / h), [to_photo(k) for k in kps]))
        return suppressed(found)

    def detect_in_windows(self, photo, fractions=(1.0, 0.75, 0.5)):
        """The whole photo and squares of each fraction of its short side, at half-side steps
        (edges included): people cut by the frame or small in a wide group are found in a
        window where they are large. Merged by the same weighted suppression."""
        found = self.detect(photo)
        h, w = photo.shape[:2]
        for frac in fractions:
            side = int(min(w, h) * frac)
            step = max(1, side // 2)
            xs = sorted(set(list(range(0, w - side + 1, step)) + [w - side]))
            ys = sorted(set(list(range(0, h - side + 1, step)) + [h - side]))
            for y in ys:
                for x in xs:
                    for score, (bx, by, bw, bh), kps in self.detect(photo[y:y + side, x:x + side]):
                        def to_photo(p):
                            return ((p[0] * side + x) / w, (p[1] * side + y) / h)
                        c = to_photo((bx, by))
                        found.append((score, (c[0], c[1], bw * side / w, bh * side / h), [to_photo(k) for k in kps]))
        return suppressed(found)


class FaceDetector(PoseDetector):
    """MediaPipe's full-range face detector (face_detection_full_range_sparse.tflite), decoded
    as the library's FaceDetector: 192×192 letterbox, 2304 anchors (stride 4, one a cell), six
    keypoints (eyes: the person's right then left, nose tip, mouth, ears)."""
    side = 192
    model = "face_detection_full_range_sparse.tflite"
    groups = [(4, 1)]
    keypoints = 6

    def detect_in_squares(self, photo):
        return PoseDetector.detect_in_squares(self, photo)


# The body a face implies, from the library's FaceDetection constants (bodyHeadroom 0.5 face
# heights above the face's box, bodyDepth 7 below it, so a standing adult is 8.5 face heights
# tall): the pose ROI MediaPipe's detector would give — centre at the hips' midpoint (half-way
# down the body), side 2 × (half the body's height) × 1.25 — turned as the eye line is turned.
FACE_HEADROOM, FACE_DEPTH = 0.5, 7.0


def face_roi(face, w, h, scale=1.25, turn=True):
    """A pose-landmark ROI (centre, side, rotation) from a face: the body's axis is
    perpendicular to the eye line (down from the face's centre), its centre 3.25 face heights
    below the face's centre, its side 2 × 4.25 × 1.25 = 10.6 face heights."""
    _, (bx, by, bw, bh), kps = face
    fh = bh * h
    cx, cy = (bx + bw / 2) * w, (by + bh / 2) * h
    ex, ey = (kps[1][0] - kps[0][0]) * w, (kps[1][1] - kps[0][1]) * h
    norm = math.hypot(ex, ey)
    if not turn or norm == 0:
        ex, ey, norm = 1.0, 0.0, 1.0
    down = (-ey / norm, ex / norm)  # the eye line turned 90° clockwise in image coordinates
    length = FACE_HEADROOM + 1 + FACE_DEPTH
    offset = length / 2 - FACE_HEADROOM - 0.5  # face centre → body centre, in face heights
    centre = (cx + down[0] * offset * fh, cy + down[1] * offset * fh)
    rotation = math.pi / 2 - math.atan2(ex, ey)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return centre, length * fh * scale, rotation


def iou_box(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def suppressed(dets, threshold=0.3):
    remaining = sorted(dets, key=lambda d: -d[0])
    result = []
    while remaining:
        best = remaining[0]
        cluster = [d for d in remaining if iou_box(best[1], d[1]) > threshold]
        remaining = [d for d in remaining if iou_box(best[1], d[1]) <= threshold]
        if not cluster:
            remaining.pop(0)
            result.append(best)
            continue
        ws = np.array([d[0] for d in cluster])
        box = tuple(float(np.dot(ws, [d[1][j] for d in cluster]) / ws.sum()) for j in range(4))
        kps = [(float(np.dot(ws, [d[2][k][0] for d in cluster]) / ws.sum()),
                float(np.dot(ws, [d[2][k][1] for d in cluster]) / ws.sum())) for k in range(len(best[2]))]
        result.append((best[0], box, kps))
    return result


def roi(det, w, h, scale=1.25):
    """MediaPipe's pose ROI in pixels: centre, side, rotation (radians, clockwise in the image)."""
    kps = det[2]
    x0, y0 = kps[0][0] * w, kps[0][1] * h
    x1, y1 = kps[1][0] * w, kps[1][1] * h
    size = 2 * math.hypot(x1 - x0, y1 - y0)
    rotation = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return (x0, y0), size * scale, rotation


def crop_matrix(centre, side, rotation, n=256):
    """The affine map from crop pixel centres (u, v) to photo coordinates: p = A @ (u, v, 1)."""
    c, s = math.cos(rotation), math.sin(rotation)
    k = side / n
    # offset from the crop's centre in photo pixels, rotated: (du, dv) → (du c − dv s, du s + dv c)
    A = np.array([[k * c, -k * s, 0.0], [k * s, k * c, 0.0]])
    # crop pixel centre u + 0.5 sits at offset (u + 0.5 − n/2) · k
    A[:, 2] = [centre[0] - (c * (n / 2 - 0.5) - s * (n / 2 - 0.5)) * k,
               centre[1] - (s * (n / 2 - 0.5) + c * (n / 2 - 0.5)) * k]
    return A


def bilinear(img, xs, ys, border="zero"):
    """Samples img (H×W×C float) at pixel-centre coordinates xs, ys (pixel (i, j)'s centre is at
    (i + 0.5, j + 0.5) − 0.5 = (i, j) here)."""
    h, w = img.shape[:2]
    if border == "replicate":
        xs, ys = np.clip(xs, 0, w - 1), np.clip(ys, 0, h - 1)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]
    out = 0
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + dx, y0 + dy
            ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            v = img[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)] * ok[..., None]
            out = out + v * wx * wy
    return out


class Landmarks:
    def __init__(self):
        self.net = Interpreter(model_path=os.path.join(MODEL_DIR, "pose_landmark_full.tflite"), num_threads=2)
        self.net.allocate_tensors()
        self.outs = {d["name"]: d["index"] for d in self.net.get_output_details()}

    def person_mask(self, photo, det, scale=1.25, border="zero", region=None):
        """The segmentation of one detected person, in the photo's pixels (0…1), and the pose
        presence score. `region` (centre, side, rotation) replaces the pose detection's ROI."""
        h, w = photo.shape[:2]
        centre, side, rotation = region or roi(det, w, h, scale)
        A = crop_matrix(centre, side, rotation)
        v, u = np.mgrid[0:256, 0:256].astype(np.float64)
        px = A[0, 0] * u + A[0, 1] * v + A[0, 2]
        py = A[1, 0] * u + A[1, 1] * v + A[1, 2]
        crop = bilinear(photo.astype(np.float32) / 255, px, py, border)
        self.net.set_tensor(self.net.get_input_details()[0]["index"], crop[None].astype(np.float32))
        self.net.invoke()
        seg = sigmoid(self.net.get_tensor(self.outs["Identity_2"])[0])  # 256×256×1
        flag = float(self.net.get_tensor(self.outs["Identity_1"])[0, 0])
        lms = self.net.get_tensor(self.outs["Identity"])[0].reshape(39, 5)
        # the hands (landmarks 15–22: wrists, pinkies, index fingers, thumbs) in the photo's
        # pixels, those whose visibility (a logit) says they are in view
        self.hands = [(A[0, 0] * x + A[0, 1] * y + A[0, 2], A[1, 0] * x + A[1, 1] * y + A[1, 2])
                      for x, y, _, vis, _ in lms[15:23] if sigmoid(vis) >= 0.5]
        self.side = side
        # back into the photo: invert A
        M = np.vstack([A, [0, 0, 1]])
        Minv = np.linalg.inv(M)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        cu = Minv[0, 0] * xx + Minv[0, 1] * yy + Minv[0, 2]
        cv = Minv[1, 0] * xx + Minv[1, 1] * yy + Minv[1, 2]
        back = bilinear(seg, cu, cv, "zero")[..., 0]
        inside = (cu >= -0.5) & (cu <= 255.5) & (cv >= -0.5) & (cv <= 255.5)
        return back, flag, crop, seg[..., 0], inside


def selfie_coarse(photo):
    """The selfie model's own output (square, or landscape for photos ≥ 1.7:1 as
    ModelSegmenter.defaultModel() chooses), photo stretched to its input, v / 255, its output
    resized back to the photo with a bilinear filter."""
    h, w = photo.shape[:2]
    name = "selfie_segmentation_landscape.tflite" if w >= 1.7 * h else "selfie_segmentation.tflite"
    net = Interpreter(model_path=os.path.join(MODEL_DIR, name), num_threads=2)
    net.allocate_tensors()
    _, ih, iw, _ = net.get_input_details()[0]["shape"]
    x = np.asarray(Image.fromarray(photo).resize((iw, ih), Image.BILINEAR), np.float32)[None] / 255
    net.set_tensor(net.get_input_details()[0]["index"], x)
    net.invoke()
    out = net.get_tensor(net.get_output_details()[0]["index"])[0, :, :, 0].astype(np.float32)
    return np.asarray(Image.fromarray(out).resize((w, h), Image.BILINEAR))


def iou(a, b):
    a, b = a >= 0.5, b >= 0.5
    return (a & b).sum() / max(1, (a | b).sum())


def matte_mask(image_path, out_dir, extra=()):
    mask = os.path.join(out_dir, "mask.png")
    subprocess.run([os.path.join(ROOT, ".build", "release", "matte"), image_path, "-o", os.path.join(out_dir, "cut.png"),
                    "--save-mask", mask, *extra], check=True, capture_output=True)
    return np.asarray(Image.open(mask).convert("L"), np.float32) / 255


def overlay(photo, reference, mask, path):
    """Photo dimmed; the mask's pixels the reference also has green, the mask's extra red, the
    reference's missed blue."""
    out = photo.astype(np.float32) * 0.45
    r, m = reference >= 0.5, mask >= 0.5
    out[r & m] = out[r & m] * 0.5 + np.array([0, 140, 0])
    out[m & ~r] = out[m & ~r] * 0.3 + np.array([200, 0, 0])
    out[r & ~m] = out[r & ~m] * 0.3 + np.array([0, 60, 220])
    Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)).save(path)


def gated(selfie, P, hands, grow, reach=0.05, near=None, crop_grow=None):
    """Today's matte kept where some person's mask (≥ 0.5) is within `grow` pixels; the rest of
    it (connected pieces) kept too when a piece comes within grow + reach × ROI side of a
    visible hand landmark (something held: the astronaut's helmet), cleared otherwise.
    `near` (with `crop_grow`, the growth in the landmark model's crop pixels, side / 256 photo
    pixels each) replaces the growth by a fixed number of photo pixels."""
    if near is None:
        near = ndimage.maximum_filter(P, size=2 * grow + 1) >= 0.5
    keep = near.copy()
    lab, n = ndimage.label((selfie >= 0.5) & ~near)
    for i in range(1, n + 1):
        ys, xs = np.nonzero(lab == i)
        if any(np.min((xs - hx) ** 2 + (ys - hy) ** 2) <= ((crop_grow * side / 256 if crop_grow is not None else grow)
                                                             + reach * side) ** 2 for hx, hy, side in hands):
            keep |= lab == i
    # the faint rim of what is kept goes with it; a cleared piece's rim goes too
    keep = ndimage.binary_dilation(keep, iterations=3)
    return selfie * keep


def combos(selfie, people, covered, hands, reach=0.05):
    """Ways of joining today's matte (selfie) with the person masks (people: max over people;
    covered: the union of their ROIs; hands: visible hand landmarks (x, y, ROI side))."""
    P = people
    near = ndimage.maximum_filter(P, size=15)  # the person mask grown by 7 px
    return {
        **{f"gate grow {g} + held": gated(selfie, P, hands, g, reach) for g in (5, 7, 10, 15)},
        "today": selfie,
        "person mask alone": P,
        "max(today, P)": np.maximum(selfie, P),
        "today where P≥0.5 grown 7 px": selfie * (near >= 0.5),
        "today ∧ P (min)": np.minimum(selfie, P),
        "mean(today, P)": (selfie + P) / 2,
        "max(today, P) where P grown": np.maximum(selfie, P) * (near >= 0.5),
        "today; P where today weak (0.2..0.5) and P≥0.5; cut where P<0.1 grown": np.where(
            (selfie > 0.2) & (P >= 0.5), np.maximum(selfie, P), selfie) * (ndimage.maximum_filter(P, size=15) >= 0.1),
        "today outside ROIs; inside ROIs max(today,P) cut where P grown<0.5": np.where(
            covered, np.maximum(selfie, P) * (near >= 0.5), selfie),
    }


def joined_pieces(selfie, P, covered, hands, faces, grow=7, reach=0.05):
    """Clears only what a found person is joined to: the matte's pieces outside every person's
    mask (grown by `grow`) that touch a person's mask, lie wholly inside the found people's
    ROI squares, hold no face keypoint (a person without a mask) and come near no hand (held).
    Everything else — pieces no ROI covers, separate pieces — stays as it is."""
    near = ndimage.maximum_filter(P, size=2 * grow + 1) >= 0.5
    touching = ndimage.binary_dilation(near, iterations=1)
    lab, n = ndimage.label((selfie >= 0.5) & ~near)
    removed = np.zeros(selfie.shape, bool)
    for i in range(1, n + 1):
        piece = lab == i
        if not (piece & touching).any() or (piece & ~covered).any():
            continue
        ys, xs = np.nonzero(piece)
        if any(piece[int(fy), int(fx)] for fx, fy in faces if 0 <= int(fy) < piece.shape[0] and 0 <= int(fx) < piece.shape[1]):
            continue
        if any(np.min((xs - hx) ** 2 + (ys - hy) ** 2) <= (grow + reach * side) ** 2 for hx, hy, side in hands):
            continue
        removed |= piece
    return selfie * ~(removed & ~ndimage.binary_dilation(~removed & (selfie >= 0.5), iterations=3))


def study(args):
    """All twelve people items: today's mattes (eval-quality.py --keep DIR) gated by person
    masks from the pose detector's windows, the full-range face detector, or both."""
    detector, faces_net, landmarks = PoseDetector(args.min_score), FaceDetector(0.5), Landmarks()
    items = args.items or sorted(d for d in os.listdir(SET_DIR) if d.startswith("people-"))
    table, runs = {}, {}
    for item in items:
        folder = os.path.join(SET_DIR, item)
        photo = np.asarray(Image.open(os.path.join(folder, "image.png")).convert("RGB"))
        ref = np.asarray(Image.open(os.path.join(folder, "alpha.png")).convert("L"), np.float32) / 255
        today = np.asarray(Image.open(os.path.join(args.masks, f"{item}-alpha.png")).convert("L"), np.float32) / 255
        h, w = photo.shape[:2]
        regions = [("W", d, roi(d, w, h, args.scale)) for d in detector.detect_in_windows(photo, (1.0, 0.75, 0.5))]
        regions += [("P1", d, roi(d, w, h, args.scale)) for d in detector.detect(photo)]
        found_faces = faces_net.detect_in_squares(photo)
        regions += [("F", d, face_roi(d, w, h, args.scale, turn=not args.upright)) for d in found_faces]
        face_points = [(x * w, y * h) for d in found_faces for x, y in d[2][:4]]
        persons = []
        jx, jy, js = args.jitter
        regions = [(source, d, ((c[0] + jx * side, c[1] + jy * side), side * js, rot)) for source, d, (c, side, rot) in regions]
        for source, d, region in regions:
            start = time.process_time()
            mask, flag, _, _, inside = landmarks.person_mask(photo, d, args.scale, args.border, region)
            runs.setdefault(item, []).append(time.process_time() - start)
            (cx, cy), side, rot = region
            print(f"{item}: {source} score {d[0]:.2f} flag {flag:.2f} centre ({cx:.0f}, {cy:.0f}) side {side:.0f} "
                  f"rotation {math.degrees(rot):.1f}°; mask ≥ 0.5 {np.mean(mask >= 0.5) * 100:.1f} %", flush=True)
            if flag >= args.min_flag:
                persons.append((source, mask, inside, [(x, y, landmarks.side) for x, y in landmarks.hands], side))
        for sources in (("W",), ("F",), ("W", "F"), ("P1", "F")):
            chosen = [p for p in persons if p[0] in sources]
            P = np.zeros((h, w), np.float32)
            covered = np.zeros((h, w), bool)
            hands = []
            near_crop = {g: np.zeros((h, w), bool) for g in args.crop_grow}
            for _, mask, inside, hs, side in chosen:
                P, covered, hands = np.maximum(P, mask), covered | inside, hands + hs
                distance = ndimage.distance_transform_edt(mask < 0.5)
                for g in near_crop:
                    near_crop[g] |= distance <= g * side / 256
            label = "+".join(sources)
            gate = gated(today, P, hands, 7, args.reach)
            variants = {
                f"A gate everywhere, {label}": gate,
                f"A' gate everywhere, nothing held, {label}": gated(today, P, [], 7, args.reach),
                **{f"C gate everywhere, grow {g} crop px + held, {label}": gated(today, P, hands, 0, args.reach, near_crop[g], g)
                   for g in near_crop},
                **{f"C' gate everywhere, grow {g} crop px, nothing held, {label}": gated(today, P, [], 0, args.reach, near_crop[g], g)
                   for g in near_crop},
                f"B gate inside ROI squares, {label}": np.where(covered, gate, today),
                f"D joined pieces only, {label}": joined_pieces(today, P, covered, hands, face_points, 7, args.reach),
            }
            for name, m in variants.items():
                table.setdefault(name, {})[item] = iou(m, ref)
                if args.overlays:
                    slug = "".join(ch if ch.isalnum() else "-" for ch in name)[:80]
                    overlay(photo, ref, m, os.path.join(args.overlays, f"{item}-{slug}.png"))
        table.setdefault("today", {})[item] = iou(today, ref)
        if args.overlays:
            overlay(photo, ref, today, os.path.join(args.overlays, f"{item}-today.png"))
    single = [i for i in items if i not in GROUPS]
    groups = [i for i in items if i in GROUPS]
    base = table["today"]
    print(f"\n| variant | {' | '.join(i.removeprefix('people-') for i in single + groups)} | one person | groups | all | largest drop |")
    print("| --- |" + " ---: |" * (len(items) + 4))
    for name in ["today"] + sorted(k for k in table if k != "today"):
        row = table[name]
        drop = min(row[i] - base[i] for i in items)
        print(f"| {name} | {' | '.join(f'{row[i]:.4f}' for i in single + groups)} | {np.mean([row[i] for i in single]):.4f} | "
              f"{np.mean([row[i] for i in groups]):.4f} | {np.mean([row[i] for i in items]):.4f} | {drop:+.4f} |")
    print("\nlandmark runs per photo and their CPU seconds (median):")
    for item, ts in runs.items():
        print(f"  {item}: {len(ts)} runs, {np.median(ts):.3f} s each (incl. warping the mask back)")


GROUPS = {"people-couple", "people-five", "people-bus", "people-zidane", "people-poker"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", action="store_true", help="all people items, today's mattes from --masks, the gate variants")
    parser.add_argument("--masks", help="folder of today's mattes (eval-quality.py --keep), ITEM-alpha.png")
    parser.add_argument("--items", nargs="*", help="with --study: only these items")
    parser.add_argument("--upright", action="store_true", help="face ROIs not turned by the eye line")
    parser.add_argument("--crop-grow", type=float, nargs="*", default=[1, 2, 3, 4], help="with --study: growths in crop pixels (ROI side / 256)")
    parser.add_argument("--jitter", type=float, nargs=3, default=[0, 0, 1], metavar=("DX", "DY", "SCALE"),
                        help="with --study: move every ROI's centre by DX, DY × its side and scale its side (robustness)")
    parser.add_argument("--overlays", help="folder for PNG overlays")
    parser.add_argument("--squares", action="store_true", help="detect also in three squares (peopleInSquares)")
    parser.add_argument("--windows", type=float, nargs="*", help="detect also in square windows of these fractions of the short side (e.g. 1 0.75 0.5), at half-side steps")
    parser.add_argument("--reach", type=float, default=0.05, help="the held rule's reach, × the region's side")
    parser.add_argument("--min-flag", type=float, default=0.5, help="drop a person whose pose-presence flag is lower")
    parser.add_argument("--scale", type=float, default=1.25)
    parser.add_argument("--border", default="zero", choices=["zero", "replicate"])
    parser.add_argument("--min-score", type=float, default=0.5)
    args = parser.parse_args()
    if args.study:
        return study(args)
    detector, landmarks = PoseDetector(args.min_score), Landmarks()
    table = {}
    for item in ITEMS:
        folder = os.path.join(SET_DIR, item)
        photo = np.asarray(Image.open(os.path.join(folder, "image.png")).convert("RGB"))
        ref = np.asarray(Image.open(os.path.join(folder, "alpha.png")).convert("L"), np.float32) / 255 \
            if os.path.exists(os.path.join(folder, "alpha.png")) else np.load(os.path.join(folder, "alpha.npy"))
        h, w = photo.shape[:2]
        work = args.overlays or "/tmp"
        os.makedirs(work, exist_ok=True)
        selfie = matte_mask(os.path.join(folder, "image.png"), work)
        dets = detector.detect_in_windows(photo, args.windows) if args.windows else (
            detector.detect_in_squares(photo) if args.squares else detector.detect(photo))
        P = np.zeros((h, w), np.float32)
        covered = np.zeros((h, w), bool)
        hands = []
        for i, d in enumerate(dets):
            mask, flag, crop, seg, inside = landmarks.person_mask(photo, d, args.scale, args.border)
            centre, side, rot = roi(d, w, h, args.scale)
            print(f"{item}: person {i} score {d[0]:.2f} flag {flag:.2f} centre ({centre[0]:.0f}, {centre[1]:.0f}) side {side:.0f} "
                  f"rotation {math.degrees(rot):.1f}°; mask ≥ 0.5 in photo {np.mean(mask >= 0.5) * 100:.1f} %, IoU vs ref {iou(mask, ref):.3f}")
            if flag < args.min_flag:
                continue
            P = np.maximum(P, mask)
            covered |= inside
            hands += [(x, y, landmarks.side) for x, y in landmarks.hands]
            if args.overlays:
                Image.fromarray((crop * 255).astype(np.uint8)).save(os.path.join(args.overlays, f"{item}-crop{i}.png"))
                Image.fromarray((seg * 255).astype(np.uint8)).save(os.path.join(args.overlays, f"{item}-seg{i}.png"))
        for name, m in combos(selfie, P, covered, hands, args.reach).items():
            table.setdefault(name, {})[item] = iou(m, ref)
            if args.overlays:
                slug = "".join(ch if ch.isalnum() else "-" for ch in name)[:80]
                overlay(photo, ref, m, os.path.join(args.overlays, f"{item}-{slug}.png"))
    print(f"\n| combination | {' | '.join(i.removeprefix('people-') for i in ITEMS)} | mean |")
    print("| --- |" + " ---: |" * (len(ITEMS) + 1))
    for name, row in table.items():
        vals = [row[i] for i in ITEMS]
        print(f"| {name} | {' | '.join(f'{v:.4f}' for v in vals)} | {np.mean(vals):.4f} |")


if __name__ == "__main__":
    main()
