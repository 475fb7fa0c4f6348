#!/usr/bin/python3
"""compare.py — is it faster or slower, and is that real? Two results folders, benchmark by benchmark;
or, with --baseline, every mechanism of one run as a multiple of one of them.

  compare.py OLD NEW [--threshold PCT] [--alpha A] [--out DIR] [--regressions-only]
                     [--metric real_time|cpu_time] [--json FILE]
  compare.py --baseline RUNTIME/MECHANISM RUN [--alpha A] [--out DIR] [--metric M] [--json FILE]

For each benchmark in both folders (matched by name) it compares them as the driver measured them:
repetitions (ns per operation) within forks (processes), the process being the unit of replication
(results.py). With F forks a side:
  change   center(NEW) / center(OLD) - 1, a center being the median of the fork medians;
  CI       a (1 - alpha) percentile interval of that ratio from a hierarchical bootstrap: each side's
           forks resampled with replacement, then the repetitions within each resampled fork,
           10 000 times (seeded, so runs repeat exactly), the ratio of the two centers each time;
  p        Mann-Whitney U, two-sided, over the fork medians: exact (every way of splitting the
           pooled ranks, ties given mid-ranks) when there are ties and at most 200 000 such splits,
           else scipy's (exact for small samples without ties, otherwise the normal approximation
           with tie correction);
  significant when p < alpha and the CI leaves out 1 (no change). Two forks against two can never
  be significant (the smallest p is 0.33); five against five can (0.008). Folders from before the
  driver have no fork labels: each repetition counts as its own fork there, as their harnesses
  assumed.
Raw times are compared (the control loop is the same code on both sides): google-benchmark's
real_time (wall clock) by default, its cpu_time (the measuring threads' CPU time) with --metric
cpu_time — the same test on either. In --baseline mode the
figures are net of each runtime's control loop, since there the question is what one call costs
next to another: ratio = median(mechanism) / median(baseline), workload by workload.

It prints a table, writes compare.md, compare.svg and compare.png (baseline-<mechanism>.* in
--baseline mode) into --out or else NEW (RUN), and lists benchmarks found on one side only, failed
benchmarks and the differences between the two runs' provenance (machine, build, libraries...).
--json FILE also writes the whole diff for programs (as google-benchmark's compare.py
--dump_to_json): {"old", "new", "metric", "alpha", "threshold", "summary": {"compared", "slower",
"faster", "beyond_threshold": [names]}, "benchmarks": [{"name", "old", "new" (ns per operation),
"ratio", "ratio_ci", "change", "change_ci" (ratio - 1), "p", "significant", "verdict" ("slower",
"faster" or ""), "beyond_threshold", "forks_old", "forks_new"}], "only_old", "only_new", "failed",
"provenance_differences": [{"field", "old", "new"}], "warnings"}; numbers that do not exist (a CI
with too few forks) are null. In --baseline mode: {"run", "baseline", "metric", "alpha", "ratios":
[{"workload", "mechanism", "ratio", "ratio_ci", "p", "significant"}]}.

Exit status:
  0  compared; no significant change beyond --threshold (always 0 without --threshold, and in
     --baseline mode)
  1  some benchmark changed significantly by more than --threshold percent, either way
     (--regressions-only: only slowdowns count)
  2  bad usage, a folder that cannot be read, or no benchmark in common

compare_samples(old, new, alpha) is the test itself, for other scripts (validate.py) to import.
"""
import argparse
import itertools
import json
import math
import os
import sys

import numpy as np
from scipy import stats

import doc
import plots
import results
import summary

RESAMPLES = 10_000
SEED = 20261125
EXACT_LIMIT = 200_000  # most splits the exact Mann-Whitney test enumerates (10 + 10 repetitions: 184 756)
VOLATILE = {"timestamp_utc", "date", "load_avg"}  # provenance that always differs between two runs


# ---- the test -----------------------------------------------------------------------------------


def mann_whitney_p(x, y):
    """Two-sided Mann-Whitney U p-value for samples x and y, valid with ties and tiny samples."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    pooled = np.concatenate([x, y])
    if np.ptp(pooled) == 0:
        return 1.0  # every value the same: nothing can tell the two apart
    n1, n = len(x), len(pooled)
    tied = len(np.unique(pooled)) < n
    if not tied or math.comb(n, n1) > EXACT_LIMIT:
        # scipy: exact without ties when a side has fewer than 8, else normal with tie correction
        return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    # Exact conditional test with ties: the rank sum of x over every split of the pooled mid-ranks
    # into n1 and n - n1; two-sided as scipy does it, twice the smaller tail.
    ranks = stats.rankdata(pooled)
    observed = ranks[:n1].sum()
    sums = ranks[np.array(list(itertools.combinations(range(n), n1)))].sum(axis=1)
    tail = min(np.mean(sums >= observed - 1e-9), np.mean(sums <= observed + 1e-9))
    return float(min(1.0, 2.0 * tail))


def min_p(n1, n2):
    """The smallest two-sided p the Mann-Whitney test can give with n1 and n2 forks."""
    return 2.0 / math.comb(n1 + n2, n1) if n1 and n2 else 1.0


def bootstrap_ratio_ci(old, new, level, resamples=RESAMPLES, seed=SEED):
    """A percentile interval for center(new) / center(old), from a hierarchical bootstrap of each
    side's forks (results.bootstrap)."""
    m_old = results.bootstrap(old, resamples, seed)
    m_new = results.bootstrap(new, resamples, seed + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = m_new / m_old
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) < resamples * 0.99:  # a median of 0 in the resamples: no ratio to speak of
        return (math.nan, math.nan)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(ratios, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def compare_samples(old, new, alpha=0.05, resamples=RESAMPLES, seed=SEED):
    """Compares two benchmarks' repetitions, each given by fork (a list of lists; results.singletons
    for independent values). Returns {"ratio": center(new)/center(old), "ci": (lo, hi) (the
    (1 - alpha) hierarchical-bootstrap interval of the ratio), "p" (Mann-Whitney over the fork
    medians, two-sided), "significant": p < alpha and the interval leaves out 1}. With fewer than 2
    forks on a side there is no interval and no p (nan), and nothing is significant."""
    old = [list(f) for f in old if len(f)]
    new = [list(f) for f in new if len(f)]
    m_old = results.center(old) if old else math.nan
    m_new = results.center(new) if new else math.nan
    ratio = m_new / m_old if old and new and m_old > 0 else math.nan
    if len(old) < 2 or len(new) < 2 or math.isnan(ratio):
        return {"ratio": ratio, "ci": (math.nan, math.nan), "p": math.nan, "significant": False}
    lo, hi = bootstrap_ratio_ci(old, new, 1.0 - alpha, resamples, seed)
    p = mann_whitney_p(results.fork_medians(old), results.fork_medians(new))
    excludes_one = not (math.isnan(lo) or lo <= 1.0 <= hi)
    return {"ratio": ratio, "ci": (lo, hi), "p": p, "significant": bool(p < alpha and excludes_one)}


# ---- two runs ---------------------------------------------------------------------------------


def flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif k not in VOLATILE:
            out[key] = v if not isinstance(v, list) else ", ".join(map(str, v))
    return out


def conditions(folder, files):
    """What a run was measured under, flat: provenance plus each timing file's context."""
    flat = flatten(results.load_provenance(folder))
    for name, f in files.items():
        flat.update(flatten(f["context"], f"{name}:"))
    return flat


def provenance_differences(old_folder, old_files, new_folder, new_files):
    a, b = conditions(old_folder, old_files), conditions(new_folder, new_files)
    return [(k, a.get(k, "(absent)"), b.get(k, "(absent)")) for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def bench_order(name):
    parts = name.split("/")
    rm = (parts[0], parts[1] if len(parts) > 1 else "")
    return (summary.workload_key("/".join(parts[2:])), summary.order_key(rm))


def compare_runs(old_benches, new_benches, alpha):
    """Rows for every benchmark timed on both sides, in report order, plus the names only one side
    has and the failed ones: (rows, only_old, only_new, failed)."""
    def timed(benches):
        return {n for n, b in benches.items() if b.samples}
    both = sorted(timed(old_benches) & timed(new_benches), key=bench_order)
    rows = []
    for name in both:
        o, n = old_benches[name].forks, new_benches[name].forks
        r = compare_samples(o, n, alpha)
        r.update(name=name, old=results.center(o), new=results.center(n), n_old=len(o), n_new=len(n))
        rows.append(r)
    failed = sorted({n for b in (old_benches, new_benches) for n, x in b.items() if x.error and not x.samples},
                    key=bench_order)
    only_old = sorted(set(old_benches) - set(new_benches), key=bench_order)
    only_new = sorted(set(new_benches) - set(old_benches), key=bench_order)
    return rows, only_old, only_new, failed


def verdict(row, threshold, regressions_only):
    """'slower' / 'faster' when significant, '' otherwise; and whether it trips the threshold."""
    if not row["significant"]:
        return "", False
    word = "slower" if row["ratio"] > 1 else "faster"
    change = row["ratio"] - 1.0
    trips = threshold is not None and abs(change) * 100.0 > threshold and (word == "slower" or not regressions_only)
    return word, trips


def change_cells(r):
    lo, hi = r["ci"]
    return (doc.percent(r["ratio"] - 1, signed=True),
            doc.interval(lo - 1, hi - 1, lambda x: doc.percent(x, signed=True)),
            "–" if doc.missing(r["p"]) else f"{r['p']:.2g}")


def text_table(header, rows):
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def change_chart(rows, threshold, out_dir, name):
    labels = [r["name"] for r in rows]
    fig, (ax,) = plots.figure(rows=len(labels))
    colour = {r["name"]: ("#cf222e" if r["ratio"] > 1 else "#1a7f37") if r["significant"] else "#8c959f"
              for r in rows}
    points = {r["name"]: (100 * (r["ratio"] - 1), 100 * (r["ci"][0] - 1), 100 * (r["ci"][1] - 1)) for r in rows}
    plots.dot_rows(ax, labels, [{"label": "change of the median", "points": points, "colours": colour}], log=False)
    ax.axvline(0, color="#57606a", lw=0.8)
    if threshold is not None:
        ax.axvspan(-threshold, threshold, color="#d0d7de", alpha=0.35, lw=0, label=f"±{threshold:g} % threshold")
    ax.xaxis.set_major_formatter(plots.ticker.FuncFormatter(lambda v, _: f"{v:+g} %" if v else "0 %"))
    ax.set_xlabel("change of the median, NEW vs OLD (whiskers: bootstrap CI)")
    ax.set_title("Change per benchmark — red: significantly slower, green: significantly faster, grey: not significant",
                 fontsize=8.5)
    return plots.save(fig, out_dir, name, png=True)


def number(x):
    """A float for JSON: None where there is none (nan, inf)."""
    return None if doc.missing(x) else float(x)


def write_json(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")


def diff_json(old_dir, new_dir, metric, alpha, threshold, regressions_only, rows, only_old, only_new, failed,
              diffs, warnings):
    """The comparison as data (the --json file)."""
    benches = []
    for r in rows:
        word, trips = verdict(r, threshold, regressions_only)
        lo, hi = r["ci"]
        benches.append({"name": r["name"], "old": number(r["old"]), "new": number(r["new"]),
                        "ratio": number(r["ratio"]), "ratio_ci": [number(lo), number(hi)],
                        "change": number(r["ratio"] - 1), "change_ci": [number(lo - 1), number(hi - 1)],
                        "p": number(r["p"]), "significant": r["significant"], "verdict": word,
                        "beyond_threshold": trips, "forks_old": r["n_old"], "forks_new": r["n_new"]})
    return {"old": os.path.abspath(old_dir), "new": os.path.abspath(new_dir), "metric": metric, "alpha": alpha,
            "threshold": threshold, "regressions_only": regressions_only,
            "summary": {"compared": len(rows), "slower": sum(1 for b in benches if b["verdict"] == "slower"),
                        "faster": sum(1 for b in benches if b["verdict"] == "faster"),
                        "beyond_threshold": [b["name"] for b in benches if b["beyond_threshold"]]},
            "benchmarks": benches, "only_old": only_old, "only_new": only_new, "failed": failed,
            "provenance_differences": [{"field": k, "old": a, "new": b} for k, a, b in diffs],
            "warnings": warnings}


def run_compare(old_dir, new_dir, threshold, alpha, out_dir, regressions_only, metric="real_time", json_path=None):
    old_benches, old_files = results.load_timing(old_dir, metric)
    new_benches, new_files = results.load_timing(new_dir, metric)
    rows, only_old, only_new, failed = compare_runs(old_benches, new_benches, alpha)
    if not rows:
        print(f"compare: no benchmark timed in both {old_dir} and {new_dir}", file=sys.stderr)
        return 2

    level = f"{100 * (1 - alpha):g} %"
    header = ["benchmark", "old ns", "new ns", "change", f"{level} CI", "p", "forks", "verdict"]
    table, tripped = [], []
    for r in rows:
        word, trips = verdict(r, threshold, regressions_only)
        if trips:
            tripped.append(r["name"])
        table.append([r["name"], doc.num(r["old"]), doc.num(r["new"]), *change_cells(r),
                      f"{r['n_old']}/{r['n_new']}", word + (" !" if trips else "")])
    diffs = provenance_differences(old_dir, old_files, new_dir, new_files)
    truncated = [f"{side}/{n}" for side, files in (("OLD", old_files), ("NEW", new_files))
                 for n, f in files.items() if f["truncated"]]
    skipped = [f"{side}/{n}: {f['unreadable']}" for side, files in (("OLD", old_files), ("NEW", new_files))
               for n, f in files.items() if f["unreadable"]]

    d = doc.Doc("ffibench comparison")
    d.bullets([f"OLD: `{os.path.abspath(old_dir)}`", f"NEW: `{os.path.abspath(new_dir)}`"])
    slower = sum(1 for r in rows if r["significant"] and r["ratio"] > 1)
    faster = sum(1 for r in rows if r["significant"] and r["ratio"] < 1)
    d.para(f"{len(rows)} benchmarks in both: **{slower} significantly slower, {faster} significantly faster** "
           f"(Mann–Whitney p < {alpha:g} and the {level} bootstrap CI of the ratio of medians leaves out "
           f"no change). Times are ns per operation of google-benchmark's `{metric}`, raw (control loop "
           f"included on both sides)."
           + (f" Threshold: {threshold:g} %{' (slowdowns only)' if regressions_only else ''}; "
              f"{len(tripped)} exceed it." if threshold is not None else ""))
    hopeless = [r for r in rows if min_p(r["n_old"], r["n_new"]) >= alpha]
    too_few = (f"{len(hopeless)} benchmark(s) have too few forks (processes) for Mann–Whitney to reach p < {alpha:g} "
               f"(e.g. {hopeless[0]['n_old']} against {hopeless[0]['n_new']}: its smallest p is "
               f"{min_p(hopeless[0]['n_old'], hopeless[0]['n_new']):.2g}), so they cannot be significant"
               if hopeless else "")
    if too_few:
        d.callout("warning", too_few + ".", "run both sides with more forks (`./scripts/bench --forks 5`).")
    for s in skipped:
        d.callout("warning", f"skipped {s}.", "keep only google-benchmark JSON timing files in a results folder.")
    for t in truncated:
        d.callout("warning", f"{t} was cut short (an interrupted run); its missing benchmarks are listed "
                             "as on one side only.", "re-run that side to completion.")
    d.table(header, table, align="lrrrrrrl")
    if only_old or only_new:
        d.heading("On one side only")
        d.bullets([f"only in OLD: `{n}`" for n in only_old] + [f"only in NEW: `{n}`" for n in only_new])
    if failed:
        d.heading("Failed (not compared)")
        d.bullets([f"`{n}`" for n in failed])
    d.heading("What differs between the two runs")
    if diffs:
        d.table(["field", "OLD", "NEW"], [[k, str(a), str(b)] for k, a, b in diffs], align="lll")
    else:
        d.para("Nothing recorded differs (same machine, build and libraries).")
    out_dir = out_dir or new_dir
    os.makedirs(out_dir, exist_ok=True)
    svg = change_chart(rows, threshold, out_dir, "compare")
    d.figure(svg, "compare.svg", "Change of the median per benchmark, NEW vs OLD, with its bootstrap CI.")
    with open(os.path.join(out_dir, "compare.md"), "w", encoding="utf-8") as f:
        f.write(d.markdown())

    print(f"OLD {os.path.abspath(old_dir)}\nNEW {os.path.abspath(new_dir)}\n")
    print("\n".join(text_table(header, table)))
    print(f"\n{len(rows)} compared: {slower} significantly slower, {faster} significantly faster "
          f"(alpha {alpha:g}; {metric}; change = median NEW / median OLD - 1; CI {level} bootstrap)")
    for n in only_old:
        print(f"only in OLD: {n}")
    for n in only_new:
        print(f"only in NEW: {n}")
    for n in failed:
        print(f"failed: {n}")
    for t in truncated:
        print(f"warning: {t} was cut short (interrupted run)")
    for s in skipped:
        print(f"warning: skipped {s}")
    if too_few:
        print(f"warning: {too_few}")
    if diffs:
        print("\nprovenance differences:")
        for k, a, b in diffs:
            print(f"  {k}: {a} -> {b}")
    if json_path:
        warnings = ([too_few] if too_few else []) + [f"skipped {x}" for x in skipped] + \
                   [f"{t} was cut short (an interrupted run)" for t in truncated]
        write_json(json_path, diff_json(old_dir, new_dir, metric, alpha, threshold, regressions_only, rows,
                                        only_old, only_new, failed, diffs, warnings))
    print(f"\nwritten: {os.path.join(out_dir, 'compare.md')}, compare.svg, compare.png"
          + (f", {json_path}" if json_path else ""))
    if tripped:
        print(f"\nFAIL: {len(tripped)} significant change(s) beyond {threshold:g} %: " + ", ".join(tripped))
        return 1
    return 0


# ---- mechanisms within one run ----------------------------------------------------------------


def baseline_ratios(benches, baseline, alpha):
    """{(workload, runtime/mechanism): compare_samples result} for every mechanism's benchmark whose
    workload the baseline mechanism also ran; net figures."""
    base = {b.workload: b for b in benches.values()
            if f"{b.runtime}/{b.mechanism}" == baseline and b.samples}
    out = {}
    for b in benches.values():
        rm = f"{b.runtime}/{b.mechanism}"
        if rm == baseline or b.mechanism == "control" or not b.samples or b.workload not in base:
            continue
        ref = base[b.workload]
        r = compare_samples(results.net_forks(ref, benches), results.net_forks(b, benches), alpha)
        if results.center(results.net_forks(ref, benches)) <= 0:
            r = {"ratio": math.nan, "ci": (math.nan, math.nan), "p": r["p"], "significant": False}
        out[(b.workload, rm)] = r
    return out


def run_baseline(baseline, run_dir, alpha, out_dir, metric="real_time", json_path=None):
    benches, _ = results.load_timing(run_dir, metric)
    if not any(f"{b.runtime}/{b.mechanism}" == baseline and b.samples for b in benches.values()):
        print(f"compare: no benchmark of {baseline} in {run_dir}", file=sys.stderr)
        return 2
    ratios = baseline_ratios(benches, baseline, alpha)
    if not ratios:
        print(f"compare: no other mechanism ran {baseline}'s workloads in {run_dir}", file=sys.stderr)
        return 2
    workloads = sorted({w for w, _ in ratios}, key=summary.workload_key)
    rms = sorted({rm for _, rm in ratios}, key=lambda rm: summary.order_key(tuple(rm.split("/", 1))))
    level = f"{100 * (1 - alpha):g} %"

    def cell(r):
        if r is None:
            return ""
        if doc.missing(r["ratio"]):
            return "–"
        lo, hi = r["ci"]
        ci = "" if doc.missing(lo) else f" [{doc.num(lo)}, {doc.num(hi)}]"
        return f"{doc.num(r['ratio'])}×{ci}{'*' if r['significant'] else ''}"

    table = [[w] + [cell(ratios.get((w, rm))) for rm in rms] for w in workloads]
    d = doc.Doc(f"ffibench: every mechanism as a multiple of {baseline}")
    d.para(f"Run: `{os.path.abspath(run_dir)}`. Each cell: median ns per operation of that mechanism ÷ "
           f"median of `{baseline}` on the same workload, both net of their runtime's control loop, with "
           f"the {level} bootstrap CI of the ratio; * marks a significant difference (Mann–Whitney "
           f"p < {alpha:g} and the CI leaves out 1).")
    d.table(["workload"] + rms, table)
    fig, (ax,) = plots.figure(height=max(2.5, 0.9 + 0.26 * len(workloads)))
    values = {(w, rm): r["ratio"] for (w, rm), r in ratios.items()}
    texts = {(w, rm): (f"{doc.num(r['ratio'])}{'*' if r['significant'] else ''}"
                       if not doc.missing(r["ratio"]) else "–") for (w, rm), r in ratios.items()}
    finite = [v for v in values.values() if not doc.missing(v) and v > 0]
    span = max([abs(math.log10(v)) for v in finite] + [0.05])
    norm = plots.mcolors.LogNorm(vmin=10 ** -span, vmax=10 ** span)
    plots.heatmap(ax, workloads, rms, values, texts, cmap="RdBu_r", norm=norm,
                  colour_label=f"× {baseline} (log; blue cheaper, red dearer)")
    ax.set_title(f"Cost as a multiple of {baseline} (net; * significant)")
    name = "baseline-" + baseline.replace("/", "-")
    out_dir = out_dir or run_dir
    os.makedirs(out_dir, exist_ok=True)
    svg = plots.save(fig, out_dir, name, png=True)
    d.figure(svg, name + ".svg", f"Every mechanism as a multiple of {baseline}, workload by workload.")
    with open(os.path.join(out_dir, name + ".md"), "w", encoding="utf-8") as f:
        f.write(d.markdown())
    print(f"RUN {os.path.abspath(run_dir)}: median / median of {baseline} (net), "
          f"[{level} bootstrap CI], * significant at alpha {alpha:g}\n")
    print("\n".join(text_table(["workload"] + rms, table)))
    if json_path:
        write_json(json_path, {"run": os.path.abspath(run_dir), "baseline": baseline, "metric": metric, "alpha": alpha,
                               "ratios": [{"workload": w, "mechanism": rm, "ratio": number(r["ratio"]),
                                           "ratio_ci": [number(r["ci"][0]), number(r["ci"][1])],
                                           "p": number(r["p"]), "significant": r["significant"]}
                                          for (w, rm), r in sorted(ratios.items(), key=lambda kv: (
                                              summary.workload_key(kv[0][0]), kv[0][1]))]})
    print(f"\nwritten: {os.path.join(out_dir, name + '.md')}, {name}.svg, {name}.png"
          + (f", {json_path}" if json_path else ""))
    return 0


# ---- command line -----------------------------------------------------------------------------


def main(argv):
    p = argparse.ArgumentParser(prog="compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="OLD NEW, or RUN with --baseline")
    p.add_argument("--threshold", type=float, metavar="PCT",
                   help="exit 1 when a significant change exceeds PCT percent (default: never)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--out", metavar="DIR", help="where compare.md/.svg/.png go (default: NEW or RUN)")
    p.add_argument("--regressions-only", action="store_true", help="only slowdowns trip --threshold")
    p.add_argument("--baseline", metavar="RUNTIME/MECHANISM",
                   help="compare the mechanisms of one RUN with this one, e.g. c/direct")
    p.add_argument("--metric", choices=results.METRICS, default="real_time",
                   help="which time to compare: real_time (wall clock, default) or cpu_time")
    p.add_argument("--json", metavar="FILE", help="also write the whole comparison as JSON to FILE")
    args = p.parse_args(argv)
    if not 0 < args.alpha < 1:
        p.error("--alpha must be between 0 and 1")
    if args.threshold is not None and args.threshold < 0:
        p.error("--threshold must be a percentage >= 0")
    want = 1 if args.baseline else 2
    if len(args.folders) != want:
        p.error("--baseline takes one results folder" if args.baseline else "give two results folders: OLD NEW")
    for f in args.folders:
        if not os.path.isdir(f):
            p.error(f"not a folder: {f}")
    try:
        if args.baseline:
            return run_baseline(args.baseline, args.folders[0], args.alpha, args.out, args.metric, args.json)
        return run_compare(args.folders[0], args.folders[1], args.threshold, args.alpha, args.out,
                           args.regressions_only, args.metric, args.json)
    except (OSError, json.JSONDecodeError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
