"""runtimes.py — the runtime folders (bench/runtimes/*/runtime.toml) and their builds.

A folder provides one or more runtimes; each runtime has a worker command (or, for the C suite,
google-benchmark's ffibench_c), an environment, and the warm-up minimum its JIT needs.
"""
from __future__ import annotations

import os
import re
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SKIPPED = 77  # a build's exit status for "the runtime is not installed here"
NOT_INSTALLED = "not installed here"


@dataclass(eq=False)  # one object per runtime: compared and hashed by identity
class Runtime:
    name: str
    folder: "Folder"
    protocol: str                       # "worker" (the line protocol) or "gbench" (ffibench_c)
    worker: list[str]                   # the command line, placeholders filled in
    env: dict[str, str] = field(default_factory=dict)
    warmup_min_runs: int = 0
    warmup_min_seconds: float = 0.0
    warmup_long_run: int = 0            # iterations of one run before calibrating (0: none)
    about: str = ""
    first_call: dict[str, list[str]] = field(default_factory=dict)  # gbench: mechanism -> argv
    crosschecks: list["Crosscheck"] = field(default_factory=list)
    # The benchmarks a run without --filter measures (searched in the full name; None: all): a
    # variant of another runtime keeps what it can change (bench/runtimes/README.md, "subset").
    subset: re.Pattern | None = None

    def first_call_argv(self, mechanism: str) -> list[str]:
        if self.protocol == "gbench":
            return self.first_call[mechanism]
        return [*self.worker, "first-call", mechanism]


@dataclass(frozen=True)
class Crosscheck:
    """The simplest standalone loop for one of the runtime's benchmarks: a program of its own that
    shares no code with the worker and prints its ns per call (bench/runtimes/README.md)."""

    benchmark: str
    command: tuple[str, ...]
    about: str = ""
    explanation: str = ""  # why the suite's figure may differ from it by more than 10 %, if it does


@dataclass(eq=False)
class Folder:
    name: str
    path: Path
    build: list[str] | None
    runtimes: list[Runtime]
    packages: list[str]


class Placeholders:
    def __init__(self, here: Path, build_dir: Path, folder: str):
        self.values = {"here": str(here), "build": str(build_dir),
                       "out": str(build_dir / "runtimes" / folder)}

    def fill(self, s: str) -> str:
        for k, v in self.values.items():
            s = s.replace("{" + k + "}", v)
        return s


def read_packages(path: Path) -> list[str]:
    """A `packages` file: one Debian package per line; blank lines and # comments ignored."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def load_folder(path: Path, build_dir: Path) -> Folder:
    with open(path / "runtime.toml", "rb") as f:
        spec = tomllib.load(f)
    ph = Placeholders(path, build_dir, path.name)
    folder = Folder(path.name, path, [ph.fill(a) for a in spec["build"]] if "build" in spec else None,
                    [], read_packages(path / "packages"))
    for r in spec.get("runtime", []):
        warm = r.get("warmup", {})
        folder.runtimes.append(Runtime(
            name=r["name"], folder=folder, protocol=r.get("protocol", "worker"),
            worker=[ph.fill(a) for a in r["worker"]],
            env={k: ph.fill(str(v)) for k, v in r.get("env", {}).items()},
            warmup_min_runs=int(warm.get("min_runs", 0)),
            warmup_min_seconds=float(warm.get("min_seconds", 0.0)),
            warmup_long_run=int(warm.get("long_run", 0)),
            about=r.get("about", ""),
            first_call={m: [ph.fill(a) for a in argv] for m, argv in r.get("first_call", {}).items()},
            crosschecks=[Crosscheck(c["benchmark"], tuple(ph.fill(a) for a in c["command"]), c.get("about", ""),
                                    c.get("explanation", "")) for c in r.get("crosscheck", [])],
            subset=re.compile(r["subset"]) if "subset" in r else None))
    return folder


def discover(root: Path, build_dir: Path) -> list[Folder]:
    """Every runtime folder under root (bench/runtimes), C first, then by name."""
    paths = sorted(p for p in root.iterdir() if (p / "runtime.toml").exists())
    paths.sort(key=lambda p: p.name != "c")
    return [load_folder(p, build_dir) for p in paths]


def select(folders: list[Folder], wanted: str) -> list[Runtime]:
    """The runtimes `wanted` names: "all", "none" (C only), or a comma-separated list of names, each
    a runtime's (that runtime) or else a folder's (all of its runtimes). Raises ValueError for a name
    nothing has."""
    every = [r for f in folders for r in f.runtimes]
    if wanted == "all":
        return every
    if wanted == "none":
        return [r for r in every if r.folder.name == "c"]
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    unknown = [n for n in names if not any(n in (r.name, r.folder.name) for r in every)]
    if unknown:
        known = ", ".join(sorted({r.name for r in every} | {f.name for f in folders}))
        raise ValueError(f"no runtime named {', '.join(unknown)} (there are: {known})")
    runtime_names = {r.name for r in every}
    return [r for r in every if r.name in names
            or (r.folder.name in names and r.folder.name not in runtime_names)]


def build(folder: Folder, env: dict[str, str], log_path: Path) -> tuple[bool, str]:
    """Runs a folder's build (if it has one). Returns (ok, why not): not ok for a missing runtime
    (exit 77, with its stderr's last line as the reason) and for a failed build."""
    if not folder.build:
        return True, ""
    os.makedirs(env["KV_BUILD_DIR"] + f"/runtimes/{folder.name}", exist_ok=True)
    with open(log_path, "wb") as log:
        rc = subprocess.run(folder.build, cwd=folder.path, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    text = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    last = text[-1] if text else ""
    if rc == 0:
        return True, ""
    if rc == SKIPPED:
        return False, f"{NOT_INSTALLED}: {last}"
    return False, f"its build failed (exit {rc}; log {log_path}): {last}"
