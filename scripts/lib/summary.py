#!/usr/bin/python3
"""summary.py — the table ./scripts/bench prints at the end of a run, also saved as summary.txt.

Rows are workloads, columns are mechanisms; each cell is the median ns per operation (the median of
the forks' medians, results.py) with the control loop subtracted (raw figures, CIs and the spread
between and within processes are in summary.csv and the JSON), then the same grid for instructions
per operation from callgrind.
Usage: summary.py RESULTS_DIR
"""
import csv
import math
import os
import sys

import results

MECH_ORDER = ["direct", "plt", "dlopen", "fnptr", "handle", "marshal", "lmdb"]


def fmt(x, digits=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def grid(title, cells, runtimes_mechs, workloads):
    cols = [m for _, m in runtimes_mechs]
    width = max([len("workload")] + [len(w) for w in workloads])
    lines = [title, f"{'workload':<{width}}  " + "  ".join(f"{c:>10}" for c in cols)]
    for w in workloads:
        row = [fmt(cells.get((rm, w))) for rm in runtimes_mechs]
        lines.append(f"{w:<{width}}  " + "  ".join(f"{v:>10}" for v in row))
    return lines


WORKLOAD_ORDER = ["noop", "add", "spin", "get", "get_miss", "put", "scan", "batch", "first_call"]


def workload_key(w):
    """Canonical order: the workload vocabulary's order, then tags, then numeric parameters."""
    parts = w.split("/")
    base = WORKLOAD_ORDER.index(parts[0]) if parts[0] in WORKLOAD_ORDER else len(WORKLOAD_ORDER)
    rest = []
    for p in parts[1:]:
        k, _, v = p.partition(":")
        rest.append((k, int(v) if v.isdigit() else -1, v))
    return (base, parts[0], rest)


def order_key(rm):
    r, m = rm
    return (r != "c", r, MECH_ORDER.index(m) if m in MECH_ORDER else len(MECH_ORDER), m)


def main(folder):
    benches = results.load_benches(folder)
    icount = results.load_icount(folder)
    prov = results.load_provenance(folder)
    icontrol = icount.get(results.CONTROL, {}).get("per_iteration", 0.0)

    time_cells, inst_cells, rms, workloads, rows, failed, noisy = {}, {}, set(), [], [], [], []
    for b in benches.values():
        if b.mechanism == "control":
            continue
        rm = (b.runtime, b.mechanism)
        if b.workload not in workloads:
            workloads.append(b.workload)
        rms.add(rm)
        if b.error and not b.samples:
            failed.append(f"{b.name}: {b.error}")
            continue
        d = results.describe(b.forks)
        net = results.center(results.net_forks(b, benches))  # its runtime's own control loop
        time_cells[(rm, b.workload)] = net
        spread = d["cv_between"] if d["forks"] > 1 else d["cv"]
        if not math.isnan(spread) and spread > 0.05:
            noisy.append(b.name)
        ic = icount.get(b.name)
        rows.append([b.name, d["forks"], d["n"], d["median"], d["lo"], d["hi"], d["cv_between"], d["cv_within"],
                     net, ic["per_op"] if ic else "", results.icount_net(icount, b.name) if ic else ""])
    for name in icount:  # every counted benchmark, timed or not (a filter, or timing failed)
        r, m = name.split("/")[:2]
        w = "/".join(name.split("/")[2:])
        if m != "control":
            rms.add((r, m))
            inst_cells[((r, m), w)] = results.icount_net(icount, name)
            if w not in workloads:
                workloads.append(w)

    rms = sorted(rms, key=order_key)
    workloads.sort(key=workload_key)
    out = []
    m = prov.get("machine", {})
    out.append(f"ffibench results: {os.path.abspath(folder)}")
    out.append(f"  {prov.get('timestamp_utc', '?')} on {prov.get('host', '?')}: {m.get('cpu_model', '?')}, "
               f"{m.get('logical_cpus', '?')} CPUs, build {prov.get('build', {}).get('type', '?')}, "
               f"commit {prov.get('source', {}).get('describe', '?')}")
    runtimes = list(dict.fromkeys(r for r, _ in sorted(rms, key=order_key)))
    controls = [f"{rt} {fmt(results.control_ns(benches, rt), 3)} ns" for rt in runtimes
                if results.control_name(rt) in benches and benches[results.control_name(rt)].samples]
    out.append("  control loop per iteration, subtracted below (each runtime its own): "
               + (", ".join(controls) if controls else "none measured: figures are raw")
               + (f"; c: {fmt(icontrol, 1)} instructions" if results.CONTROL in icount else ""))
    # One grid per runtime (its mechanisms as columns, the workloads it ran as rows): C first.
    for rt in dict.fromkeys(r for r, _ in rms):
        cols = [rm for rm in rms if rm[0] == rt]
        for title, cells in ((f"{rt}: ns per operation, median, control subtracted", time_cells),
                             (f"{rt}: instructions per operation (callgrind), control subtracted", inst_cells)):
            shown = [w for w in workloads if any((rm, w) in cells for rm in cols)]
            if shown:
                out.append("")
                out += grid(title, cells, cols, shown)
    if noisy:
        out.append("")
        out.append(f"note: {len(noisy)} benchmark(s) varied by more than 5 % (CV) between processes; "
                   "their medians are less certain (see summary.csv): " + ", ".join(noisy[:6])
                   + (" ..." if len(noisy) > 6 else ""))
    if failed:
        out.append("")
        out.append("FAILED (reported and skipped):")
        out += [f"  {f}" for f in failed]
    text = "\n".join(out) + "\n"
    with open(os.path.join(folder, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(folder, "summary.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "forks", "repetitions", "median_ns", "ci95_lo_ns", "ci95_hi_ns", "cv_between_forks",
                    "cv_within_forks", "net_ns", "instructions", "net_instructions"])
        w.writerows(rows)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
