#!/usr/bin/env python3
"""The default selfie model on MattingKit's engine against LiteRT (TFLite with XNNPACK).

Both run the same .tflite file on the same 1x256x256x3 tensor (the MediaPipe fixture input),
for each thread count, interleaved for `--rounds` rounds: `run-model --repeat N` (its median
latency and median process CPU per run) and LiteRT's `Interpreter(num_threads=T)`, whose
default delegate is XNNPACK (median of N `invoke()` calls after a warm-up, wall and process
CPU). Prints per round and the medians over rounds, with the ratio LiteRT ÷ ours (above 1:
MattingKit faster).

Versions: python 3.11, ai-edge-litert==2.3.0, numpy==2.4.6.
Usage (from the repository root, after Scripts/fetch-models.sh):
    swift build -c release --product run-model
    python3.11 -m venv /tmp/venv-litert
    /tmp/venv-litert/bin/pip install ai-edge-litert==2.3.0 numpy==2.4.6
    /tmp/venv-litert/bin/python Scripts/bench-litert.py [--rounds 5] [--repeat 200] [--threads 1,2]
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUT = os.path.join(ROOT, "Tests/MattingImportersTests/Fixtures/MediaPipe/astronaut_portrait_input.npy")


def litert(model, x, threads, repeat):
    interpreter = Interpreter(model_path=model, num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], x.reshape(detail["shape"]))
    interpreter.invoke()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        interpreter.invoke()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def ours(binary, model, input_name, input_path, threads, repeat, out_dir):
    r = subprocess.run([binary, model, "--input", f"{input_name}={input_path}", "--output-dir", out_dir,
                        "--threads", str(threads), "--repeat", str(repeat)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"run-model failed: {r.stderr.strip()}")
    wall = float(re.search(r"latency: median ([0-9.]+) ms", r.stdout).group(1))
    cpu = float(re.search(r"cpu: median ([0-9.]+) ms", r.stdout).group(1))
    return wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--model", default=os.path.join(os.environ.get("MATTINGKIT_CACHE_DIR", os.path.expanduser(
        "~/.cache/mattingkit")), "models", "selfie_segmentation.tflite"))
    ap.add_argument("--run-model", default=os.path.join(ROOT, ".build", "release", "run-model"))
    args = ap.parse_args()
    x = np.load(INPUT).astype(np.float32)
    input_name = Interpreter(model_path=args.model).get_input_details()[0]["name"]
    print(f"model {args.model}; LiteRT (ai-edge-litert) XNNPACK; medians of {args.repeat} runs per round; "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for threads in [int(t) for t in args.threads.split(",")]:
            rows = []
            for r in range(args.rounds):
                o = ours(args.run_model, args.model, input_name, INPUT, threads, args.repeat, tmp)
                l = litert(args.model, x, threads, args.repeat)
                rows.append((o, l))
                print(f"  {threads} thread(s), round {r + 1}: ours {o[0]:.3f} ms (CPU {o[1]:.3f}), "
                      f"LiteRT {l[0]:.3f} ms (CPU {l[1]:.3f}), LiteRT ÷ ours {l[0] / o[0]:.2f}×", flush=True)
            ow, oc = statistics.median(o[0] for o, _ in rows), statistics.median(o[1] for o, _ in rows)
            lw, lc = statistics.median(l[0] for _, l in rows), statistics.median(l[1] for _, l in rows)
            print(f"| {threads} | {ow:.3f} | {lw:.3f} | {lw / ow:.2f}× | {oc:.3f} | {lc:.3f} | {lc / oc:.2f}× | "
                  f"{min(l[0] / o[0] for o, l in rows):.2f}–{max(l[0] / o[0] for o, l in rows):.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
