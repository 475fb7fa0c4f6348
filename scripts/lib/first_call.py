#!/usr/bin/python3
"""first_call.py — the first call into the engine, measured per process, as google-benchmark JSON.

Runs the first_call_{static,plt,dlopen} programs ROUNDS times each, interleaved in a shuffled order
per round (so drift hits every variant alike), and writes one google-benchmark-schema file with a
repetition per process:
  c/<direct|plt|dlopen>/first_call        the first kv_add call (for plt: lazy binding included)
  c/<...>/first_call/call:second          the second call in the same process, for contrast
  c/dlopen/first_call/phase:load          dlopen + dlsym
Usage: first_call.py BUILD_BENCH_DIR ROUNDS OUT.json
"""
import json
import os
import random
import subprocess
import sys

PROGRAMS = {"direct": "first_call_static", "plt": "first_call_plt", "dlopen": "first_call_dlopen"}


def entry(name, i, n, ns):
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": n,
            "repetition_index": i, "threads": 1, "iterations": 1, "real_time": ns, "cpu_time": ns,
            "time_unit": "ns"}


def main(bench_dir, rounds, out):
    rng = random.Random(20261125)
    samples = {mech: [] for mech in PROGRAMS}
    for _ in range(rounds):
        order = list(PROGRAMS)
        rng.shuffle(order)
        for mech in order:
            prog = os.path.join(bench_dir, PROGRAMS[mech])
            res = subprocess.run([prog], capture_output=True, text=True, check=True)
            load, first, second = (int(x) for x in res.stdout.split())
            samples[mech].append((load, first, second))
    benches = []
    for mech, rows in samples.items():
        n = len(rows)
        for i, (load, first, second) in enumerate(rows):
            benches.append(entry(f"c/{mech}/first_call", i, n, first))
            benches.append(entry(f"c/{mech}/first_call/call:second", i, n, second))
            if mech == "dlopen":
                benches.append(entry(f"c/{mech}/first_call/phase:load", i, n, load))
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"context": {"ffibench.first_call": f"{rounds} processes per program, interleaved; "
                               "clock_gettime(CLOCK_MONOTONIC) around each call"},
                   "benchmarks": benches}, f, indent=2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
