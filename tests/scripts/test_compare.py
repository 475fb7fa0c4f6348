#!/usr/bin/python3
"""Tests for scripts/compare (scripts/lib/compare.py): the statistics on series whose answers are
known, the comparison of two stored results folders (inputs/compare/old, new: a +10 % sub-nanosecond
shift, a -20 % one, identical series, zero-variance series, us/ms units, a benchmark on one side
only, a failure), the exit status that gates a CI, and --baseline."""
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import compare  # noqa: E402
import results  # noqa: E402

INPUTS = os.path.join(HERE, "inputs")
OLD, NEW = os.path.join(INPUTS, "compare", "old"), os.path.join(INPUTS, "compare", "new")
RUN = os.path.join(INPUTS, "report-run")


def jitter(base, n=9):
    return [base * (1 + 0.001 * (i - n // 2)) for i in range(n)]


S = results.singletons  # independent values: each its own fork


def forks(medians, reps=5, spread=0.001):
    """Forks with the given medians and tight repetitions around each."""
    return [[m * (1 + spread * (i - reps // 2)) for i in range(reps)] for m in medians]


class CompareSamples(unittest.TestCase):
    def test_shifted_sub_nanosecond_series_is_significant(self):
        r = compare.compare_samples(S(jitter(0.25)), S(jitter(0.275)))
        self.assertAlmostEqual(r["ratio"], 1.1)
        self.assertTrue(r["significant"])
        self.assertLess(r["p"], 0.001)
        self.assertLess(r["ci"][0], 1.1)
        self.assertGreater(r["ci"][1], 1.1)
        self.assertGreater(r["ci"][0], 1.0)

    def test_identical_series_is_not_significant(self):
        x = S(jitter(1.5))
        r = compare.compare_samples(x, list(x))
        self.assertEqual(r["ratio"], 1.0)
        self.assertFalse(r["significant"])
        self.assertEqual(r["p"], 1.0)
        self.assertLessEqual(r["ci"][0], 1.0)
        self.assertGreaterEqual(r["ci"][1], 1.0)

    def test_zero_variance_identical(self):
        r = compare.compare_samples(S([2.0] * 5), S([2.0] * 5))
        self.assertEqual((r["ratio"], r["ci"], r["p"], r["significant"]), (1.0, (1.0, 1.0), 1.0, False))

    def test_zero_variance_shifted_uses_the_exact_test_with_ties(self):
        r = compare.compare_samples(S([2.0] * 9), S([2.2] * 9))
        self.assertAlmostEqual(r["p"], 2 / math.comb(18, 9))  # the two extreme splits of 48 620
        self.assertAlmostEqual(r["ci"][0], 1.1)
        self.assertAlmostEqual(r["ci"][1], 1.1)
        self.assertTrue(r["significant"])

    def test_three_against_three_with_ties_is_never_significant(self):
        # The normal approximation would say p = 0.0495; the exact test knows better: 2 of 20 splits.
        r = compare.compare_samples(S([1.0, 1.0, 1.0]), S([2.0, 2.0, 2.0]))
        self.assertAlmostEqual(r["p"], 0.1)
        self.assertFalse(r["significant"])
        self.assertAlmostEqual(compare.min_p(3, 3), 0.1)

    def test_exact_p_with_ties_matches_a_permutation_test(self):
        x, y = [1.0, 2.0, 2.0, 3.0, 3.0], [2.0, 3.0, 3.0, 4.0, 4.0, 5.0]

        def u(a, b, axis):
            ranks = stats.rankdata(np.concatenate([a, b], axis=axis), axis=axis)
            return np.take(ranks, range(a.shape[axis]), axis=axis).sum(axis=axis) - a.shape[axis] * (a.shape[axis] + 1) / 2
        want = stats.permutation_test((x, y), u, vectorized=True, n_resamples=np.inf,
                                      alternative="two-sided").pvalue
        self.assertAlmostEqual(compare.mann_whitney_p(x, y), want)

    def test_without_ties_it_is_scipys_test(self):
        x, y = [1.1, 2.3, 3.2, 4.8], [2.9, 5.1, 6.7, 7.0, 8.2]
        self.assertAlmostEqual(compare.mann_whitney_p(x, y),
                               stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)

    def test_large_tied_samples_use_the_normal_approximation(self):
        x = [1.0, 2.0] * 15
        y = [2.0, 3.0] * 15
        self.assertGreater(math.comb(60, 30), compare.EXACT_LIMIT)
        self.assertAlmostEqual(compare.mann_whitney_p(x, y), stats.mannwhitneyu(x, y).pvalue)

    def test_seeded_so_runs_repeat(self):
        a, b = S(jitter(1.0)), S(jitter(1.02))
        self.assertEqual(compare.compare_samples(a, b)["ci"], compare.compare_samples(a, b)["ci"])

    def test_ci_level_follows_alpha(self):
        a, b = S([1.0, 1.3, 0.9, 1.1, 1.2, 0.8, 1.05]), S([1.1, 1.25, 0.95, 1.2, 1.3, 0.9, 1.0])
        wide = compare.compare_samples(a, b, alpha=0.01)["ci"]
        narrow = compare.compare_samples(a, b, alpha=0.2)["ci"]
        self.assertLess(wide[0], narrow[0])
        self.assertGreater(wide[1], narrow[1])

    def test_one_repetition_gives_no_verdict(self):
        r = compare.compare_samples(S([1.0]), S([2.0]))
        self.assertEqual(r["ratio"], 2.0)
        self.assertTrue(math.isnan(r["p"]) and math.isnan(r["ci"][0]))
        self.assertFalse(r["significant"])


class TwoLevels(unittest.TestCase):
    """The process is the unit of replication: repetitions inside one process cannot make a
    difference significant, and a shift smaller than the spread between processes is not one."""

    def test_one_process_a_side_gives_no_verdict_however_many_repetitions(self):
        r = compare.compare_samples([jitter(1.0, 50)], [jitter(1.05, 50)])
        self.assertAlmostEqual(r["ratio"], 1.05)
        self.assertFalse(r["significant"])
        self.assertTrue(math.isnan(r["p"]))
        # The same values taken as independent repetitions: a flat test would call it certain.
        self.assertTrue(compare.compare_samples(S(jitter(1.0, 50)), S(jitter(1.05, 50)))["significant"])

    def test_a_shift_smaller_than_the_spread_between_processes_is_not_significant(self):
        old = forks([1.0, 1.1, 0.9, 1.05, 0.95])
        new = forks([m + 0.02 for m in (1.0, 1.1, 0.9, 1.05, 0.95)])
        r = compare.compare_samples(old, new)
        self.assertFalse(r["significant"])
        self.assertLess(r["ci"][0], 1.0)
        self.assertGreater(r["ci"][1], 1.0)
        self.assertGreater(r["p"], 0.5)

    def test_five_processes_a_side_can_show_a_clear_change(self):
        r = compare.compare_samples(forks([1.0, 1.01, 0.99, 1.02, 0.98]), forks([1.2, 1.21, 1.19, 1.22, 1.18]))
        self.assertTrue(r["significant"])
        self.assertAlmostEqual(r["p"], 2 / math.comb(10, 5))
        self.assertAlmostEqual(r["ratio"], 1.2)
        self.assertAlmostEqual(compare.min_p(5, 5), 2 / 252)
        self.assertGreaterEqual(compare.min_p(2, 2), 0.05)  # two forks a side never can


class CompareRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.old, cls.old_files = results.load_timing(OLD)
        cls.new, cls.new_files = results.load_timing(NEW)
        rows, cls.only_old, cls.only_new, cls.failed = compare.compare_runs(cls.old, cls.new, 0.05)
        cls.rows = {r["name"]: r for r in rows}

    def test_matched_by_name_and_the_rest_listed(self):
        self.assertEqual(self.only_old, ["c/marshal/noop"])
        self.assertEqual(self.only_new, ["c/marshal/add/mode:latency"])
        self.assertEqual(self.failed, ["c/direct/put/commit_every:100"])
        self.assertNotIn("c/direct/put/commit_every:100", self.rows)

    def test_verdicts(self):
        sig = {n: r["ratio"] > 1 for n, r in self.rows.items() if r["significant"]}
        self.assertEqual(sig, {"c/direct/noop": True, "c/dlopen/noop": True, "c/direct/add/mode:latency": False})

    def test_units_us_and_ms_compare_as_ns(self):
        for name, ns in (("c/direct/get/bytes:64", 65 / 1024 * 1000), ("c/direct/get/bytes:4096", 2 ** -13 * 1e6)):
            r = self.rows[name]
            self.assertAlmostEqual(r["old"], ns)
            self.assertEqual(r["ratio"], 1.0)
            self.assertEqual(r["p"], 1.0)

    def test_provenance_differences(self):
        diffs = {k: (a, b) for k, a, b in compare.provenance_differences(OLD, self.old_files, NEW, self.new_files)}
        self.assertEqual(diffs["machine.cpu_model"], ("CPU A", "CPU B"))
        self.assertEqual(diffs["gbench.json:mhz_per_cpu"], (3000, 2400))
        self.assertNotIn("timestamp_utc", diffs)
        self.assertEqual(len(diffs), 2)


def run_compare(*args):
    """compare's exit status and output, run in this process (fast)."""
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        try:
            code = compare.main(list(args))
        except SystemExit as e:  # argparse's usage errors
            code = e.code
    return code, out.getvalue()


def run_wrapper(*args):
    """The same through ./scripts/compare, as a CI would run it."""
    p = subprocess.run([os.path.join(ROOT, "scripts", "compare"), *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_without_threshold_exit_0_and_files_written(self):
        code, out = run_compare(OLD, NEW, "--out", self.tmp)
        self.assertEqual(code, 0, out)
        for f in ("compare.md", "compare.svg", "compare.png"):
            self.assertTrue(os.path.getsize(os.path.join(self.tmp, f)) > 0, f)
        ET.parse(os.path.join(self.tmp, "compare.svg"))
        with open(os.path.join(self.tmp, "compare.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(os.path.join(self.tmp, "compare.md")) as f:
            md = f.read()
        self.assertIn("CPU A", md)
        self.assertIn("only in NEW: `c/marshal/add/mode:latency`", md)

    def test_table_readable_below_a_nanosecond(self):
        _, out = run_compare(OLD, NEW, "--out", self.tmp)
        line = next(x for x in out.splitlines() if x.startswith("c/direct/noop "))
        self.assertEqual(line.split()[1:4], ["0.250", "0.275", "+10.0"])
        self.assertTrue(line.rstrip().endswith("slower"))

    def test_threshold_gates(self):
        cases = [(("--threshold", "5"), 1), (("--threshold", "15"), 1),  # the -20 % change trips 15
                 (("--threshold", "15", "--regressions-only"), 0),          # ... unless only slowdowns count
                 (("--threshold", "5", "--regressions-only"), 1), (("--threshold", "25"), 0)]
        for args, want in cases:
            code, out = run_compare(OLD, NEW, "--out", self.tmp, *args)
            self.assertEqual(code, want, f"{args}: {out}")

    def test_the_wrapper_exits_1_on_a_regression_and_2_on_bad_usage(self):
        code, out = run_wrapper(OLD, NEW, "--out", self.tmp, "--threshold", "5")
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL: 3 significant change(s) beyond 5 %", out)
        self.assertEqual(run_wrapper(OLD)[0], 2)

    def test_a_run_against_itself_passes_any_threshold(self):
        code, out = run_compare(OLD, OLD, "--out", self.tmp, "--threshold", "0")
        self.assertEqual(code, 0, out)
        self.assertIn("0 significantly slower, 0 significantly faster", out)

    def test_too_few_forks_said(self):
        three = os.path.join(INPUTS, "run")  # 3 unlabelled repetitions each: 3 forks of one
        code, out = run_compare(three, three, "--out", self.tmp)
        self.assertEqual(code, 0, out)
        self.assertIn("too few forks (processes) for Mann–Whitney to reach p < 0.05 (e.g. 3 against 3", out)
        self.assertNotIn("too few forks", run_compare(OLD, NEW, "--out", self.tmp)[1])

    def test_bad_usage_and_nothing_in_common_exit_2(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        for args in ((OLD,), (OLD, NEW, "--alpha", "2"), (OLD, os.path.join(self.tmp, "missing")),
                     (OLD, empty), ("--baseline", "c/nothing", RUN)):
            code, out = run_compare(*args)
            self.assertEqual(code, 2, f"{args}: {out}")

    def test_baseline_mode(self):
        code, out = run_compare("--baseline", "c/direct", RUN, "--out", self.tmp)
        self.assertEqual(code, 0, out)
        noop = next(x for x in out.splitlines() if x.startswith("noop "))
        self.assertIn("3.00×", noop)   # handle 3 ns / direct 1 ns, net
        self.assertIn("50.0×", noop)   # python/ctypes 50 ns (its own control taken off) / 1 ns
        for f in ("baseline-c-direct.md", "baseline-c-direct.svg", "baseline-c-direct.png"):
            self.assertTrue(os.path.exists(os.path.join(self.tmp, f)), f)
        ratios = compare.baseline_ratios(results.load_benches(RUN), "c/direct", 0.05)
        self.assertAlmostEqual(ratios[("get/bytes:8", "c/handle")]["ratio"], 1.2)
        self.assertTrue(ratios[("get/bytes:8", "c/handle")]["significant"])
        self.assertFalse(ratios[("get/mode:throughput", "c/handle")]["significant"])  # 410 +-20 % vs 400


CPU_OLD, CPU_NEW = os.path.join(INPUTS, "compare-cpu", "old"), os.path.join(INPUTS, "compare-cpu", "new")


class MachineReadable(unittest.TestCase):
    """--json: the whole diff as data; --metric: the same test on CPU time. inputs/compare-cpu: 5 forks
    of 3 repetitions a side; get/mode:latency 20 % more wall time at the same CPU time (it waited),
    noop the same wall time and 10 % more CPU time."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def diff(self, *args):
        path = os.path.join(self.tmp, "out", "diff.json")
        code, out = run_compare(*args, "--out", self.tmp, "--json", path)
        with open(path) as f:
            return code, out, json.load(f)

    def test_json_holds_the_table_and_the_rest(self):
        code, out, d = self.diff(OLD, NEW, "--threshold", "15")
        self.assertEqual(code, 1, out)
        self.assertEqual((d["metric"], d["alpha"], d["threshold"]), ("real_time", 0.05, 15.0))
        rows = {b["name"]: b for b in d["benchmarks"]}
        noop = rows["c/direct/noop"]
        self.assertAlmostEqual(noop["old"], 0.25)
        self.assertAlmostEqual(noop["new"], 0.275)
        self.assertAlmostEqual(noop["change"], 0.1)
        self.assertLess(noop["change_ci"][0], 0.1)
        self.assertGreater(noop["change_ci"][1], 0.1)
        self.assertEqual((noop["verdict"], noop["significant"], noop["beyond_threshold"]), ("slower", True, False))
        self.assertEqual(d["summary"]["beyond_threshold"], [n for n, b in rows.items() if b["beyond_threshold"]])
        self.assertEqual(d["summary"]["compared"], len(rows))
        self.assertEqual(d["only_old"], ["c/marshal/noop"])
        self.assertEqual(d["only_new"], ["c/marshal/add/mode:latency"])
        self.assertEqual(d["failed"], ["c/direct/put/commit_every:100"])
        self.assertIn({"field": "machine.cpu_model", "old": "CPU A", "new": "CPU B"}, d["provenance_differences"])
        # the printed table and the file agree
        line = next(x for x in out.splitlines() if x.startswith("c/direct/noop "))
        self.assertIn(f"{100 * noop['change']:+.1f} %", line)

    def test_json_has_null_where_there_is_no_number(self):
        three = os.path.join(INPUTS, "run")
        _, _, d = self.diff(three, three)
        self.assertTrue(all(b["p"] is None or isinstance(b["p"], float) for b in d["benchmarks"]))
        self.assertTrue(d["warnings"][0].startswith("3 benchmark(s) have too few forks"))

    def test_cpu_time_is_tested_the_same_way(self):
        _, _, real = self.diff(CPU_OLD, CPU_NEW)
        rows = {b["name"]: b for b in real["benchmarks"]}
        self.assertEqual(rows["c/direct/get/mode:latency"]["verdict"], "slower")
        self.assertAlmostEqual(rows["c/direct/get/mode:latency"]["change"], 0.2)
        self.assertEqual(rows["c/direct/noop"]["verdict"], "")
        code, out, cpu = self.diff(CPU_OLD, CPU_NEW, "--metric", "cpu_time", "--threshold", "5")
        self.assertEqual(code, 1, out)
        rows = {b["name"]: b for b in cpu["benchmarks"]}
        self.assertEqual(cpu["metric"], "cpu_time")
        self.assertEqual(rows["c/direct/get/mode:latency"]["verdict"], "")
        self.assertAlmostEqual(rows["c/direct/noop"]["change"], 0.1)
        self.assertEqual(rows["c/direct/noop"]["verdict"], "slower")
        self.assertIn("cpu_time", out)
        with open(os.path.join(self.tmp, "compare.md")) as f:
            self.assertIn("google-benchmark's `cpu_time`", f.read())

    def test_a_missing_metric_fails_the_benchmark(self):
        entries = [{"name": "c/direct/noop", "run_type": "iteration", "real_time": t, "fork": i}
                   for i, t in enumerate((1.0, 1.1, 0.9))]
        folder = os.path.join(self.tmp, "nocpu")
        os.mkdir(folder)
        with open(os.path.join(folder, "c.json"), "w") as f:
            json.dump({"benchmarks": entries}, f)
        benches = results.load_benches(folder, "cpu_time")
        self.assertEqual((benches["c/direct/noop"].samples, benches["c/direct/noop"].error), ([], "no cpu_time recorded"))
        self.assertEqual(run_compare(folder, folder, "--metric", "cpu_time", "--out", self.tmp)[0], 2)
        self.assertEqual(run_compare(OLD, NEW, "--metric", "user_time")[0], 2)

    def test_baseline_json(self):
        path = os.path.join(self.tmp, "b.json")
        code, out = run_compare("--baseline", "c/direct", RUN, "--out", self.tmp, "--json", path)
        self.assertEqual(code, 0, out)
        with open(path) as f:
            d = json.load(f)
        self.assertEqual((d["baseline"], d["metric"]), ("c/direct", "real_time"))
        cell = next(r for r in d["ratios"] if r["workload"] == "noop" and r["mechanism"] == "c/handle")
        self.assertAlmostEqual(cell["ratio"], 3.0)
        self.assertTrue(cell["significant"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
