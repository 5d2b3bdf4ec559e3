#!/usr/bin/env bash
# Fetches MattingKit's default model, MediaPipe Selfie Segmentation (Apache-2.0), and the pose
# and face detectors from the same release, out of the PyPI wheel mediapipe==0.10.14, and
# installs the .tflite files into a cache folder:
#
#   $MATTINGKIT_MODEL_DIR                                 if set, else
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit/models
#
# Usage: Scripts/fetch-models.sh
#
# The wheel is pinned to one platform tag (cp311, manylinux_2_17_x86_64, binary only) so the
# same file is fetched whatever python3 or machine runs this; only the .tflite members are
# used, so the platform does not matter for the result. Each file's SHA-256 is checked before
# it is moved into place (temp file, verify, rename): a failed run leaves no partial file.
# If every file is already present with the right checksums, nothing is fetched.
set -euo pipefail

readonly WHEEL_SPEC="mediapipe==0.10.14"
# member path in the wheel  sha256 (computed from the files inside
# mediapipe-0.10.14-cp311-...-manylinux_2_17_x86_64.whl); installed under the file's own name.
# The selfie models are the segmenters; the pose and face detectors find the people in a photo;
# the pose-landmark model (the wheel's only one: no lite or heavy variant) segments one person
# in a crop around a pose detection (Scripts/people-landmark-prototype.py; the library does not
# load it: Docs/Quality.md, "Person masks from the pose-landmark model").
readonly MODELS=(
    "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite 9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
    "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd"
    "mediapipe/modules/pose_detection/pose_detection.tflite 9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"
    "mediapipe/modules/face_detection/face_detection_short_range.tflite bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite 2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"
    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
)

die() { echo "fetch-models: error: $*" >&2; exit 1; }

model_dir="${MATTINGKIT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit/models}"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed"
    fi
}

all_present() {
    local entry name sum
    for entry in "${MODELS[@]}"; do
        read -r member sum <<<"$entry"
        name="${member##*/}"
        [[ -f "$model_dir/$name" ]] || return 1
        [[ "$(sha256_of "$model_dir/$name")" == "$sum" ]] || return 1
    done
}

if all_present; then
    echo "fetch-models: models already present and verified in $model_dir (nothing fetched)"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is needed (for pip and to unpack the wheel)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed: install it (e.g. apt-get install python3-pip)"

mkdir -p "$model_dir" || die "cannot create $model_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/mattingkit-fetch.XXXXXX")" || die "cannot create a temporary folder"
# Temp files for the final rename live in the destination folder (same file system).
cleanup() { rm -rf "$work"; rm -f "$model_dir"/.fetch-*.tmp; }
trap cleanup EXIT

echo "fetch-models: downloading $WHEEL_SPEC (about 36 MB) from PyPI"
if ! python3 -m pip download --no-deps --quiet --disable-pip-version-check \
        --python-version 3.11 --platform manylinux_2_17_x86_64 --only-binary=:all: \
        --dest "$work" "$WHEEL_SPEC"; then
    die "pip download of $WHEEL_SPEC failed (is PyPI reachable?)"
fi
wheel="$(find "$work" -maxdepth 1 -name 'mediapipe-0.10.14-*.whl' | head -n 1)"
[[ -n "$wheel" ]] || die "pip reported success but no mediapipe wheel is in $work"

for entry in "${MODELS[@]}"; do
    read -r member sum <<<"$entry"
    name="${member##*/}"
    tmp="$model_dir/.fetch-$name.$$.tmp"
    # zipfile rather than unzip: python3 is already required, unzip may be missing.
    python3 - "$wheel" "$member" "$tmp" <<'PY' || die "cannot extract $name from the wheel"
import sys, zipfile, shutil
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
PY
    actual="$(sha256_of "$tmp")"
    [[ "$actual" == "$sum" ]] || die "$name: SHA-256 mismatch (expected $sum, got $actual)"
done

# Every file verified: move them into place (rename within one folder is atomic).
for entry in "${MODELS[@]}"; do
    read -r member sum <<<"$entry"
    name="${member##*/}"
    mv -f "$model_dir/.fetch-$name.$$.tmp" "$model_dir/$name"
done

echo "fetch-models: installed and verified in $model_dir:"
for entry in "${MODELS[@]}"; do
    read -r member sum <<<"$entry"
    echo "  $model_dir/${member##*/}  sha256 $sum"
done
