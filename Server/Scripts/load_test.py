#!/usr/bin/env python3
"""A bounded load run on loopback: N requests, C at once, against POST /api/remove.

Records throughput, p50/p95 latency of the 200s and the server's peak RSS (VmHWM of --pid),
checks that every answer is 200 or 429/503 (with Retry-After), and that the server still
answers /health afterwards. Prints one JSON line of figures.

Usage: load_test.py --base-url URL --photo PATH --pid PID [--requests 200] [--concurrency 16]
                    [--route /api/remove | /v1.0/removebg] [--fields a=b&c=d]
"""
import argparse
import concurrent.futures
import io
import json
import statistics
import sys
import time
import urllib.request
import uuid


def post(url, photo, name, fields, part="file"):
    boundary = uuid.uuid4().hex
    body = bytearray()
    for key, value in fields.items():
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n".encode()
    body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\r\n".encode()
    body += photo + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=bytes(body), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            data = response.read()
            return response.status, time.monotonic() - start, len(data), response.headers.get("Server-Timing"), None
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, time.monotonic() - start, 0, None, error.headers.get("Retry-After")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--fields", default="om=true", help="extra form fields, a=b&c=d")
    parser.add_argument("--route", default="/api/remove", help="/api/remove (photo in file) or /v1.0/removebg (image_file)")
    parser.add_argument("--side", type=int, default=0, help="scale the photo to this long side first (0: as it is)")
    args = parser.parse_args()
    photo = open(args.photo, "rb").read()
    if args.side:
        from PIL import Image
        image = Image.open(io.BytesIO(photo)).convert("RGB")
        image.thumbnail((args.side, args.side))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        photo = buffer.getvalue()
    fields = dict(kv.split("=", 1) for kv in args.fields.split("&") if kv)
    url = args.base_url.rstrip("/") + args.route
    part = "image_file" if args.route == "/v1.0/removebg" else "file"

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(lambda i: post(url, photo, f"p{i}.jpg", fields, part), range(args.requests)))
    wall = time.monotonic() - start

    statuses = {}
    for status, *_ in results:
        statuses[status] = statuses.get(status, 0) + 1
    bad = {s: n for s, n in statuses.items() if s not in (200, 429, 503)}
    ok = [r for r in results if r[0] == 200]
    refused_without_retry = [r for r in results if r[0] in (429, 503) and not r[4]]
    latencies = [r[1] for r in ok]
    matte_ms = []
    for r in ok:
        for part in (r[3] or "").split(","):
            name, _, dur = part.strip().partition(";dur=")
            if name in ("queue", "decode", "matte", "encode"):
                matte_ms.append((r, float(dur)))
    server_ms = {}
    for r, ms in matte_ms:
        server_ms[id(r)] = server_ms.get(id(r), 0) + ms
    overhead = [r[1] * 1000 - server_ms[id(r)] for r in ok if id(r) in server_ms]

    health = urllib.request.urlopen(args.base_url.rstrip("/") + "/health", timeout=10)
    alive = health.status == 200 and json.loads(health.read())["status"] == "ok"
    figures = {
        "requests": args.requests, "concurrency": args.concurrency, "statuses": statuses,
        "wall_s": round(wall, 2), "ok_per_s": round(len(ok) / wall, 3),
        "p50_s": round(percentile(latencies, 0.5) or 0, 3), "p95_s": round(percentile(latencies, 0.95) or 0, 3),
        "server_work_p50_ms": round(percentile(list(server_ms.values()), 0.5) or 0, 1),
        "outside_work_p50_ms": round(percentile(overhead, 0.5) or 0, 1),
        "peak_rss_mib": round(peak_rss_mib(args.pid) or 0, 1), "alive_after": alive,
        "answer_bytes_p50": round(percentile([r[2] for r in ok], 0.5) or 0),
    }
    print(json.dumps(figures))
    failures = []
    if bad:
        failures.append(f"answers other than 200/429/503: {bad}")
    if refused_without_retry:
        failures.append(f"{len(refused_without_retry)} refusals without Retry-After")
    if not ok:
        failures.append("no request succeeded")
    if not alive:
        failures.append("server not healthy after the run")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print(f"load: {1 if not failures else 0} passed, {1 if failures else 0} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
