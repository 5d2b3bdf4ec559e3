#!/bin/sh
# Runs the C shims under AddressSanitizer + LeakSanitizer over every fixture and every
# prefix of it (truncations at each byte). Any leak or memory error fails the run.
#   Scripts/check-codec-shims.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${TMPDIR:-/tmp}/mattingkit-check-codec-shims
rm -f "$out"
clang -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
    -I"$root/Sources/CPNG/include" -I"$root/Sources/CJPEG/include" $(pkg-config --cflags libpng16) \
    "$root/Scripts/check-codec-shims.c" "$root/Sources/CPNG/cpng.c" "$root/Sources/CJPEG/cjpeg.c" \
    $(pkg-config --libs libpng16) -ljpeg -lz -o "$out" 2>&1 | grep -v "Cannot export local symbol" || true
ASAN_OPTIONS=detect_leaks=1 "$out" "$root"/Tests/MattingImageTests/Fixtures/*.png "$root"/Tests/MattingImageTests/Fixtures/*.jpg
