"""method.py — how long and how often: the one measurement method every runtime gets.

Per benchmark, `forks` fresh processes (JMH's forks; Kalibera & Jones's two-level design), the forks
of all benchmarks interleaved. In each fork (a protocol worker):
  1. calibrate: grow the iteration count until one timed run takes at least `target_s` (never on
     the process's very first run, which pays one-time costs);
  2. warm up until steady: run again until the last `window` runs of that size agree within
     `tolerance` ((max - min) / median of their thread CPU time per iteration — the code settling,
     not the machine: time the process spent preempted shows in wall time only; wall time where a
     worker reports no CPU time) and the runtime compiled nothing during them (where its worker
     reports a compile count), after the runtime's own minimum (runs and seconds, met with runs a
     tenth as long: a JIT's tier-up counts calls); at most `warmup_max_runs` runs or
     `warmup_max_seconds` past the minimum; then re-size the iteration count to the target from
     the steady runs;
  3. time `repetitions` runs back to back.
A fork that never became steady is measured anyway and marked (steady = false), so the report can
say so. C benchmarks run under google-benchmark (bench/ffibench_c), which applies its own
calibration to `target_s` per repetition after `gbench_warmup_s` of warm-up.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from .protocol import Sample


@dataclass(frozen=True)
class Method:
    forks: int = 5
    repetitions: int = 5          # timed runs per fork
    target_s: float = 0.01        # one timed run
    window: int = 3               # steady: the last `window` warm-up runs ...
    tolerance: float = 0.03       # ... within this fraction of their median
    warmup_max_runs: int = 40
    warmup_max_seconds: float = 3.0
    gbench_warmup_s: float = 0.05  # C: google-benchmark's --benchmark_min_warmup_time
    first_call_rounds: int = 20   # fresh processes per mechanism for first_call
    hyperfine_runs: int = 20      # whole processes per mechanism
    timeout_s: float = 120.0      # the longest a worker may take to answer one request

    def describe(self) -> str:
        return (f"{self.forks} forks per benchmark (fresh processes, interleaved across benchmarks and runtimes), "
                f"{self.repetitions} timed runs of >= {self.target_s * 1e3:g} ms per fork after calibration and a "
                f"warm-up until {self.window} runs agree within {self.tolerance:.0%} (at least the runtime's "
                f"minimum, at most {self.warmup_max_runs} runs or {self.warmup_max_seconds:g} s)")

    def as_dict(self) -> dict:
        return asdict(self)


MODES = {
    "full": Method(),
    "quick": Method(forks=2, repetitions=3, target_s=0.005, warmup_max_runs=10, warmup_max_seconds=1.0,
                    gbench_warmup_s=0.01, first_call_rounds=3, hyperfine_runs=0),
    # Every benchmark once, answers checked: a test of the workers, not a measurement.
    "smoke": Method(forks=1, repetitions=1, target_s=0.0, warmup_max_runs=0, warmup_max_seconds=0.0,
                    gbench_warmup_s=0.0, first_call_rounds=1, hyperfine_runs=0, timeout_s=300.0),
}


@dataclass
class Warmup:
    """What a fork needed before it was measured: its calibration and warm-up runs."""

    seconds: float = 0.0
    steady: bool = False
    per_iteration_ns: list[float] = field(default_factory=list)  # wall ns, every calibration and warm-up run
    cpu_per_iteration_ns: list[float] = field(default_factory=list)  # the same runs' thread CPU ns

    @property
    def runs(self) -> int:
        return len(self.per_iteration_ns)


def steady(times: list[float], window: int, tolerance: float) -> bool:
    """Whether the last `window` per-iteration times agree within `tolerance` of their median."""
    if len(times) < window or window < 1:
        return False
    last = times[-window:]
    mid = statistics.median(last)
    return mid > 0 and (max(last) - min(last)) / mid <= tolerance


def next_iterations(n: int, wall_ns: int, target_ns: float) -> int:
    """timeit's autorange, bounded: aim a bit past the target, grow at least 2x and at most 100x."""
    if wall_ns <= 0:
        return n * 100
    want = int(n * target_ns / wall_ns * 1.2)
    return max(n * 2, min(n * 100, want))


RunFn = Callable[[int, int], list[Sample]]  # (iterations, repeats) -> samples (Sample.jit: see protocol.py)


LONG_RUN_MAX_S = 1.0  # the longest run the warm-up's long run may take


def measure(run: RunFn, m: Method, min_runs: int = 0, min_seconds: float = 0.0,
            long_run: int = 0) -> tuple[int, Warmup, list[Sample]]:
    """One fork's measurement through run(iterations, repeats). Returns (iterations, warm-up, samples).
    min_runs, min_seconds, long_run: the runtime's warm-up minimum (runtime.toml)."""
    w = Warmup()
    if m.target_s <= 0:  # smoke: one iteration, answers checked, nothing measured
        return 1, Warmup(steady=True), run(1, m.repetitions)
    target = m.target_s * 1e9
    t0 = time.monotonic()
    jit: list[int | None] = []  # the runtime's compile count after each run (None: not reported)

    def one(n: int) -> Sample:
        s = run(n, 1)[0]
        w.per_iteration_ns.append(s.wall_ns / n)
        w.cpu_per_iteration_ns.append(s.cpu_ns / n)
        jit.append(s.jit)
        return s

    # Calibrate. The very first run pays one-time costs (the JIT, lazy binding, first touches of the
    # data), so it never ends the calibration: the iteration count comes from a run after it.
    one(1)
    # A JIT that compiles a loop on its back-edge count within one call (HotSpot's OSR) needs that
    # many iterations in one run; runs sized to the target at a slow first speed may never get there.
    # Runs grow to long_run iterations, or until one takes LONG_RUN_MAX_S (a scan of 1024 records
    # per iteration would otherwise spend half a minute on it).
    k = min(100, long_run)
    while long_run > 1:
        s = one(k)
        if k >= long_run or s.wall_ns >= LONG_RUN_MAX_S * 1e9:
            break
        k = min(long_run, next_iterations(k, s.wall_ns, LONG_RUN_MAX_S * 1e9))
    n = 1
    while True:
        s = one(n)
        if s.wall_ns >= target:
            break
        n = next_iterations(n, s.wall_ns, target)
    # A runtime's minimum (a JIT's tier-up counts calls, not time): met with short runs, a tenth of
    # the target each, so that it costs calls rather than seconds.
    short = max(1, n // 10)
    while w.runs < min_runs or time.monotonic() - t0 < min_seconds:
        one(short)
    sized = len(w.per_iteration_ns)  # from here on, every run has the final iteration count
    t_min = time.monotonic()
    while True:  # warm up until steady: times agree and the runtime compiled nothing meanwhile
        judged = w.cpu_per_iteration_ns if all(w.cpu_per_iteration_ns[sized:]) else w.per_iteration_ns
        counts = jit[sized:][-m.window:]
        quiet = len(set(counts)) <= 1
        if len(counts) >= m.window and quiet and steady(judged[sized:], m.window, m.tolerance):
            w.steady = True
            break
        if w.runs - sized >= m.warmup_max_runs or time.monotonic() - t_min >= m.warmup_max_seconds:
            break
        one(n)
    w.seconds = time.monotonic() - t0
    recent = statistics.median(w.per_iteration_ns[-m.window:])
    n = max(1, int(round(target / recent))) if recent > 0 else n
    return n, w, run(n, m.repetitions)
