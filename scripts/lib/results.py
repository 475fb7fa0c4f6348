"""results.py — reading an ffibench results folder: one place that knows the files and the maths.

A results folder holds google-benchmark JSON, one file per runtime (<runtime>.json, written by the
driver; folders from before it hold gbench.json, first_call.json and per-harness files), callgrind
counts (icount.json), hyperfine.json, provenance.json and, after --validate, validate/,
validate.json and crosscheck.json. Benchmark names are
<runtime>/<mechanism>/<workload>[/<tag>][/<param>:<value>]...; each runtime has its own control
loop, <runtime>/control/loop.

The statistics follow the two-level design the driver measures with (Kalibera & Jones, ISMM 2013):
a benchmark's repetitions come in forks (processes), and processes, not repetitions, are what
replicate. A benchmark's figure is the median of its forks' medians; its confidence interval is a
hierarchical bootstrap (resample forks, then repetitions within each); the spread between forks is
reported beside the spread within them (with one value per fork, the interval is the
distribution-free one for independent values). Entries without a fork label (folders from before the
driver) count each repetition as its own fork — the model those harnesses assumed — and report.py
warns about them.
"""
import json
import math
import os
import re
import statistics
from dataclasses import dataclass

import numpy as np

CONTROL = "c/control/loop"
GBENCH_FILES = ("c.json", "gbench.json", "first_call.json")
NOT_TIMING = ("icount.json", "hyperfine.json", "provenance.json", "validate.json", "crosscheck.json")
SEED = 20261125
RESAMPLES = 2000  # for a benchmark's own CI; compare uses more


def load_json_tolerant(path):
    """Loads a google-benchmark JSON file, also one cut short by an interrupted run: the benchmarks
    written so far are kept (google-benchmark streams them; only the closing brackets are missing)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    cut = text.rfind("\n    }")  # the end of the last complete benchmark entry
    if cut < 0:
        return {"context": {}, "benchmarks": [], "truncated": True}
    repaired = text[: cut + len("\n    }")] + "\n  ]\n}\n"
    data = json.loads(repaired)
    data["truncated"] = True
    return data


def gbench_files(folder):
    """Every google-benchmark-schema file of a results folder: ours, then any runtime harness's."""
    names = [n for n in GBENCH_FILES if os.path.exists(os.path.join(folder, n))]
    extra = sorted(
        n for n in os.listdir(folder)
        if n.endswith(".json") and n not in names
        and n not in NOT_TIMING
    )
    return [os.path.join(folder, n) for n in names + extra]


class Bench:
    """One benchmark's repetitions, per fork: per-operation times in ns, and what the name says."""

    def __init__(self, name):
        self.name = name
        self.by_fork = {}  # fork label -> ns per operation, one per repetition
        self.ops = 1.0
        self.error = None
        self.file = None  # the timing file it came from
        self.labelled = True  # every entry said which fork it ran in

    def add(self, fork, value):
        self.by_fork.setdefault(fork, []).append(value)

    @property
    def forks(self):
        """The repetitions grouped by fork (process), in fork order."""
        return [self.by_fork[k] for k in sorted(self.by_fork)]

    @property
    def samples(self):
        """Every repetition, forks one after another."""
        return [x for f in self.forks for x in f]

    @property
    def runtime(self):
        return self.name.split("/")[0]

    @property
    def mechanism(self):
        parts = self.name.split("/")
        return parts[1] if len(parts) > 1 else ""

    @property
    def workload(self):
        """The name after <runtime>/<mechanism>/, e.g. 'get/bytes:64'."""
        return "/".join(self.name.split("/")[2:])

    def param(self, key):
        """The value of /key:value in the name, or None."""
        m = re.search(r"/" + re.escape(key) + r":([^/]+)", self.name)
        return m.group(1) if m else None

    @property
    def threads(self):
        """How many threads ran it (google-benchmark appends /threads:N to the name)."""
        return int(self.param("threads") or 1)

    @property
    def per_process(self):
        """Measured once per process (first_call): no timing loop, so no control to subtract."""
        return self.workload.split("/")[0] == "first_call"


TIME_SCALE = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


METRICS = ("real_time", "cpu_time")  # google-benchmark's two times per iteration


def load_benches(folder, metric="real_time"):
    """All benchmarks of a results folder by name, in file order, with their repetitions."""
    return load_timing(folder, metric)[0]


def load_timing(folder, metric="real_time"):
    """(benches, files): load_benches's benchmarks, and for each timing file (by file name) its
    google-benchmark context and whether it was cut short: {"context": {...}, "truncated": bool,
    "unreadable": None, or why the file was skipped (not JSON, or not google-benchmark's schema)}.
    metric: which time of each entry is read, real_time (wall clock, the default) or cpu_time (the
    measuring threads' CPU time); an entry without it makes its benchmark fail."""
    benches, files = {}, {}
    for path in gbench_files(folder):
        entry = files[os.path.basename(path)] = {"context": {}, "truncated": False, "unreadable": None}
        try:
            data = load_json_tolerant(path)
        except ValueError as e:
            entry["unreadable"] = f"not JSON ({e})"
            continue
        if not (isinstance(data, dict) and isinstance(data.get("benchmarks"), list)
                and all(isinstance(b, dict) and "name" in b for b in data["benchmarks"])):
            entry["unreadable"] = "not google-benchmark JSON (no list of named benchmarks)"
            continue
        entry.update(context=data.get("context") or {}, truncated=bool(data.get("truncated")))
        for i, b in enumerate(data["benchmarks"]):
            if b.get("run_type") == "aggregate":
                continue
            name = b.get("run_name", b["name"])
            bench = benches.setdefault(name, Bench(name))
            bench.file = os.path.basename(path)
            if b.get("error_occurred"):
                bench.error = b.get("error_message", "failed")
                continue
            ops = float(b.get("ops", 1.0)) or 1.0
            bench.ops = ops
            scale = TIME_SCALE.get(b.get("time_unit", "ns"), 1.0)
            if metric not in b:
                bench.error = f"no {metric} recorded"
                continue
            if "fork" not in b:
                bench.labelled = False
            bench.add(b.get("fork", ("unlabelled", i)), float(b[metric]) * scale / ops)
    return benches, files


def median(xs):
    return statistics.median(xs) if len(xs) else float("nan")


def median_ci(xs, level=0.95):
    """A distribution-free confidence interval for the median of independent values: order
    statistics chosen from the binomial(n, 1/2) distribution. Returns (lo, hi), or (nan, nan) when n
    is too small (n < 6 at 95 %)."""
    n = len(xs)
    s = sorted(xs)
    if n < 2:
        return (float("nan"), float("nan"))
    best = None
    for j in range(0, n // 2 + 1):  # ranks j and n-1-j (0-based)
        cover = sum(math.comb(n, i) for i in range(j + 1, n - j)) / 2.0 ** n
        if cover >= level:
            best = j
        else:
            break
    if best is None:
        return (float("nan"), float("nan"))
    return (s[best], s[n - 1 - best])


def singletons(xs):
    """Independent values (one per process: first calls, hyperfine's runs) as forks of one."""
    return [[x] for x in xs]


def fork_medians(forks):
    return np.array([np.median(f) for f in forks if len(f)], dtype=float)


def center(forks):
    """A benchmark's figure: the median of its forks' medians (each process counts once)."""
    m = fork_medians(forks)
    return float(np.median(m)) if len(m) else float("nan")


@dataclass
class Standalone:
    """A benchmark beside its standalone loop (--validate's cross-check), both raw, loop included:
    the medians over processes (the suite's headline figure, the loop's), and each side's fastest
    process. This machine runs call loops at one of two speeds about 2x apart (README.md,
    "Reference results"), and each process lands in one: five processes a side split 2-3 or 3-2 between
    them, so the medians can compare one speed with the other. The check compares the fastest process
    of each side, the same state of the machine; the medians stand beside it."""

    suite: float
    alone: float
    suite_fast: float
    alone_fast: float

    @classmethod
    def of(cls, forks, alone) -> "Standalone":
        m = fork_medians(forks)
        return cls(center(forks), float(np.median(alone)), float(m.min()), float(min(alone)))

    @property
    def ratio(self) -> float:
        """The check's figure: suite ÷ standalone, fastest process of each."""
        return self.suite_fast / self.alone_fast

    @property
    def median_ratio(self) -> float:
        return self.suite / self.alone


def bootstrap(forks, resamples=RESAMPLES, seed=SEED):
    """Resampled centers: forks drawn with replacement, then repetitions within each drawn fork, the
    median of the resampled forks' medians each time (a hierarchical bootstrap)."""
    forks = [np.asarray(f, dtype=float) for f in forks if len(f)]
    nf = len(forks)
    lens = np.array([len(f) for f in forks])
    width = int(lens.max())
    table = np.full((nf, width), np.nan)
    for i, f in enumerate(forks):
        table[i, : len(f)] = f
    rng = np.random.default_rng(seed)
    which = rng.integers(0, nf, (resamples, nf))
    n = lens[which]
    reps = (rng.random((resamples, nf, width)) * n[..., None]).astype(int)
    values = table[which[..., None], reps]
    values[np.arange(width)[None, None, :] >= n[..., None]] = np.nan
    return np.median(np.nanmedian(values, axis=2), axis=1)


def center_ci(forks, level=0.95, resamples=RESAMPLES, seed=SEED):
    """The confidence interval of center(forks). With one value per fork (first calls, hyperfine's
    processes, a driver run with one repetition per fork) the values are independent, and the
    interval is the distribution-free one of median_ci (n >= 6 at 95 %). Otherwise the (level)
    percentile interval of the hierarchical bootstrap; (nan, nan) with fewer than 3 forks (two
    processes say little about how a third would come out)."""
    forks = [f for f in forks if len(f)]
    if forks and all(len(f) == 1 for f in forks):
        return median_ci([f[0] for f in forks], level)
    if len(forks) < 3:
        return (float("nan"), float("nan"))
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(bootstrap(forks, resamples, seed), [tail, 1.0 - tail])
    return (float(lo), float(hi))


def cv(xs):
    """Coefficient of variation (stdev / mean), or nan for fewer than 2 samples."""
    if len(xs) < 2:
        return float("nan")
    m = statistics.fmean(xs)
    return statistics.stdev(xs) / m if m else float("nan")


def describe(forks):
    """A benchmark in brief: {"n" (repetitions), "forks", "median" (center), "lo", "hi" (its 95 %
    CI, nan with too few forks), "cv" (over every repetition), "cv_between" (CV of the fork
    medians), "cv_within" (the median fork's own CV)}."""
    forks = [list(f) for f in forks if len(f)]
    every = [x for f in forks for x in f]
    lo, hi = center_ci(forks) if forks else (float("nan"), float("nan"))
    within = [cv(f) for f in forks if len(f) > 1]
    return {"n": len(every), "forks": len(forks), "median": center(forks) if forks else float("nan"),
            "lo": lo, "hi": hi, "cv": cv(every), "cv_between": cv(list(fork_medians(forks))),
            "cv_within": median(within) if within else float("nan")}


def control_name(runtime="c"):
    """The name of a runtime's control loop: <runtime>/control/loop."""
    return f"{runtime}/control/loop"


def control_ns(benches, runtime="c"):
    """The figure of a runtime's control loop per iteration (ns), or 0 when it was not run."""
    c = benches.get(control_name(runtime))
    return center(c.forks) if c and c.samples else 0.0


def net(value, ops, control):
    """A per-operation figure with the control's per-iteration cost taken off (spread over ops)."""
    return value - control / ops


def net_forks(bench, benches):
    """A benchmark's repetitions, by fork, with its runtime's control loop taken off (net), except
    for per-process figures, which have no loop."""
    if bench.per_process:
        return bench.forks
    control = control_ns(benches, bench.runtime)
    return [[net(x, bench.ops, control) for x in f] for f in bench.forks]


def load_icount(folder):
    """Instruction counts: {name: {"per_op": float, "ops": int, ...}} from icount.json."""
    path = os.path.join(folder, "icount.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return {row["name"]: row for row in json.load(f)["benchmarks"]}


def icount_net(icount, name):
    """Instructions per operation of a benchmark with its runtime's control loop taken off (spread
    over ops), or None when it was not counted."""
    row = icount.get(name)
    if not row:
        return None
    control = icount.get(control_name(name.split("/")[0]), {}).get("per_iteration", 0.0)
    return row["per_op"] - control / row["ops"]


def load_provenance(folder):
    path = os.path.join(folder, "provenance.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_hyperfine(folder):
    """hyperfine's results: [{"command": name, "times": [seconds...], ...}], or [] without the file."""
    path = os.path.join(folder, "hyperfine.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [r for r in json.load(f).get("results", []) if r.get("times")]


def load_crosscheck(folder):
    """The standalone loops --validate ran ({benchmark: [ns per call, one per process]}, errors left
    out), or {} without crosscheck.json."""
    path = os.path.join(folder, "crosscheck.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return {c["benchmark"]: c["ns_per_call"] for c in json.load(f)["checks"] if c["ns_per_call"]}


def load_validate(folder):
    """The --validate verdict ({"verdict": ..., "checks": [...]}), or None without the file."""
    path = os.path.join(folder, "validate.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)
