#!/usr/bin/python3
"""per_process.py — the first call into the engine, measured per process, as google-benchmark JSON.

Runs the first_call_{static,plt,dlopen} programs ROUNDS times each, interleaved in a shuffled order
per round (so drift hits every variant alike), and writes one google-benchmark-schema file with a
repetition per process:
  c/<direct|plt|dlopen>/first_call        the first kv_add call (for plt: lazy binding included)
  c/<...>/first_call/call:second          the second call in the same process, for contrast
  c/dlopen/first_call/phase:load          dlopen + dlsym
Usage: per_process.py BUILD_BENCH_DIR ROUNDS OUT.json

measure() is the shared part: runtime harnesses (bench/runtimes/python) time their own first calls
with it.
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


def measure(commands, rounds, env=None):
    """Runs every command (key -> argv) `rounds` times, the order shuffled in each round (seeded), and
    returns key -> [(load_ns, first_ns, second_ns)]: the line each process prints."""
    rng = random.Random(20261125)
    rows = {key: [] for key in commands}
    for _ in range(rounds):
        order = list(commands)
        rng.shuffle(order)
        for key in order:
            res = subprocess.run(commands[key], capture_output=True, text=True, check=True, env=env)
            load, first, second = (int(x) for x in res.stdout.split())
            rows[key].append((load, first, second))
    return rows


def main(bench_dir, rounds, out):
    samples = measure({mech: [os.path.join(bench_dir, prog)] for mech, prog in PROGRAMS.items()}, rounds)
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
