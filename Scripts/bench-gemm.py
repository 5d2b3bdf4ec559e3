#!/usr/bin/env python3
"""Side-by-side GEMM throughput: MattingEngine's kernels vs numpy float32 matmul (OpenBLAS).

Builds and runs the `kernel-bench` executable (release) and, for the same M×N×K shapes and
1 and 2 threads, numpy `a @ b` in a fresh subprocess per configuration (OPENBLAS_NUM_THREADS
fixes the thread count before OpenBLAS starts). numpy runs twice: with OpenBLAS's default
core detection (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment), and with
OPENBLAS_CORETYPE=SkylakeX (AVX-512 kernels; on a CPU without
AVX-512 that subprocess dies with SIGILL and the table says so). Ours and numpy alternate for
`--rounds` rounds so background load hits both alike; each cell is the median over rounds of
the per-run median. Because the 2-core host is often shared, it also reports the fastest run and
GFLOP/s per second of process CPU time (per-core throughput, unaffected by time slicing). The
peak-FMA probe gives each figure a fraction of peak.

Usage (from the package root):
    python3 Scripts/bench-gemm.py [--repeat 15] [--rounds 3] [--skip-build] [--markdown] [--isa avx512|avx2|portable]
Needs numpy; nothing else.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys

SHAPES = [(1024, 1024, 1024), (65536, 64, 576), (4096, 256, 2304)]
THREADS = [1, 2]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "kernel-bench")

NUMPY_SNIPPET = r"""
import sys, time, numpy as np
m, n, k, repeat = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
a = rng.standard_normal((m, k), dtype=np.float32)
b = rng.standard_normal((k, n), dtype=np.float32)
c = a @ b
times, cpu = [], []
for _ in range(repeat):
    t, p = time.perf_counter(), time.process_time()
    np.matmul(a, b, out=c)
    times.append(time.perf_counter() - t); cpu.append(time.process_time() - p)
times.sort(); cpu.sort()
f = 2.0 * m * n * k / 1e9
print(f / times[len(times) // 2], f / times[0], f / cpu[len(cpu) // 2])
"""


# Environment variables that override OpenBLAS's own CPU and cache detection. Some hosts
# set them globally (e.g. OPENBLAS_CORETYPE=Haswell with OPENBLAS_L2_SIZE=512), which makes
# "default" OpenBLAS run its AVX2 kernels; the yardstick is what OpenBLAS picks by itself, so
# every numpy run drops all of them and sets only what that run asks for.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def run_numpy(shape, threads, repeat, coretype=None):
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    p = subprocess.run([sys.executable, "-c", NUMPY_SNIPPET, *map(str, shape), str(repeat)],
                       env=env, capture_output=True, text=True)
    if p.returncode < 0:
        return f"fails ({signal.Signals(-p.returncode).name})"
    if p.returncode != 0:
        return f"fails (exit {p.returncode})"
    return tuple(map(float, p.stdout.strip().splitlines()[-1].split()))  # median, best, per CPU-second


def run_ours(args_list, isa=None):
    p = subprocess.run([BENCH, *args_list, *(["--isa", isa] if isa else [])], capture_output=True, text=True, check=True)
    rows = {}
    for line in p.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        kv = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        rows[(fields[0], int(kv.get("threads", 1)))] = kv
    return rows


def openblas_info():
    try:
        import numpy as np
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"numpy {np.__version__}, {blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception as e:  # pragma: no cover - informational only
        return f"numpy (config unavailable: {e})"


def main():
    global BENCH
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15, help="timed runs per measurement (median)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating ours/numpy rounds (median)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--bench", default=BENCH, help="kernel-bench executable (e.g. a copy built from another commit)")
    ap.add_argument("--isa", help="our kernel path (avx512, avx2, portable); default: the best supported")
    a = ap.parse_args()
    BENCH = a.bench

    if not a.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "kernel-bench"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    isa = subprocess.run([BENCH, "--repeat", "1", "--threads", "1", "--gemm", "6,16,8", *(["--isa", a.isa] if a.isa else [])],
                         capture_output=True, text=True).stdout.splitlines()[0]
    peak_rows = run_ours(["--repeat", str(a.repeat), "peak"])
    peak_name, peak_row = next((name, v) for (name, _), v in peak_rows.items() if name.startswith("fma peak"))
    peak_best, peak_cpu = float(peak_row["best_gflops"]), float(peak_row["cpu_gflops"])

    results = {}
    for shape in SHAPES:
        for t in THREADS:
            ours, blas, skx = [], [], []
            for _ in range(a.rounds):
                rows = run_ours(["--repeat", str(a.repeat), "--threads", str(t), "--gemm", ",".join(map(str, shape))], a.isa)
                row = next(iter(rows.values()))
                ours.append((float(row["gflops"]), float(row["best_gflops"]), float(row["cpu_gflops"])))
                blas.append(run_numpy(shape, t, a.repeat))
                skx.append(run_numpy(shape, t, a.repeat, coretype="SkylakeX"))

            def summary(xs):  # (median of medians, best run, median of per-CPU-second) or failure text
                if any(isinstance(x, str) for x in xs):
                    return next(x for x in xs if isinstance(x, str)), None, None
                return (statistics.median(x[0] for x in xs), max(x[1] for x in xs),
                        statistics.median(x[2] for x in xs))

            results[(shape, t)] = (summary(ours), summary(blas), summary(skx))
            print(f"# measured {shape} threads={t}", file=sys.stderr)

    def fmt(x):
        return f"{x:.1f}" if isinstance(x, float) else x

    def ratio(x, y):
        return f"{x / y:.2f}" if isinstance(x, float) and isinstance(y, float) else "–"

    print(f"# {isa}; {openblas_info()}; {peak_name}: {peak_cpu:.1f} GFLOP/s per core-second "
          f"(fastest run {peak_best:.1f}); GFLOP/s, median of {a.repeat} runs, median over {a.rounds} alternating "
          f"rounds; best = fastest single run; /core-s = per second of process CPU time (robust to other load; "
          f"% of peak uses it); load average {os.getloadavg()[0]:.1f}")
    header = ["M×N×K", "threads", "ours", "OpenBLAS", "ratio", "ours best", "OpenBLAS best", "ratio",
              "ours /core-s", "OpenBLAS /core-s", "ratio", "ours % of peak", "SkylakeX"]
    rows = []
    for (shape, t), ((o, ob, oc), (b, bb, bc), (s, _, _)) in results.items():
        rows.append(["×".join(map(str, shape)), str(t), fmt(o), fmt(b), ratio(o, b), fmt(ob), fmt(bb or "–"),
                     ratio(ob, bb), fmt(oc), fmt(bc or "–"), ratio(oc, bc), f"{100 * oc / peak_cpu:.0f}%", fmt(s)])
    if a.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
