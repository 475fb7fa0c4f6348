"""noise.py — warnings about measurements that look disturbed, in the spirit of hyperfine's
(src/output/warnings.rs there): outliers by modified z-score, and a slow first run, each with what to
do. Here the runs come in two levels (results.py): processes (forks) and the timed repetitions inside
each, so each check is made at both.

A value's modified z-score is (x - median) / (1.4826 MAD): its distance from the median in robust
standard deviations (the MAD, scaled, estimates the standard deviation of normal data; Iglewicz and
Hoaglin, 1993). hyperfine calls a value an outlier beyond 10 of them (its threshold, 1.4826 * 10
MADs), and so do we. Where the values hardly vary the MAD is tiny and any wobble would count, so the
MAD is taken as at least 0.1 % of the median: an outlier is then always at least 1.5 % off.

  slow first process      fork 0 (the first round of the run) an outlier above the other forks
  outlier process         otherwise, a fork median that is an outlier among the fork medians
  slow first repetition   a process's first timed run an outlier above its process's others
  outlier repetition      otherwise, a timed run that is an outlier within its process
  whole processes         hyperfine's own two checks on hyperfine.json's runs

Benchmarks without fork labels (folders from before the driver) are one series in the order they
ran, checked as hyperfine checks one command: a slow first repetition, else outliers.
"""
import math
import statistics

THRESHOLD = 10.0   # robust standard deviations, as hyperfine
MAD_FLOOR = 0.001  # the MAD is taken as at least this share of the median
MIN_VALUES = 3     # fewer values say nothing about outliers


def modified_z(xs):
    """The modified z-score of every value: (x - median) / (1.4826 * MAD), the MAD at least
    MAD_FLOOR of the median (and never 0)."""
    m = statistics.median(xs)
    mad = statistics.median([abs(x - m) for x in xs])
    mad = max(mad, MAD_FLOOR * abs(m), 1e-300)
    return [(x - m) / (1.4826 * mad) for x in xs]


def change(x, ref):
    """x / ref - 1, or nan where ref is 0 (times are never 0; other series may be)."""
    return x / ref - 1 if ref else math.nan


def check_series(xs):
    """hyperfine's rule for one series in the order it ran: 'slow first' when the first value is an
    outlier above the rest, else 'outliers' (how many) when any value is one, else None. Returns
    (kind, count, the worst value / the median of the others - 1)."""
    if len(xs) < MIN_VALUES:
        return None
    z = modified_z(xs)
    if z[0] > THRESHOLD:
        return ("slow first", 1, change(xs[0], statistics.median(xs[1:])))
    out = [i for i, s in enumerate(z) if abs(s) > THRESHOLD]
    if not out:
        return None
    worst = max(out, key=lambda i: abs(z[i]))
    others = xs[:worst] + xs[worst + 1:]
    return ("outliers", len(out), change(xs[worst], statistics.median(others)))


def bench_findings(bench):
    """Everything noisy about one benchmark (results.Bench): {"slow_first_fork": change,
    "outlier_forks": (count, worst change), "slow_first_rep": (processes, of processes, worst change),
    "outlier_reps": (processes, of processes, worst change)}, only the keys found."""
    found = {}
    if not bench.labelled:  # one series in run order: each repetition was counted as a fork
        r = check_series(bench.samples)
        if r and r[0] == "slow first":
            found["slow_first_rep"] = (1, 1, r[2])
        elif r:
            found["outlier_reps"] = (1, 1, r[2])
        return found
    forks = [f for f in bench.forks if f]
    r = check_series([statistics.median(f) for f in forks])
    if r and r[0] == "slow first":
        found["slow_first_fork"] = r[2]
    elif r:
        found["outlier_forks"] = (r[1], r[2])
    slow, disturbed, checked = [], [], 0
    for f in forks:
        r = check_series(f)
        checked += len(f) >= MIN_VALUES
        if r and r[0] == "slow first":
            slow.append(r[2])
        elif r:
            disturbed.append(r[2])
    if slow:
        found["slow_first_rep"] = (len(slow), checked, max(slow, key=lambda c: abs(c) if c == c else 0))
    if disturbed:
        found["outlier_reps"] = (len(disturbed), checked, max(disturbed, key=lambda c: abs(c) if c == c else 0))
    return found


def percent(ch):
    if math.isnan(ch):
        return "(no reference)"
    return f"{100 * ch:+.0f} %" if abs(ch) >= 0.095 else f"{100 * ch:+.1f} %"


def worst_list(items, describe, n=5):
    """'`a` +35 %, `b` +20 % ...' for the n largest; items: [(name, change, ...)]."""
    items = sorted(items, key=lambda t: -abs(t[1]) if t[1] == t[1] else 0)
    text = ", ".join(describe(t) for t in items[:n])
    return text + (f" and {len(items) - n} more" if len(items) > n else "")


def warnings(benches, hyperfine=()):
    """[(kind, title, what, todo)] for the benchmarks (results.Bench, timing loops only) and
    hyperfine's results ([{"command", "times"}])."""
    found = {b.name: bench_findings(b) for b in benches if b.samples}
    total = len(found)
    out = []

    first_fork = [(n, f["slow_first_fork"]) for n, f in found.items() if "slow_first_fork" in f]
    if first_fork:
        out.append(("warning", f"the first process was slower than the rest in {len(first_fork)} benchmark(s)",
                    f"In {len(first_fork)} of {total} benchmarks the first process (fork 0: the run's first round) "
                    f"was an outlier, its median more than {THRESHOLD:g} robust standard deviations (modified z-score, "
                    "the measure hyperfine uses) above the other processes'; worst: "
                    + worst_list(first_fork, lambda t: f"`{t[0]}` {percent(t[1])}")
                    + ". The machine had not settled when the run began: page cache (the data set, the libraries), "
                      "the CPU clock, or work that ran just before.",
                    "warm the machine first (run the same command twice and keep the second, or `./scripts/bench "
                    "--quick` before); the figure (the median of the fork medians) resists one slow process, but "
                    "with few forks it widens the CI."))
    forks = [(n, *f["outlier_forks"][::-1]) for n, f in found.items() if "outlier_forks" in f]
    if forks:
        out.append(("warning", f"a process ran unlike the others in {len(forks)} benchmark(s)",
                    f"In {len(forks)} of {total} benchmarks a process's median was more than {THRESHOLD:g} robust "
                    "standard deviations (modified z-score) from the other processes'; worst: "
                    + worst_list(forks, lambda t: f"`{t[0]}` {percent(t[1])}")
                    + ". Another program took the CPU while it ran, or its memory layout (its environment padding, "
                      "`pad` in `raw/forks.jsonl`) was unlucky.",
                    "re-run on a quiet machine without interference from other programs; more processes "
                    "(`--forks 10`) make one stray process weigh less; an outlier that comes back at the same `pad` "
                    "points at memory layout."))
    first_rep = [(n, f["slow_first_rep"][2], *f["slow_first_rep"][:2]) for n, f in found.items()
                 if "slow_first_rep" in f]
    if first_rep:
        out.append(("warning", f"the first timed run was slow in {len(first_rep)} benchmark(s)",
                    f"In {len(first_rep)} of {total} benchmarks the first timed repetition of a process was an "
                    f"outlier above that process's others (modified z-score over {THRESHOLD:g}); worst: "
                    + worst_list(first_rep, lambda t: f"`{t[0]}` {percent(t[1])}"
                                 + (f" (in {t[2]} of {t[3]} processes)" if t[3] > 1 else ""))
                    + ". The warm-up ended before the code was steady: JIT tiers, caches, lazy binding or page "
                      "faults were still settling.",
                    "give the runtime a longer warm-up (`warmup = { min_runs = ..., min_seconds = ... }` in its "
                    "`runtime.toml`) or more repetitions (`--repetitions`), so the figure rests on steady runs; for a "
                    "folder from before the driver, re-run with the current `./scripts/bench`."))
    reps = [(n, f["outlier_reps"][2], *f["outlier_reps"][:2]) for n, f in found.items() if "outlier_reps" in f]
    if reps:
        out.append(("warning", f"outlier repetitions in {len(reps)} benchmark(s)",
                    f"In {len(reps)} of {total} benchmarks a timed repetition was more than {THRESHOLD:g} robust "
                    "standard deviations (modified z-score) from the others of its process; worst: "
                    + worst_list(reps, lambda t: f"`{t[0]}` {percent(t[1])}"
                                 + (f" (in {t[2]} of {t[3]} processes)" if t[3] > 1 else ""))
                    + ". Something interrupted those runs: another program, an interrupt, a garbage collection.",
                    "re-run on a quiet system without interference from other programs; where a runtime collects "
                    "garbage, longer timed runs (`--min-time`) spread a collection over more calls."))
    slow, outliers = [], []
    for r in hyperfine:
        c = check_series([t * 1e9 for t in r.get("times", [])])
        if c:
            (slow if c[0] == "slow first" else outliers).append((r["command"], c[2], c[1], len(r["times"])))
    if slow:
        out.append(("warning", f"whole processes: the first run was slow for {len(slow)} command(s)",
                    "hyperfine's first run was significantly slower than the rest (modified z-score over "
                    f"{THRESHOLD:g}) for " + worst_list(slow, lambda t: f"`{t[0]}` {percent(t[1])}")
                    + ": caches (the page cache, the dynamic loader's) were not filled until after it.",
                    "the driver already runs hyperfine with `--warmup 2`; re-run on a quiet system, and if it "
                    "recurs, raise hyperfine's warm-up in the driver."))
    if outliers:
        out.append(("warning", f"whole processes: outliers for {len(outliers)} command(s)",
                    "statistical outliers among hyperfine's runs (modified z-score over "
                    f"{THRESHOLD:g}) of " + worst_list(outliers, lambda t: f"`{t[0]}` ({t[2]} of {t[3]} runs, "
                                                                          f"worst {percent(t[1])})") + ".",
                    "re-run on a quiet system without interference from other programs."))
    return out
