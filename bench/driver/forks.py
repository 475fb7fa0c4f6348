"""forks.py — one benchmark in one fresh process (a fork): through the worker protocol, or through
google-benchmark for the C suite. Whatever goes wrong (a wrong answer, a crash, a hang) ends up in
ForkResult.error; the run goes on.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from . import method as method_
from .protocol import Sample, Worker, WorkerCrash, WorkerError, tail
from .runtimes import Runtime


@dataclass(frozen=True)
class Bench:
    runtime: Runtime
    name: str
    ops: float
    threads: int
    args: tuple[str, ...] = ()  # google-benchmark: extra flags of ffibench_c (the validation rows)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.runtime.name, self.name, self.args)


@dataclass
class ForkResult:
    runtime: str
    name: str
    fork: int
    iterations: int = 0
    samples: list[Sample] = field(default_factory=list)
    warmup_runs: int = 0
    warmup_s: float = 0.0
    steady: bool = True
    warmup_ns: list[float] = field(default_factory=list)  # wall ns per iteration of each warm-up run
    warmup_cpu_ns: list[float] = field(default_factory=list)  # their thread CPU ns per iteration
    pad: int = 0
    started: float = 0.0          # seconds since the run began
    seconds: float = 0.0          # the whole fork, process start to exit
    error: str | None = None
    context: dict = field(default_factory=dict)  # google-benchmark's context (C forks)

    def record(self) -> dict:
        """The fork as one line of raw/forks.jsonl."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("samples", "context")}
        d["samples"] = [[s.iterations, s.wall_ns, s.cpu_ns] for s in self.samples]
        return d


def fork_env(base: dict[str, str], rt: Runtime, scratch: str, pad: int) -> dict[str, str]:
    env = dict(base)
    env.update(rt.env)
    env["FFIBENCH_SCRATCH"] = scratch
    env["FFIBENCH_PAD"] = "p" * pad
    return env


def run_fork(b: Bench, fork: int, m: method_.Method, base_env: dict[str, str], scratch_root: str,
             pad: int, t_run0: float, trace_dir: str | None = None) -> ForkResult:
    r = ForkResult(b.runtime.name, b.name, fork, pad=pad, started=time.monotonic() - t_run0)
    scratch = tempfile.mkdtemp(prefix="fork-", dir=scratch_root)
    env = fork_env(base_env, b.runtime, scratch, pad)
    t0 = time.monotonic()
    try:
        if b.runtime.protocol == "gbench":
            _gbench(b, m, env, scratch, r)
        else:
            trace = os.path.join(trace_dir, f"{b.name.replace('/', '~')}~fork{fork}.jsonl") if trace_dir else None
            _worker(b, m, env, scratch, r, trace)
    finally:
        r.seconds = time.monotonic() - t0
        shutil.rmtree(scratch, ignore_errors=True)
    return r


def _worker(b: Bench, m: method_.Method, env: dict[str, str], scratch: str, r: ForkResult,
            trace: str | None = None) -> None:
    log = os.path.join(scratch, "stderr.log")
    try:
        with Worker(b.runtime.worker, env, scratch, log, m.timeout_s, trace) as w:
            n, warm, samples = method_.measure(lambda it, rep: w.run(b.name, it, rep), m,
                                               b.runtime.warmup_min_runs, b.runtime.warmup_min_seconds,
                                               b.runtime.warmup_long_run)
            code = w.close()
            if code != 0:
                raise WorkerCrash(f"exited with status {code} after quit" + _note(log))
    except WorkerError as e:
        r.error = f"{e}{_note(log)}"
        return
    except WorkerCrash as e:
        r.error = f"worker crashed: {e}"
        return
    # Two threads each make n iterations: per iteration is per thread-iteration, as in google-benchmark.
    r.samples = [Sample(s.iterations * b.threads, s.wall_ns, s.cpu_ns, s.jit) for s in samples]
    r.iterations = n * b.threads
    r.warmup_runs, r.warmup_s, r.steady = warm.runs, warm.seconds, warm.steady
    r.warmup_ns = [round(x, 3) for x in warm.per_iteration_ns]
    r.warmup_cpu_ns = [round(x, 3) for x in warm.cpu_per_iteration_ns]


def _note(log: str) -> str:
    t = tail(log)
    return f"; its stderr ends:\n{t}" if t else ""


def gbench_filter(name: str) -> str:
    """A google-benchmark filter (a regex) matching exactly one name."""
    return "^" + re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name) + "$"


def _gbench(b: Bench, m: method_.Method, env: dict[str, str], scratch: str, r: ForkResult) -> None:
    out = os.path.join(scratch, "gbench.json")
    argv = [*b.runtime.worker, *b.args, f"--ffibench_data={env['FFIBENCH_DATA']}",
            f"--ffibench_scratch={scratch}", f"--benchmark_filter={gbench_filter(b.name)}",
            f"--benchmark_repetitions={m.repetitions}", f"--benchmark_min_time={m.target_s:g}",
            f"--benchmark_min_warmup_time={m.gbench_warmup_s:g}", f"--benchmark_out={out}",
            "--benchmark_out_format=json"]
    if m.target_s <= 0:  # smoke: the shortest run google-benchmark makes
        argv[argv.index(f"--benchmark_min_time={m.target_s:g}")] = "--benchmark_min_time=0.000001"
        argv.append("--ffibench_allow_debug")
    log = os.path.join(scratch, "stderr.log")
    with open(log, "wb") as err:
        try:
            proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=scratch,
                                  timeout=m.timeout_s, start_new_session=True)
        except subprocess.TimeoutExpired:
            r.error = f"ffibench_c did not finish within {m.timeout_s:g} s (killed)"
            return
    try:
        with open(out, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        r.error = f"ffibench_c exited with status {proc.returncode} and no results{_note(log)}"
        return
    runs = [e for e in data.get("benchmarks", []) if e.get("run_type") == "iteration"]
    failed = [e for e in runs if e.get("error_occurred")]
    if failed:
        r.error = failed[0].get("error_message", "failed")
        return
    if not runs:
        r.error = f"ffibench_c ran nothing for {b.name} (exit {proc.returncode}){_note(log)}"
        return
    r.context = data.get("context", {})
    r.iterations = int(runs[0]["iterations"])
    r.samples = [Sample(int(e["iterations"]), round(float(e["real_time"]) * int(e["iterations"])),
                        round(float(e["cpu_time"]) * int(e["iterations"]))) for e in runs]
    r.warmup_runs, r.warmup_s = 0, m.gbench_warmup_s
