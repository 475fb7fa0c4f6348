"""cli.py — the driver's command line: plan, run and record one benchmark run.

  python3 bench/driver --build-dir BUILD [--out DIR] [--quick | --smoke] [--filter REGEX]
                       [--runtimes LIST] [--forks N] [--repetitions N] [--min-time S]
                       [--no-icount] [--no-process] [--validate] [--seed N] [--list]

What it does, in order: writes the data set; builds and asks every selected runtime's worker what it
has (hello, list, data: the data set's checksum must match); plans every benchmark in fresh
processes, `--forks` each, the forks of all benchmarks and runtimes interleaved in a seeded random
order; runs them (progress and an ETA on stderr; Ctrl-C stops and keeps what was measured); times
first calls per process and whole processes (hyperfine); counts instructions (callgrind, C only);
with --validate, runs the validation rows interleaved with the rest and checks them; then writes the
results folder and its summary. Exit status: 0; 1 when a benchmark failed or a selected runtime did
not run; 2 for bad usage; 130 when interrupted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from . import method as method_
from . import output, perprocess, runtimes
from .forks import Bench, ForkResult, run_fork
from .protocol import Worker, WorkerCrash, WorkerError

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "scripts" / "lib"
PY = "/usr/bin/python3"

# --quick: a first look at every runtime: the calls, a get, a put, the ends of the payload and
# batching curves, a scan; no variants (binding variants, buffer kinds, call-site shapes, threads).
QUICK_PARAMS = {"bytes": {"8", "1048576"}, "n": {"1", "1024", "256"}}
QUICK_DROP = re.compile(r"/(get/mode:throughput|get_miss|scan/dir:downcall|add/mode:throughput)\b|/buf:|/site:|/threads:"
                        r"|-(delegate|marshaled|safehandle|noargtypes)/")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/driver", description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", required=True, help="the CMake build folder (libkv, ffibench_c)")
    p.add_argument("--out", help="the results folder (default: results/<UTC timestamp>-<host>)")
    p.add_argument("--results-root", default=str(ROOT / "results"))
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="a first look: 2 forks, shorter runs, fewer sizes and variants, no instruction counts")
    mode.add_argument("--smoke", action="store_true", help="every benchmark once, answers checked (a test)")
    p.add_argument("--filter", default="", help="Python regex searched in each full benchmark name")
    p.add_argument("--runtimes", default="all", help="all, none (C only), or names/folders, comma-separated")
    p.add_argument("--forks", type=int, help="processes per benchmark")
    p.add_argument("--repetitions", type=int, help="timed runs per process")
    p.add_argument("--min-time", type=float, help="seconds per timed run")
    p.add_argument("--no-icount", action="store_true", help="skip the instruction counts")
    p.add_argument("--no-process", action="store_true", help="skip first calls and whole processes")
    p.add_argument("--validate", action="store_true", help="also run the validation rows and check them")
    p.add_argument("--seed", type=int, default=20261125, help="seeds the order and the padding")
    p.add_argument("--list", action="store_true", help="print the plan and exit")
    p.add_argument("--timeout", type=float, help="seconds a worker may take to answer one request (default 120)")
    p.add_argument("--trace", action="store_true",
                   help="write every worker's requests and answers to raw/trace/ (bench/driver/replay.py replays one)")
    p.add_argument("--runtimes-dir", default=str(ROOT / "bench" / "runtimes"), help=argparse.SUPPRESS)
    p.add_argument("--command", default="", help=argparse.SUPPRESS)  # the front end's command line
    a = p.parse_args(argv)
    for opt in ("forks", "repetitions"):
        if getattr(a, opt) is not None and getattr(a, opt) < 1:
            p.error(f"--{opt} takes a positive number")
    if a.min_time is not None and a.min_time <= 0:
        p.error("--min-time takes a positive number of seconds")
    try:
        re.compile(a.filter)
    except re.error as e:
        p.error(f"--filter: {e}")
    return a


def choose_method(a: argparse.Namespace) -> method_.Method:
    m = method_.MODES["smoke" if a.smoke else "quick" if a.quick else "full"]
    changes = {}
    if a.forks:
        changes["forks"] = a.forks
    if a.repetitions:
        changes["repetitions"] = a.repetitions
    if a.min_time:
        changes["target_s"] = a.min_time
    if a.timeout:
        changes["timeout_s"] = a.timeout
    return dataclasses.replace(m, **changes)


def log(msg: str) -> None:
    print(f"\033[1m==> {msg}\033[0m" if sys.stderr.isatty() else f"==> {msg}", file=sys.stderr, flush=True)


class Progress:
    """A line on stderr after each task (a fork, a first call, a hyperfine round): done/total,
    elapsed, and an ETA from what each kind of task of each runtime has taken so far (one not yet
    seen counts at the overall average)."""

    def __init__(self, plan: list[tuple]):
        self.left = defaultdict(int)
        for t in plan:
            self.left[task_key(t)] += 1
        self.total, self.done = len(plan), 0
        self.spent: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def eta(self) -> float:
        every = [s for v in self.spent.values() for s in v]
        avg = sum(every) / len(every) if every else 0.0
        return sum(n * (sum(self.spent[k]) / len(self.spent[k]) if self.spent[k] else avg)
                   for k, n in self.left.items())

    def step(self, t: tuple, seconds: float, label: str, error: str | None) -> None:
        self.done += 1
        self.left[task_key(t)] -= 1
        self.spent[task_key(t)].append(seconds)
        now = time.monotonic()
        if not self.tty and now - self.last < 5 and self.done < self.total and not error:
            return
        self.last = now
        line = (f"  [{self.done}/{self.total} processes, {now - self.t0:.0f} s elapsed, ETA {self.eta():.0f} s] "
                f"{label}" + (f"  FAILED: {error.splitlines()[0]}" if error else ""))
        if self.tty and not error:
            print("\r\033[K" + line[:200], end="", file=sys.stderr, flush=True)
        else:
            print(("\r\033[K" if self.tty else "") + line, file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def task_key(t: tuple) -> tuple[str, str]:
    """(kind, runtime) of a plan's task: ("fork", Bench, k), ("first", FirstCall),
    ("cross", Runtime, Crosscheck) or ("hyperfine", Available, k)."""
    if t[0] == "fork":
        return ("fork", t[1].runtime.name)
    if t[0] == "first":
        return ("first", t[1].runtime.name)
    if t[0] == "cross":
        return ("cross", t[1].name)
    return ("hyperfine", t[1].rt.name)


def riffle(a: list, b: list, rng: random.Random) -> list:
    """a and b merged at random, each keeping its own order: b spread evenly over a."""
    out, i, j = [], 0, 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and rng.random() < (len(a) - i) / (len(a) - i + len(b) - j)):
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out


@dataclasses.dataclass
class Available:
    """A runtime that can run: its benchmarks, first-call mechanisms and context."""

    rt: runtimes.Runtime
    benches: list[Bench]
    mechanisms: list[str]
    context: dict


def base_env(build: Path, data: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KV_BUILD_DIR=str(build), KV_LIBRARY=str((build / "engine" / "libkv.so").resolve()),
               KV_INCLUDE=str(ROOT / "engine" / "include"), FFIBENCH_DATA=data)
    return env


def probe(rt: runtimes.Runtime, env: dict[str, str], checksum: str, scratch_root: str, validate: bool
          ) -> Available:
    """Asks a runtime what it has. Raises RuntimeError saying why it cannot run."""
    if rt.protocol == "gbench":
        def listed(*extra: str) -> list[tuple[str, float, int]]:
            p = subprocess.run([*rt.worker, "--ffibench_list", *extra], capture_output=True, text=True, env=env)
            rows = [ln.split("\t") for ln in p.stdout.splitlines()]
            if p.returncode != 0 or not rows or rows[-1] != ["ok"]:
                raise RuntimeError(f"{rt.worker[0]} --ffibench_list failed: {p.stderr.strip()[-300:]}")
            return [(r[1], float(r[2]), int(r[3])) for r in rows[:-1] if r[0] == "bench"]
        benches = [Bench(rt, n, o, t) for n, o, t in listed()]
        if validate:  # the validation rows, c/direct among them, in processes of their own
            benches += [Bench(rt, n, o, t, ("--ffibench_validate",)) for n, o, t in listed("--ffibench_validate")]
        return Available(rt, benches, list(rt.first_call), {})
    scratch = tempfile.mkdtemp(prefix="probe-", dir=scratch_root)
    try:
        with Worker(rt.worker, {**env, **rt.env, "FFIBENCH_SCRATCH": scratch}, scratch,
                    os.path.join(scratch, "stderr.log"), timeout=300) as w:
            context = w.hello()
            listed, mechs = w.list()
            got = w.data()
        if got != checksum:
            raise RuntimeError(f"its data set checksum is {got}, the data folder's is {checksum}")
    except (WorkerCrash, WorkerError) as e:
        raise RuntimeError(f"its worker does not answer: {e}") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Available(rt, [Bench(rt, x.name, x.ops, x.threads) for x in listed], mechs, context)


def selected(b: Bench, pattern: re.Pattern | None, quick: bool, smoke: bool = False) -> bool:
    """Whether the run measures b: --filter (or else the runtime's subset, which --smoke ignores),
    then --quick's thinning; the validation rows (which --validate asks for as a whole) always."""
    if b.args:
        return True
    if pattern and not pattern.search(b.name):
        return False
    if not pattern and not smoke and b.runtime.subset and not b.runtime.subset.search(b.name):
        return False
    if quick:
        if QUICK_DROP.search(b.name):
            return False
        for part in b.name.split("/")[2:]:
            k, _, v = part.partition(":")
            if k in QUICK_PARAMS and v not in QUICK_PARAMS[k]:
                return False
    return True


def interleave(benches: list[Bench], forks: int, rng: random.Random) -> list[tuple[Bench, int]]:
    """Round k holds every benchmark's fork k, in its own shuffled order: every benchmark's forks are
    spread over the whole run, and the runtimes are mixed."""
    plan = []
    for k in range(forks):
        order = list(benches)
        rng.shuffle(order)
        plan += [(b, k) for b in order]
    return plan


def context_for(av: Available, m: method_.Method, first: ForkResult | None, checksum: str) -> dict:
    rt = av.rt
    ctx: dict = {}
    if first and first.context:  # google-benchmark's own context (host, CPU, library build type...)
        ctx.update({k: v for k, v in first.context.items() if not k.startswith("ffibench.")})
        ctx.update({k: v for k, v in first.context.items() if k.startswith("ffibench.")})
        ctx.setdefault("ffibench.runtime_name", "C (" + first.context.get("ffibench.compiler", "?") + ")")
        ctx.setdefault("ffibench.runtime_mode", "ahead-of-time compiled, " + first.context.get("ffibench.build_type", "?"))
        ctx.setdefault("ffibench.runtime_flags", first.context.get("ffibench.c_flags", ""))
    for k, v in av.context.items():
        ctx[f"ffibench.{k}"] = v
    ctx.update({
        "ffibench.runtime": rt.name,
        "ffibench.about": rt.about,
        "ffibench.worker": " ".join(rt.worker),
        "ffibench.protocol": "google-benchmark (ffibench_c, one process per benchmark and fork)"
        if rt.protocol == "gbench" else "worker protocol 1 (bench/runtimes/README.md)",
        "ffibench.method": m.describe(),
        "ffibench.forks": m.forks,
        "ffibench.repetitions_per_fork": m.repetitions,
        "ffibench.target_time_s": m.target_s,
        "ffibench.warmup_minimum": f"{rt.warmup_min_runs} runs, {rt.warmup_min_seconds:g} s"
                                   + (f", one run of {rt.warmup_long_run} iterations" if rt.warmup_long_run else ""),
        "ffibench.time_field": output.TIME_FIELD,
        "ffibench.dataset_checksum": checksum,
        "ffibench.durability": "nosync (KV_DURABLE_NOSYNC) for every write",
    })
    return ctx


def main(argv: list[str]) -> int:
    a = parse(argv)
    m = choose_method(a)
    if a.validate:
        m = dataclasses.replace(m, forks=max(m.forks, 5))
    build = Path(a.build_dir).resolve()
    pattern = re.compile(a.filter) if a.filter else None
    rng = random.Random(a.seed)
    folders = runtimes.discover(Path(a.runtimes_dir), build)
    try:
        wanted = runtimes.select(folders, a.runtimes)
    except ValueError as e:
        print(f"bench: --runtimes: {e}", file=sys.stderr)
        return 2
    skip_ok = {s.strip() for s in os.environ.get("FFIBENCH_SKIP_RUNTIMES", "").split(",") if s.strip()}

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = Path(a.out or os.path.join(a.results_root, f"{stamp}-{socket.gethostname().split('.')[0]}")).resolve()
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="ffibench-run-")
    data = os.path.join(tmp, "data")
    try:
        return _run(a, m, build, pattern, rng, folders, wanted, skip_ok, out, raw, tmp, data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(a, m, build, pattern, rng, folders, wanted, skip_ok, out, raw, tmp, data) -> int:
    status = 0
    t_start = time.monotonic()
    if not a.list:
        subprocess.run([PY, str(LIB / "provenance.py"), str(out / "provenance.json"), str(build),
                        f"forks={m.forks}", f"repetitions={m.repetitions}", f"min_time={m.target_s}",
                        f"filter={a.filter}", f"mode={'smoke' if a.smoke else 'quick' if a.quick else 'full'}",
                        f"icount={int(not a.no_icount)}", f"process={int(not a.no_process)}",
                        f"validate={int(a.validate)}", f"runtimes={a.runtimes}", f"seed={a.seed}", "--",
                        *(a.command.split("\x1f") if a.command else ["bench/driver", *sys.argv[1:]])],
                       check=True)
    p = subprocess.run([str(build / "bench" / "ffibench_dataset"), data], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"bench: cannot write the data set: {p.stderr.strip()}", file=sys.stderr)
        return 1
    with open(os.path.join(data, "manifest.txt"), encoding="utf-8") as f:
        checksum = next(ln.rstrip("\n").split("\t")[1] for ln in f if ln.startswith("checksum\t"))
    env = base_env(build, data)

    # ---- every selected runtime: build, then what it has ------------------------------------------
    available: list[Available] = []
    missing: list[tuple[runtimes.Runtime, str]] = []
    built: dict[str, tuple[bool, str]] = {}
    for rt in wanted:
        f = rt.folder
        if f.name not in built:
            if f.build:
                log(f"building {f.name}")
            built[f.name] = runtimes.build(f, env, raw / f"build-{f.name}.log")
        ok, why = built[f.name]
        if ok:
            try:
                available.append(probe(rt, env, checksum, tmp, a.validate))
                continue
            except RuntimeError as e:
                why = str(e)
        missing.append((rt, why))
        print(f"bench: runtime {rt.name} cannot run: {why}", file=sys.stderr)

    benches = [b for av in available for b in av.benches if selected(b, pattern, a.quick, a.smoke)]
    forks = [("fork", b, k) for b, k in interleave(benches, m.forks, rng)]
    fc_items = [perprocess.FirstCall(av.rt, mech) for av in available for mech in av.mechanisms
                if not a.no_process and (not pattern or pattern.search(f"{av.rt.name}/{mech}/first_call")
                                         or pattern.search(f"{av.rt.name}/{mech}/process"))]
    # Per-process figures are spread over the whole run among the forks (perprocess.py).
    per_process = [("first", it) for it in perprocess.first_call_plan(fc_items, m.first_call_rounds, rng)]
    commands = {av.rt.name: perprocess.process_commands(av.rt, [it.mechanism for it in fc_items if it.runtime is av.rt])
                for av in available}
    hf_rounds = 4
    if m.hyperfine_runs and perprocess.available():
        per_process += [("hyperfine", av, k) for k in range(hf_rounds) for av in available if commands[av.rt.name]
                        if any(it.runtime is av.rt for it in fc_items)]
    # --validate: each runtime's standalone cross-check loops, 5 fresh processes each, spread too.
    crosschecks = [(av.rt, cc) for av in available for cc in av.rt.crosschecks if a.validate
                   and any(b.name == cc.benchmark and not b.args for b in benches)]
    per_process += [("cross", rt, cc) for _ in range(5) for rt, cc in crosschecks]
    rng.shuffle(per_process)
    plan = riffle(forks, per_process, rng)
    if a.list:
        for t in plan:
            print(f"fork {t[2]}\t{t[1].name}" if t[0] == "fork" else
                  f"first-call\t{t[1].name}" if t[0] == "first" else
                  f"cross-check\t{t[2].benchmark}" if t[0] == "cross" else f"hyperfine {t[2]}\t{t[1].rt.name}")
        return 0 if not missing else 1
    log(f"{len(benches)} benchmarks x {m.forks} forks = {len(forks)} processes "
        f"({', '.join(f'{av.rt.name} {sum(1 for b in benches if b.runtime is av.rt)}' for av in available)}), "
        f"{sum(1 for t in per_process if t[0] == 'first')} first calls and "
        f"{sum(1 for t in per_process if t[0] == 'hyperfine')} hyperfine rounds among them -> {out}")

    # ---- the plan: forks, first calls, whole processes ------------------------------------------------
    results: dict[tuple[str, str], list[ForkResult]] = defaultdict(list)
    fc = {it: perprocess.FirstCallResult() for it in fc_items}
    hf_by_rt: dict[str, list[list[dict]]] = defaultdict(list)
    cross: dict = {cc: {"runtime": rt.name, "benchmark": cc.benchmark, "command": list(cc.command), "about": cc.about,
                        "explanation": cc.explanation, "ns_per_call": [], "error": None} for rt, cc in crosschecks}
    progress = Progress(plan)
    interrupted = False
    trace_dir = None
    if a.trace:
        trace_dir = str(raw / "trace")
        os.makedirs(trace_dir, exist_ok=True)
    t0 = time.monotonic()
    # Where the run's time went (provenance.json, driver.seconds): each kind of task, summed.
    spent: dict[str, float] = defaultdict(float)
    failed_keys: set[tuple[str, str]] = set()
    with open(raw / "forks.jsonl", "w", encoding="utf-8") as jl:
        try:
            for t in plan:
                t1 = time.monotonic()
                kind = {"fork": "validation rows" if t[0] == "fork" and t[1].args else "forks", "first": "first calls",
                        "cross": "cross-checks", "hyperfine": "hyperfine"}[t[0]]
                if t[0] == "fork":
                    b, k = t[1], t[2]
                    if b.key in failed_keys:  # a benchmark that failed once is not run again
                        continue
                    r = run_fork(b, k, m, env, tmp, rng.randrange(4096), t0, trace_dir)
                    results[b.key].append(r)
                    if r.error:
                        failed_keys.add(b.key)
                    jl.write(json.dumps(r.record()) + "\n")
                    jl.flush()
                    progress.step(t, r.seconds, b.name, r.error)
                elif t[0] == "first":
                    it = t[1]
                    had = fc[it].error
                    perprocess.first_call(it, fc[it], env, tmp, rng.randrange(4096))
                    progress.step(t, time.monotonic() - t1, it.name, fc[it].error if not had else None)
                elif t[0] == "cross":
                    err = perprocess.crosscheck(t[1], t[2], cross[t[2]], env, tmp, rng.randrange(4096))
                    progress.step(t, time.monotonic() - t1, f"cross-check {t[2].benchmark}", err)
                else:
                    av, k = t[1], t[2]
                    path = str(raw / f"hyperfine-{av.rt.name}-{k}.json")
                    err = None
                    try:
                        hf_by_rt[av.rt.name].append(perprocess.hyperfine_round(
                            av.rt, commands[av.rt.name], -(-m.hyperfine_runs // hf_rounds), env, tmp, path, rng))
                    except RuntimeError as e:
                        err, status = str(e), 1
                    progress.step(t, time.monotonic() - t1, f"hyperfine {av.rt.name} ({k + 1}/{hf_rounds})", err)
                spent[kind] += time.monotonic() - t1
        except KeyboardInterrupt:
            interrupted = True
    progress.end()
    hf = [r for av in available for r in perprocess.merge_hyperfine(hf_by_rt[av.rt.name], list(commands[av.rt.name]))]

    # ---- instruction counts (C) ----------------------------------------------------------------------
    c_names = [b.name for b in benches if b.runtime.protocol == "gbench" and b.threads == 1 and not b.args]
    if c_names and not a.no_icount and not interrupted and not a.smoke and not a.quick:
        log(f"instruction counts: {len(c_names)} C benchmarks under callgrind (deterministic)")
        t1 = time.monotonic()
        try:
            if not icount(build, data, c_names, out, tmp):
                status = 1
        except KeyboardInterrupt:
            interrupted = True
        spent["instruction counts"] = time.monotonic() - t1

    # ---- the results folder ------------------------------------------------------------------------
    write_results(out, available, benches, results, fc, fc_items, hf, m, checksum)
    if cross:
        with open(out / "crosscheck.json", "w", encoding="utf-8") as f:
            json.dump({"about": "each runtime's simplest standalone loop, run in fresh processes beside the suite "
                                "(bench/runtimes/README.md); ns_per_call: one figure per process",
                       "checks": list(cross.values())}, f, indent=1)
    spent["total, from the start"] = time.monotonic() - t_start
    driver_provenance(out, m, available, missing, results, forks, spent)
    failures = sorted(f"{k[1]}: {v[-1].error.splitlines()[0]}" for k, v in results.items() if v and v[-1].error)
    fc_fail = sorted(f"{it.name}: {res.error}" for it, res in fc.items() if res.error)
    fc = {it: res for it, res in fc.items() if res.rows or res.error}  # those that ran
    if a.validate and not interrupted:
        log("validation (validate.json)")
        if subprocess.run([PY, str(LIB / "validate.py"), str(out)]).returncode != 0:
            status = 1
    print(file=sys.stderr)
    subprocess.run([PY, str(LIB / "summary.py"), str(out)])
    if not a.smoke:
        if subprocess.run([str(ROOT / "scripts" / "report"), str(out)], stdout=subprocess.DEVNULL).returncode != 0:
            print("bench: the report is incomplete (see it)", file=sys.stderr)
    for f in failures + fc_fail:
        print(f"bench: FAILED {f}", file=sys.stderr)
    if failures or fc_fail:
        status = 1
    for rt, why in missing:
        pk = rt.folder.packages
        print(f"bench: runtime {rt.name} did not run: {why}"
              + (f"\n       install its packages with: apt-get install {' '.join(pk)}"
                 if pk and why.startswith(runtimes.NOT_INSTALLED) else ""), file=sys.stderr)
        if rt.name not in skip_ok and rt.folder.name not in skip_ok:
            status = 1
    print(f"results: {out}")
    if not a.smoke:
        print(f"report:  {out}/report.html ({out}/report.md)")
    if interrupted:
        print("bench: interrupted; what was measured so far is in the results folder", file=sys.stderr)
        return 130
    if not available and missing and all(rt.name in skip_ok or rt.folder.name in skip_ok for rt, _ in missing):
        return 77  # nothing could run, and that was accepted: say "skipped", not "passed"
    return status


def icount(build: Path, data: str, names: list[str], out: Path, tmp: str) -> bool:
    dumps = os.path.join(tmp, "callgrind")
    os.makedirs(dumps, exist_ok=True)
    vlog = os.path.join(tmp, "valgrind.log")
    arch = os.uname().machine
    with open(vlog, "wb") as err:
        # ASLR off for the counted process, so nothing address-dependent varies between runs; PLT
        # stubs counted (callgrind skips part of them by default, which hid the PLT's jump).
        p = subprocess.run(["setarch", arch, "-R", "valgrind", "--tool=callgrind", "--skip-plt=no",
                            "--instr-atstart=no", f"--callgrind-out-file={dumps}/cg.%p",
                            str(build / "bench" / "ffibench_icount"), data, *names],
                           stdout=subprocess.DEVNULL, stderr=err)
    if p.returncode != 0:
        print(open(vlog, encoding="utf-8", errors="replace").read()[-2000:], file=sys.stderr)
    q = subprocess.run([PY, str(LIB / "icount.py"), dumps, str(out / "icount.json")])
    return p.returncode == 0 and q.returncode == 0


def write_results(out: Path, available: list[Available], benches: list[Bench],
                  results: dict[tuple[str, str], list[ForkResult]], fc: dict, fc_items: list,
                  hf: list[dict], m: method_.Method, checksum: str) -> None:
    for av in available:
        mine = [b for b in benches if b.runtime is av.rt]
        for dest, group in (("", [b for b in mine if not b.args]), ("validate", [b for b in mine if b.args])):
            ran = [b for b in group if results.get(b.key)]
            firsts = [it for it in fc_items if it.runtime is av.rt and it in fc] if not dest else []
            if not ran and not firsts:
                continue
            entries = []
            for b in ran:
                entries += output.bench_entries(b.name, b.ops, b.threads, results[b.key])
            for it in firsts:
                res = fc[it]
                if res.error:
                    entries.append(output.failed(it.name, res.error))
                    continue
                entries += output.per_process_entries(it.name, [r[1] for r in res.rows])
                entries += output.per_process_entries(it.name + "/call:second", [r[2] for r in res.rows])
                if any(r[0] for r in res.rows):
                    entries += output.per_process_entries(it.name + "/phase:load", [r[0] for r in res.rows])
            first = next((r for b in ran for r in results[b.key] if r.context), None)
            folder = out / dest if dest else out
            folder.mkdir(exist_ok=True)
            output.write(str(folder / f"{av.rt.name}.json"), context_for(av, m, first, checksum), entries)
    if hf:
        with open(out / "hyperfine.json", "w", encoding="utf-8") as f:
            json.dump({"results": hf}, f, indent=1)


def driver_provenance(out: Path, m: method_.Method, available: list[Available],
                      missing: list[tuple[runtimes.Runtime, str]], results: dict, plan: list,
                      spent: dict[str, float]) -> None:
    """What the driver knows, into provenance.json's "driver" section: the method, per runtime the
    forks, repetitions, warm-up each fork needed and the padding used, and where the time went."""
    path = out / "provenance.json"
    prov = json.load(open(path, encoding="utf-8")) if path.exists() else {}
    per_rt = {}
    for av in available:
        forks = [r for (rt, _, _), v in results.items() if rt == av.rt.name for r in v]
        warm = sorted(r.warmup_runs for r in forks if not r.error)
        per_rt[av.rt.name] = {
            "worker": " ".join(av.rt.worker), "about": av.rt.about, "env": av.rt.env,
            "warmup_minimum": {"runs": av.rt.warmup_min_runs, "seconds": av.rt.warmup_min_seconds,
                               "long_run": av.rt.warmup_long_run},
            "benchmarks": sum(1 for (rt, _, _) in results if rt == av.rt.name),
            "forks_run": len(forks),
            "forks_failed": sum(1 for r in forks if r.error),
            "forks_not_steady": sum(1 for r in forks if not r.error and not r.steady),
            "warmup_runs_median": warm[len(warm) // 2] if warm else None,
            "warmup_runs_max": warm[-1] if warm else None,
            "seconds": round(sum(r.seconds for r in forks), 1),
        }
    prov["driver"] = {
        "method": m.as_dict(), "description": m.describe(),
        "planned_forks": len(plan),
        "seconds": {k: round(v, 1) for k, v in spent.items()},
        "environment_padding": "FFIBENCH_PAD of 0-4095 bytes, drawn per process from the seeded generator",
        "runtimes": per_rt,
        "not_run": {rt.name: why for rt, why in missing},
        "forks_file": "raw/forks.jsonl (every fork: iterations, warm-up runs and seconds, steady, padding, samples)",
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(prov, f, indent=2)
