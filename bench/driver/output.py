"""output.py — the results folder's timing files: google-benchmark's JSON schema, one file per runtime
(<runtime>.json), one entry per timed repetition, with the fork (process) it ran in.

An entry: name, run_name, run_type "iteration", repetitions (all of the benchmark's), repetition_index,
threads, iterations, real_time and cpu_time per iteration in ns (time_unit "ns"), ops (engine
operations per iteration, when not 1) and fork (the index of the process that measured it). A
benchmark that failed has one entry with error_occurred and error_message, as google-benchmark
writes it. Per-process figures (first_call) are one repetition per process, each its own fork.
"""
from __future__ import annotations

import json
import os
from typing import Iterable

from .forks import ForkResult

TIME_FIELD = "real_time: wall-clock ns per iteration (divide by ops); cpu_time: the measuring threads' CPU ns"


def entry(name: str, index: int, count: int, threads: int, iterations: int, real: float, cpu: float,
          ops: float, fork: int) -> dict:
    e = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": count,
         "repetition_index": index, "threads": threads, "iterations": iterations,
         "real_time": real, "cpu_time": cpu, "time_unit": "ns", "fork": fork}
    if ops != 1:
        e["ops"] = float(ops)
    return e


def failed(name: str, message: str, threads: int = 1) -> dict:
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 0,
            "repetition_index": 0, "threads": threads, "iterations": 0, "real_time": 0.0,
            "cpu_time": 0.0, "time_unit": "ns", "error_occurred": True, "error_message": message}


def bench_entries(name: str, ops: float, threads: int, forks: list[ForkResult]) -> list[dict]:
    """Every repetition of every fork of one benchmark; a single error entry when a fork failed."""
    bad = [f for f in forks if f.error]
    if bad:
        return [failed(name, f"fork {bad[0].fork}: {bad[0].error}", threads)]
    count = sum(len(f.samples) for f in forks)
    out, i = [], 0
    for f in sorted(forks, key=lambda f: f.fork):
        for s in f.samples:
            out.append(entry(name, i, count, threads, s.iterations, s.wall_ns / s.iterations,
                             s.cpu_ns / s.iterations, ops, f.fork))
            i += 1
    return out


def per_process_entries(name: str, values: list[int]) -> list[dict]:
    """One repetition per process (first_call): each its own fork."""
    return [entry(name, i, len(values), 1, 1, float(v), float(v), 1, i) for i, v in enumerate(values)]


def write(path: str, context: dict, benchmarks: Iterable[dict]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"context": context, "benchmarks": list(benchmarks)}, f, indent=1)
    os.replace(tmp, path)
