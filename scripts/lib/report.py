#!/usr/bin/python3
"""report.py — a results folder as a report people can trust: report.md and a self-contained
report.html (charts inlined as SVG, no scripts, nothing fetched; parts folded in <details>, which
open without JavaScript) in the folder, every chart also beside them as SVG (the answer and the cost
ladder as PNG too, for the README), and report.png, the whole page as Chromium shows it at 1400 px
(browser.py; said on stderr when Chromium is missing).

Usage: report.py RESULTS_DIR

What is in it, in order: a table of contents; the answer (each runtime's cheapest way to call the
engine on one chart, with its CI; two sentences on the origin sample's claim, made from the run's
figures; a line per runtime with the value and batch size from which the boundary costs under 5 %
of the work); the run's conditions in one line (the whole table folded) and a warning, one line
each, for anything that makes its numbers less trustworthy, with what to do (noise.py adds the
measurements' own: outliers and slow first runs, as hyperfine warns); the origin sample's question in
full where C# runtimes ran; the cost ladder; the boundary next to the engine's own work; payload and
batching curves, one panel per runtime; process start and first call, one panel per runtime; thread
scaling; instructions per call; the --validate verdict when there is one; and every benchmark's
median, 95 % CI, CV, raw and net. Whatever the folder lacks is said in a note.

Every timing file of the folder is read alike (results.py), so other runtimes' benchmarks join the
same charts. The definitions behind each figure are written into the report's last section.
"""
import math
import os
import re
import statistics
import sys
import traceback

import browser
import compare
import doc
import noise
import plots
import results
import summary

REF = "c/direct"  # the engine called straight from C: the reference for "the engine's own work"
SHARE = 0.05      # the boundary is negligible below this share of the work
SHARE_TEXT = "5 %"
ALPHA = 0.05
LADDER = (("noop", "noop"), ("add/mode:latency", "add, latency"), ("add/mode:throughput", "add, throughput"))
GET_HOT, GET_RANDOM = "get/bytes:64", "get/mode:throughput"
CV_LIMIT = 0.05


def rm_key(rm):
    return summary.order_key(tuple(rm.split("/", 1)))


class Run:
    """One results folder, read once, with every benchmark's statistics."""

    def __init__(self, folder):
        self.folder = folder
        self.benches, self.files = results.load_timing(folder)
        self.unreadable = []  # optional files that could not be read: left out, with a warning
        self.prov = self.optional("provenance.json", results.load_provenance, {})
        self.icount = self.optional("icount.json", results.load_icount, {})
        self.hyperfine = self.optional("hyperfine.json", load_hyperfine_all, [])
        self.validate = self.optional("validate.json", results.load_validate, None)
        self.crosscheck = self.optional("crosscheck.json", results.load_crosscheck, {})
        self.raw, self.net, self.points, self.shares = {}, {}, {}, {}
        for b in self.benches.values():
            if b.mechanism == "control" or not b.samples:
                continue
            self.raw[b.name] = results.describe(b.forks)
            self.net[b.name] = results.describe(results.net_forks(b, self.benches))
            self.points[(f"{b.runtime}/{b.mechanism}", b.workload)] = b
        self.rms = sorted({rm for rm, _ in self.points}, key=rm_key)
        self.runtimes = sorted({rm.split("/")[0] for rm in self.rms}, key=lambda r: (r != "c", r))
        self.colours = plots.colours(self.rms)

    def optional(self, name, load, empty):
        try:
            return load(self.folder)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            self.unreadable.append(f"`{name}` ({type(e).__name__}: {e})")
            return empty

    def bench(self, rm, workload):
        return self.points.get((rm, workload))

    def stat(self, rm, workload):
        """The net statistics of rm on workload, or None when it was not timed."""
        b = self.bench(rm, workload)
        return self.net[b.name] if b else None

    def net_median(self, rm, workload):
        s = self.stat(rm, workload)
        return s["median"] if s else None

    def family(self, rm, base, param):
        """[(N, workload)] for rm's workloads named <base>/<param>:N, by N."""
        pattern = re.compile(re.escape(base) + "/" + re.escape(param) + r":(\d+)")
        return sorted((int(m.group(1)), w) for r, w in self.points
                      if r == rm and (m := pattern.fullmatch(w)))

    def control(self, runtime):
        return results.control_ns(self.benches, runtime)


def load_hyperfine_all(folder):
    """hyperfine's results of the folder (the driver writes every runtime's into hyperfine.json) and,
    in folders from before the driver, of each runtime harness's own subfolder (<sub>/hyperfine.json);
    a command found twice is taken from the top."""
    found = {r["command"]: r for r in results.load_hyperfine(folder)}
    for sub in sorted(os.listdir(folder)):
        if os.path.isfile(os.path.join(folder, sub, "hyperfine.json")):
            for r in results.load_hyperfine(os.path.join(folder, sub)):
                found.setdefault(r["command"], r)
    return list(found.values())


def point(stat):
    return (stat["median"], stat["lo"], stat["hi"])


def get(d, *keys, default="unavailable"):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


# ---- the 5 % definitions ----------------------------------------------------------------------


def boundary_share(run, rm, workload):
    """The share of rm's time per operation on workload that is not the engine's own work, with its
    confidence interval: (share, lo, hi), or None when a figure is missing or rm has no noop (no
    crossing of its own to speak of, like c/lmdb, which reads LMDB without the engine).
        engine(w)  = t(c/direct, w) - t(c/direct, noop) / ops(w)   the engine's own work per operation
        share      = (t(rm, w) - engine(w)) / t(rm, w) = 1 - (1 - k) / r
    with t the net median, r = t(rm, w) / t(c/direct, w) and k = t(c/direct, noop) / (ops(w) t(c/direct, w)),
    the direct call's own share. The interval comes from the bootstrap interval of r (compare.py);
    for c/direct itself, from that of k."""
    key = (rm, workload)
    if key not in run.shares:
        run.shares[key] = _boundary_share(run, rm, workload)
    return run.shares[key]


def _boundary_share(run, rm, workload):
    b, ref, call = run.bench(rm, workload), run.bench(REF, workload), run.bench(REF, "noop")
    if not (b and ref and call and run.bench(rm, "noop")):
        return None
    ref_net = results.net_forks(ref, run.benches)
    t_ref = results.center(ref_net)
    if t_ref <= 0:
        return None
    call_per_op = [[x / ref.ops for x in f] for f in results.net_forks(call, run.benches)]
    if rm == REF:
        r = compare.compare_samples(ref_net, call_per_op, ALPHA)
        return (r["ratio"], *r["ci"])
    k = results.center(call_per_op) / t_ref
    r = compare.compare_samples(ref_net, results.net_forks(b, run.benches), ALPHA)
    return tuple(1.0 - (1.0 - k) / ratio if ratio > 0 else math.nan for ratio in (r["ratio"], *r["ci"]))


def crossover(run, rm, base, param):
    """The smallest N of the <base>/<param>:N family from which on the boundary is shown to cost
    under SHARE of rm's time: the upper end of the share's CI is under SHARE at N and at every larger
    N measured. Returns (N or None, [(N, (share, lo, hi) or None)])."""
    shares = [(n, boundary_share(run, rm, w)) for n, w in run.family(rm, base, param)]
    found = None
    for n, share in reversed(shares):
        if share is None or not share[2] < SHARE:  # a missing interval (nan) shows nothing
            break
        found = n
    return found, shares


def crossover_text(run, rm, base, param, unit, detail=True):
    """'from N', or why not: 'not shown up to N (share, CI up to x)' (without the brackets when
    detail is False)."""
    n, shares = crossover(run, rm, base, param)
    if not shares:
        return "not measured"
    if not run.bench(rm, "noop"):
        return "no noop: no boundary of its own"
    if all(s is None for _, s in shares):
        return f"needs `{REF}/{base}/{param}:N` and `{REF}/noop`"
    if n is not None:
        return f"from {unit(n)}"
    last_n, last = shares[-1]
    if last is None or not detail:
        return "not shown"
    return f"not shown up to {unit(last_n)} ({doc.percent(last[0])}, CI up to {doc.percent(last[2])})"


# ---- sections ---------------------------------------------------------------------------------


def design(run):
    """How the timing loops were replicated, read from the data: 'F processes × R repetitions per
    benchmark' (the most common), or the repetitions of a folder without process labels."""
    looped = [b for b in run.benches.values() if b.samples and not b.per_process and b.mechanism != "control"]
    if not looped:
        return "no timing loops"
    if any(not b.labelled for b in looped):
        reps = statistics.median_low([len(b.samples) for b in looped])
        return f"{reps} repetitions per benchmark, processes not recorded (a folder from before the driver)"
    shapes = [(len(b.forks), statistics.median_low([len(f) for f in b.forks])) for b in looped]
    forks, reps = max(set(shapes), key=shapes.count)
    return f"{forks} processes × {reps} repetitions per benchmark"


def conditions_line(run):
    """The run's conditions in one sentence (the whole table is folded under it)."""
    p, m = run.prov, run.prov.get("machine", {})
    if not p:
        return "Machine, build and commit unknown (no `provenance.json`)."
    method = design(run)
    dirty = " with uncommitted changes" if get(p, "source", "dirty") is True else ""
    return (f"Measured {get(p, 'timestamp_utc')} on `{get(p, 'host')}`: {get(m, 'cpu_model')}, "
            f"{get(m, 'logical_cpus')} logical CPUs ({get(m, 'virtualization')}), {get(p, 'os', 'distribution')}, "
            f"kernel {get(p, 'os', 'kernel')}; {get(p, 'build', 'type')} build `{get(p, 'build', 'c_flags')}` of "
            f"`{get(p, 'source', 'describe')}`{dirty}; {method}.")


def section_conditions(d, run):
    p, m = run.prov, run.prov.get("machine", {})
    d.heading("The run")
    d.para(conditions_line(run))
    if not p:
        d.callout("warning", "no provenance.json in this folder: the machine, build and commit are unknown.",
                  "results folders written by `./scripts/bench` have one; re-run it rather than copying files.")
    contexts = {name: f["context"] for name, f in run.files.items()}
    gb = contexts.get("gbench.json", {})
    lib = get(p, "libraries", "google_benchmark").split(" (")[0]
    rows = [["folder", f"`{os.path.abspath(run.folder)}`"]]
    rows += [] if not p else [
        ["when (UTC)", get(p, "timestamp_utc")],
        ["machine", f"{get(m, 'cpu_model')}, {get(m, 'logical_cpus')} logical CPUs, SMT {get(m, 'smt')}, "
                    f"{get(m, 'memory').replace('MemTotal:', '').strip()} memory"],
        ["host, virtualization", f"{get(p, 'host')}, {get(m, 'virtualization')}"],
        ["OS", f"{get(p, 'os', 'distribution')}, kernel {get(p, 'os', 'kernel')}"],
        ["CPU frequency", f"governor {get(m, 'governor')}, boost {get(m, 'boost')}"
                          + (f"; google-benchmark: {gb['mhz_per_cpu']} MHz, scaling "
                             f"{'on' if gb.get('cpu_scaling_enabled') else 'off'}" if 'mhz_per_cpu' in gb else "")],
        ["load average at start", get(m, "load_average_at_start")],
        ["build", f"{get(p, 'build', 'type')} `{get(p, 'build', 'c_flags')}`, PLT binding "
                  f"{get(p, 'build', 'plt_binding')}"],
        ["compiler", get(p, "toolchain", "cc")],
        ["libraries", f"LMDB {get(p, 'libraries', 'lmdb')}; google-benchmark {lib} (built as "
                      f"{gb.get('library_build_type', 'unknown')}); glibc {get(p, 'libraries', 'glibc')}"],
        ["source", f"{get(p, 'source', 'describe')}" + (" (uncommitted changes)" if get(p, "source", "dirty") is True else "")],
        ["command", f"`{get(p, 'command')}`"],
        ["processes × repetitions, time each",
         f"{get(p, 'options', 'forks')} forks × {get(p, 'options', 'repetitions')} repetitions, "
         f"{get(p, 'options', 'min_time')} s each" if get(p, "options", "forks") != "unavailable" else
         f"{get(p, 'options', 'repetitions')} repetitions, {get(p, 'options', 'min_time')} s each"],
    ]
    for name, f in run.files.items():
        count = sum(1 for b in run.benches.values() if b.file == name)
        about = "" if name in results.GBENCH_FILES else "; ".join(
            f"{k}: {str(v)[:80]}" for k, v in list(f["context"].items())[:8])
        rows.append([f"timing file `{name}`", f"{count} benchmarks" + (" — cut short" if f["truncated"] else "")
                     + (f" ({about})" if about else "")])
    for rt in run.runtimes:
        c = run.benches.get(results.control_name(rt))
        rows.append([f"control loop `{results.control_name(rt)}`",
                     f"{doc.num(run.control(rt))} ns per iteration (subtracted from {rt}'s per-call figures)"
                     if c and c.samples else "not run: figures are raw"])
    d.begin_details(f"Every condition ({len(rows)})")
    d.table(["condition", "value"], rows, align="ll")
    d.end_details()


def warnings(run):
    """[(kind, title, what, what to do)]: everything that makes this run's numbers less trustworthy,
    the measurements' own noise (noise.py) included."""
    out = []
    p, m = run.prov, run.prov.get("machine", {})
    timed = [b for b in run.benches.values() if b.samples and b.mechanism != "control"]
    looped = [b for b in timed if not b.per_process]

    for what in run.unreadable:
        out.append(("warning", f"{what} could not be read", f"{what} could not be read and is left out.",
                    "re-run `./scripts/bench`; the file may have been cut or edited."))
    for name, f in run.files.items():
        if f["unreadable"]:
            out.append(("warning", f"`{name}` was skipped", f"`{name}` was skipped: {f['unreadable']}.",
                        "keep only google-benchmark JSON timing files in a results folder, named `<runtime>.json`."))
        if f["truncated"]:
            out.append(("warning", f"`{name}` was cut short (an interrupted run)", f"`{name}` was cut short: the run was interrupted, and the benchmarks after "
                                   "the last complete one are missing.", "re-run `./scripts/bench` to completion."))
    failed = [b for b in run.benches.values() if b.error and not b.samples]
    if failed:
        out.append(("warning", f"{len(failed)} benchmark(s) failed", f"{len(failed)} benchmark(s) failed and are left out: "
                    + "; ".join(f"`{b.name}` ({b.error})" for b in failed[:8]) + (" ..." if len(failed) > 8 else ""),
                    "a failed benchmark got a wrong answer or an error from the engine; run the conformance "
                    "tests (`./scripts/test`) and look at the run's output."))
    for name, ctx in ((n, f["context"]) for n, f in run.files.items()):
        skipped = ctx.get("ffibench.skipped_shims", "none")
        if skipped not in ("none", ""):
            out.append(("warning", f"`{name}`: shims were skipped", f"`{name}`: shims that could not start were skipped: {skipped}.",
                        "see the run's output for the reason (`ffibench_c: skipping shim ...`)."))

    unlabelled = [b for b in looped if not b.labelled]
    if unlabelled:
        out.append(("warning", f"{len(unlabelled)} benchmark(s) without process labels: their CIs are too narrow", f"{len(unlabelled)} benchmark(s) come from a harness that did not record which "
                    "process measured each repetition (a folder from before the driver): their repetitions are "
                    "treated as independent, so their CIs leave out the spread between processes and are too "
                    "narrow.", "re-run with the current `./scripts/bench`, which runs every benchmark in several "
                    "fresh processes."))
    forks = sorted({len(b.forks) for b in looped if b.labelled})
    no_ci = [b for b in looped if math.isnan(run.raw[b.name]["lo"])]
    if forks and (forks[0] < 5 or no_ci):
        out.append(("warning", f"{forks[0]} process(es) per benchmark: " + ("too few for CIs" if no_ci else "too few for `compare`"), (f"{forks[0]} process(es) (forks) per benchmark" if forks[0] == forks[-1] else
                                f"as few as {forks[0]} process(es) (forks) per benchmark")
                    + (f": too few for a 95 % confidence interval (at least 3 are needed), so {len(no_ci)} of "
                       f"{len(looped)} benchmarks have no error bars and their medians may be off by the spread "
                       "between processes" if no_ci else ": too few for `compare` to call a change significant "
                       "(it needs at least 4 a side)")
                    + ".", "run without `--quick` (5 forks) or with `--forks 5` or more."))
    spread = {b.name: run.raw[b.name]["cv_between"] if b.labelled else run.raw[b.name]["cv"] for b in looped}
    noisy = sorted((b for b in looped if spread[b.name] > CV_LIMIT), key=lambda b: -spread[b.name])
    if noisy:
        out.append(("warning", f"{len(noisy)} of {len(looped)} benchmarks vary by more than {100 * CV_LIMIT:g} % between processes", f"{len(noisy)} of {len(looped)} benchmarks varied by more than "
                    f"{100 * CV_LIMIT:g} % (coefficient of variation) between processes; worst: "
                    + ", ".join(f"`{b.name}` {doc.percent(spread[b.name])}" for b in noisy[:5]) + ".",
                    "close other programs, fix the CPU frequency (below), and raise `--forks`; a spread between "
                    "processes that stays is a property of the machine or the mechanism, and the CI carries it."))
    drv = p.get("driver", {}).get("runtimes", {})
    unsteady = {rt: v["forks_not_steady"] for rt, v in drv.items() if v.get("forks_not_steady")}
    if unsteady:
        out.append(("warning", "some processes never reached a steady state", "some processes never reached a steady state in their warm-up (the last runs kept "
                    "differing by more than the tolerance) and were measured anyway: "
                    + ", ".join(f"{rt} {n} of {drv[rt]['forks_run']}" for rt, n in unsteady.items()) + ".",
                    "see `raw/forks.jsonl` (`steady`, `warmup_runs`); a runtime that needs longer to settle "
                    "declares a warm-up minimum in its `runtime.toml`."))

    governor, boost = get(m, "governor"), get(m, "boost")
    scaling = any(f["context"].get("cpu_scaling_enabled") for f in run.files.values())
    if governor == "unavailable":
        out.append(("warning", "the CPU frequency governor is unknown", "the CPU frequency governor could not be read (usual in containers and VMs), so "
                               "the clock may have changed during the run"
                    + (f"; boost is {boost}" if boost != "unavailable" else "; whether boost was on is unknown too")
                    + ".", "prefer bare metal with `sudo cpupower frequency-set -g performance`; compare only with "
                           "runs from the same machine."))
    elif governor != "performance" or scaling:
        out.append(("warning", f"CPU frequency scaling is on (governor `{governor}`)", f"CPU frequency scaling is on (governor `{governor}`): the clock follows the load, "
                               "so short benchmarks run at varying speed.",
                    "`sudo cpupower frequency-set -g performance` before the run."))
    if boost == "on":
        out.append(("warning", "CPU boost (turbo) is on", "CPU boost (turbo) is on: the clock depends on temperature and on how many cores "
                               "are busy, so repetitions and runs differ.",
                    "`echo 0 | sudo tee /sys/devices/system/cpu/cpufreq/boost` (or `echo 1 | sudo tee "
                    "/sys/devices/system/cpu/intel_pstate/no_turbo`) for the run."))

    build_types = {get(p, "build", "type")} | {f["context"]["ffibench.build_type"] for f in run.files.values()
                                                if "ffibench.build_type" in f["context"]}
    build_types -= {"unavailable", "Release"}
    if build_types:
        out.append(("warning", "not a Release build", f"our code was not built as Release (build type {', '.join(sorted(build_types))}): "
                               "the numbers measure unoptimised code.", "run `./scripts/bench` without `FFIBENCH_BUILD_DIR` "
                                                            "(it builds the release preset)."))
    if any(f["context"].get("library_build_type") == "debug" for f in run.files.values()):
        out.append(("note", "google-benchmark reports itself as a debug build", "the google-benchmark library reports itself as a debug build (Debian's package is "
                            "built that way). It times our Release code: the timed loop is inlined from its header "
                            "into our optimised harness, and the library's own (debug) code runs only between "
                            "batches (starting and stopping timers, bookkeeping), so it adds to the harness's "
                            "overhead, not to the figures per call; the control loop shows what is left.", ""))

    try:
        load = float(get(m, "load_average_at_start").split()[0])
        cpus = int(get(m, "logical_cpus", default=1))
        if load > 0.2 * cpus:
            out.append(("warning", f"the machine was busy when the run started (load {load:g})", f"the 1-minute load average was {load:g} on {cpus} CPUs when the run started: "
                                   "other work was running in the minute before (a build just before the run "
                                   "counts too).", "wait for the machine to go idle, or close what runs."))
    except (ValueError, IndexError):
        pass
    virt = get(m, "virtualization")
    if virt not in ("none", "unavailable", ""):
        out.append(("warning", f"a virtual machine or container (`{virt}`)", f"the run was in a virtual machine or container (`{virt}`): other guests share "
                               "the CPU and its caches, and the hypervisor can take time away (steal).",
                    "for numbers to publish, run on bare metal; compare runs only from the same machine."))
    if get(p, "source", "dirty") is True:
        out.append(("warning", "uncommitted changes in the source tree", f"the source tree had uncommitted changes (`{get(p, 'source', 'describe')}`): "
                               "the commit alone cannot reproduce these numbers.",
                    "commit first, or keep `git diff` next to the results."))
    for rt in run.runtimes:
        control = run.benches.get(results.control_name(rt))
        if not (control and control.samples):
            out.append(("note", f"no control loop for `{rt}`", f"no control loop for runtime `{rt}` (`{results.control_name(rt)}`): its figures "
                                "are raw, with the timing loop's own cost included.", ""))
    out += noise.warnings([b for b in run.benches.values() if not b.per_process], run.hyperfine)
    return out


def section_warnings(d, run):
    d.heading("Before you trust these numbers")
    found = warnings(run)
    if not found:
        d.para("No warnings: a Release build, enough processes, steady processes, a fixed clock, "
               "a quiet machine and a clean tree.")
    else:
        kinds = [k for k, *_ in found]
        d.para(f"{kinds.count('warning')} warning(s), {kinds.count('note')} note(s); open one for what it means "
               "and what to do.")
    for kind, title, what, todo in found:
        d.callout(kind, what, todo, title)


def cheapest(run, rt):
    """(rm, stat, ties, too_few): the runtime's mechanism with the lowest net noop, the others that
    are not significantly different from it, and whether the repetitions could show a difference."""
    cands = [(run.net[b.name]["median"], rm, b) for rm in run.rms if rm.split("/")[0] == rt
             for b in [run.bench(rm, "noop")] if b]
    if not cands:
        return None
    _, rm, best = min(cands, key=lambda c: c[0])
    ties, too_few = [], False
    for _, other, b in sorted(cands, key=lambda c: c[0]):
        if other == rm:
            continue
        if compare.min_p(len(best.forks), len(b.forks)) >= ALPHA:
            too_few = True
        elif not compare.compare_samples(best.forks, b.forks, ALPHA)["significant"]:
            ties.append(other)
    return rm, run.net[best.name], ties, too_few


def runtime_lines(run):
    """A line per runtime: its cheapest way to call the engine, and from which value and batch size
    the boundary costs under SHARE of the work through it."""
    lines = []
    for rt in run.runtimes:
        c = cheapest(run, rt)
        if not c:
            lines.append(f"**{rt}**: no `noop` measured, so the cheapest way to call the engine is not known.")
            continue
        rm, stat, ties, too_few = c
        text = (f"**{rt}**: the cheapest way to call the engine is `{rm}`, {doc.duration(stat['median'])} per call "
                f"(`noop`, net)")
        if too_few:
            text += "; with this few processes no difference between mechanisms can be significant"
        elif ties:
            text += "; " + ", ".join(f"`{t}`" for t in ties) + " not significantly different"
        parts = [f"of {what}: {crossover_text(run, rm, base, param, unit)}"
                 for what, base, param, unit in (("a `get`", "get", "bytes", lambda n: f"{doc.bytes_(n)} values"),
                                                 ("batched gets", "batch", "n", lambda n: f"batches of {n}"))
                 if run.family(rm, base, param)]
        text += "." + (f" Through it, the boundary costs under {SHARE_TEXT} of the work — {'; '.join(parts)}."
                       if parts else "")
        lines.append(text)
    return lines


def section_answer(d, run):
    """The answer first: the cheapest mechanism of every runtime, on one chart with its CI; the
    origin sample's claim checked against this run's figures; a line per runtime."""
    d.heading("The answer")
    best = [(rt, c[0], c[1]) for rt in run.runtimes for c in [cheapest(run, rt)] if c]
    if best:
        best.sort(key=lambda t: t[2]["median"])
        rows = [f"{rt}: {rm.split('/', 1)[1]}" for rt, rm, _ in best]
        fig, (ax,) = plots.figure(rows=len(rows) + 1.5)
        points = {row: point(stat) for row, (_, _, stat) in zip(rows, best)}
        skipped = plots.dot_rows(ax, rows, [{"label": "noop", "points": points, "colour": "#0969da"}])
        for r, (_, _, stat) in enumerate(best):
            if stat["median"] > 0:
                hi = stat["hi"] if not doc.missing(stat["hi"]) else stat["median"]
                ax.annotate(doc.duration(stat["median"]), (hi, r), xytext=(6, 0), textcoords="offset points",
                            va="center", fontsize=8.5, color="#1b1f24")
        shown = [rt for rt, _, _ in best]
        for label, claim, rts in CLAIM_GROUPS:
            if any(rt in shown for rt in rts):
                ax.axvline(claim, color="#cf222e", lw=0.9, ls="--")
                ax.annotate(f"origin sample's claim:\n{label}, {claim:g} ns", (claim, 1.0), xytext=(4, -3),
                            textcoords="offset points", ha="left", va="top", fontsize=7.5, color="#cf222e",
                            xycoords=("data", "axes fraction"))
        plots.time_axis(ax)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * 2.5)  # room for the value labels
        plots.time_axis(ax)
        ax.set_xlabel("time per call (noop), control loop subtracted (log scale; whiskers: 95 % CI)")
        ax.set_title("What one call costs: the cheapest way from each runtime")
        svg = plots.save(fig, run.folder, "answer", png=True)
        caption = ("Each runtime's cheapest mechanism (lowest net `noop`), median of the processes' medians with its "
                   "95 % CI; every mechanism is in the cost ladder below.")
        if skipped:
            caption += " Not drawn (at or below the control loop's cost): " + ", ".join(skipped) + "."
        d.figure(svg, "answer.svg", caption)
    else:
        d.callout("note", "no `noop` benchmark in this folder, so what a call costs is not known.", "")
    d.heading("The origin sample's claim", 3)
    d.para(origin_verdict(run), "verdict")
    d.heading("Per runtime", 3)
    d.bullets(runtime_lines(run))
    d.para(f"The boundary is what a call costs beyond the engine's own work; the engine's work is `{REF}`'s "
           "time less the cost of its own call (see “How the figures are made” at the end).")


CLAIMS = {"dotnet-coreclr": 2000.0, "dotnet-nativeaot": 70.0}  # ns per call, the origin sample's README
# The claim's two figures and the runtimes measured here that each is about (CoreRT is NativeAOT today;
# the sample's CoreRT figure was for functions linked into the binary, as in nativeaot-static).
CLAIM_GROUPS = (("CoreCLR", 2000.0, ("dotnet-coreclr",)),
                ("CoreRT", 70.0, ("dotnet-nativeaot", "dotnet-nativeaot-static")))
CSHARP = ("dotnet", "mono")
C_REFERENCE = ("c/direct", "c/plt", "c/dlopen")


def duration_cell(stat):
    """'median [lo, hi]' as durations, or '–'."""
    if not stat:
        return "–"
    ci = doc.interval(stat["lo"], stat["hi"], doc.duration)
    return doc.duration(stat["median"]) + ("" if ci == "–" else f" {ci}")


def cheapest_on(run, rt, workload):
    """(rm, stat) of the runtime's mechanism with the lowest net median on workload, or None."""
    cands = [(run.net_median(rm, workload), rm) for rm in run.rms
             if rm.split("/")[0] == rt and run.stat(rm, workload)]
    if not cands:
        return None
    _, rm = min(cands)
    return rm, run.stat(rm, workload)


def times(ratio):
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def warm_call(run, rts):
    """(rm, stat, workload): the cheapest warm call over these runtimes' mechanisms — `add` in latency
    mode (the sample's `int Add(int, int)`, each call waiting for the one before), else `noop`."""
    for workload in ("add/mode:latency", "noop"):
        cands = [c for rt in rts for c in [cheapest_on(run, rt, workload)] if c and c[1]["median"] > 0]
        if cands:
            rm, stat = min(cands, key=lambda c: c[1]["median"])
            return rm, stat, workload
    return None


def origin_verdict(run):
    """Two sentences on the origin sample's claim, from this run's figures: what a warm call costs
    on the runtimes the claim is about, and what the first call in a new process costs."""
    measured = [rt for rt in run.runtimes if rt.startswith(CSHARP)]
    claim = "about 2000 ns per P/Invoke on CoreCLR and 70 ns on CoreRT"
    if not measured:
        return (f"This run measured no C# runtime (it ran {', '.join(run.runtimes) or 'nothing'}), so it cannot "
                f"test the origin sample's claim of {claim}. Run `./scripts/bench --runtimes c,dotnet,mono` to test "
                "it; what a call costs from each runtime that was measured is in the chart above.")
    parts, words = [], []
    for label, figure, rts in CLAIM_GROUPS:
        w = warm_call(run, [rt for rt in rts if rt in measured])
        if not w:
            continue
        rm, stat, workload = w
        t = stat["median"]
        if t < figure / 2:
            words.append("lower")
            rel = f"{times(figure / t)} less"
        elif t > figure * 2:
            words.append("higher")
            rel = f"{times(t / figure)} more"
        else:
            words.append("agrees")
            rel = "within a factor of 2"
        what = "`add`" if workload.startswith("add") else "`noop`"
        parts.append(f"{doc.duration(t)} on {label} (a warm {what} through `{rm}`, {rel})")
    if parts:
        verdict = {"lower": "is not what a warm call costs here", "agrees": "holds here",
                   "higher": "understates what a warm call costs here"}
        word = verdict[words[0]] if len(set(words)) == 1 else "holds only in part here"
        first = f"The origin sample's claim of {claim} {word}: {' and '.join(parts)}."
    else:
        rm, stat, workload = warm_call(run, measured) or (None, None, None)
        first = (f"This run measured no CoreCLR or NativeAOT runtime, so it cannot test the origin sample's claim of "
                 f"{claim} directly" + (f"; the cheapest warm call from C# here costs {doc.duration(stat['median'])} "
                                        f"(`{rm}`)." if rm else "."))
    firsts = sorted(run.raw[b.name]["median"] for rt in measured
                    for b in [run.bench(f"{rt}/dllimport", "first_call")] if b and b.name in run.raw)
    if not firsts:
        second = ("The run has no first-call figures for C#, so whether a cost of the claim's size is paid once per "
                  "process is not measured here.")
    else:
        span = doc.duration(firsts[0]) if len(firsts) == 1 else \
            f"{doc.duration(firsts[0])} to {doc.duration(firsts[-1])}"
        if firsts[-1] >= 1000.0:
            second = (f"A cost of the claim's size, or more, is paid once per process: the first `[DllImport]` call "
                      f"in a new process costs {span} ({len(firsts)} C# runtime(s); loading the library and building "
                      "the call stub included).")
        else:
            second = f"Not even the first call in a new process comes near it: the first `[DllImport]` call costs {span}."
    return first + " " + second


def section_origin(d, run):
    """The question ffibench started from, answered where C# runtimes were measured."""
    rts = [rt for rt in run.runtimes if rt.startswith(CSHARP)]
    if not rts:
        return
    d.heading("The origin sample's question: what does a call from C# cost?")
    d.para("The sample this project began from (a Rust engine behind a C ABI, called from C# by P/Invoke) "
           "claimed that an unmanaged call costs about 2000 ns on CoreCLR and about 70 ns on CoreRT (today's "
           "NativeAOT), and so that fine-grained native calls are unviable. Its figures came from a "
           "`bin/Debug` build. Here is the same kind of call measured warm (`noop`, and `add` where each call "
           "waits for the one before; control loop subtracted), with the call in the timed loop and in a "
           "non-inlined method called once per operation (`site:isolated`), and as the first call of a fresh "
           "process, for every C# runtime and binding, next to the C shims; then each headline figure beside "
           "a standalone loop of its own.")
    rows = []
    for rm in [rm for rm in run.rms if rm.split("/")[0] in rts] + [rm for rm in C_REFERENCE if rm in run.rms]:
        fc = run.bench(rm, "first_call")
        noop, add = run.stat(rm, "noop"), run.stat(rm, "add/mode:latency")
        isolated = run.stat(rm, "add/mode:latency/site:isolated")
        if noop or add or fc:
            rows.append([f"`{rm}`", cell(noop), cell(add), cell(isolated),
                         duration_cell(run.raw.get(fc.name) if fc else None)])
    shapes = any(r[3] != "–" for r in rows)
    if not shapes:  # a run from before the call-site shapes, or filtered
        rows = [r[:3] + r[4:] for r in rows]
    d.table(["runtime/mechanism", "noop (ns)", "add, in the loop (ns)"] + ["add, isolated (ns)"] * shapes
            + ["first call"], rows)
    if shapes:
        d.para(SITE_TEXT)
    lines = []
    for rt in rts:
        warm = cheapest_on(run, rt, "add/mode:latency")
        # The first P/Invoke through [DllImport] pays for loading the library and building the stub;
        # other bindings may have loaded the library before their timed call, so they are not compared.
        fc = run.bench(f"{rt}/dllimport", "first_call")
        first = (f"{rt}/dllimport", run.raw[fc.name]) if fc and fc.name in run.raw else None
        if not warm:
            continue
        text = f"**{rt}**: a warm `add` costs {doc.duration(warm[1]['median'])} (`{warm[0]}`, the cheapest binding)"
        claim = CLAIMS.get(rt)
        if claim:
            text += f", {claim / warm[1]['median']:.0f}× below the sample's {claim:.0f} ns"
        if first:
            text += (f"; the first `[DllImport]` call in a new process (binding it included) costs "
                     f"{doc.duration(first[1]['median'])}")
        lines.append(text + ".")
    d.bullets(lines)
    own = []
    for name, alone in run.crosscheck.items():
        b = run.benches.get(name)
        if name.split("/")[0] in rts + ["c"] and b and b.samples and min(alone) > 0:
            sa = results.Standalone.of(b.forks, alone)
            own.append([f"`{name}`", doc.duration(sa.suite), doc.duration(sa.alone), f"{sa.median_ratio:.2f}",
                        doc.duration(sa.suite_fast), doc.duration(sa.alone_fast), f"{sa.ratio:.2f}"])
    if own:
        d.para("Each headline figure beside a loop of its own: the simplest standalone program for the same "
               "call (about 20 lines, no code shared with the suite; `--validate` runs it in fresh processes "
               "interleaved with the suite's), both raw, loop included. The medians are over processes; as each "
               "process runs at one of the machine's two speeds, the check (within 10 %) compares each side's "
               "fastest process, the same state of the machine:")
        d.table(["benchmark", "suite (median)", "standalone (median)", "ratio", "suite (fastest)",
                 "standalone (fastest)", "ratio checked"], own)
    else:
        d.para("No standalone loops in this folder: `./scripts/bench --validate` runs each runtime's beside the "
               "suite, so its figures can be checked against a loop of your own.")
    d.para("Where the sample's 2000 ns could come from: not the warm call of any runtime or build here — "
           "compare the Debug build's row and the first-call column, which pays for loading the library and "
           "building the call stub once.")


# Which of the two call-site shapes a user's code resembles (bench/runtimes/dotnet/README.md has the
# disassembly).
SITE_TEXT = (
    "**Call-site shape.** `add, isolated` makes the foreign call in a small non-inlined method called once "
    "per operation; `add, in the loop` makes it directly in the timed loop. CoreCLR inlines a blittable "
    "P/Invoke into the method that contains it and sets its transition frame up once per invocation of that "
    "method, so a call inside a hot loop pays a few stores per call, about the cost of a managed call, while "
    "a call through a wrapper method pays the frame set-up every time. Your code resembles the loop shape "
    "when the P/Invoke sits directly in the loop of the method that runs hot (or in a small wrapper the JIT "
    "inlines into it), and the isolated shape when each operation goes through a non-inlined helper, a "
    "virtual or interface call or a delegate — the usual shape of a binding library's API. NativeAOT with a "
    "library loaded at run time calls a precompiled stub in both shapes; NativeAOT with libkv linked in "
    "inlines the transition as CoreCLR does; Mono always goes through its managed-to-native wrapper.")


def section_ladder(d, run):
    d.heading("The cost ladder")
    rows = [rm for rm in run.rms if any(run.bench(rm, w) for w, _ in LADDER)]
    if not rows:
        d.callout("note", "no `noop` or `add` benchmark in this folder: no cost ladder.", "")
        return
    def cheapest_first(rm):
        noop = run.net_median(rm, "noop")
        return (noop is None, noop or 0, rm_key(rm))
    rows.sort(key=cheapest_first)
    series = [{"label": label, "points": {rm: point(run.stat(rm, w)) for rm in rows if run.stat(rm, w)},
               "colour": plots.PALETTE[i]} for i, (w, label) in enumerate(LADDER)]
    fig, (ax,) = plots.figure(rows=len(rows) * 1.3)
    skipped = plots.dot_rows(ax, rows, series)
    plots.time_axis(ax)
    ax.set_xlabel("time per call, control loop subtracted (log scale; whiskers: 95 % CI of the median)")
    ax.set_title("Cost of one call across each boundary", pad=24)
    plots.legend_above(ax, 3)
    svg = plots.save(fig, run.folder, "cost-ladder", png=True)
    caption = "Median ns per call of `noop`, `add` (latency: each call waits for the one before; throughput: " \
              "independent calls), control loop subtracted; cheapest first."
    if skipped:
        caption += " Not drawn (at or below the control loop's cost): " + ", ".join(skipped) + "."
    d.figure(svg, "cost-ladder.svg", caption)
    d.table(["runtime/mechanism"] + [label + " (ns)" for _, label in LADDER],
            [[f"`{rm}`"] + [cell(run.stat(rm, w)) for w, _ in LADDER] for rm in rows])


def cell(stat):
    """'median [lo, hi]' of a net statistic, or '–'."""
    if not stat:
        return "–"
    ci = doc.interval(stat["lo"], stat["hi"])
    return doc.num(stat["median"]) + ("" if ci == "–" else f" {ci}")


def section_overhead(d, run):
    d.heading("The boundary next to real work")
    rows = [rm for rm in run.rms if run.bench(rm, "noop") and (run.bench(rm, GET_HOT) or run.bench(rm, GET_RANDOM))]
    if not rows:
        d.callout("note", f"needs `noop` and `{GET_HOT}` or `{GET_RANDOM}` of the same mechanism; "
                          "not in this folder.", "")
        return
    series = [{"label": label, "points": {rm: point(run.stat(rm, w)) for rm in rows if run.stat(rm, w)},
               "colour": colour, "marker": marker}
              for w, label, colour, marker in (("noop", "boundary: noop", "#cf222e", "o"),
                                               (GET_HOT, "get, one hot 64-byte value", "#0969da", "s"),
                                               (GET_RANDOM, "get, random keys of 100 000", "#1b1f24", "^"))]
    fig, (ax,) = plots.figure(rows=len(rows) * 1.3)
    plots.dot_rows(ax, rows, series)
    for r, rm in enumerate(rows):
        a, b = run.net_median(rm, "noop"), run.net_median(rm, GET_RANDOM) or run.net_median(rm, GET_HOT)
        if a and b and a > 0 and b > 0:
            ax.plot([a, b], [r, r], color="#d0d7de", lw=3, zorder=0)
    plots.time_axis(ax)
    ax.set_xlabel("time per call, control loop subtracted (log scale; whiskers: 95 % CI)")
    ax.set_title("What a crossing costs, next to the work of a get", pad=24)
    plots.legend_above(ax, 3)
    svg = plots.save(fig, run.folder, "overhead")
    d.figure(svg, "overhead.svg", "The cost of an empty call (`noop`) next to a `get` through the same mechanism; "
                                  "on a log scale the gap is the ratio.")
    def share(rm, w):
        noop, work = run.net_median(rm, "noop"), run.net_median(rm, w)
        return doc.percent(noop / work) if work else "–"
    table = [[f"`{rm}`", cell(run.stat(rm, "noop")), cell(run.stat(rm, GET_HOT)), share(rm, GET_HOT),
              cell(run.stat(rm, GET_RANDOM)), share(rm, GET_RANDOM)] for rm in rows]
    d.table(["runtime/mechanism", "noop (ns)", f"`{GET_HOT}` (ns)", "noop / get", f"`{GET_RANDOM}` (ns)",
             "noop / get"], table)
    d.para("`noop / get`: the empty call's cost as a share of the get's. For a mechanism whose cost grows with "
           "the data it carries (marshal), the payload and batching sections below show the rest.")


def best_c(run, base, param):
    """The C mechanism with a boundary of its own (a noop) whose <base>/<param>:N curve is lowest (the
    geometric mean over the N it has in common with the others), or None: the reference line drawn
    in every runtime's panel."""
    cands = [rm for rm in run.rms if rm.split("/")[0] == "c" and run.bench(rm, "noop") and run.family(rm, base, param)]
    if not cands:
        return None
    common = set.intersection(*({n for n, _ in run.family(rm, base, param)} for rm in cands))

    def score(rm):
        vals = [run.net_median(rm, w) for n, w in run.family(rm, base, param) if n in common]
        vals = [v for v in vals if v and v > 0]
        return sum(math.log(v) for v in vals) / len(vals) if vals else math.inf
    return min(cands, key=score)


def mechanism_styles(rms):
    """{rm: (colour, marker)}: one per mechanism name (handle, marshal, dllimport...), the same in
    every panel, as long as the palette has enough colours; otherwise per panel (distinct there)."""
    names = []
    for rm in rms:
        if rm.split("/", 1)[1] not in names:
            names.append(rm.split("/", 1)[1])
    if len(names) <= len(plots.PALETTE):
        return {rm: (plots.PALETTE[names.index(rm.split("/", 1)[1])],
                     plots.MARKERS[names.index(rm.split("/", 1)[1]) % len(plots.MARKERS)]) for rm in rms}
    out = {}
    for rt in {rm.split("/")[0] for rm in rms}:
        mine = [rm for rm in rms if rm.split("/")[0] == rt]
        out.update({rm: (plots.PALETTE[i % len(plots.PALETTE)], plots.MARKERS[i % len(plots.MARKERS)])
                    for i, rm in enumerate(mine)})
    return out


def curve_line(run, rm, base, param, colour, label, **style):
    fam = run.family(rm, base, param)
    stats = [run.stat(rm, w) for _, w in fam]
    return dict(label=label, colour=colour, xs=[n for n, _ in fam], ys=[s["median"] for s in stats],
                lo=[s["lo"] for s in stats], hi=[s["hi"] for s in stats], **style)


def section_curve(d, run, base, param, title, xlabel, unit, xunit, file, about):
    """A payload-style section: ns per operation against N for <base>/<param>:N, one panel per
    runtime (its mechanisms, and C's best as a dashed reference line), then the figures and the
    boundary's share (for the mechanisms with a noop: those that cross a boundary of their own) as
    tables with a row per mechanism."""
    d.heading(title)
    rms = [rm for rm in run.rms if run.family(rm, base, param)]
    if not rms:
        d.callout("note", f"no `{base}/{param}:N` benchmarks in this folder.", "")
        return
    crossing = [rm for rm in rms if run.bench(rm, "noop")]
    runtimes = [rt for rt in run.runtimes if any(rm.split("/")[0] == rt for rm in rms)]
    ref = best_c(run, base, param)
    styles = mechanism_styles(rms)
    ns = sorted({n for rm in rms for n, _ in run.family(rm, base, param)})
    fig, axes, _ = plots.grid([3.0] * len(runtimes), 3)
    for ax, rt in zip(axes, runtimes):
        mine = [rm for rm in rms if rm.split("/")[0] == rt]
        lines = [curve_line(run, rm, base, param, styles[rm][0], rm.split("/", 1)[1], marker=styles[rm][1])
                 for rm in mine]
        if ref and ref not in mine:
            lines.insert(0, curve_line(run, ref, base, param, "#8c959f", f"C's best ({ref})", ls="--",
                                       marker="", whiskers=False))
        plots.curves(ax, lines)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns)
        plots.count_axis(ax.xaxis, xunit)
        ax.tick_params(axis="x", labelrotation=45 if xunit else 0, labelsize=7.5)
        plots.time_axis(ax, "y")
        ax.set_title(rt)
        ax.set_xlabel(xlabel, fontsize=8)
        plots.legend_right(ax)
    axes[0].set_ylabel("time per operation, net (log)")
    svg = plots.save(fig, run.folder, file)
    d.figure(svg, f"{file}.svg", about + (f" Dashed grey in each other runtime's panel: C's best, `{ref}`." if ref else ""))
    d.table(["mechanism (ns per operation)"] + [unit(n) for n in ns],
            [[f"`{rm}`"] + [cell(run.stat(rm, f"{base}/{param}:{n}")) for n in ns] for rm in rms], ci="below")
    if not crossing:
        d.para("No mechanism here has a `noop` benchmark, so the boundary's share is not computed.")
        return

    def share_cell(share):
        return "–" if share is None else f"{doc.percent(share[0])} (≤ {doc.percent(share[2])})"
    rows = [[f"`{rm}`"] + [share_cell(boundary_share(run, rm, f"{base}/{param}:{n}")) for n in ns]
            + [crossover_text(run, rm, base, param, unit, detail=False)] for rm in crossing]
    d.table(["boundary's share"] + [unit(n) for n in ns] + [f"under {SHARE_TEXT}"], rows)
    d.para(f"Boundary share: estimate (≤ upper end of its 95 % CI). The boundary is shown to cost under {SHARE_TEXT} "
           f"from the N where the upper end is under {SHARE_TEXT} and stays under at every larger N. Definition: "
           "“How the figures are made”.")


def section_payload(d, run):
    section_curve(d, run, "get", "bytes", "Payload: time per get against value size", "value size",
                  doc.bytes_, doc.bytes_, "payload",
                  "Median ns per `get` of one value of N bytes, one panel per runtime (log–log; whiskers: 95 % "
                  "CI); the boundary's share of that time is in the second table.")


def section_batching(d, run):
    section_curve(d, run, "batch", "n", "Batching: time per key against batch size", "batch size (keys per crossing)",
                  lambda n: f"n = {n}", None, "batching",
                  "Median ns per key when n keys are fetched in one crossing, one panel per runtime (log–log; "
                  "whiskers: 95 % CI); the boundary's share of the time per key is in the second table.")


def section_instructions(d, run):
    d.heading("Instructions per call")
    if not run.icount:
        d.callout("note", "no `icount.json` in this folder (the run had `--no-icount`, was interrupted before "
                          "the counts, or valgrind failed).", "run `./scripts/bench` without `--no-icount`.")
        return
    cells = {}
    for name in run.icount:
        parts = name.split("/")
        if len(parts) < 3 or parts[1] == "control":
            continue
        cells[("/".join(parts[2:]), "/".join(parts[:2]))] = results.icount_net(run.icount, name)
    workloads = sorted({w for w, _ in cells}, key=summary.workload_key)
    rms = sorted({rm for _, rm in cells}, key=rm_key)
    relative = {}
    for w in workloads:
        row = [v for (w2, _), v in cells.items() if w2 == w and v and v > 0]
        for rm in rms:
            v = cells.get((w, rm))
            if row and v is not None and v > 0:
                relative[(w, rm)] = v / min(row)
    fig, (ax,) = plots.figure(height=max(2.5, 1.0 + 0.25 * len(workloads)))
    plots.heatmap(ax, workloads, rms, relative, {k: doc.num(v) for k, v in cells.items()}, cmap="Oranges",
                  norm=plots.log_norm(list(relative.values()) + [1.0]),
                  colour_label="× the row's fewest (log)")
    ax.set_title("Instructions per operation (callgrind), control loop subtracted")
    svg = plots.save(fig, run.folder, "instructions")
    d.figure(svg, "instructions.svg", "Instructions executed per operation, counted by callgrind (exact and "
                                      "repeatable, unlike times); colour: how many times the fewest of the row.")
    d.table(["workload"] + [f"`{rm}`" for rm in rms],
            [[w] + [doc.num(cells.get((w, rm))) for rm in rms] for w in workloads])
    d.para("Each count is (Ir(n2) − Ir(n1)) / (n2 − n1) / ops from two callgrind runs of the same loop, less the "
           "control loop's instructions per iteration.")


PROCESS_SERIES = (  # (label, how the name ends, colour, marker)
    ("whole process (hyperfine)", "/process", "#1b1f24", "o"),
    ("first call", "/first_call", "#cf222e", "s"),
    ("second call", "/first_call/call:second", "#0969da", "^"),
    ("loading the library (dlopen, a runtime's load)", "/first_call/phase:load", "#8250df", "D"),
)


def section_process(d, run):
    d.heading("Process start and the first call")
    firsts = [b for b in run.benches.values() if b.per_process and b.samples]
    if not run.hyperfine and not firsts:
        d.callout("note", "no `hyperfine.json` and no `first_call` benchmarks in this folder (`--no-process`, "
                          "a filter that left them out, or an interrupted run).", "run without `--no-process`.")
        return
    stats = {r["command"]: results.describe(results.singletons([t * 1e9 for t in r["times"]]))
             for r in run.hyperfine}
    stats.update({b.name: run.raw[b.name] for b in firsts})
    # rows: runtime/mechanism, each with whatever of the four series it has
    rms = {}
    for name in stats:
        for _, end, _, _ in PROCESS_SERIES:
            if name.endswith(end) and name.count("/") == end.count("/") + 1:
                rms.setdefault(name[: -len(end)], None)
                break
    runtimes = [rt for rt in run.runtimes if any(rm.split("/")[0] == rt for rm in rms)]
    runtimes += sorted({rm.split("/")[0] for rm in rms} - set(runtimes))
    ordered = sorted(rms, key=lambda rm: (runtimes.index(rm.split("/")[0]), rm.split("/")[1] != "control",
                                          rm_key(rm)))
    if not run.hyperfine:
        d.callout("note", "no `hyperfine.json`: whole-process times are missing.", "run without `--no-process`.")
    if not firsts:
        d.callout("note", "no `first_call` benchmarks: the first call per process is missing.", "")
    panels = [[rm for rm in ordered if rm.split("/")[0] == rt] for rt in runtimes]
    fig, axes, legend_ax = plots.grid([0.9 + 0.32 * len(p) for p in panels], 3, legend_row=0.3)
    present = [sr for sr in PROCESS_SERIES if any(rm + sr[1] in stats for rm in ordered)]
    for i, (ax, rt, mine) in enumerate(zip(axes, runtimes, panels)):
        rows = [rm.split("/", 1)[1] for rm in mine]
        tallest = max(len(p) for p in panels[i - i % 3:i - i % 3 + 3])
        series = [{"label": label, "colour": colour, "marker": marker,
                   "points": {rm.split("/", 1)[1]: point(stats[rm + end]) for rm in mine if rm + end in stats}}
                  for label, end, colour, marker in present]
        plots.dot_rows(ax, rows, series)
        ax.set_ylim(tallest - 0.5, -0.5)  # the same spacing in every panel of a row
        plots.time_axis(ax)
        ax.set_title(rt)
    plots.legend_row(legend_ax, [plots.proxy(c, m, label) for label, _, c, m in present],
                     [label for label, *_ in present], 4)
    svg = plots.save(fig, run.folder, "process")
    d.figure(svg, "process.svg", "One panel per runtime, a row per mechanism (`control`: the runtime's process "
                                 "without a call): a whole process that makes one call, timed by hyperfine; inside a "
                                 "fresh process, the first call (lazy binding and stub generation included), the "
                                 "second, and loading the library where the mechanism loads it itself. One sample "
                                 "per process; log scale; whiskers: 95 % CI.")

    def dcell(name):
        st = stats.get(name)
        return duration_cell(st) if st else "–"
    table = [[f"`{rm}`"] + [dcell(rm + end) for _, end, _, _ in present]
             + [" / ".join(str(stats[rm + end]["n"]) if rm + end in stats else "–" for _, end, _, _ in present)]
             for rm in ordered]
    d.table(["runtime/mechanism"] + [label.split(" (")[0] for label, *_ in present] + ["processes (each column)"],
            table, ci="below")


def section_threads(d, run):
    d.heading("Two threads")
    pairs = []
    for b in run.benches.values():
        if b.threads > 1 and b.samples:
            base = run.benches.get(re.sub(r"/threads:\d+", "", b.name))
            if base and base.samples:
                pairs.append((base, b))
    if not pairs:
        d.callout("note", "no `/threads:N` benchmarks with their one-thread counterpart in this folder.", "")
        return
    pairs.sort(key=lambda p: compare.bench_order(p[0].name))
    points, table = {}, []
    for one, many in pairs:
        r = compare.compare_samples(one.forks, many.forks, ALPHA)
        speed = 1.0 / r["ratio"]
        lo, hi = r["ci"]
        ci = (1.0 / hi, 1.0 / lo) if not doc.missing(lo) and lo > 0 else (math.nan, math.nan)
        points[one.name] = (speed, *ci)
        table.append([f"`{one.name}`", doc.num(run.raw[one.name]["median"]), many.threads,
                      doc.num(run.raw[many.name]["median"]), f"{doc.num(speed)}× {doc.interval(*ci)}".strip(),
                      doc.percent(speed / many.threads)])
    rows = [one.name for one, _ in pairs]
    fig, (ax,) = plots.figure(rows=len(rows))
    plots.dot_rows(ax, rows, [{"label": "speed-up", "points": points,
                               "colours": {one.name: run.colours.get(f"{one.runtime}/{one.mechanism}")
                                           for one, _ in pairs}}], log=False)
    threads = max(m.threads for _, m in pairs)
    ax.axvline(1, color="#57606a", lw=0.8, ls=":")
    ax.axvline(threads, color="#1a7f37", lw=0.8, ls="--")
    ax.set_xlim(0, max([threads + 0.5] + [v[0] * 1.1 for v in points.values()]))
    ax.set_xlabel(f"operations per second with {threads} threads ÷ with 1 (dotted: no gain; dashed: ideal)")
    ax.set_title("Thread scaling")
    svg = plots.save(fig, run.folder, "threads")
    d.figure(svg, "threads.svg", "Throughput with two threads as a multiple of one thread: the one-thread time per "
                                 "operation ÷ the wall time per operation with both threads running (whiskers: 95 % "
                                 "bootstrap CI). Raw times.")
    d.table(["benchmark", "1 thread (ns/op)", "threads", "wall ns/op", "speed-up [95 % CI]", "efficiency"], table)


def section_accuracy(d, run):
    if run.validate is None:
        return
    d.heading("Accuracy")
    v = run.validate
    checks = v.get("checks", [])
    verdict = v.get("verdict", "unknown")
    d.para(f"`./scripts/bench --validate` checked that the suite measures what it claims: verdict **{verdict}** "
           f"({sum(1 for c in checks if c.get('pass'))} of {len(checks)} checks passed).")
    if verdict != "pass":
        d.callout("warning", "the accuracy checks did not all pass: the suite may not resolve differences as "
                             "small as the ones reported here.", "see the failed checks below, then re-run on a "
                                                                 "quieter machine.")
    d.table(["check", "expected", "measured", "result", "detail"],
            [[c.get("name", "?"), c.get("expected", ""), c.get("measured", ""),
              "pass" if c.get("pass") else "**FAIL**", c.get("detail", "")] for c in checks], align="lllll")


def section_all(d, run):
    d.heading("Every benchmark")
    names = sorted(run.raw, key=compare.bench_order)
    if not names:
        d.callout("note", "no benchmark has a result in this folder.", "")
        return
    rows = []
    for n in names:
        raw, net = run.raw[n], run.net[n]
        between = raw["cv_between"] if run.benches[n].labelled else raw["cv"]
        flag = " ⚠" if between > CV_LIMIT else ""
        rows.append([f"`{n}`", f"{raw['forks']}×{raw['n'] // max(raw['forks'], 1)}", doc.num(raw["median"]),
                     doc.interval(raw["lo"], raw["hi"]), doc.percent(between) + flag, doc.percent(raw["cv_within"]),
                     doc.num(net["median"]), doc.interval(net["lo"], net["hi"])])
    failed = [b for b in run.benches.values() if b.error and not b.samples]
    rows += [[f"`{b.name}`", 0, "failed", b.error, "", "", "", ""] for b in failed]
    d.begin_details(f"The table: {len(rows)} benchmarks")
    d.table(["benchmark", "forks × reps", "median (ns/op)", "95 % CI", "CV between forks", "CV within",
             "net (ns/op)", "net 95 % CI"], rows)
    d.end_details()
    d.para("forks × reps: processes, and timed repetitions in each (per-process figures: one each). ⚠: the "
           "spread between processes above 5 %. Net: the runtime's control loop per iteration taken off, spread "
           "over the operations of an iteration; per-process figures have no loop and are not changed. A CI of – "
           "means too few processes for one (fewer than 3).")


def section_method(d, run):
    d.heading("How the figures are made")
    d.bullets([
        "Each repetition gives one time per operation: google-benchmark's `real_time` per iteration, in ns, "
        "divided by the `ops` counter (scan: records per iteration; batch: keys).",
        "Every benchmark runs in several fresh processes (forks), never after another benchmark in the same "
        "process, the forks of all benchmarks interleaved; the process is the unit of replication. The figure is "
        "the median of the forks' medians; its 95 % confidence interval a hierarchical bootstrap (forks resampled "
        "with replacement, then repetitions within each; 2 000 resamples, percentile interval; needs at least "
        "3 forks); with one value per fork (first calls, whole processes) the values are independent and the "
        "interval lies between two order statistics chosen from the binomial(n, ½) distribution (needs at least "
        "6). CV between forks: standard deviation ÷ mean of the fork medians; CV within: the median "
        "fork's own. Folders from before the driver, without fork labels, count each repetition as a fork.",
        "Net: the figure of `<runtime>/control/loop` (the same loop with no call) per iteration taken off each "
        "repetition, divided by `ops`. The control's own uncertainty is not carried into the net CI.",
        f"The boundary's share of the work, for a mechanism m on workload w: engine(w) = t(`{REF}`, w) − "
        f"t(`{REF}`, noop) ÷ ops(w) is the engine's own work per operation (the direct call's time less its "
        "one call per iteration); boundary = t(m, w) − engine(w); share = boundary ÷ t(m, w); t is the net "
        f"median. Then share = 1 − (1 − k) ÷ r with r = t(m, w) ÷ t(`{REF}`, w) and k = t(`{REF}`, noop) ÷ "
        f"(ops(w) · t(`{REF}`, w)); for `{REF}` itself the share is k, its own call's cost ÷ its time.",
        f"Value size (batch size) from which the boundary costs under {SHARE_TEXT}: the smallest N of "
        f"`get/bytes:N` (`batch/n:N`) at which the upper end of the share's 95 % CI is under {SHARE_TEXT}, and "
        "stays under at every larger N measured; 'not shown' when the largest N does not get there. The CI of "
        f"the share comes from a bootstrap of r = t(m, w) ÷ t(`{REF}`, w) (share = 1 − (1 − k) ÷ r, k = "
        f"t(`{REF}`, noop) ÷ (ops(w) · t(`{REF}`, w)) taken as exact); for `{REF}` itself from a bootstrap of k. "
        "Only mechanisms with a `noop` have a share: `c/lmdb` reads LMDB without the engine, so it has no "
        "crossing of its own and is drawn only for the engine's cost.",
        "Thread scaling: raw one-thread time per operation ÷ raw wall time per operation with N threads "
        "(google-benchmark divides wall time by every thread's iterations); CI: a bootstrap of the ratio of "
        "medians (compare.py). Ideal is N.",
        "Cheapest way to call the engine: the mechanism with the lowest net `noop`; 'not significantly different': "
        f"Mann–Whitney p ≥ {ALPHA:g} over the fork medians or a hierarchical-bootstrap CI of the ratio that "
        "includes 1 (compare.py).",
    ])


SECTIONS = (section_answer, section_conditions, section_warnings, section_origin, section_ladder, section_overhead,
            section_payload, section_batching, section_process, section_threads, section_instructions,
            section_accuracy, section_all, section_method)


def subtitle(run):
    p = run.prov
    bits = [get(p, "timestamp_utc", default=""), get(p, "host", default=""),
            get(p, "source", "describe", default=""), ", ".join(run.runtimes)]
    return " · ".join(b for b in bits if b)


def build(folder, screenshot=True):
    """Writes report.md, report.html and the charts into folder, and report.png (the page as Chromium
    shows it at 1400 px) when Chromium is installed. Returns the number of sections that could not be
    drawn (0 when all went well)."""
    run = Run(folder)
    d = doc.Doc(f"ffibench report — {os.path.basename(os.path.abspath(folder))}", subtitle(run))
    d.toc()
    broken = 0
    for section in SECTIONS:
        mark = len(d.blocks)
        try:
            section(d, run)
        except Exception as e:  # noqa: BLE001 — one broken section must not cost the whole report
            del d.blocks[mark:]
            broken += 1
            print(f"report: {section.__name__} failed:", file=sys.stderr)
            traceback.print_exc()
            d.callout("warning", f"a section of this report could not be drawn ({section.__name__}: "
                                 f"{type(e).__name__}: {e}).", "report it, with this results folder.")
    with open(os.path.join(folder, "report.md"), "w", encoding="utf-8") as f:
        f.write(d.markdown())
    page = os.path.join(folder, "report.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(d.html())
    if screenshot:
        why_not = browser.screenshot(page, os.path.join(folder, "report.png"))
        if why_not:
            print(f"report: no report.png: {why_not}", file=sys.stderr)
    return broken


def main(argv):
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    folder = argv[0]
    if not os.path.isdir(folder):
        print(f"report: not a folder: {folder}", file=sys.stderr)
        return 2
    try:
        broken = build(folder)
    except (OSError, ValueError) as e:  # a timing file that is not google-benchmark JSON
        print(f"report: cannot read {folder}: {e}", file=sys.stderr)
        return 2
    print(f"report: {os.path.join(folder, 'report.html')}, report.md, report.png, answer.png, cost-ladder.png")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
