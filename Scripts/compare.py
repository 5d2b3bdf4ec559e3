#!/usr/bin/env python3
"""One ratio table: MattingKit against the reference tools, on the same inputs, in one run.

Areas (each interleaved, ours then the reference, for --rounds rounds, so a burst of load on
this shared machine hits both alike; every figure is a median):

  gemm      kernel-bench GEMM vs numpy float32 matmul (OpenBLAS, default core detection with
            OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset; and OPENBLAS_CORETYPE=SkylakeX, the
            AVX-512 kernels, which die with SIGILL on a CPU without AVX-512)
  codecs    JPEG q95 / RGBA PNG decode and encode, 1200x1800: codec-timer vs Pillow and OpenCV
  selfie    the default model: run-model (model only) vs MediaPipe's whole solution call
  onnx      a fixture UNet at 512x512: run-model vs onnxruntime (CPU provider)
  models    the real architectures of Scripts/make-architectures.py (random weights) at the sizes
            users run them: U²-Netp and U²-Net 320², ISNet 1024², MODNet 512², the ViT and the
            Swin/BiRefNet-like segmenters 512²; run-model vs onnxruntime (CPU provider, default
            graph optimisations), plus the top operator kinds of `run-model --profile`
            (share of the summed step medians); needs only onnx, onnxruntime and numpy
  refine    closed-form alpha and multi-level foreground on a 1200x1800 synthetic composite
            with known alpha: refine-bench vs pymatting estimate_alpha_cf / estimate_foreground_ml
            (SAD against the truth is printed next to each time)
  e2e       end to end on the same synthetic image and trimap: `matte --trimap` (decode, solve,
            foreground, postprocess, encode RGBA PNG + mask, write) vs Pillow decode + pymatting
            cf + ml + Pillow encode of the same two PNGs; and `matte` with the default model on a
            1200x1800 and a 4000x3000 photo (the sample upscaled), which no reference tool does
            alone: wall, CPU and peak RSS only

The speed ratio is ours / reference throughput: above 1 MattingKit is faster.

Environment (one venv for every reference; versions as measured in Docs/Benchmarks.md):
    python3.11 -m venv /tmp/cmp-venv
    /tmp/cmp-venv/bin/pip install mediapipe==0.10.14 onnx==1.22.0 onnxruntime==1.32.0 numpy==2.4.6 \\
        pymatting==1.1.16 scipy==1.17.1 numba==0.68.1 Pillow opencv-python-headless threadpoolctl
Usage (from the repository root, after Scripts/fetch-models.sh and Scripts/fetch-sample.sh):
    /tmp/cmp-venv/bin/python Scripts/compare.py [--rounds 3] [--only gemm,codecs,...] [--markdown]
        [--json out/compare/compare.json] [--skip-build]
Inputs and outputs go to out/compare/ (ignored by git).
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:
    sys.exit("compare.py: numpy is missing; run it with the venv from this script's header (--help shows it)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RELEASE = os.path.join(ROOT, ".build", "release")
WORK = os.path.join(ROOT, "out", "compare")
AREAS = ["gemm", "codecs", "selfie", "onnx", "models", "refine", "e2e"]


def load(script):
    """One of the per-area bench scripts, imported as a module (their names have hyphens)."""
    spec = importlib.util.spec_from_file_location(script.replace("-", "_"), os.path.join(HERE, script + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Table:
    """Rows of (area, case, ours, reference tool, reference, speed ratio, note)."""

    def __init__(self):
        self.rows = []

    def add(self, area, case, ours, tool, reference, ratio, note=""):
        self.rows.append(dict(area=area, case=case, ours=ours, tool=tool, reference=reference,
                              ratio=ratio, note=note))
        print(f"# {area}: {case}: ours {ours}, {tool} {reference}, ratio {fmt_ratio(ratio)} {note}",
              file=sys.stderr, flush=True)

    def print(self, markdown):
        header = ["area", "case", "MattingKit", "reference", "reference figure", "speed ratio", "note"]
        cells = [[r["area"], r["case"], r["ours"], r["tool"], r["reference"], fmt_ratio(r["ratio"]), r["note"]]
                 for r in self.rows]
        if markdown:
            print("| " + " | ".join(header) + " |")
            print("| --- | --- | ---: | --- | ---: | ---: | --- |")
            for c in cells:
                print("| " + " | ".join(c) + " |")
        else:
            widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
            print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
            for c in cells:
                print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


def fmt_ratio(ratio):
    return f"{ratio:.2f}×" if isinstance(ratio, float) else "–"


def ms(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def run_measured(command, env=None):
    """(wall s, CPU s, peak RSS MiB, stdout, stderr) of one child.

    Peak RSS and CPU come from /usr/bin/time, not from this process's wait4: on Linux a
    child's ru_maxrss starts from its parent's resident size at fork, which here is a Python
    process holding pymatting's arrays.
    """
    marker = "compare.py-time:"
    start = time.perf_counter()
    child = subprocess.run(["/usr/bin/time", "-f", marker + " %U %S %M"] + command, capture_output=True, text=True,
                           env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{child.stderr.strip()}")
    lines = child.stderr.splitlines()
    user, system, kib = next(line for line in reversed(lines) if line.startswith(marker)).split()[1:]
    err = "\n".join(line for line in lines if not line.startswith(marker))
    return wall, float(user) + float(system), int(kib) / 1024, child.stdout, err


# ---------------------------------------------------------------------------------- inputs

def sample_photo():
    cache = os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit")
    path = os.path.join(cache, "samples", "astronaut.png")
    if not os.path.exists(path):
        sys.exit(f"no sample photo at {path}: run Scripts/fetch-sample.sh")
    return path


def make_photos():
    """The sample portrait upscaled (Lanczos) to 1200x1800 (cropped to 2:3) and 4000x3000, JPEG q95."""
    from PIL import Image
    paths = {}
    sample = Image.open(sample_photo()).convert("RGB")
    for name, (w, h) in {"portrait-1200x1800": (1200, 1800), "photo-4000x3000": (4000, 3000)}.items():
        path = os.path.join(WORK, name + ".jpg")
        if not os.path.exists(path):
            # Crop the square sample to the target aspect ratio around its centre, then upscale.
            side = sample.width
            cw, ch = (side, side * h // w) if h <= w else (side * w // h, side)
            left, top = (side - cw) // 2, (side - ch) // 2
            sample.crop((left, top, left + cw, top + ch)).resize((w, h), Image.LANCZOS).save(
                path, quality=95, subsampling="4:2:0")
        paths[name] = path
    return paths


def make_refine_inputs():
    """bench-refine's 1200x1800 composite (known alpha, 8.35 % unknown), as .npy and PNG."""
    from PIL import Image
    folder = os.path.join(WORK, "refine")
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(os.path.join(folder, "trimap.png")):
        fixtures = load("make-refine-fixtures")
        image8, alpha_true, trimap, fg_true = fixtures.make_composite(
            1800, 1200, seed=3, strands=250, band=6, veil_scale=0.5)
        np.save(os.path.join(folder, "image.npy"), image8)
        np.save(os.path.join(folder, "trimap.npy"), trimap)
        np.save(os.path.join(folder, "alpha-true.npy"), alpha_true)
        np.save(os.path.join(folder, "foreground-true.npy"), fg_true)
        Image.fromarray(image8, "RGB").save(os.path.join(folder, "image.png"), compress_level=2)
        Image.fromarray(trimap, "L").save(os.path.join(folder, "trimap.png"))
    return folder


def make_codec_inputs(refine_folder):
    """photo-q95.jpg (the composite, Pillow q95 4:2:0) and photo-rgba.png (composite + true alpha)."""
    from PIL import Image
    folder = os.path.join(WORK, "codecs")
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(os.path.join(folder, "photo-rgba.png")):
        image8 = np.load(os.path.join(refine_folder, "image.npy"))
        alpha = np.load(os.path.join(refine_folder, "alpha-true.npy"))
        rgba = np.dstack([image8, np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
        Image.fromarray(image8, "RGB").save(os.path.join(folder, "photo-q95.jpg"), quality=95, subsampling="4:2:0")
        Image.fromarray(rgba, "RGBA").save(os.path.join(folder, "photo-rgba.png"), compress_level=2)
    return folder


# ---------------------------------------------------------------------------------- areas

def area_gemm(table, rounds, quick):
    gemm = load("bench-gemm")
    repeat = 5 if quick else 11
    # Default core detection: both overrides of this machine's environment go, together.
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(key, None)
    for shape in [(1024, 1024, 1024), (4096, 256, 2304)]:
        for threads in (1, 2):
            ours, blas, skx = [], [], []
            for _ in range(rounds):
                rows = gemm.run_ours(["--repeat", str(repeat), "--threads", str(threads), "--gemm", ",".join(map(str, shape))])
                ours.append(float(next(iter(rows.values()))["gflops"]))
                blas.append(gemm.run_numpy(shape, threads, repeat))
                skx.append(gemm.run_numpy(shape, threads, repeat, coretype="SkylakeX"))
            o = statistics.median(ours)
            case = f"sgemm {'×'.join(map(str, shape))}, {threads} thread{'s' if threads > 1 else ''}"
            if all(isinstance(b, tuple) for b in blas):
                b = statistics.median(x[0] for x in blas)
                table.add("gemm", case, f"{o:.1f} GFLOP/s", "numpy/OpenBLAS (default)", f"{b:.1f} GFLOP/s", o / b)
            if all(isinstance(s, tuple) for s in skx):
                s = statistics.median(x[0] for x in skx)
                table.add("gemm", case, f"{o:.1f} GFLOP/s", "numpy/OpenBLAS SkylakeX", f"{s:.1f} GFLOP/s", o / s)
            else:
                failure = next(x for x in skx if isinstance(x, str))
                table.add("gemm", case, f"{o:.1f} GFLOP/s", "numpy/OpenBLAS SkylakeX", failure, None,
                          "no AVX-512 on this CPU")


def area_codecs(table, rounds, quick, refine_folder):
    codecs = load("bench-codecs")
    codecs.FOLDER = make_codec_inputs(refine_folder)
    runs = 3 if quick else 5
    timer = codecs.build_timer()
    cases, _ = codecs.python_cases()
    samples = {name: ([], [], []) for name in cases}
    for _ in range(rounds):
        ours = codecs.mattingkit_round(timer, runs)
        for name, (pillow, opencv) in cases.items():
            samples[name][0].extend(ours[name])
            samples[name][1].extend(codecs.sample(pillow, runs))
            samples[name][2].extend(codecs.sample(opencv, runs))
    for name, (ours, pillow, opencv) in samples.items():
        o = statistics.median(ours)
        for tool, times in (("Pillow", pillow), ("OpenCV", opencv)):
            r = statistics.median(times)
            table.add("codecs", f"{name} 1200×1800", ms(o), tool, ms(r), r / o)


def area_selfie(table, rounds, quick):
    selfie = load("bench-selfie")
    repeat = 30 if quick else 100
    cache = os.environ.get("MATTINGKIT_MODEL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit", "models")
    model = os.path.join(cache, "selfie_segmentation.tflite")
    tensor = "Tests/MattingImportersTests/Fixtures/MediaPipe/astronaut_portrait_input.npy"
    mp, our1, our2 = [], [], []
    for _ in range(rounds):
        mp.append(statistics.median(selfie.mediapipe_times(sample_photo(), repeat, "")))
        our1.append(selfie.ours(model, tensor, repeat, 1))
        our2.append(selfie.ours(model, tensor, repeat, 2))
    m = statistics.median(mp)
    for threads, ours in ((1, our1), (2, our2)):
        o = statistics.median(ours)
        table.add("selfie", f"selfie 256×256, model only, {threads} thread{'s' if threads > 1 else ''}", ms(o),
                  "MediaPipe 0.10.14 solution", ms(m), m / o, "MediaPipe: whole process() call incl. resizes")


def area_onnx(table, rounds, quick):
    onnx_bench = load("bench-onnx")
    repeat = 5 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        path, input_name, shape = onnx_bench.resized_copy("unet_opset11", 512, tmp)
        x = np.random.default_rng(512).random(shape, dtype=np.float32)
        input_path = os.path.join(tmp, "input.npy")
        np.save(input_path, x)
        for threads in (1, 2):
            ort_times, our_times, err = [], [], 0.0
            for i in range(rounds):
                out_dir = os.path.join(tmp, f"out{threads}-{i}")
                our_times.append(onnx_bench.time_ours(os.path.join(RELEASE, "run-model"), path, input_name,
                                                      input_path, threads, repeat, out_dir)[0] / 1e3)
                ort_median, _, ort_out, _ = onnx_bench.time_ort(path, {input_name: x}, threads, repeat)
                ort_times.append(ort_median / 1e3)
                ours = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
                err = max(err, float(np.abs(ours - ort_out[0]).max() / max(np.abs(ort_out[0]).max(), 1e-6)))
            o, r = statistics.median(our_times), statistics.median(ort_times)
            table.add("onnx", f"UNet fixture 512×512, {threads} thread{'s' if threads > 1 else ''}", ms(o),
                      "onnxruntime 1.32 CPU", ms(r), r / o, f"max rel. diff {err:.1e}")


def area_refine(table, rounds, quick, folder):
    import pymatting
    image8 = np.load(os.path.join(folder, "image.npy"))
    image = image8.astype(np.float64) / 255
    trimap = np.load(os.path.join(folder, "trimap.npy")).astype(np.float64) / 255
    truth = np.load(os.path.join(folder, "alpha-true.npy"))
    fg_true = np.load(os.path.join(folder, "foreground-true.npy"))
    band = (truth > 0.05) & (truth < 0.95)
    # Warm-up: numba compiles on first use.
    small = load("make-refine-fixtures").make_composite(64, 64, seed=1)
    pymatting.estimate_alpha_cf(small[0] / 255.0, small[2] / 255.0)
    pymatting.estimate_foreground_ml(small[0] / 255.0, small[1])
    ours_cf, ours_fg, ref_cf, ref_fg = [], [], [], []
    for _ in range(rounds):
        _, _, _, out, _ = run_measured([os.path.join(RELEASE, "refine-bench"), folder, "1"])
        for line in out.splitlines():
            if line.startswith("closed-form alpha:"):
                ours_cf.append((float(line.split("median ")[1].split(" s")[0]), float(line.split("SAD ")[1].split(";")[0])))
            if line.startswith("foreground (ml):"):
                ours_fg.append((float(line.split("median ")[1].split(" s")[0]),
                                float(line.split("F_true| ")[1].split(" ")[0])))
        start = time.perf_counter()
        alpha = pymatting.estimate_alpha_cf(image, trimap)
        ref_cf.append((time.perf_counter() - start, float(np.abs(alpha - truth).sum())))
        start = time.perf_counter()
        fg = pymatting.estimate_foreground_ml(image, truth)
        ref_fg.append((time.perf_counter() - start, float(np.abs(fg - fg_true)[band].mean())))
    o, r = statistics.median(t for t, _ in ours_cf), statistics.median(t for t, _ in ref_cf)
    table.add("refine", "closed-form alpha 1200×1800, 8.35 % unknown", ms(o), "pymatting 1.1.16 cf", ms(r), r / o,
              f"SAD vs truth: ours {ours_cf[-1][1]:.0f}, pymatting {ref_cf[-1][1]:.0f}")
    o, r = statistics.median(t for t, _ in ours_fg), statistics.median(t for t, _ in ref_fg)
    table.add("refine", "foreground (multi-level) 1200×1800", ms(o), "pymatting 1.1.16 ml", ms(r), r / o,
              f"edge-band mean abs(F − F_true): ours {ours_fg[-1][1]:.4f}, pymatting {ref_fg[-1][1]:.4f}")


def reference_pipeline(image_path, trimap_path, out_png, out_mask):
    """Pillow decode, pymatting cf + ml, Pillow encode: what a Python user would write."""
    import pymatting
    from PIL import Image
    image = np.asarray(Image.open(image_path).convert("RGB")).astype(np.float64) / 255
    trimap = np.asarray(Image.open(trimap_path).convert("L")).astype(np.float64) / 255
    alpha = pymatting.estimate_alpha_cf(image, trimap)
    fg = pymatting.estimate_foreground_ml(image, alpha)
    a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.dstack([np.clip(fg * 255 + 0.5, 0, 255).astype(np.uint8), a8])
    Image.fromarray(rgba, "RGBA").save(out_png, compress_level=2)
    Image.fromarray(a8, "L").save(out_mask, compress_level=2)


def area_e2e(table, rounds, quick, folder, photos):
    matte = os.path.join(RELEASE, "matte")
    image, trimap = os.path.join(folder, "image.png"), os.path.join(folder, "trimap.png")
    out = os.path.join(WORK, "e2e")
    os.makedirs(out, exist_ok=True)
    reference_pipeline(image, trimap, os.path.join(out, "ref.png"), os.path.join(out, "ref-mask.png"))  # warm-up
    # Ours with the trimap route's default solver (exact: the closed-form minimiser, as pymatting)
    # and with `--solver fast` (stopped at 1e-3), interleaved with the reference.
    ours, rss, ref = {"exact": [], "fast": []}, {"exact": [], "fast": []}, []
    for _ in range(rounds):
        for solver in ours:
            wall, _, peak, _, _ = run_measured([matte, image, "--trimap", trimap, "--preset", "product", "--solver", solver,
                                                "-o", os.path.join(out, "ours.png"), "--save-mask", os.path.join(out, "ours-mask.png")])
            ours[solver].append(wall)
            rss[solver].append(peak)
        start = time.perf_counter()
        reference_pipeline(image, trimap, os.path.join(out, "ref.png"), os.path.join(out, "ref-mask.png"))
        ref.append(time.perf_counter() - start)
    r = statistics.median(ref)
    for solver, label in (("exact", "default: exact solve"), ("fast", "--solver fast")):
        o = statistics.median(ours[solver])
        table.add("e2e", f"1200×1800 PNG + trimap → RGBA PNG + mask ({label})", ms(o), "Pillow + pymatting cf + ml", ms(r), r / o,
                  f"ours peak RSS {statistics.median(rss[solver]):.0f} MiB (process, incl. start-up)")
    for name, path in photos.items():
        walls, cpus, peaks, stages = [], [], [], ""
        for _ in range(rounds):
            wall, cpu, peak, _, err = run_measured([matte, path, "-o", os.path.join(out, name + ".png"), "--save-mask",
                                                    os.path.join(out, name + "-mask.png"), "--timings"])
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
            stages = err.strip().splitlines()[-1]
        table.add("e2e", f"{name.split('-')[1].replace('x', '×')} JPEG, default model → RGBA PNG + mask", ms(statistics.median(walls)),
                  "—", "—", None, f"CPU {statistics.median(cpus):.2f} s, peak RSS {statistics.median(peaks):.0f} MiB")
        print(f"# {name} stages (last run): {stages}", file=sys.stderr)


# ---------------------------------------------------------------------------------- main

def profile_top_kinds(path, input_name, input_path, threads, out_dir, count=3):
    """The `count` operator kinds with the most time in `run-model --profile`, as "kind NN %"."""
    r = subprocess.run([os.path.join(RELEASE, "run-model"), path, "--input", f"{input_name}={input_path}",
                        "--output-dir", out_dir, "--threads", str(threads), "--profile", "--repeat", "3"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"run-model --profile failed: {r.stderr.strip()}")
    total, kinds = None, []
    for line in r.stdout.splitlines():
        if line.startswith("profile: sum of step medians"):
            total = float(line.split()[5]) * 1e3
        parts = line.split()
        # Per-kind totals: "  1234.5 us  conv (42)"; per-step lines have no "(count)".
        if total and len(parts) == 4 and parts[1] == "us" and parts[3].startswith("(") and parts[3].endswith(")"):
            kinds.append((float(parts[0]), parts[2]))
    return ", ".join(f"{k} {100 * t / total:.0f} %" for t, k in kinds[:count])


def area_models(table, rounds, quick, names=None, thread_counts=(1, 2)):
    onnx_bench = load("bench-onnx")
    arch = load("make-architectures")
    repeat = 3 if quick else 5
    folder = os.path.join(WORK, "models")
    os.makedirs(folder, exist_ok=True)
    for name in names or list(arch.ARCHITECTURES):
        make, size = arch.ARCHITECTURES[name][:2]
        model, input_name = make(size)
        path = os.path.join(folder, f"{name}_{size}.onnx")
        arch.onnx.save_model(model, path)
        x = np.random.default_rng(size).random((1, 3, size, size), dtype=np.float32)
        input_path = os.path.join(folder, f"{name}_{size}_input.npy")
        np.save(input_path, x)
        for threads in thread_counts:
            ort_times, our_times, ort_cpu, our_cpu, err = [], [], [], [], 0.0
            out_dir = os.path.join(folder, f"out_{name}_{threads}")
            for _ in range(rounds):
                our_median, _, our_cpu_ms = onnx_bench.time_ours(os.path.join(RELEASE, "run-model"), path, input_name,
                                                                 input_path, threads, repeat, out_dir)
                our_times.append(our_median / 1e3)
                our_cpu.append(our_cpu_ms)
                ort_median, _, ort_out, ort_cpu_ms = onnx_bench.time_ort(path, {input_name: x}, threads, repeat)
                ort_times.append(ort_median / 1e3)
                ort_cpu.append(ort_cpu_ms)
            for i, o in enumerate(arch.onnxruntime_output_names(path)):
                ours = np.load(os.path.join(out_dir, o.replace("/", "_") + ".npy"))
                err = max(err, float(np.abs(ours - ort_out[i]).max() / max(np.abs(ort_out[i]).max(), 1e-6)))
            top = profile_top_kinds(path, input_name, input_path, threads, out_dir)
            o, r = statistics.median(our_times), statistics.median(ort_times)
            # Process CPU per run: on a shared machine, what a 1-thread run would take on an idle one.
            cpu = f"CPU {statistics.median(our_cpu):.0f} vs {statistics.median(ort_cpu):.0f} ms " \
                  f"({statistics.median(ort_cpu) / statistics.median(our_cpu):.2f}×); "
            table.add("models", f"{name} {size}², {threads} thread{'s' if threads > 1 else ''}", ms(o),
                      "onnxruntime 1.32 CPU", ms(r), r / o, f"{cpu}max rel. diff {err:.1e}; ours: {top}")


def build(skip):
    if skip:
        return
    # One product per call: given several --product flags, swift build builds only the last.
    for product in ["kernel-bench", "run-model", "refine-bench", "matte"]:
        subprocess.run(["swift", "build", "-c", "release", "--product", product],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = open("/proc/cpuinfo").read()
    isa = "AVX-512" if " avx512f" in flags else ("AVX2+FMA" if " avx2" in flags and " fma" in flags else "SSE")
    return f"{cpu}, {os.cpu_count()} cores, {isa}; {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison (median)")
    parser.add_argument("--only", default=",".join(AREAS), help="comma-separated areas: " + ", ".join(AREAS))
    parser.add_argument("--quick", action="store_true", help="fewer runs per round (a rough table in a few minutes)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--threads", default="1,2", help="for the models area: thread counts (comma-separated)")
    parser.add_argument("--models", help="for the models area: a comma-separated subset of Scripts/make-architectures.py's")
    args = parser.parse_args()
    areas = [a.strip() for a in args.only.split(",") if a.strip()]
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        sys.exit(f"unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    needs = {"gemm": [], "codecs": ["PIL", "cv2"], "selfie": ["mediapipe", "PIL"], "onnx": ["onnx", "onnxruntime"],
             "models": ["onnx", "onnxruntime"], "refine": ["pymatting", "scipy"], "e2e": ["pymatting", "PIL"]}
    # The refine inputs and photos (Pillow, SciPy) are made only for the areas that read them.
    photo_areas = {"codecs", "refine", "e2e"} & set(areas)
    missing = sorted({m for a in areas for m in needs[a] + (["PIL", "scipy"] if photo_areas else [])
                      if importlib.util.find_spec(m) is None})
    if missing:
        sys.exit(f"compare.py: {', '.join(missing)} missing from {sys.executable}; "
                 "make the venv in this script's header (--help shows it) and run it with that python")
    os.makedirs(WORK, exist_ok=True)
    os.chdir(ROOT)
    build(args.skip_build)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]
    refine_folder = make_refine_inputs() if photo_areas else None
    photos = make_photos() if "e2e" in areas else None
    table = Table()
    for area in areas:
        if area == "gemm":
            area_gemm(table, args.rounds, args.quick)
        elif area == "codecs":
            area_codecs(table, args.rounds, args.quick, refine_folder)
        elif area == "selfie":
            area_selfie(table, args.rounds, args.quick)
        elif area == "onnx":
            area_onnx(table, args.rounds, args.quick)
        elif area == "models":
            area_models(table, args.rounds, args.quick, args.models.split(",") if args.models else None,
                        tuple(int(t) for t in args.threads.split(",")))
        elif area == "refine":
            area_refine(table, args.rounds, args.quick, refine_folder)
        elif area == "e2e":
            area_e2e(table, args.rounds, args.quick, refine_folder, photos)
    versions = []
    for module in ("numpy", "PIL", "cv2", "onnxruntime", "mediapipe", "pymatting"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except Exception:
            pass
    print(f"MattingKit vs reference tools, {started:%Y-%m-%d %H:%M} UTC; {machine()}; load average "
          f"{load_before:.1f} → {os.getloadavg()[0]:.1f}; {args.rounds} interleaved rounds, medians; "
          f"python {platform.python_version()}, {', '.join(versions)}")
    print(f"command: python Scripts/compare.py {' '.join(sys.argv[1:])}")
    print()
    table.print(args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(date=started.isoformat(), machine=machine(), rows=table.rows), f, indent=1)


if __name__ == "__main__":
    main()
