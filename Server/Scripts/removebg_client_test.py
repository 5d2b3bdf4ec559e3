#!/usr/bin/env python3
"""A remove.bg client library from PyPI (`removebg`, 0.04) against matte-server.

The library has no base-URL setting: it posts to its module constant API_ENDPOINT, which
this test overrides to point at the server. It then checks the file the library saved is a
correct cut-out of the sample portrait (size, transparency where the background was, opaque
subject), for a file upload and for a base64 upload.

Usage: removebg_client_test.py --base-url http://127.0.0.1:PORT --photo PATH --api-key KEY
Exits non-zero on any failure.
"""
import argparse
import base64
import os
import shutil
import sys
import tempfile

from PIL import Image
import removebg
import removebg.removebg as removebg_module


def check_cutout(path, expect_size):
    image = Image.open(path)
    assert image.mode == "RGBA", f"{path}: mode {image.mode}, expected RGBA"
    assert image.size == expect_size, f"{path}: size {image.size}, expected {expect_size}"
    w, h = image.size
    alpha = image.getchannel("A")
    corner = [alpha.getpixel((x, y)) for x in range(0, w // 10) for y in range(0, h // 10)]
    subject = [alpha.getpixel((x, y)) for x in range(int(w * 0.4), int(w * 0.6)) for y in range(int(h * 0.7), int(h * 0.9))]
    corner_mean = sum(corner) / len(corner)
    subject_mean = sum(subject) / len(subject)
    assert corner_mean < 15, f"{path}: background corner alpha {corner_mean:.1f}, expected transparent"
    assert subject_mean > 240, f"{path}: subject alpha {subject_mean:.1f}, expected opaque"
    print(f"ok {os.path.basename(path)}: {image.size} {image.mode}, corner alpha {corner_mean:.1f}, subject alpha {subject_mean:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()

    removebg_module.API_ENDPOINT = args.base_url.rstrip("/") + "/v1.0/removebg"
    work = tempfile.mkdtemp(prefix="removebg-client-")
    try:
        photo = os.path.join(work, "portrait.png")
        shutil.copy(args.photo, photo)
        client = removebg.RemoveBg(args.api_key, os.path.join(work, "error.log"))
        # size="auto": the photo's own size (the library's default, "regular", is 0.25 MP).
        client.remove_background_from_img_file(photo, size="auto")
        check_cutout(photo + "_no_bg.png", Image.open(photo).size)

        with open(photo, "rb") as f:
            encoded = base64.b64encode(f.read()).decode("ascii")
        out = os.path.join(work, "b64.png")
        client.remove_background_from_base64_img(encoded, size="auto", new_file_name=out)
        check_cutout(out, Image.open(photo).size)

        # The library's default size, regular, is remove.bg's 0.25 MP.
        out = os.path.join(work, "regular.png")
        client.remove_background_from_base64_img(encoded, new_file_name=out)
        w, h = Image.open(out).size
        assert w * h <= 250_000, f"size=regular gave {w}x{h}"
        print(f"ok regular: {w}x{h}")

        # A wrong key: the library raises for the 403.
        bad = removebg.RemoveBg(args.api_key + "x", os.path.join(work, "error.log"))
        try:
            bad.remove_background_from_img_file(photo)
        except Exception as error:  # requests.HTTPError
            assert "403" in str(error), f"wrong key: {error}"
            print("ok wrong key: 403")
        else:
            raise AssertionError("a wrong key was accepted")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("removebg client: 4 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
