"""Helpers for Scripts/make-doc-images.sh: the synthetic product shot, a trimap from a mask,
and the before/after figures in Docs/images/ (crops, strips, cut-outs over a checkerboard).

Needs Pillow and numpy. Deterministic: fixed crop boxes, a seeded RNG, fixed encoder settings
(the same Pillow version gives the same bytes).

    python3 Scripts/make-doc-images.py product OUT.png
    python3 Scripts/make-doc-images.py trimap MASK.png OUT.png [--radius N]
    python3 Scripts/make-doc-images.py compose WORK_DIR OUT_DIR SAMPLE.png
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Crops: (left, top, side) in photo pixels, enlarged to PANEL px with nearest neighbour so
# single pixels (strands, one-pixel erosion) stay visible.
PANEL = 288
HAIR = (140, 10, 96)    # the top-left edge of the hair in the 512×512 sample (×3)
FLAG = (0, 340, 144)    # the flag strip at the sample's lower-left corner (×2; Docs/Limits.md)
CORD = (250, 60, 144)   # the thin cord in the synthetic product shot (×2)
GAP = 6
LABEL_HEIGHT = 20
FONT = ImageFont.load_default(size=13)


# --- inputs -------------------------------------------------------------------------------

def product(out_path):
    """A product shot on a near-uniform grey backdrop: a teal bottle, an orange ball and a
    thin dark cord (a 'chain'), with soft anti-aliased edges; backdrop with a gentle vertical
    gradient and sensor-like noise (seeded)."""
    w, h, ss = 640, 480, 4
    rng = np.random.default_rng(20261125)
    y = np.linspace(0, 1, h, dtype=np.float64)[:, None]
    backdrop = np.empty((h, w, 3))
    backdrop[...] = np.array([196.0, 197.0, 199.0]) + 10.0 * (y - 0.5)[..., None]
    backdrop += rng.normal(0, 1.5, size=backdrop.shape)

    def coverage(draw_shape):
        big = Image.new("L", (w * ss, h * ss), 0)
        draw_shape(ImageDraw.Draw(big), ss)
        small = big.resize((w, h), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(0.8))
        return np.asarray(small, dtype=np.float64)[..., None] / 255

    xs = np.arange(w, dtype=np.float64)[None, :, None]
    ys = np.arange(h, dtype=np.float64)[:, None, None]
    image = backdrop
    # Bottle: body, neck, cap; cylindrical shading across x.
    body = coverage(lambda d, s: (d.rounded_rectangle([170 * s, 175 * s, 300 * s, 420 * s], radius=34 * s, fill=255),
                                  d.rectangle([215 * s, 110 * s, 255 * s, 190 * s], fill=255)))
    shade = 0.55 + 0.45 * np.cos((xs - 225) / 95 * np.pi / 2).clip(0, 1)
    bottle = np.array([20.0, 140.0, 150.0]) * shade + 70 * np.exp(-((xs - 205) / 10) ** 2)
    image = image * (1 - body) + bottle * body
    cap = coverage(lambda d, s: d.rounded_rectangle([208 * s, 88 * s, 262 * s, 118 * s], radius=6 * s, fill=255))
    image = image * (1 - cap) + np.array([40.0, 40.0, 48.0]) * cap
    # Ball with a highlight.
    ball = coverage(lambda d, s: d.ellipse([390 * s, 280 * s, 530 * s, 420 * s], fill=255))
    r = np.sqrt((xs - 440) ** 2 + (ys - 325) ** 2)
    ball_colour = np.array([235.0, 120.0, 30.0]) * (1.05 - 0.45 * (r / 120).clip(0, 1)) + 60 * np.exp(-(r / 18) ** 2)
    image = image * (1 - ball) + ball_colour * ball
    # A thin cord (about 2 px) looping from the bottle's neck towards the ball.
    t = np.linspace(0, 1, 400)
    cx = 258 + 190 * t
    cy = 130 + 150 * t ** 1.5 + 30 * np.sin(t * 3 * np.pi)
    points = list(zip(cx, cy))
    cord = coverage(lambda d, s: d.line([(x * s, y * s) for x, y in points], fill=255, width=2 * s, joint="curve"))
    image = image * (1 - cord) + np.array([60.0, 35.0, 25.0]) * cord
    Image.fromarray(np.clip(image + 0.5, 0, 255).astype(np.uint8), "RGB").save(out_path)


def hard_cases(sample_path, work):
    """Two inputs the default model handles badly (Docs/Limits.md): two people side by side
    (the sample and its mirror image, 1024×512) and a small subject (the sample at 400 px on a
    1600×1600 grey canvas with noise)."""
    sample = Image.open(sample_path).convert("RGB")
    two = Image.new("RGB", (1024, 512))
    two.paste(sample, (0, 0))
    two.paste(sample.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (512, 0))
    two.save(f"{work}/two-people.png")
    rng = np.random.default_rng(1)
    canvas = Image.fromarray(np.clip(rng.normal(128, 3, (1600, 1600, 3)) + 0.5, 0, 255).astype(np.uint8), "RGB")
    canvas.paste(sample.resize((400, 400), Image.Resampling.LANCZOS), (600, 1200))
    canvas.save(f"{work}/small-subject.png")


def trimap(mask_path, out_path, radius, clear):
    """A trimap from a matte: pixels whose 0.5-binarised mask survives an erosion by `radius`
    are foreground (255), pixels outside its dilation by `radius` background (0), the band
    between unknown (128). `clear` boxes (x0, y0, x1, y1) are set to background in the mask
    first — the hand edit a user would make in a paint program."""
    mask = Image.open(mask_path).convert("L").point(lambda v: 255 if v >= 128 else 0)
    for box in clear:
        mask.paste(0, box)
    size = 2 * radius + 1
    inner = np.asarray(mask.filter(ImageFilter.MinFilter(size))) == 255
    outer = np.asarray(mask.filter(ImageFilter.MaxFilter(size))) == 255
    out = np.full(inner.shape, 128, dtype=np.uint8)
    out[inner] = 255
    out[~outer] = 0
    Image.fromarray(out, "L").save(out_path)


# --- figure building blocks -----------------------------------------------------------------

def checkerboard(size, cell=8):
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    tile = ((xs // cell + ys // cell) % 2).astype(np.uint8)
    grey = np.where(tile == 0, 255, 204).astype(np.uint8)
    return Image.fromarray(np.dstack([grey] * 3), "RGB")


def over_checkerboard(rgba):
    base = checkerboard(rgba.size).convert("RGBA")
    return Image.alpha_composite(base, rgba.convert("RGBA")).convert("RGB")


def crop(image, box):
    x, y, side = box
    return image.crop((x, y, x + side, y + side)).resize((PANEL, PANEL), Image.Resampling.NEAREST)


def whole(image, side=PANEL):
    return image.resize((side, side * image.height // image.width), Image.Resampling.LANCZOS)


def labelled(image, text):
    image = image.convert("RGB")
    out = Image.new("RGB", (image.width + 2, image.height + LABEL_HEIGHT + 2), "white")
    draw = ImageDraw.Draw(out)
    draw.text((4, 3), text, fill=(20, 20, 20), font=FONT)
    draw.rectangle([0, LABEL_HEIGHT, image.width + 1, LABEL_HEIGHT + image.height + 1], outline=(150, 150, 150))
    out.paste(image, (1, LABEL_HEIGHT + 1))
    return out


def strip(panels):
    """Panels (image, label) side by side, labels above."""
    tiles = [labelled(image, label) for image, label in panels]
    width = sum(t.width for t in tiles) + GAP * (len(tiles) - 1)
    height = max(t.height for t in tiles)
    out = Image.new("RGB", (width, height), "white")
    x = 0
    for t in tiles:
        out.paste(t, (x, 0))
        x += t.width + GAP
    return out


def stacked(rows):
    width = max(r.width for r in rows)
    out = Image.new("RGB", (width, sum(r.height for r in rows) + GAP * (len(rows) - 1)), "white")
    y = 0
    for r in rows:
        out.paste(r, (0, y))
        y += r.height + GAP
    return out


def save(image, out_dir, name):
    path = os.path.join(out_dir, name)
    # 4:4:4 keeps one-pixel strands and mask edges crisp; quality 85 keeps the total small.
    image.save(path, "JPEG", quality=85, subsampling=0, optimize=True)
    print(f"{path}: {image.width}×{image.height}, {os.path.getsize(path) // 1024} KB")


def cut_and_matte_rows(work, names, labels, corner):
    """Row 1: cut-outs over a checkerboard; row 2: the mattes — same crop of each run."""
    cutouts = [(crop(over_checkerboard(Image.open(f"{work}/{n}.png")), corner), l) for n, l in zip(names, labels)]
    mattes = [(crop(Image.open(f"{work}/{n}-mask.png"), corner), f"matte, {l}") for n, l in zip(names, labels)]
    return stacked([strip(cutouts), strip(mattes)])


# --- the figures ----------------------------------------------------------------------------

def compose(work, out_dir, sample_path):
    os.makedirs(out_dir, exist_ok=True)
    sample = Image.open(sample_path).convert("RGB")
    portrait = Image.open(f"{work}/portrait.png")

    save(strip([
        (whole(sample, 256), "input (512 x 512)"),
        (whole(Image.open(f"{work}/portrait-mask.png"), 256), "matte (--save-mask)"),
        (whole(over_checkerboard(portrait), 256), "cut-out (PNG, alpha)"),
        (whole(Image.open(f"{work}/background.jpg"), 256), "JPEG, --background #2e6fd8"),
    ]), out_dir, "overview.jpg")

    save(cut_and_matte_rows(work, ["portrait", "product", "complexBackground"],
                            ["portrait (12/on/1)", "product (8/on/0)", "complexBackground (22/on/2)"], HAIR),
         out_dir, "presets.jpg")

    # Threshold alone: which pixels does 30 clear? Red where alpha was > 0 and is now 0.
    t0 = np.asarray(Image.open(f"{work}/threshold-0-mask.png"))
    t30 = np.asarray(Image.open(f"{work}/threshold-30-mask.png"))
    cleared = (t0 > 0) & (t30 == 0)
    marked = np.asarray(sample).copy() // 2 + 64
    marked[cleared] = [230, 20, 20]
    amplified = Image.fromarray(np.clip(t0.astype(np.int32) * 8, 0, 255).astype(np.uint8), "L")
    rows = cut_and_matte_rows(work, ["threshold-0", "threshold-30"], ["threshold 0", "threshold 30"], HAIR)
    extra = stacked([strip([(crop(Image.fromarray(marked, "RGB"), HAIR), "pixels 30 clears (red)")]),
                     strip([(crop(amplified, HAIR), "matte x8, threshold 0")])])
    combined = Image.new("RGB", (rows.width + GAP + extra.width, rows.height), "white")
    combined.paste(rows, (0, 0))
    combined.paste(extra, (rows.width + GAP, 0))
    save(combined, out_dir, "threshold.jpg")

    save(cut_and_matte_rows(work, ["erode-0", "erode-1", "erode-3"], ["erode 0", "erode 1", "erode 3"], HAIR),
         out_dir, "erode.jpg")
    save(cut_and_matte_rows(work, ["no-feather", "feather"], ["--no-feather", "--feather (sigma 1.5 px)"], HAIR),
         out_dir, "feather.jpg")

    # What the JPEG would be without foreground estimation: the photo's own colours
    # composited with the same matte (MattingOptions.estimatesForeground = false).
    alpha = np.asarray(Image.open(f"{work}/background-mask.png"), dtype=np.float64)[..., None] / 255
    blue = np.array([0x2E, 0x6F, 0xD8], dtype=np.float64)
    naive = Image.fromarray((np.asarray(sample) * alpha + blue * (1 - alpha) + 0.5).astype(np.uint8), "RGB")
    save(strip([
        (crop(Image.open(f"{work}/white.jpg"), HAIR), "JPEG on #ffffff (default)"),
        (crop(Image.open(f"{work}/background.jpg"), HAIR), "JPEG on #2e6fd8"),
        (crop(naive, HAIR), "photo colours, same matte"),
    ]), out_dir, "background.jpg")

    # The contact sheet as `matte --preview` writes it (only re-encoded as JPEG).
    save(Image.open(f"{work}/preview-sheet.png").convert("RGB"), out_dir, "preview-sheet.jpg")

    panels = [(crop(sample, HAIR), "input")]
    if os.path.exists(f"{work}/enhanced-input.png"):
        panels.append((crop(Image.open(f"{work}/enhanced-input.png"), HAIR), "enhance program output"))
    panels += [(crop(over_checkerboard(Image.open(f"{work}/portrait.png")), HAIR), "cut-out"),
               (crop(over_checkerboard(Image.open(f"{work}/enhance.png")), HAIR), "cut-out, --enhance")]
    save(strip(panels), out_dir, "enhance.jpg")

    save(strip([
        (whole(Image.open(f"{work}/trimap-input.png")), "trimap: mask +-6 px, flag cleared"),
        (whole(Image.open(f"{work}/trimap-mask.png")), "matte"),
        (whole(over_checkerboard(Image.open(f"{work}/trimap.png"))), "cut-out"),
    ]), out_dir, "trimap.jpg")

    shot = Image.open(f"{work}/product-shot.png")
    save(stacked([
        strip([
            (whole(shot), "synthetic product shot"),
            (whole(Image.open(f"{work}/studio-mask.png")), "--studio matte"),
            (whole(over_checkerboard(Image.open(f"{work}/studio.png"))), "--studio cut-out"),
        ]),
        strip([
            (crop(shot, CORD), "input, cord (x2)"),
            (crop(Image.open(f"{work}/studio-mask.png"), CORD), "--studio matte"),
            (whole(Image.open(f"{work}/studio-model-mask.png")), "without --studio (default model)"),
        ]),
    ]), out_dir, "studio.jpg")

    small_box = (560, 1160, 440)
    save(strip([
        (Image.open(f"{work}/two-people.png").resize((576, 288), Image.Resampling.LANCZOS), "two people (1024 x 512)"),
        (Image.open(f"{work}/two-people-mask.png").resize((576, 288), Image.Resampling.LANCZOS), "matte"),
        (crop(Image.open(f"{work}/small-subject.png"), small_box), "small subject (1600 x 1600)"),
        (crop(Image.open(f"{work}/small-subject-mask.png"), small_box), "matte"),
    ]), out_dir, "limits-hard.jpg")

    save(strip([
        (crop(sample, FLAG), "input"),
        (crop(Image.open(f"{work}/portrait-mask.png"), FLAG), "matte (portrait)"),
        (crop(over_checkerboard(portrait), FLAG), "cut-out"),
        (crop(over_checkerboard(Image.open(f"{work}/trimap.png")), FLAG), "cut-out, edited --trimap"),
    ]), out_dir, "limits-flag.jpg")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("product")
    p.add_argument("out")
    p = sub.add_parser("trimap")
    p.add_argument("mask")
    p.add_argument("out")
    p.add_argument("--radius", type=int, default=6)
    p.add_argument("--clear", action="append", default=[], metavar="X0,Y0,X1,Y1",
                   type=lambda v: tuple(int(n) for n in v.split(",")))
    p = sub.add_parser("hard")
    p.add_argument("sample")
    p.add_argument("work")
    p = sub.add_parser("compose")
    p.add_argument("work")
    p.add_argument("out_dir")
    p.add_argument("sample")
    args = parser.parse_args()
    if args.command == "product":
        product(args.out)
    elif args.command == "hard":
        hard_cases(args.sample, args.work)
    elif args.command == "trimap":
        trimap(args.mask, args.out, args.radius, args.clear)
    else:
        compose(args.work, args.out_dir, args.sample)


if __name__ == "__main__":
    sys.exit(main())
