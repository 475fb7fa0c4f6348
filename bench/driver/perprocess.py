"""perprocess.py — what costs once per process: the first call (each process prints
"LOAD_NS FIRST_NS SECOND_NS", bench/runtimes/README.md) and the whole process (hyperfine).

First calls: `rounds` fresh processes per runtime and mechanism, every round in its own shuffled order
across all runtimes, so drift hits every mechanism alike. Whole processes: hyperfine over each
runtime's commands (its control `first-call none` and each mechanism), in `rounds` short hyperfine
runs whose command order is shuffled each time, their times merged.
"""
from __future__ import annotations

import json
import os
import random
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Callable

from .forks import fork_env
from .runtimes import Runtime


@dataclass(frozen=True)
class FirstCall:
    runtime: Runtime
    mechanism: str

    @property
    def name(self) -> str:
        return f"{self.runtime.name}/{self.mechanism}/first_call"


@dataclass
class FirstCallResult:
    """Per process: (load_ns, first_ns, second_ns); or the error that ended the measurement."""

    rows: list[tuple[int, int, int]] = field(default_factory=list)
    error: str | None = None


def first_calls(items: list[FirstCall], rounds: int, base_env: dict[str, str], scratch_root: str,
                rng: random.Random, stop: Callable[[], bool], progress: Callable[[str], None]
                ) -> dict[FirstCall, FirstCallResult]:
    out = {it: FirstCallResult() for it in items}
    for r in range(rounds):
        order = list(items)
        rng.shuffle(order)
        for it in order:
            res = out[it]
            if stop():
                return out
            if res.error:
                continue
            scratch = tempfile.mkdtemp(prefix="first-", dir=scratch_root)
            try:
                env = fork_env(base_env, it.runtime, scratch, rng.randrange(4096))
                p = subprocess.run(it.runtime.first_call_argv(it.mechanism), capture_output=True, text=True,
                                   env=env, cwd=scratch, timeout=120, start_new_session=True)
                fields = p.stdout.split()
                if p.returncode != 0 or len(fields) != 3:
                    res.error = (f"exit {p.returncode}, printed {p.stdout.strip()!r}; stderr: "
                                 f"{p.stderr.strip()[-400:]}")
                else:
                    res.rows.append(tuple(int(x) for x in fields))
            except (subprocess.TimeoutExpired, ValueError, OSError) as e:
                res.error = str(e)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        progress(f"first calls: round {r + 1}/{rounds}")
    return out


def hyperfine(rt: Runtime, mechanisms: list[str], runs: int, rounds: int, base_env: dict[str, str],
              scratch_root: str, raw_dir: str, rng: random.Random, stop: Callable[[], bool]) -> list[dict]:
    """hyperfine's results for <runtime>/control/process and <runtime>/<mechanism>/process, the
    times of every round merged; [] when hyperfine is missing. Raises RuntimeError when it fails."""
    if not shutil.which("hyperfine") or runs <= 0:
        return []
    commands = {f"{rt.name}/{m}/process": rt.first_call_argv(m) for m in mechanisms}
    if rt.protocol != "gbench":
        commands = {f"{rt.name}/control/process": rt.first_call_argv("none"), **commands}
    merged: dict[str, dict] = {}
    per_round = max(1, -(-runs // rounds))
    for k in range(rounds):
        if stop():
            break
        names = list(commands)
        rng.shuffle(names)
        scratch = tempfile.mkdtemp(prefix="hyperfine-", dir=scratch_root)
        path = os.path.join(raw_dir, f"hyperfine-{rt.name}-{k}.json")
        cmd = ["hyperfine", "-N", "--warmup", "2", "--runs", str(per_round), "--style", "none",
               "--export-json", path]
        for n in names:
            cmd += ["-n", n, shlex.join(commands[n])]
        try:
            p = subprocess.run(cmd, env=fork_env(base_env, rt, scratch, rng.randrange(4096)), cwd=scratch,
                               capture_output=True, text=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if p.returncode != 0:
            raise RuntimeError(f"hyperfine failed for {rt.name}: {p.stderr.strip()[-400:]}")
        with open(path, encoding="utf-8") as f:
            for res in json.load(f)["results"]:
                m = merged.setdefault(res["command"], {"command": res["command"], "times": [], "exit_codes": []})
                m["times"] += res["times"]
                m["exit_codes"] += res.get("exit_codes", [])
    return [merged[n] for n in commands if n in merged]
