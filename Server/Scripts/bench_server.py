#!/usr/bin/env python3
"""matte-server throughput and latency on 1200x1800 JPEGs, interleaved with the `matte` program.

Each round runs, in turn: the `matte` program on the photo (--runs times, wall clock per
photo), the server at --jobs 1 (threads = all cores) and the server at --jobs 2 (threads =
cores / 2), each taking --requests requests at concurrency 2 x jobs (so a job never waits for
its next photo), and one series at concurrency 1 at --jobs 1 to split a request's latency into
the library's work (decode + matte + encode, from Server-Timing) and the server's overhead.
Medians over rounds are printed as a Markdown table; every figure of every round as JSON.

Usage (from the repository root, release builds):
  swift build -c release --product matte
  swift build -c release --package-path Server --product matte-server
  python3 Server/Scripts/bench_server.py --matte .build/release/matte \
      --server Server/.build/release/matte-server
Without --photo it uses the sample portrait (Scripts/fetch-sample.sh) cropped to 2:3 and upscaled
(Lanczos) to 1200x1800, JPEG q95: the photo Scripts/compare.py's e2e row uses.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from load_test import post, percentile  # noqa: E402


def start_server(binary, jobs, threads):
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
    process = subprocess.Popen([binary, "--port", "0", "--jobs", str(jobs), "--threads", str(threads), "--queue", "64"],
                               stdout=log, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        text = open(log.name).read()
        match = re.search(r"listening on (http://\S+)", text)
        if match:
            return process, match.group(1), log.name
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start: " + open(log.name).read())


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024


def series(base, photo, count, concurrency):
    import concurrent.futures
    url = base + "/api/remove"
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda i: post(url, photo, f"p{i}.jpg", {}), range(count)))
    wall = time.monotonic() - start
    assert all(r[0] == 200 for r in results), [r[0] for r in results]
    latencies = [r[1] for r in results]
    work = []
    for r in results:
        total = 0.0
        for part in (r[3] or "").split(","):
            name, _, dur = part.strip().partition(";dur=")
            if name in ("queue", "decode", "matte", "encode"):
                total += float(dur) / 1000
        work.append(total)
    return {"rps": count / wall, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "work_p50": percentile(work, 0.5), "overhead_p50": percentile([l - w for l, w in zip(latencies, work)], 0.5)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--matte", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--photo")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    if not args.photo:
        from PIL import Image
        sample_dir = os.path.join(os.environ.get("MATTINGKIT_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mattingkit"), "samples")
        sample = Image.open(os.path.join(sample_dir, "astronaut.png")).convert("RGB")
        side = sample.width
        cw = side * 1200 // 1800
        args.photo = os.path.join(tempfile.mkdtemp(prefix="bench-photo-"), "portrait-1200x1800.jpg")
        sample.crop(((side - cw) // 2, 0, (side - cw) // 2 + cw, side)).resize((1200, 1800), Image.LANCZOS).save(
            args.photo, quality=95, subsampling="4:2:0")
    photo = open(args.photo, "rb").read()
    rows = {"matte": [], "jobs1": [], "jobs2": [], "single": [], "rss1": [], "rss2": []}
    out = tempfile.mkdtemp(prefix="bench-matte-")
    for round_ in range(args.rounds):
        for i in range(args.runs):
            start = time.monotonic()
            subprocess.run([args.matte, args.photo, "-o", os.path.join(out, f"{i}.png")], check=True,
                           stdout=subprocess.DEVNULL)
            rows["matte"].append(time.monotonic() - start)
        for jobs, key in ((1, "jobs1"), (2, "jobs2")):
            process, base, log = start_server(args.server, jobs, max(1, cores // jobs))
            try:
                series(base, photo, 2, 1)  # warm-up
                rows[key].append(series(base, photo, args.requests, 2 * jobs))
                if jobs == 1:
                    rows["single"].append(series(base, photo, max(5, args.requests // 2), 1))
                rows["rss" + str(jobs)].append(peak_rss_mib(process.pid))
            finally:
                process.terminate()
                process.wait()
                os.unlink(log)
        print(json.dumps({k: v[-1] for k, v in rows.items() if v}), flush=True)

    med = statistics.median
    matte = med(rows["matte"])
    print(f"\ncores {cores}, rounds {args.rounds}, `matte` runs per round {args.runs}, server requests per series {args.requests}\n")
    print("| what | requests/s | p50 | p95 | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| `matte` program, one photo per process | {1 / matte:.2f} | {matte:.3f} s | — | — |")
    for jobs in (1, 2):
        s = rows[f"jobs{jobs}"]
        print(f"| server --jobs {jobs} --threads {max(1, cores // jobs)}, {2 * jobs} at once | {med([x['rps'] for x in s]):.2f} "
              f"| {med([x['p50'] for x in s]):.3f} s | {med([x['p95'] for x in s]):.3f} s | {med(rows[f'rss{jobs}']):.0f} MiB |")
    single = rows["single"]
    print(f"\nOne at a time (--jobs 1): latency p50 {med([x['p50'] for x in single]):.3f} s, of which the library's "
          f"decode + matte + encode {med([x['work_p50'] for x in single]):.3f} s; the server's overhead (upload, "
          f"parsing, queue, response) {med([x['overhead_p50'] for x in single]) * 1000:.1f} ms "
          f"({med([x['overhead_p50'] / x['p50'] for x in single]) * 100:.1f} % of the request).")


if __name__ == "__main__":
    main()
