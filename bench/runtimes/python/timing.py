"""timing.py — pyperf's discipline by hand (pyperf is not packaged by Debian 12), and the
google-benchmark JSON every mechanism's results are written as.

One benchmark in one process:
  1. calibrate (timeit's autorange): raise the iteration count until one timed run takes min_time;
  2. warm up until steady: run again until two consecutive runs agree within WARM_TOLERANCE per
     iteration (at most max_warmups runs), so caches, branch predictors, the allocator's free lists
     and CPython's specialising interpreter (3.11 quickening) have settled;
  3. time `reps` runs of that many iterations, the garbage collector off (as timeit does).
The harness repeats this in several processes (pyperf's "processes"), so a per-process accident —
hash seed, address layout, a neighbour's burst — shows up as spread between repetitions instead of
a biased median. The loop callables check their own answers (WrongAnswer fails the run).
"""
import gc
import json
import os
import sys
import time

WARM_TOLERANCE = 0.02

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(_ROOT, "scripts", "lib"))
from results import median, median_ci  # noqa: E402  (the one definition of the CI the reports use)


class Discipline:
    """How long and how often: min_time per timed run (s), reps per process, max warm-up runs.
    smoke: one iteration, one run, no warm-up — it checks answers, it measures nothing."""

    def __init__(self, min_time, reps, max_warmups, smoke=False):
        self.min_time, self.reps, self.max_warmups, self.smoke = min_time, reps, max_warmups, smoke


def _timed(fn, n, param):
    c0, t0 = time.process_time_ns(), time.perf_counter_ns()
    fn(n, param)
    t1, c1 = time.perf_counter_ns(), time.process_time_ns()
    return t1 - t0, c1 - c0


def measure(fn, param, d, reps=None):
    """Runs fn(n, param) under discipline d. Returns (n, [(real_ns, cpu_ns), ...]) per run."""
    reps = reps or d.reps
    enabled = gc.isenabled()
    gc.disable()
    try:
        if d.smoke:
            return 1, [_timed(fn, 1, param)]
        target = d.min_time * 1e9
        n = 1
        while True:  # calibrate
            t, _ = _timed(fn, n, param)
            if t >= target:
                break
            n = min(n * 100, max(n * 2, int(n * target / max(t, 1) * 1.05)))
        prev = t / n
        for _ in range(d.max_warmups):  # warm up until two runs agree
            t, _ = _timed(fn, n, param)
            cur = t / n
            if abs(cur - prev) <= WARM_TOLERANCE * prev:
                break
            prev = cur
        return n, [_timed(fn, n, param) for _ in range(reps)]
    finally:
        if enabled:
            gc.enable()


# ---- google-benchmark JSON ------------------------------------------------------------------------
def entry(name, index, count, iterations, real_ns, cpu_ns, ops=1):
    """One repetition as google-benchmark writes it (times per iteration, in ns)."""
    e = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": count,
         "repetition_index": index, "threads": 1, "iterations": iterations,
         "real_time": real_ns / iterations, "cpu_time": cpu_ns / iterations, "time_unit": "ns"}
    if ops != 1:
        e["ops"] = float(ops)
    return e


def entries(name, runs, ops=1):
    """runs: [(iterations, real_ns, cpu_ns)] from every process -> google-benchmark entries."""
    return [entry(name, i, len(runs), n, r, c, ops) for i, (n, r, c) in enumerate(runs)]


def write(path, context, benchmarks):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=2)
    os.replace(tmp, path)


def summarize(benchmarks):
    """[(name, median ns per op, CI lo, CI hi, repetitions)] — the figures results.py derives."""
    per = {}
    for b in benchmarks:
        per.setdefault(b["run_name"], []).append(b["real_time"] / b.get("ops", 1.0))
    return [(name, median(xs), *median_ci(xs), len(xs)) for name, xs in per.items()]
