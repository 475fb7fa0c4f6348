"""perprocess.py — what costs once per process: the first call (each process prints
"LOAD_NS FIRST_NS SECOND_NS", bench/runtimes/README.md) and the whole process (hyperfine).

Both are tasks of the run's one plan (cli.py), spread over the whole run among the forks — the
machine's drift over minutes then hits them as it hits everything else, instead of a block of them
at the end. First calls: `rounds` fresh processes per runtime and mechanism, each round in its own
shuffled order. Whole processes: per runtime, `rounds` short hyperfine runs over its commands (its
control `first-call none` and each mechanism), command order shuffled each time, times merged; a
command that fails is dropped (its first call reports why).
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


def first_call(it: FirstCall, res: FirstCallResult, base_env: dict[str, str], scratch_root: str, pad: int) -> None:
    """One fresh process's first call, into res (a row, or the error)."""
    if res.error:
        return
    scratch = tempfile.mkdtemp(prefix="first-", dir=scratch_root)
    try:
        p = subprocess.run(it.runtime.first_call_argv(it.mechanism), capture_output=True, text=True,
                           env=fork_env(base_env, it.runtime, scratch, pad), cwd=scratch, timeout=120,
                           start_new_session=True)
        fields = p.stdout.split()
        if p.returncode != 0 or len(fields) != 3:
            res.error = f"exit {p.returncode}, printed {p.stdout.strip()!r}; stderr: {p.stderr.strip()[-400:]}"
        else:
            res.rows.append(tuple(int(x) for x in fields))
    except (subprocess.TimeoutExpired, ValueError, OSError) as e:
        res.error = str(e)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def crosscheck(rt: Runtime, cc, record: dict, base_env: dict[str, str], scratch_root: str, pad: int) -> str | None:
    """One process of a standalone cross-check loop: its ns per call into record["ns_per_call"];
    returns the error, if any (also kept in record)."""
    scratch = tempfile.mkdtemp(prefix="cross-", dir=scratch_root)
    try:
        p = subprocess.run(list(cc.command), capture_output=True, text=True, env=fork_env(base_env, rt, scratch, pad),
                           cwd=scratch, timeout=300, start_new_session=True)
        try:
            record["ns_per_call"].append(float(p.stdout.split()[-1]))
            if p.returncode != 0:
                raise ValueError(f"exit {p.returncode}")
        except (ValueError, IndexError) as e:
            record["error"] = f"{e}; printed {p.stdout.strip()[-200:]!r}; stderr: {p.stderr.strip()[-300:]}"
    except (subprocess.TimeoutExpired, OSError) as e:
        record["error"] = str(e)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return record["error"]


def first_call_plan(items: list[FirstCall], rounds: int, rng: random.Random) -> list[FirstCall]:
    plan = []
    for _ in range(rounds):
        order = list(items)
        rng.shuffle(order)
        plan += order
    return plan


def process_commands(rt: Runtime, mechanisms: list[str]) -> dict[str, list[str]]:
    """hyperfine's commands for a runtime: <runtime>/control/process (protocol workers) and
    <runtime>/<mechanism>/process."""
    commands = {f"{rt.name}/{m}/process": rt.first_call_argv(m) for m in mechanisms}
    if rt.protocol != "gbench":
        commands = {f"{rt.name}/control/process": rt.first_call_argv("none"), **commands}
    return commands


def hyperfine_round(rt: Runtime, commands: dict[str, list[str]], runs: int, base_env: dict[str, str],
                    scratch_root: str, path: str, rng: random.Random) -> list[dict]:
    """One hyperfine run over a runtime's commands (shuffled), `runs` each: its results, failed
    commands (a non-zero exit) left out. Raises RuntimeError when hyperfine itself fails."""
    names = list(commands)
    rng.shuffle(names)
    scratch = tempfile.mkdtemp(prefix="hyperfine-", dir=scratch_root)
    cmd = ["hyperfine", "-N", "--ignore-failure", "--warmup", "2", "--runs", str(runs), "--style", "none",
           "--export-json", path]
    for n in names:
        cmd += ["-n", n, shlex.join(commands[n])]
    try:
        p = subprocess.run(cmd, env=fork_env(base_env, rt, scratch, rng.randrange(4096)), cwd=scratch,
                           capture_output=True, text=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if p.returncode != 0 or not os.path.exists(path):
        raise RuntimeError(f"hyperfine failed for {rt.name}: {p.stderr.strip()[-400:]}")
    with open(path, encoding="utf-8") as f:
        return [r for r in json.load(f)["results"] if not any(r.get("exit_codes") or [])]


def merge_hyperfine(rounds: list[list[dict]], order: list[str]) -> list[dict]:
    """The rounds' results as one list, each command's times concatenated, in `order`."""
    merged: dict[str, dict] = {}
    for results in rounds:
        for res in results:
            m = merged.setdefault(res["command"], {"command": res["command"], "times": [], "exit_codes": []})
            m["times"] += res["times"]
            m["exit_codes"] += res.get("exit_codes", [])
    return [merged[n] for n in order if n in merged]


def available() -> bool:
    return shutil.which("hyperfine") is not None
