#!/usr/bin/env python3
"""Builds the quality development set (Docs/Quality.md) into the cache from
Scripts/quality-set/manifest.json.

    python3 -m venv /tmp/venv-quality
    /tmp/venv-quality/bin/pip install pymatting==1.1.16 numpy==2.4.6 scipy==1.17.1 numba==0.68.1 pillow==13.0.0
    /tmp/venv-quality/bin/python Scripts/make-quality-set.py [--out DIR]

Downloads the pinned wheels and sdists with `pip download --no-deps` (once; they are kept in
the cache), checks the archive's and every photo's SHA-256, and writes per item:
    image.png, trimap.png, alpha.npy (float32 0..1: the truth or the reference),
    item.json (kind, reference, source, licence), npy/ (refine-bench's inputs:
    image.npy 0..255, trimap.npy, and alpha-true.npy + foreground-true.npy or alpha-ref.npy)
People items (kind "people", for the model path, scored by IoU) carry a hand-checked person
mask committed in Scripts/quality-set/ (how each was made: the manifest's "reference").
People cut-out items (kind "people-cutout", for the model path too) are a real cut-out of people
blended over real photos in several frames; their reference is the cut-out's own alpha (alpha.png),
the truth, so they also score the matte's edges, which the hand-checked masks cannot.
Real photos have no ground truth: their reference is pymatting's exact closed-form alpha
(`estimate_alpha_cf`, defaults) on the item's trimap, which scores a solver's distance
from the closed-form minimiser, not its distance from the true matte. Composites (real
photos blended with a generated alpha), cut-outs (a real object's RGBA cut-out blended over a
real photo with its own alpha) and synthetic scenes carry their true alpha.
Default folder: ${MATTINGKIT_CACHE_DIR:-~/.cache/mattingkit}/quality-set.
"""
import argparse
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "quality-set", "manifest.json")

spec = importlib.util.spec_from_file_location("fixtures", os.path.join(HERE, "make-refine-fixtures.py"))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)


def cache_dir():
    return os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fetch_archive(source, wheels_dir):
    """The source's wheel or sdist (downloaded once), checked against its SHA-256.

    A source with "wheel_sha256" is a binary wheel for the given python/platform; one with
    "sdist_sha256" is the source archive (`--no-binary NAME`; pip prepares its metadata in an
    isolated build environment, nothing of the package is built or installed)."""
    os.makedirs(wheels_dir, exist_ok=True)
    sdist = "sdist_sha256" in source
    want = source["sdist_sha256"] if sdist else source["wheel_sha256"]
    suffix = ".tar.gz" if sdist else ".whl"
    def present():
        for name in os.listdir(wheels_dir):
            path = os.path.join(wheels_dir, name)
            if name.endswith(suffix) and sha256(open(path, "rb").read()) == want:
                return path
        return None
    path = present()
    if path is None:
        print(f"make-quality-set: pip download {source['spec']}", file=sys.stderr)
        if sdist:
            # Only the package itself as source: its build requirements (pip prepares the
            # metadata in an isolated environment) may come as wheels, so that a sdist that
            # asks for NumPy or Cython to build does not build them from source.
            options = ["--no-binary=" + source["spec"].split("==")[0]]
        else:
            options = ["--only-binary=:all:", "--python-version", source["python"], "--platform", source["platform"]]
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *options,
                        "--dest", wheels_dir, source["spec"]], check=True)
        path = present()
        if path is None:
            sys.exit(f"make-quality-set: no {suffix} of {source['spec']} with SHA-256 {want}")
    return path


def read_member(archive, member, want, mode="RGB"):
    if archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            data = t.extractfile(member).read()
    else:
        with zipfile.ZipFile(archive) as z:
            data = z.read(member)
    got = sha256(data)
    if got != want:
        sys.exit(f"make-quality-set: {member}: SHA-256 {got}, expected {want}")
    return np.asarray(Image.open(io.BytesIO(data)).convert(mode))


def drawn_trimap(shape, recipe):
    """Hand-drawn outline (union of ellipses and polygons), band px unknown either side."""
    h, w = shape
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for s in recipe["shapes"]:
        if s[0] == "ellipse":
            cx, cy, ax, ay = s[1:]
            draw.ellipse([cx - ax, cy - ay, cx + ax, cy + ay], fill=255)
        else:
            draw.polygon([tuple(p) for p in s[1:]], fill=255)
    inside = np.asarray(mask) > 0
    return banded_trimap(inside, inside, recipe["band"])


def banded_trimap(sure, maybe, band):
    """Foreground = `sure` eroded by band px, background = outside `maybe` dilated by band px
    (a square structuring element), the rest unknown."""
    structure = np.ones((2 * band + 1, 2 * band + 1), bool)
    trimap = np.full(sure.shape, 128, np.uint8)
    trimap[ndimage.binary_erosion(sure, structure, border_value=1)] = 255
    trimap[~ndimage.binary_dilation(maybe, structure)] = 0
    return trimap


def resized(photo, h, w):
    """The photo scaled to cover h×w (aspect kept), centre-cropped."""
    ph, pw = photo.shape[:2]
    scale = max(h / ph, w / pw)
    im = Image.fromarray(photo).resize((max(w, round(pw * scale)), max(h, round(ph * scale))), Image.LANCZOS)
    a = np.asarray(im)
    y0, x0 = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    return a[y0:y0 + h, x0:x0 + w].astype(np.float64) / 255


def write_people_item(folder, image8, reference, info):
    """A model-path item: the photo and its hand-checked person mask (alpha.png), no trimap."""
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(image8).save(os.path.join(folder, "image.png"))
    Image.fromarray(reference).save(os.path.join(folder, "alpha.png"))
    for stale in ("trimap.png", "alpha.npy"):
        if os.path.exists(os.path.join(folder, stale)):
            os.remove(os.path.join(folder, stale))
    with open(os.path.join(folder, "item.json"), "w") as f:
        json.dump(info, f, indent=1)


def read_cutout(archive, member, want):
    """A real RGBA cut-out as (alpha, F), both 0..1: its own 8-bit alpha and its RGB."""
    rgba = read_member(archive, member, want, "RGBA")
    return rgba[..., 3].astype(np.float64) / 255, rgba[..., :3].astype(np.float64) / 255


def blended(alpha, fg, bg):
    """I = aF + (1 - a)B as 8-bit RGB (all 0..1 floats), so `alpha` is the picture's truth."""
    return np.clip(np.round((alpha[..., None] * fg + (1 - alpha[..., None]) * bg) * 255), 0, 255).astype(np.uint8)


def write_people_cutouts(item, source, archive, files, out, wanted):
    """The model path on real people with their true alpha: the item's cut-out blended over
    each background in each frame (the manifest's "about"), written as people items whose
    reference is the cut-out's own 8-bit alpha (so exact). Returns the names written."""
    alpha, fg = read_cutout(archive, item["cutout"], source["files"][item["cutout"]])
    h, w = alpha.shape
    written = []
    for background, member in item["backgrounds"].items():
        for frame, aspect in item["frames"].items():
            name = f"{item['name']}-{background}-{frame}"
            if wanted and item["name"] not in wanted and name not in wanted:
                continue
            if aspect is None:
                fh, fw = h, w
            elif aspect >= w / h:
                fh, fw = h, round(h * aspect)
            else:
                fh, fw = round(w / aspect), w
            a = np.zeros((fh, fw))
            f = np.zeros((fh, fw, 3))
            x0, y0 = (fw - w) // 2, fh - h  # bottom centre: the frame cuts them where the cut-out does
            a[y0:, x0:x0 + w] = alpha
            f[y0:, x0:x0 + w] = fg
            image8 = blended(a, f, resized(files[member], fh, fw))
            reference = np.clip(np.round(a * 255), 0, 255).astype(np.uint8)
            info = {"kind": item["kind"], "reference": item["reference"], "licence": item["licence"],
                    "source": f"{source['spec']}: {item['cutout']} (alpha and F) over {member} (B), "
                              f"frame {frame} ({fw}x{fh})"}
            write_people_item(os.path.join(out, name), image8, reference, info)
            written.append(name)
            print(f"{name:<36} {fw}x{fh}  people {np.mean(reference >= 128) * 100:5.1f} %  (truth)")
    return written


def write_item(folder, image8, trimap, alpha, info, foreground=None):
    os.makedirs(os.path.join(folder, "npy"), exist_ok=True)
    Image.fromarray(image8).save(os.path.join(folder, "image.png"))
    Image.fromarray(trimap).save(os.path.join(folder, "trimap.png"))
    np.save(os.path.join(folder, "alpha.npy"), alpha.astype(np.float32))
    np.save(os.path.join(folder, "npy", "image.npy"), image8)
    np.save(os.path.join(folder, "npy", "trimap.npy"), trimap)
    name = "alpha-true.npy" if info["reference"] == "truth" else "alpha-ref.npy"
    np.save(os.path.join(folder, "npy", name), alpha.astype(np.float32))
    if foreground is not None:  # refine-bench scores its foreground estimate against it
        np.save(os.path.join(folder, "npy", "foreground-true.npy"), foreground.astype(np.float32))
    with open(os.path.join(folder, "item.json"), "w") as f:
        json.dump(info, f, indent=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(cache_dir(), "quality-set"))
    parser.add_argument("--items", nargs="*")
    parser.add_argument("--band", type=int, help="the cutout items' unknown band in px instead of "
                        "the manifest's (to measure how much a result depends on it; use with --out)")
    parser.add_argument("--estimated-foreground", action="store_true", help="blend the cutout items with "
                        "pymatting's estimate_foreground_ml of the cut-out (its backdrop taken out of the edge) "
                        "instead of the cut-out's own RGB (a check; use with --out)")
    args = parser.parse_args()
    import pymatting

    with open(MANIFEST) as f:
        manifest = json.load(f)
    known = set()
    for item in manifest["items"]:
        known.add(item["name"])
        if item["kind"] == "people-cutout":
            known.update(f"{item['name']}-{b}-{f}" for b in item["backgrounds"] for f in item["frames"])
    unknown = [n for n in args.items or [] if n not in known]
    if unknown:
        sys.exit(f"make-quality-set: no item named {', '.join(unknown)} in {MANIFEST} "
                 "(people-cutout entries name theirs NAME-BACKGROUND-FRAME)")
    wheels, files = {}, {}
    for key, source in manifest["sources"].items():
        wheels[key] = fetch_archive(source, os.path.join(cache_dir(), "wheels"))
        for member, want in source["files"].items():
            files[member] = read_member(wheels[key], member, want)
    versions = f"pymatting {pymatting.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}"
    for item in manifest["items"]:
        expands = item["kind"] == "people-cutout"  # one entry, many items: NAME-BACKGROUND-FRAME
        if args.items and item["name"] not in args.items and not (
                expands and any(n.startswith(item["name"] + "-") for n in args.items)):
            continue
        if expands:
            write_people_cutouts(item, manifest["sources"][item["source"]], wheels[item["source"]], files,
                                 args.out, args.items)
            continue
        folder = os.path.join(args.out, item["name"])
        info = {k: item[k] for k in ("kind", "reference", "licence")}
        if item["kind"] == "people":
            image8 = files[item["member"]]
            path = os.path.join(HERE, "quality-set", item["reference_png"])
            if sha256(open(path, "rb").read()) != item["reference_sha256"]:
                sys.exit(f"make-quality-set: {path}: SHA-256 differs from the manifest's")
            reference = np.asarray(Image.open(path).convert("L"))
            if reference.shape != image8.shape[:2]:
                sys.exit(f"make-quality-set: {path}: {reference.shape} vs the photo's {image8.shape[:2]}")
            info["source"] = f"{manifest['sources'][item['source']]['spec']}: {item['member']}"
            write_people_item(folder, image8, reference, info)
            print(f"{item['name']:<36} {image8.shape[1]}x{image8.shape[0]}  people {np.mean(reference >= 128) * 100:5.1f} %  ({info['reference']})")
            continue
        if item["kind"] == "cutout":
            # A real cut-out (RGBA: a real object's photo and its alpha, made by hand or by a
            # tool, not generated) blended over a real photo: I = aF + (1 - a)B with the
            # cut-out's own 8-bit alpha, so that alpha is the exact truth of the picture.
            source = manifest["sources"][item["source"]]
            alpha, fg = read_cutout(wheels[item["source"]], item["cutout"], source["files"][item["cutout"]])
            h, w = alpha.shape
            if args.estimated_foreground:
                fg = pymatting.estimate_foreground_ml(fg, alpha)
            image8 = blended(alpha, fg, resized(files[item["background"]], h, w))
            # make_composite's rule: sure = alpha > 0.99, maybe = alpha > 0.01.
            trimap = banded_trimap(alpha > 0.99, alpha > 0.01, args.band or item["band"])
            info["source"] = f"{source['spec']}: {item['cutout']} (alpha and F) over {item['background']} (B)"
        elif item["kind"] == "real":
            image8 = files[item["member"]]
            recipe = item["trimap"]
            if "png" in recipe:
                trimap = np.asarray(Image.open(os.path.join(HERE, "quality-set", recipe["png"])).convert("L"))
            else:
                trimap = drawn_trimap(image8.shape[:2], recipe)
            # The exact closed-form minimiser (pymatting's defaults: eps 1e-7, r 1, CG to 1e-7).
            alpha = pymatting.estimate_alpha_cf(image8.astype(np.float64) / 255, trimap.astype(np.float64) / 255)
            fg = None
            info["source"] = f"{manifest['sources'][item['source']]['spec']}: {item['member']}"
            info["reference"] = f"pymatting estimate_alpha_cf ({versions})"
        else:
            h, w = item["size"]
            _, alpha, trimap, fg = fixtures.make_composite(h, w, seed=item["seed"])
            alpha = alpha.astype(np.float64)
            if item["kind"] == "composite":
                fg = resized(files[item["foreground"]], h, w)
                image8 = blended(alpha, fg, resized(files[item["background"]], h, w))
                info["source"] = f"alpha of make_composite({h}, {w}, seed={item['seed']}); F {item['foreground']}, B {item['background']}"
            else:
                image8, _, _, _ = fixtures.make_composite(h, w, seed=item["seed"])
                info["source"] = f"Scripts/make-refine-fixtures.py make_composite({h}, {w}, seed={item['seed']})"
            info["reference"] = "truth"
        write_item(folder, image8, trimap, alpha, info, fg)
        unknown = np.mean((trimap != 0) & (trimap != 255))
        print(f"{item['name']:<36} {image8.shape[1]}x{image8.shape[0]}  unknown {100 * unknown:5.1f} %  ({info['reference']})")


if __name__ == "__main__":
    main()
