#!/usr/bin/env python3
"""Generates the codec test fixtures in Tests/MattingImageTests/Fixtures.

Regenerate with:
    python3 -m venv .venv && .venv/bin/pip install Pillow==13.0.0 numpy==2.4.6
    .venv/bin/python Scripts/make-codec-fixtures.py

Made with Python 3.11.7, Pillow 13.0.0, numpy 2.4.6 (Pillow's bundled libjpeg-turbo 3.2.0
writes the JPEGs; its Little CMS 2.19 makes the sRGB ICC profile). PNGs are written by the small encoder below (zlib + CRC by hand) so every
colour type, bit depth, filter type, Adam7 interlacing, APNG chunks and deliberately
broken files can be produced exactly; libpng is not involved, so the decoder is checked
against an independent writer.

Pixel values follow formulas that Tests/MattingImageTests/CodecFixtures.swift repeats,
so the tests know every expected value without reading it from a file:

    sample(x, y, c, bits)  = (3x + 5y + 7c + 11(x XOR y)) mod 2^bits            (bits <= 8)
    sample16(x, y, c)      = (4099x + 7919y + 21011c + 3(x XOR y)) mod 65536
    palette entry i        = (37i mod 256, 91i mod 256, 53i mod 256), alpha (67i + 5) mod 256
    JPEG blocks            = 16x16 flat blocks, colour index k = bx + 4 by (see block_colour)
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageCms

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "MattingImageTests", "Fixtures")
W, H = 13, 11  # odd sizes: partial bytes at low bit depths, every Adam7 pass non-trivial

def sample(x, y, c, bits):
    return (3 * x + 5 * y + 7 * c + 11 * (x ^ y)) % (1 << bits)

def sample16(x, y, c):
    return (4099 * x + 7919 * y + 21011 * c + 3 * (x ^ y)) % 65536

def palette_entry(i):
    return (37 * i % 256, 91 * i % 256, 53 * i % 256)

def palette_alpha(i):
    return (67 * i + 5) % 256

# --- a small PNG writer ------------------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

def pack_row(values, bits):
    if bits == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    if bits == 8:
        return bytes(values)
    out, acc, n = bytearray(), 0, 0
    for v in values:
        acc = (acc << bits) | v
        n += bits
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

def filter_rows(rows, bpp):
    """Filters rows cycling through all five filter types, as an encoder may."""
    out, prior = bytearray(), bytes(len(rows[0])) if rows else b""
    for index, row in enumerate(rows):
        kind = index % 5
        filtered = bytearray()
        for i, value in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            filtered.append((value - predictor) & 0xFF)
        out.append(kind)
        out += filtered
        prior = row
    return bytes(out)

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

def image_data(pixels, width, height, color_type, bits, interlaced):
    """pixels[y][x] is a tuple of samples. Returns the (uncompressed) filtered stream."""
    channels = CHANNELS[color_type]
    bpp = max(1, channels * bits // 8)
    if not interlaced:
        rows = [pack_row([s for x in range(width) for s in pixels[y][x]], bits) for y in range(height)]
        return filter_rows(rows, bpp)
    data = b""
    for x0, y0, dx, dy in ADAM7:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if len(xs) == 0 or len(ys) == 0:
            continue
        rows = [pack_row([s for x in xs for s in pixels[y][x]], bits) for y in ys]
        data += filter_rows(rows, bpp)
    return data

def png(width, height, color_type, bits, pixels, interlaced=False, before_idat=(), plte=None,
        trns=None, idat_pieces=2, after_idat=(), raw=None):
    ihdr = struct.pack(">IIBBBBB", width, height, bits, color_type, 0, 0, 1 if interlaced else 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for c in before_idat:
        out += c
    if plte is not None:
        out += chunk(b"PLTE", bytes(v for entry in plte for v in entry))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    stream = zlib.compress(raw if raw is not None else image_data(pixels, width, height, color_type, bits, interlaced), 9)
    step = max(1, (len(stream) + idat_pieces - 1) // idat_pieces)
    for i in range(0, len(stream), step):  # split IDAT: decoders must join the pieces
        out += chunk(b"IDAT", stream[i:i + step])
    for c in after_idat:
        out += c
    return out + chunk(b"IEND", b"")

def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

def pattern(channels, bits, width=W, height=H):
    if bits == 16:
        return [[tuple(sample16(x, y, c) for c in range(channels)) for x in range(width)] for y in range(height)]
    return [[tuple(sample(x, y, c, bits) for c in range(channels)) for x in range(width)] for y in range(height)]

def make_pngs():
    for color_type, name, depths in [(0, "gray", [1, 2, 4, 8, 16]), (4, "grayalpha", [8, 16]),
                                     (2, "rgb", [8, 16]), (6, "rgba", [8, 16])]:
        for bits in depths:
            save(f"png-{name}-{bits}.png", png(W, H, color_type, bits, pattern(CHANNELS[color_type], bits)))
    for name, color_type, bits in [("gray-1", 0, 1), ("gray-4", 0, 4), ("rgba-8", 6, 8), ("rgb-16", 2, 16),
                                   ("palette-2", 3, 2)]:
        plte = [palette_entry(i) for i in range(1 << bits)] if color_type == 3 else None
        save(f"png-{name}-interlaced.png",
             png(W, H, color_type, bits, pattern(CHANNELS[color_type], bits), interlaced=True, plte=plte))
    for bits in [1, 2, 4, 8]:
        plte = [palette_entry(i) for i in range(1 << bits)]
        save(f"png-palette-{bits}.png", png(W, H, 3, bits, pattern(1, bits), plte=plte))
    # tRNS shorter than the palette: entries past its end are opaque.
    plte = [palette_entry(i) for i in range(256)]
    save("png-palette-8-trns.png",
         png(W, H, 3, 8, pattern(1, 8), plte=plte, trns=bytes(palette_alpha(i) for i in range(100))))
    plte = [palette_entry(i) for i in range(16)]
    save("png-palette-4-trns.png",
         png(W, H, 3, 4, pattern(1, 4), plte=plte, trns=bytes(palette_alpha(i) for i in range(16))))
    # Colour-key transparency: gray value 40 and RGB (40, 47, 54) are transparent.
    save("png-gray-8-trns.png", png(W, H, 0, 8, pattern(1, 8), trns=struct.pack(">H", 40)))
    save("png-rgb-8-trns.png", png(W, H, 2, 8, pattern(3, 8), trns=struct.pack(">HHH", 40, 47, 54)))
    # gAMA (1.0) and an iCCP chunk must not change any sample value.
    gama = chunk(b"gAMA", struct.pack(">I", 100000))
    iccp = chunk(b"iCCP", b"fake\x00\x00" + zlib.compress(b"not really a profile" * 4))
    save("png-rgb-8-gamma.png", png(W, H, 2, 8, pattern(3, 8), before_idat=[gama, iccp]))
    # APNG: the default image (IDAT, also frame 0) is the pattern; frame 1 (fdAT) is its
    # inverse. A decoder that is not APNG-aware must return the default image.
    actl = chunk(b"acTL", struct.pack(">II", 2, 0))
    fctl0 = chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, W, H, 0, 0, 1, 10, 0, 0))
    fctl1 = chunk(b"fcTL", struct.pack(">IIIIIHHBB", 1, W, H, 0, 0, 1, 10, 0, 0))
    inverse = [[tuple(255 - v for v in px) for px in row] for row in pattern(4, 8)]
    frame1 = zlib.compress(image_data(inverse, W, H, 6, 8, False), 9)
    fdat = chunk(b"fdAT", struct.pack(">I", 2) + frame1)
    save("png-apng.png", png(W, H, 6, 8, pattern(4, 8), before_idat=[actl, fctl0], after_idat=[fctl1, fdat]))

def exif_tiff(orientation, big_endian):
    """TIFF data with one IFD0 entry: Orientation (0x0112, SHORT, count 1)."""
    e = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    entry = struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
    return head + struct.pack(e + "H", 1) + entry + struct.pack(e + "I", 0)

def stored_for(upright, orientation):
    """The stored pixels that display as `upright` (rows of tuples) under `orientation`,
    from the EXIF definition of where row 0 and column 0 belong."""
    h, w = len(upright), len(upright[0])
    sw, sh = (h, w) if orientation >= 5 else (w, h)
    def source(sx, sy):
        return {1: (sx, sy), 2: (w - 1 - sx, sy), 3: (w - 1 - sx, h - 1 - sy), 4: (sx, h - 1 - sy),
                5: (sy, sx), 6: (w - 1 - sy, sx), 7: (w - 1 - sy, h - 1 - sx), 8: (sy, h - 1 - sx)}[orientation]
    rows = []
    for sy in range(sh):
        row = []
        for sx in range(sw):
            x, y = source(sx, sy)
            row.append(upright[y][x])
        rows.append(row)
    return rows, sw, sh

def make_exif_pngs():
    # eXIf chunks (before IDAT): the decoder must return the upright pattern.
    for name, ct, bits, orientation, big in [("rgb-8-exif6", 2, 8, 6, True), ("gray-16-exif7", 0, 16, 7, False)]:
        stored, sw, sh = stored_for(pattern(CHANNELS[ct], bits), orientation)
        save(f"png-{name}.png", png(sw, sh, ct, bits, stored, before_idat=[chunk(b"eXIf", exif_tiff(orientation, big))]))

def make_bad_files():
    good = png(W, H, 6, 8, pattern(4, 8), idat_pieces=1)
    save("bad-truncated.png", good[: len(good) // 2])
    # IHDR declares 100000 x 100000 (valid CRC), then a tiny IDAT.
    huge = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 6, 0, 0, 0))
    huge += chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    save("bad-huge.png", huge)
    # A valid IDAT whose stored CRC is wrong.
    idat = good.index(b"IDAT")
    length = struct.unpack(">I", good[idat - 4:idat])[0]
    damaged = bytearray(good)
    damaged[idat + 4 + length] ^= 0x01
    save("bad-crc.png", bytes(damaged))
    # One flipped bit inside the compressed IDAT data, CRC recomputed: zlib notices.
    damaged = bytearray(good)
    damaged[idat + 10] ^= 0x01
    damaged[idat + 4 + length: idat + 8 + length] = struct.pack(">I", zlib.crc32(bytes(damaged[idat: idat + 4 + length])) & 0xFFFFFFFF)
    save("bad-idat-bit.png", bytes(damaged))
    # A valid CRC over an IDAT that is not a zlib stream.
    save("bad-idat.png", png(W, H, 6, 8, None, raw=b"", idat_pieces=1).replace(
        chunk(b"IDAT", zlib.compress(b"", 9)), chunk(b"IDAT", b"\x12\x34garbage, not zlib data")))
    with open(os.path.join(OUT, "bad-text.png"), "w") as f:
        f.write("This is a text file with a .png name.\n")
    save("bad-empty.png", b"")

def block_colour(k):
    """RGB of JPEG block k (16x16 flat blocks): saturated and mid colours, grays."""
    table = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (128, 128, 128),
             (255, 255, 0), (0, 255, 255), (255, 0, 255), (200, 120, 40), (40, 200, 120), (120, 40, 200)]
    return table[k % len(table)]

def cmyk_block(k):
    """CMYK ink amounts (0 = no ink) of block k of the CMYK fixtures."""
    table = [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 255), (0, 0, 0, 0), (0, 0, 0, 128),
             (128, 64, 0, 32), (10, 200, 90, 60), (255, 255, 0, 0), (0, 128, 255, 0), (64, 64, 64, 64), (200, 0, 100, 20)]
    return table[k % len(table)]

def make_jpegs():
    bw, bh = 4, 3  # 4 x 3 blocks of 16 x 16: 64 x 48 pixels
    rgb = np.zeros((bh * 16, bw * 16, 3), np.uint8)
    cmyk = np.zeros((bh * 16, bw * 16, 4), np.uint8)
    for by in range(bh):
        for bx in range(bw):
            rgb[by * 16:(by + 1) * 16, bx * 16:(bx + 1) * 16] = block_colour(bx + 4 * by)
            cmyk[by * 16:(by + 1) * 16, bx * 16:(bx + 1) * 16] = cmyk_block(bx + 4 * by)
    Image.fromarray(rgb).save(os.path.join(OUT, "jpeg-rgb-baseline.jpg"), quality=95)
    Image.fromarray(rgb).save(os.path.join(OUT, "jpeg-rgb-progressive.jpg"), quality=95, progressive=True)
    gray = np.zeros((48, 64), np.uint8)
    for by in range(3):
        for bx in range(4):
            gray[by * 16:(by + 1) * 16, bx * 16:(bx + 1) * 16] = (bx + 4 * by) * 23
    Image.fromarray(gray).save(os.path.join(OUT, "jpeg-gray.jpg"), quality=95)
    # Pillow writes CMYK the way Photoshop does: an Adobe APP14 marker and inverted samples.
    Image.fromarray(cmyk, "CMYK").save(os.path.join(OUT, "jpeg-cmyk-adobe.jpg"), quality=95)
    good = open(os.path.join(OUT, "jpeg-rgb-baseline.jpg"), "rb").read()
    save("bad-truncated.jpg", good[: len(good) * 2 // 3])
    # The first DHT's 16 code-length counts all set to 255: 4080 codes, more than 256.
    dht = good.index(b"\xff\xc4")
    broken = bytearray(good)
    broken[dht + 5: dht + 21] = b"\xff" * 16
    save("bad-huffman.jpg", bytes(broken))

def icc_with_padding_tag(profile, padding):
    """`profile` with one more (private, 'zpad') tag of `padding` bytes of 'data' type, so the
    profile is larger than one JPEG APP2 marker holds. Existing tags move by the 12-byte
    table entry; the header's size is updated. Little CMS must still open the result."""
    count = struct.unpack(">I", profile[128:132])[0]
    entries = [struct.unpack(">4sII", profile[132 + 12 * i: 144 + 12 * i]) for i in range(count)]
    body = profile[132 + 12 * count:]
    shifted = [(sig, off + 12, size) for sig, off, size in entries]
    end = 132 + 12 * (count + 1) + len(body)
    end += (-end) % 4
    tag = b"data" + b"\0" * 4 + struct.pack(">I", 0) + bytes((i * 7 + 3) % 256 for i in range(padding))
    table = struct.pack(">I", count + 1) + b"".join(struct.pack(">4sII", *e) for e in shifted)
    table += struct.pack(">4sII", b"zpad", end, len(tag))
    data = bytearray(profile[:128] + table + body)
    data += b"\0" * (end - len(data)) + tag
    data[0:4] = struct.pack(">I", len(data))
    data[84:100] = b"\0" * 16  # the profile ID (an MD5) no longer matches: 0 means "not computed"
    ImageCms.ImageCmsProfile(io.BytesIO(bytes(data)))  # raises if Little CMS cannot read it
    return bytes(data)

def make_icc_files():
    """ICC profiles in JPEG (one APP2 marker; split over three) and PNG (iCCP), and the raw
    profiles beside them, so the tests compare what MattingKit reads with what was written."""
    from PIL import ImageCms
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    big = icc_with_padding_tag(srgb, 150_000)  # > 2 × 65,519 bytes: three APP2 markers
    save("icc-srgb.icc", srgb)
    save("icc-srgb-padded.icc", big)
    rgb = np.zeros((24, 32, 3), np.uint8)
    for y in range(24):
        for x in range(32):
            rgb[y, x] = (x * 8, y * 10, (x + y) * 4)
    Image.fromarray(rgb).save(os.path.join(OUT, "jpeg-icc-srgb.jpg"), quality=95, icc_profile=srgb)
    Image.fromarray(rgb).save(os.path.join(OUT, "jpeg-icc-split.jpg"), quality=95, icc_profile=big)
    Image.fromarray(rgb).save(os.path.join(OUT, "png-icc-srgb.png"), icc_profile=srgb)
    # A gray JPEG that carries an RGB profile: the profile does not describe its pixels.
    Image.fromarray(rgb[:, :, 0]).save(os.path.join(OUT, "jpeg-icc-mismatch.jpg"), quality=95, icc_profile=srgb)

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_pngs()
    make_exif_pngs()
    make_bad_files()
    make_jpegs()
    make_icc_files()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes in {os.path.normpath(OUT)}")
