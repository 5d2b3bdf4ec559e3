#!/usr/bin/env bash
# Makes the before/after pictures in Docs/images/ with the release `matte` program (and the
# `enhance` program when it is built): the sample photo (Scripts/fetch-sample.sh) is matted
# with each parameter varied, a synthetic product shot goes through --studio, and
# Scripts/make-doc-images.py crops, labels and composes the results (cut-outs over a
# checkerboard). Deterministic; re-run it whenever the pipeline's output changes.
#
# Usage: Scripts/make-doc-images.sh
#   PYTHON=...   a Python with Pillow and numpy (default python3), e.g.
#                python3 -m venv .venv && .venv/bin/pip install Pillow numpy
#                PYTHON=.venv/bin/python Scripts/make-doc-images.sh
#   OUT_DIR=...  where the pictures go (default Docs/images)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
out_dir=${OUT_DIR:-Docs/images}
if ! "$python" -c 'import PIL, numpy' 2>/dev/null; then
    echo "make-doc-images: $python cannot import Pillow and numpy; set PYTHON to one that can:" >&2
    echo "  python3 -m venv .venv && .venv/bin/pip install Pillow numpy && PYTHON=.venv/bin/python $0" >&2
    exit 1
fi

sample=$(Scripts/fetch-sample.sh)
echo "make-doc-images: building matte (release)" >&2
swift build -c release --product matte >&2
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d "${TMPDIR:-/tmp}/mattingkit-doc-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One run of `matte` on the sample: matte NAME [options…] writes $work/NAME.png and NAME-mask.png.
matte() {
    local name=$1; shift
    "$bin/matte" "$sample" -o "$work/$name.png" --save-mask "$work/$name-mask.png" "$@" >/dev/null
}

echo "make-doc-images: matting the sample" >&2
for preset in portrait product complexBackground; do
    matte "$preset" --preset "$preset"
done
# Each operator alone (the other two off), so the pictures show its effect only.
matte threshold-0 --alpha-threshold 0 --erode 0 --no-feather
matte threshold-30 --alpha-threshold 30 --erode 0 --no-feather
for n in 0 1 3; do
    matte "erode-$n" --alpha-threshold 0 --erode "$n" --no-feather
done
matte no-feather --alpha-threshold 0 --erode 0 --no-feather
matte feather --alpha-threshold 0 --erode 0 --feather
# JPEG output composited over the background colour (portrait preset).
"$bin/matte" "$sample" -o "$work/white.jpg" >/dev/null
"$bin/matte" "$sample" -o "$work/background.jpg" --background '#2e6fd8' \
    --save-mask "$work/background-mask.png" >/dev/null
matte enhance --enhance
# The --preview contact sheet (portrait preset).
matte preview --preview "$work/preview-sheet.png"

# The enhance program (CLAHE + sharpen alone), if it has been built.
if swift build -c release --product enhance >/dev/null 2>&1 && [[ -x "$bin/enhance" ]]; then
    if "$bin/enhance" --help 2>&1 | grep -q -- '--output'; then
        "$bin/enhance" "$sample" -o "$work/enhanced-input.png" >/dev/null
    else
        "$bin/enhance" "$sample" "$work/enhanced-input.png" >/dev/null
    fi
else
    echo "make-doc-images: no 'enhance' program could be built here; enhance.jpg shows matte --enhance only" >&2
fi

# A trimap made from the portrait mask (±6 px band) with the flag strip at the lower left
# painted as background (Docs/Limits.md), then the trimap path (no network).
"$python" Scripts/make-doc-images.py trimap "$work/portrait-mask.png" "$work/trimap-input.png" \
    --radius 6 --clear 0,300,20,512
matte trimap --trimap "$work/trimap-input.png"

# Studio mode on a synthetic product shot; the default model on the same shot for contrast.
"$python" Scripts/make-doc-images.py product "$work/product-shot.png"
"$bin/matte" "$work/product-shot.png" -o "$work/studio.png" --save-mask "$work/studio-mask.png" \
    --studio --preset product >/dev/null
"$bin/matte" "$work/product-shot.png" -o "$work/studio-model.png" --save-mask "$work/studio-model-mask.png" \
    --preset product >/dev/null

# Two hard cases for the default model (Docs/Limits.md), without post-processing.
"$python" Scripts/make-doc-images.py hard "$sample" "$work"
for name in two-people small-subject; do
    "$bin/matte" "$work/$name.png" -o "$work/$name-out.png" --save-mask "$work/$name-mask.png" \
        --alpha-threshold 0 --erode 0 --no-feather >/dev/null
done

mkdir -p "$out_dir"
"$python" Scripts/make-doc-images.py compose "$work" "$out_dir" "$sample"
du -ch "$out_dir"/*.jpg | tail -1 | sed 's/^/make-doc-images: total /' >&2
