#!/usr/bin/env python3
"""Peak memory and time of `matte` (or `convert-image`, `enhance`) on large photos (issue 15):
binaries side by side, interleaved.

Every round runs each case with each binary in turn, so a burst of load hits them alike; the
table gives per case and binary the median peak RSS, wall and CPU time (user + system, from
/usr/bin/time) and whether the outputs are byte-identical to the first binary's.

Inputs (made once into out/bench-memory/ from the astronaut sample, Pillow bicubic):
  b1200.jpg      1200×1800 JPEG q92            b4000.jpg   4000×3000 JPEG q92
  b12000.jpg     12000×9000 JPEG q92           b16384.png  16384×16384 PNG, zlib level 1
  i12000.png     12000×9000 interlaced PNG     o12000.jpg  b12000.jpg's pixels turned a quarter,
                                                            tagged EXIF orientation 6
  t12000.png     a trimap for b12000.jpg (the sample's selfie mask, upscaled, band ±2 % wide)
  t6-12000.png   t12000.png's pixels turned a quarter, tagged EXIF orientation 6 (PNG eXIf)

Cases: NAME:INPUT:EXTRA-ARGUMENTS, for example "12k:b12000.jpg:" or "12k-enhance:b12000.jpg:--enhance";
the trimap's path is written {trimap} ({trimap6} for the turned one), {preview} stands for
a preview sheet's path in the run's output folder (compared too), and {guided} for a guided
filter and an erosion (`--operations`, JSON). Every run writes a PNG cut-out and the mask (a
.jpg cut-out when EXTRA has `-o .jpg`).

With --program convert-image or enhance the binaries are that program's: each run converts
(or enhances) INPUT into one file, NAME.png (NAME.jpg when EXTRA has `-o .jpg`), with EXTRA
passed on; --threads is not passed.

With --server, each binary is a `matte-server` (its PATH may be followed by server options,
for example "whole=Server/.build/release/matte-server --strips-above 2000000000"): a fresh
server per run (`--jobs 1 --threads THREADS`), one upload POSTed to /v1.0/removebg with EXTRA as
form fields (a=b&c=d, for example "crop=true&bg_color=81d4fa"); the peak RSS is the server's
VmHWM (model loading included) and the CPU time its user + system time during the request
(/proc, read before and after it); the answer's body is the file compared.

Usage (Pillow needed; after Scripts/fetch-sample.sh; binaries built with
`swift build -c release --product matte` and copied aside):
    python3 Scripts/bench-memory.py --binary before=/tmp/matte-before --binary after=.build/release/matte \\
        [--rounds 3] [--cases default|all|NAME:INPUT:EXTRA,...] [--threads 2] [--server]
"""
import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(ROOT, "out", "bench-memory")

DEFAULT_CASES = [
    "1200:b1200.jpg:", "4000:b4000.jpg:", "12k:b12000.jpg:", "16k-png:b16384.png:",
]
ALL_CASES = DEFAULT_CASES + [
    "12k-jpeg-out:b12000.jpg:-o .jpg", "12k-interlaced:i12000.png:", "12k-orientation-6:o12000.jpg:",
    "12k-enhance:b12000.jpg:--enhance", "12k-trimap:b12000.jpg:--trimap {trimap}",
    "12k-trimap-guided:b12000.jpg:--trimap {trimap} --operations {guided}",
    "12k-preview:b12000.jpg:--preview {preview}", "12k-trimap-6:b12000.jpg:--trimap {trimap6}",
]
# `{guided}` in EXTRA: a radius-8 guided filter then a 12 px erosion (`matte --operations`).
GUIDED = '[{"guidedFilter":{"radius":8,"epsilon":0.0001}},{"erode":{"radius":12}}]'



def sample_photo():
    cache = os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit")
    path = os.path.join(cache, "samples", "astronaut.png")
    if not os.path.exists(path):
        sys.exit(f"bench-memory.py: no sample photo at {path}: run Scripts/fetch-sample.sh")
    return path


def make_inputs(names):
    from PIL import Image
    os.makedirs(WORK, exist_ok=True)
    photo = Image.open(sample_photo()).convert("RGB")
    makers = {
        "b1200.jpg": lambda p: photo.resize((1200, 1800), Image.BICUBIC).save(p, quality=92),
        "b4000.jpg": lambda p: photo.resize((4000, 3000), Image.BICUBIC).save(p, quality=92),
        "b12000.jpg": lambda p: photo.resize((12000, 9000), Image.BICUBIC).save(p, quality=92),
        "b16384.png": lambda p: photo.resize((16384, 16384), Image.BICUBIC).save(p, compress_level=1),
        "i12000.png": lambda p: interlaced(photo.resize((12000, 9000), Image.BICUBIC), p),
        "o12000.jpg": lambda p: turned(photo.resize((12000, 9000), Image.BICUBIC), p),
        "t12000.png": lambda p: trimap(p),
        "t6-12000.png": lambda p: turned_trimap(p),
    }
    for name in names:
        path = os.path.join(WORK, name)
        if not os.path.exists(path):
            print(f"# making {name}", file=sys.stderr)
            root, extension = os.path.splitext(path)
            makers[name](root + ".part" + extension)
            os.replace(root + ".part" + extension, path)


def interlaced(image, path):
    """An Adam7 PNG: Pillow cannot write one, so ask pypng if present, else say how."""
    try:
        import png  # pypng
    except ImportError:
        sys.exit("bench-memory.py: the interlaced input needs pypng (pip install pypng)")
    width, height = image.size
    rows = (image.tobytes()[y * width * 3:(y + 1) * width * 3] for y in range(height))
    with open(path, "wb") as f:
        png.Writer(width, height, greyscale=False, interlace=True, compression=1).write(f, rows)


def turned(image, path):
    """The upright picture stored a quarter turn anticlockwise with EXIF orientation 6, so a
    reader that applies the tag sees `image` again."""
    from PIL import Image
    exif = Image.Exif()
    exif[0x0112] = 6
    image.transpose(Image.Transpose.ROTATE_90).save(path, quality=92, exif=exif.tobytes())


def trimap(path):
    """0 / 128 / 255 from the sample's rough subject (darker than its light backdrop),
    drawn at the sample's 512×512 with a ±4 px unknown band, then scaled to 12000×9000."""
    from PIL import Image, ImageFilter
    small = Image.open(sample_photo()).convert("L")
    inside = small.point(lambda v: 255 if v < 160 else 0).filter(ImageFilter.MedianFilter(9))
    grown, shrunk = inside.filter(ImageFilter.MaxFilter(9)), inside.filter(ImageFilter.MinFilter(9))
    tri = grown.point(lambda v: 128 if v else 0)
    tri.paste(255, mask=shrunk)
    tri.resize((12000, 9000), Image.NEAREST).save(path, compress_level=1)


def turned_trimap(path):
    """t12000.png stored a quarter turn anticlockwise with EXIF orientation 6 (an eXIf chunk),
    so a reader that applies the tag sees t12000.png again."""
    from PIL import Image
    make_inputs(["t12000.png"])
    exif = Image.Exif()
    exif[0x0112] = 6
    upright = Image.open(os.path.join(WORK, "t12000.png"))
    upright.transpose(Image.Transpose.ROTATE_90).save(path, compress_level=1, exif=exif.tobytes())


def run(binary, case, threads, out, program="matte"):
    name, source, extra = case.split(":", 2)
    preview = os.path.join(out, name + "-preview.png")
    extra = (extra.replace("{trimap}", os.path.join(WORK, "t12000.png")).replace("{guided}", GUIDED)
             .replace("{trimap6}", os.path.join(WORK, "t6-12000.png")).replace("{preview}", preview).split())
    cutout = os.path.join(out, name + (".jpg" if "-o" in extra else ".png"))
    if "-o" in extra:
        extra = [a for a in extra if a not in ("-o", ".jpg")]
    mask = os.path.join(out, name + "-mask.png")
    if program != "matte":
        command = ["/usr/bin/time", "-f", "bench-memory-time: %U %S %M", binary, os.path.join(WORK, source), cutout] + extra
        mask = None
    else:
        command = ["/usr/bin/time", "-f", "bench-memory-time: %U %S %M", binary, os.path.join(WORK, source),
                   "-o", cutout, "--save-mask", mask, "--threads", str(threads)] + extra
    start = time.perf_counter()
    child = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"bench-memory.py: {' '.join(command)} failed ({child.returncode}):\n{child.stderr.strip()}")
    line = next(l for l in reversed(child.stderr.splitlines()) if l.startswith("bench-memory-time:"))
    user, system, kib = line.split()[1:]
    return wall, float(user) + float(system), int(kib) / 1024, [f for f in (cutout, mask) if f] + ([preview] if preview in extra else [])


def run_server(binary, case, threads, out):
    import shlex
    import signal
    import socket
    import urllib.request
    import uuid
    name, source, extra = case.split(":", 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = shlex.split(binary) + ["--port", str(port), "--jobs", "1", "--threads", str(threads),
                                     "--max-megapixels", "268", "--max-upload-mb", "1024", "--timeout", "3600"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"bench-memory.py: {' '.join(command)} exited:\n{server.stderr.read()}")
                time.sleep(0.1)
        fields = dict(kv.split("=", 1) for kv in extra.split("&") if kv)
        boundary = uuid.uuid4().hex
        body = bytearray()
        for key, value in fields.items():
            body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n".encode()
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"image_file\"; filename=\"{source}\"\r\n\r\n".encode()
        body += open(os.path.join(WORK, source), "rb").read() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(base + "/v1.0/removebg", data=bytes(body), method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        def cpu_seconds():
            with open(f"/proc/{server.pid}/stat") as f:
                times = f.read().rsplit(")", 1)[1].split()
            return (int(times[11]) + int(times[12])) / os.sysconf("SC_CLK_TCK")
        started_cpu = cpu_seconds()
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=3600) as response:
                answer, kind = response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            sys.exit(f"bench-memory.py: {case}: {error.code} {error.read()[:300]!r}")
        wall = time.perf_counter() - start
        with open(f"/proc/{server.pid}/status") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
        cpu = cpu_seconds() - started_cpu
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    suffix = {"image/png": ".png", "image/jpeg": ".jpg", "application/zip": ".zip"}.get(kind, ".bin")
    path = os.path.join(out, name + suffix)
    with open(path, "wb") as f:
        f.write(answer)
    return wall, cpu, kib / 1024, [path]


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", required=True,
                        help="NAME=PATH of a binary of --program (first: reference)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="default", help="default, all, or NAME:INPUT:EXTRA,…")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--program", default="matte", choices=["matte", "convert-image", "enhance"],
                        help="which program the binaries are (default matte)")
    parser.add_argument("--server", action="store_true", help="the binaries are matte-server; EXTRA is form fields")
    args = parser.parse_args()
    binaries = [b.split("=", 1) for b in args.binary]
    cases = {"default": DEFAULT_CASES, "all": ALL_CASES}.get(args.cases) or args.cases.split(",")
    needed = ({c.split(":")[1] for c in cases} | ({"t12000.png"} if any("{trimap}" in c for c in cases) else set())
              | ({"t6-12000.png"} if any("{trimap6}" in c for c in cases) else set()))
    make_inputs(sorted(needed))
    results = {}
    loads = []
    for r in range(args.rounds):
        for case in cases:
            for name, path in binaries:
                out = os.path.join(WORK, "out-" + name)
                os.makedirs(out, exist_ok=True)
                loads.append(load_average())
                if args.server:
                    wall, cpu, peak, files = run_server(path, case, args.threads, out)
                else:
                    wall, cpu, peak, files = run(path, case, args.threads, out, args.program)
                results.setdefault((case, name), []).append((wall, cpu, peak, files))
                print(f"# round {r + 1} {case} {name}: wall {wall:.2f} s, cpu {cpu:.2f} s, peak {peak:.0f} MiB",
                      file=sys.stderr)
    print(f"load average during the runs: {min(loads)}–{max(loads)}")
    print("| case | binary | peak RSS (MiB) | wall (s) | CPU (s) | CPU ÷ first | files as the first's |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for case in cases:
        first = None
        for name, _ in binaries:
            runs = results[(case, name)]
            peak = statistics.median(r[2] for r in runs)
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            if first is None:
                first, same = (cpu, runs[-1][3]), "—"
            else:
                same = "identical" if all(filecmp.cmp(a, b, shallow=False) for a, b in zip(first[1], runs[-1][3])) else "differ"
            print(f"| {case.split(':')[0]} | {name} | {peak:.0f} | {wall:.1f} | {cpu:.1f} | {cpu / first[0]:.2f} | {same} |")


if __name__ == "__main__":
    main()
