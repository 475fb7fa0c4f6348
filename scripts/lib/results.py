"""results.py — reading an ffibench results folder: one place that knows the files and the maths.

A results folder holds google-benchmark JSON (gbench.json, first_call.json, and any runtime harness's
<runtime>.json in the same schema), callgrind counts (icount.json), hyperfine.json, provenance.json
and, after --validate, validate.json. Benchmark names are
<runtime>/<mechanism>/<workload>[/<tag>][/<param>:<value>]...; each runtime has its own control loop,
<runtime>/control/loop.

Standard library only, so it runs under any Python 3; the report (matplotlib) builds on it.
"""
import json
import math
import os
import re
import statistics

CONTROL = "c/control/loop"
GBENCH_FILES = ("gbench.json", "first_call.json")
NOT_TIMING = ("icount.json", "hyperfine.json", "provenance.json", "validate.json")


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
    """One benchmark's repetitions: per-operation times in ns, and what the name says."""

    def __init__(self, name):
        self.name = name
        self.samples = []  # ns per operation, one per repetition
        self.ops = 1.0
        self.error = None
        self.file = None  # the timing file it came from

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


def load_benches(folder):
    """All benchmarks of a results folder by name, in file order, with their repetitions."""
    return load_timing(folder)[0]


def load_timing(folder):
    """(benches, files): load_benches's benchmarks, and for each timing file (by file name) its
    google-benchmark context and whether it was cut short: {"context": {...}, "truncated": bool,
    "unreadable": None, or why the file was skipped (not JSON, or not google-benchmark's schema)}."""
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
        for b in data["benchmarks"]:
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
            bench.samples.append(float(b["real_time"]) * scale / ops)
    return benches, files


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def median_ci(xs, level=0.95):
    """A distribution-free confidence interval for the median: order statistics chosen from the
    binomial(n, 1/2) distribution. Returns (lo, hi), or (nan, nan) when n is too small (n < 6 at 95 %)."""
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


def describe(xs):
    """A sample in brief: {"n", "median", "lo", "hi" (the 95 % CI of the median, nan when n is too
    small), "cv"}."""
    lo, hi = median_ci(xs)
    return {"n": len(xs), "median": median(xs), "lo": lo, "hi": hi, "cv": cv(xs)}


def cv(xs):
    """Coefficient of variation (stdev / mean), or nan for fewer than 2 samples."""
    if len(xs) < 2:
        return float("nan")
    m = statistics.fmean(xs)
    return statistics.stdev(xs) / m if m else float("nan")


def control_name(runtime="c"):
    """The name of a runtime's control loop: <runtime>/control/loop."""
    return f"{runtime}/control/loop"


def control_ns(benches, runtime="c"):
    """The median of a runtime's control loop per iteration (ns), or 0 when it was not run."""
    c = benches.get(control_name(runtime))
    return median(c.samples) if c and c.samples else 0.0


def net(value, ops, control):
    """A per-operation figure with the control's per-iteration cost taken off (spread over ops)."""
    return value - control / ops


def net_samples(bench, benches):
    """A benchmark's repetitions with its runtime's control loop taken off (net), except for
    per-process figures, which have no loop."""
    if bench.per_process:
        return list(bench.samples)
    control = control_ns(benches, bench.runtime)
    return [net(x, bench.ops, control) for x in bench.samples]


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


def load_validate(folder):
    """The --validate verdict ({"verdict": ..., "checks": [...]}), or None without the file."""
    path = os.path.join(folder, "validate.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)
