#!/usr/bin/python3
"""history.py — every run in a folder tree, benchmark by benchmark, over time: history.md and a
self-contained history.html (and history.png when Chromium is installed) in the tree, or in --out.

Usage: history.py TREE [--out DIR] [--alpha A] [--threshold PCT]
       (also ./scripts/report --history TREE)

A run is a folder with a provenance.json or a timing file (c.json, gbench.json; see results.py);
the folders inside a run (validate/, a harness's own) are part of it. Runs are put in time order
(provenance's timestamp, else the folder's modification time).

Which runs are comparable: those measured on the same machine, meaning the same CPU model, host,
kernel, build type and C flags (provenance.json). Runs that agree on all five form a machine group
(A, B, ...); a run without provenance is a group of its own. Only runs of one group are compared.

Change points: between each run and the previous run of its group that has the same benchmark,
compare.compare_samples — the same test as ./scripts/compare (a hierarchical-bootstrap CI of the
ratio of the two figures and a Mann-Whitney U test over the fork medians; significant when p < alpha
and the CI leaves out 1) — on raw times, as compare. With --threshold, a significant change must
also exceed PCT percent to be flagged.

The page: the runs (when, machine group, host, CPU, kernel, build, commit); which runs are
comparable and, for each pair of runs, what differs; the change points; each runtime's `noop`
mechanisms as a trend across the runs (one panel per runtime) and the benchmarks that changed (one
panel each); and every benchmark's figure in every run.
Exit status: 0 written; 2 bad usage or no run in the tree.
"""
import argparse
import datetime
import os
import sys

import browser
import compare
import doc
import plots
import results

MACHINE = (("CPU", ("machine", "cpu_model")), ("host", ("host",)), ("kernel", ("os", "kernel")),
           ("build type", ("build", "type")), ("C flags", ("build", "c_flags")))
MATRIX_LIMIT = 12  # runs beyond which the pairwise table is left out (the groups still say it all)
CHANGED_PANELS = 12
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def dig(d, keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


class Run:
    """One results folder: when, where, which commit, and its benchmarks."""

    def __init__(self, tree, folder):
        self.folder = folder
        self.name = os.path.relpath(folder, tree)
        try:
            self.prov = results.load_provenance(folder)
        except (OSError, ValueError):
            self.prov = {}
        self.benches = {n: b for n, b in results.load_benches(folder).items() if b.samples}
        stamp = self.prov.get("timestamp_utc")
        try:
            self.when = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError):
            self.when = datetime.datetime.utcfromtimestamp(os.path.getmtime(folder))
            stamp = None
        self.stamp = stamp or self.when.strftime("%Y-%m-%dT%H:%M:%SZ") + " (folder time)"
        self.machine = tuple(dig(self.prov, keys) for _, keys in MACHINE) if self.prov else None
        source = self.prov.get("source", {})
        self.commit = source.get("describe") or (source.get("commit") or "")[:12] or "unknown"
        if source.get("dirty") is True and not self.commit.endswith("-dirty"):
            self.commit += " (dirty)"
        self.runtimes = sorted({b.runtime for b in self.benches.values()}, key=lambda r: (r != "c", r))
        self.group = None
        self.number = None

    @property
    def label(self):
        return f"#{self.number}"


def find_runs(tree):
    """Every run folder under tree (tree itself included), not looking inside a run."""
    found = []
    for folder, dirs, files in os.walk(tree):
        dirs.sort()
        if "provenance.json" in files or any(n in files for n in results.GBENCH_FILES):
            found.append(folder)
            dirs[:] = []
    return found


def group_runs(runs):
    """Numbers the runs in time order and gives each its machine group's letter; returns
    {letter: (machine tuple or None, [runs])}."""
    runs.sort(key=lambda r: (r.when, r.name))
    groups = {}
    keys = {}
    for i, r in enumerate(runs, 1):
        r.number = i
        key = r.machine if r.machine is not None else ("no provenance", r.name)
        if key not in keys:
            n = len(keys)
            keys[key] = chr(ord("A") + n) if n < 26 else f"G{n + 1}"
        r.group = keys[key]
        groups.setdefault(r.group, (r.machine, []))[1].append(r)
    return groups


def differences(a, b):
    """What differs between two runs' machines, as field names ('' when nothing does)."""
    if a.machine is None or b.machine is None:
        return "no provenance"
    return ", ".join(label for (label, _), x, y in zip(MACHINE, a.machine, b.machine) if x != y)


def change_points(groups, alpha, threshold):
    """[(benchmark, previous run, run, compare_samples result)] for every benchmark and every pair
    of consecutive runs of a group that both have it, flagged or not; and the flagged ones."""
    pairs, flagged = [], []
    for _, runs in groups.values():
        last = {}  # benchmark -> the latest run of this group that had it
        for r in runs:
            for name, b in sorted(r.benches.items()):
                prev = last.get(name)
                if prev is not None:
                    res = compare.compare_samples(prev.benches[name].forks, b.forks, alpha)
                    pairs.append((name, prev, r, res))
                    big = threshold is None or abs(res["ratio"] - 1) * 100 > threshold
                    if res["significant"] and big:
                        flagged.append((name, prev, r, res))
                last[name] = r
    return pairs, flagged


def machine_text(machine):
    if machine is None:
        return "unknown (no provenance.json)"
    return "; ".join(f"{label} {value if value is not None else 'unknown'}" for (label, _), value in zip(MACHINE, machine))


def trend_panel(ax, runs, name, flagged_at, colour, label, marker_of):
    """One benchmark across the runs: a point per run (its group's marker) with its CI, lines only
    between consecutive runs of the same group, a red ring where a change point was flagged."""
    pts = []
    for r in runs:
        b = r.benches.get(name)
        if b:
            s = results.describe(b.forks)
            pts.append((r, s))
    by_group = {}
    for r, s in pts:
        by_group.setdefault(r.group, []).append((r, s))
    first = True
    for g, gp in by_group.items():
        xs = [r.number for r, _ in gp]
        ys = [s["median"] for _, s in gp]
        ax.plot(xs, ys, color=colour, lw=1.2, marker=marker_of[g], ms=4.5, label=label if first else None)
        first = False
        for r, s in gp:
            if not (doc.missing(s["lo"]) or doc.missing(s["hi"])):
                ax.plot([r.number, r.number], [s["lo"], s["hi"]], color=colour, lw=1.0, alpha=0.6)
            if (name, r.number) in flagged_at:
                ax.plot([r.number], [s["median"]], marker="o", ms=10, mfc="none", mec="#cf222e", mew=1.6)


def run_axis(ax, runs):
    ax.set_xticks([r.number for r in runs])
    ax.set_xticklabels([f"{r.label}{r.group}" for r in runs], fontsize=7.5)
    ax.set_xlim(0.5, len(runs) + 0.5)


def trends_figure(runs, rows, flagged_at, colours_of, groups):
    """Small multiples: one panel per entry of rows ([(title, [(benchmark, label)])])."""
    marker_of = {g: MARKERS[i % len(MARKERS)] for i, g in enumerate(groups)}
    fig, axes, _ = plots.grid([2.6] * len(rows), 3)
    for ax, (title, names) in zip(axes, rows):
        for i, (name, label) in enumerate(names):
            trend_panel(ax, runs, name, flagged_at, colours_of(i, name), label, marker_of)
        run_axis(ax, runs)
        ax.set_yscale("log")
        plots.time_axis(ax, "y")
        ax.set_title(title, fontsize=9)
        if len(names) > 1:
            plots.legend_right(ax)
    return fig


def build(tree, out_dir, alpha, threshold, screenshot=True):
    folders = find_runs(tree)
    runs = [Run(tree, f) for f in folders]
    runs = [r for r in runs if r.benches]
    if not runs:
        return None
    os.makedirs(out_dir, exist_ok=True)
    groups = group_runs(runs)
    pairs, flagged = change_points(groups, alpha, threshold)
    flagged_at = {(name, r.number) for name, _, r, _ in flagged}

    d = doc.Doc(f"ffibench history — {os.path.basename(os.path.abspath(tree))}",
                f"{len(runs)} runs from {runs[0].stamp} to {runs[-1].stamp} on {len(groups)} machine(s)")
    d.toc()

    d.heading("The runs")
    d.para("In time order. The letter after a run's number is its machine group: runs of one group are compared "
           "with each other, never with another group's. Times below are raw ns per operation (control loop "
           "included), as `./scripts/compare` compares them.")
    d.table(["run", "folder", "when (UTC)", "machine", "commit", "runtimes", "benchmarks"],
            [[f"{r.label}{r.group}", f"`{r.name}`", r.stamp, r.group, f"`{r.commit}`", ", ".join(r.runtimes),
              len(r.benches)] for r in runs], align="lllllll")

    d.heading("Which runs are comparable")
    lines = []
    for g, (machine, members) in groups.items():
        who = ", ".join(r.label for r in members)
        lines.append(f"**{g}** — {machine_text(machine)}: {who}"
                     + (" (a run of its own: nothing to compare it with)" if len(members) == 1 else ""))
    d.bullets(lines)
    d.para("Comparable means the same CPU model, host, kernel, build type and C flags (from each run's "
           "`provenance.json`). Other differences (load, libraries, the runtimes measured) do not split a group; "
           "`./scripts/compare OLD NEW` lists them for any two runs.")
    if len(runs) <= MATRIX_LIMIT:
        d.table(["run"] + [r.label for r in runs],
                [[f"{a.label}{a.group}"] + ["" if a is b else ("same machine" if a.group == b.group else
                                                             f"differs: {differences(a, b)}") for b in runs]
                 for a in runs], align="l" * (len(runs) + 1))
    else:
        d.para(f"(The table of every pair is left out above {MATRIX_LIMIT} runs; the groups above say the same.)")

    d.heading("Change points")
    level = f"{100 * (1 - alpha):g} %"
    tested = len(pairs)
    d.para(f"{len(flagged)} of {tested} comparisons between consecutive runs of a machine group changed significantly "
           f"(Mann–Whitney p < {alpha:g} over the fork medians and the {level} hierarchical-bootstrap CI of the ratio "
           "leaves out 1, as `./scripts/compare`)"
           + (f", by more than {threshold:g} %" if threshold is not None else "") + ".")
    if flagged:
        d.table(["benchmark", "machine", "from", "to", "old ns", "new ns", "change", f"{level} CI", "p"],
                [[f"`{name}`", r.group, f"{a.label} `{a.commit}`", f"{r.label} `{r.commit}`",
                  doc.num(results.center(a.benches[name].forks)), doc.num(results.center(r.benches[name].forks)),
                  *compare.change_cells(res)]
                 for name, a, r, res in sorted(flagged, key=lambda f: (f[2].number, compare.bench_order(f[0])))],
                align="llllrrrrr")
    hopeless = [(n, a, r) for n, a, r, _ in pairs
                if compare.min_p(len(a.benches[n].forks), len(r.benches[n].forks)) >= alpha]
    if hopeless:
        n, a, r = hopeless[0]
        d.callout("warning", f"{len(hopeless)} of these comparisons had too few processes (forks) for Mann–Whitney to "
                             f"reach p < {alpha:g} (e.g. `{n}`, {len(a.benches[n].forks)} against "
                             f"{len(r.benches[n].forks)} between {a.label} and {r.label}), so they could not show a "
                             "change.", "measure with 5 forks or more (the default of `./scripts/bench`; not `--quick`).",
                  f"{len(hopeless)} comparison(s) with too few processes to show a change")
    if tested == 0:
        d.callout("note", "no machine group has two runs of the same benchmark, so nothing could be compared.",
                  "make another run on the same machine (`./scripts/bench`), then run the history again.")

    charts = []
    d.heading("Trends")
    names = sorted({n for r in runs for n in r.benches}, key=compare.bench_order)
    noop_rows = []
    for rt in sorted({n.split("/")[0] for n in names}, key=lambda x: (x != "c", x)):
        mine = [n for n in names if n.split("/")[0] == rt and n.split("/", 2)[2:] == ["noop"]]
        if mine:
            noop_rows.append((rt, [(n, n.split("/")[1]) for n in mine]))
    if noop_rows:
        fig = trends_figure(runs, noop_rows, flagged_at, lambda i, n: plots.PALETTE[i % len(plots.PALETTE)],
                            groups)
        svg = plots.save(fig, out_dir, "history-noop")
        charts.append("history-noop.svg")
        d.figure(svg, "history-noop.svg", "Each runtime's `noop` through each mechanism, run by run (x: run number "
                                         "and machine group; markers: the group; lines join runs of one group only; "
                                         "whiskers: 95 % CI; red ring: a change point).")
    changed = sorted({name for name, *_ in flagged},
                     key=lambda n: -max(abs(res["ratio"] - 1) for m, _, _, res in flagged if m == n))
    if changed:
        fig = trends_figure(runs, [(n, [(n, n)]) for n in changed[:CHANGED_PANELS]], flagged_at,
                            lambda i, n: "#0969da", groups)
        svg = plots.save(fig, out_dir, "history-changed")
        charts.append("history-changed.svg")
        d.figure(svg, "history-changed.svg",
                 "The benchmarks with a change point, the largest change first"
                 + (f" ({CHANGED_PANELS} of {len(changed)})" if len(changed) > CHANGED_PANELS else "")
                 + "; drawn as above.")

    d.heading("Every benchmark, run by run")
    d.para("Each cell: the run's figure (the median of its processes' medians) with its 95 % CI; ▲ slower and ▼ faster "
           "mark a change point against the previous run of the same machine group.")
    marks = {(name, r.number): ("▲" if res["ratio"] > 1 else "▼") for name, _, r, res in flagged}

    def cellof(r, name):
        b = r.benches.get(name)
        if not b:
            return ""
        s = results.describe(b.forks)
        ci = doc.interval(s["lo"], s["hi"])
        mark = marks.get((name, r.number), "")
        return f"{mark}{doc.num(s['median'])}" + ("" if ci == "–" else f" {ci}")
    d.begin_details(f"The table: {len(names)} benchmarks × {len(runs)} runs")
    d.table(["benchmark"] + [f"{r.label}{r.group}" for r in runs],
            [[f"`{n}`"] + [cellof(r, n) for r in runs] for n in names], ci="below")
    d.end_details()

    with open(os.path.join(out_dir, "history.md"), "w", encoding="utf-8") as f:
        f.write(d.markdown())
    page = os.path.join(out_dir, "history.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(d.html())
    if screenshot:
        why_not = browser.screenshot(page, os.path.join(out_dir, "history.png"))
        if why_not:
            print(f"history: no history.png: {why_not}", file=sys.stderr)
    return {"runs": runs, "groups": groups, "pairs": pairs, "flagged": flagged, "charts": charts}


def main(argv):
    p = argparse.ArgumentParser(prog="report --history", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tree", metavar="TREE", help="a folder of results folders, e.g. results/")
    p.add_argument("--out", metavar="DIR", help="where history.md/.html go (default: TREE)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--threshold", type=float, metavar="PCT", help="flag only significant changes beyond PCT percent")
    args = p.parse_args(argv)
    if not os.path.isdir(args.tree):
        p.error(f"not a folder: {args.tree}")
    if not 0 < args.alpha < 1:
        p.error("--alpha must be between 0 and 1")
    out = args.out or args.tree
    found = build(args.tree, out, args.alpha, args.threshold)
    if found is None:
        print(f"history: no results folder with timings under {args.tree}", file=sys.stderr)
        return 2
    print(f"history: {len(found['runs'])} runs on {len(found['groups'])} machine(s), {len(found['flagged'])} change "
          f"point(s) in {len(found['pairs'])} comparisons")
    print(f"history: {os.path.join(out, 'history.html')}, history.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
