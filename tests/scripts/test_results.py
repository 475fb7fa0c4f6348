#!/usr/bin/python3
"""Tests for the results-reading code (scripts/lib/results.py, summary.py) against stored inputs,
in the manner of google-benchmark's tools/gbench/Inputs: the maths and the units are checked on
files whose right answers are known by hand."""
import io
import math
import os
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "lib"))
import results  # noqa: E402
import summary  # noqa: E402

INPUTS = os.path.join(HERE, "inputs")


class MedianCI(unittest.TestCase):
    def test_nine_samples_use_ranks_2_and_8(self):
        # binomial(9, 1/2): P(X(2) <= median <= X(8)) = 0.961 >= 0.95; X(3)..X(7) gives 0.820
        self.assertEqual(results.median_ci(list(range(1, 10))), (2, 8))

    def test_too_few_samples_have_no_interval(self):
        lo, hi = results.median_ci([1.0, 2.0, 3.0, 4.0, 5.0])
        self.assertTrue(math.isnan(lo) and math.isnan(hi))  # n=5: even (min, max) covers only 93.75 %

    def test_six_samples_use_min_and_max(self):
        self.assertEqual(results.median_ci([6, 1, 5, 2, 4, 3]), (1, 6))  # covers 96.9 %

    def test_cv(self):
        self.assertAlmostEqual(results.cv([1.5, 2.0, 2.5]), 0.25)
        self.assertTrue(math.isnan(results.cv([3.0])))


class LoadBenches(unittest.TestCase):
    def setUp(self):
        self.benches = results.load_benches(os.path.join(INPUTS, "run"))

    def test_repetitions_kept_aggregates_dropped(self):
        self.assertEqual(sorted(self.benches["c/direct/noop"].samples), [1.5, 2.0, 2.5])

    def test_units_and_ops(self):
        # 10.24 us per scan of 1024 records = 10 ns per record
        self.assertAlmostEqual(self.benches["c/direct/scan/dir:upcall"].samples[0], 10.0)

    def test_errors_recorded(self):
        self.assertEqual(self.benches["c/direct/put"].error, "run: wrong answer")
        self.assertEqual(self.benches["c/direct/put"].samples, [])

    def test_control_subtracted_per_op(self):
        control = results.control_ns(self.benches)
        self.assertAlmostEqual(control, 0.5)
        self.assertAlmostEqual(results.net(2.0, 1, control), 1.5)
        self.assertAlmostEqual(results.net(10.0, 1024, control), 10.0 - 0.5 / 1024)

    def test_name_parts(self):
        b = self.benches["c/direct/scan/dir:upcall"]
        self.assertEqual((b.runtime, b.mechanism, b.workload), ("c", "direct", "scan/dir:upcall"))
        self.assertEqual(b.param("dir"), "upcall")
        self.assertIsNone(b.param("bytes"))


class Folder(unittest.TestCase):
    """What results.py adds for the report and compare, on inputs/report-run."""

    def setUp(self):
        self.folder = os.path.join(INPUTS, "report-run")
        self.benches, self.files = results.load_timing(self.folder)

    def test_every_google_benchmark_file_and_nothing_else(self):
        self.assertEqual([os.path.basename(p) for p in results.gbench_files(self.folder)],
                         ["gbench.json", "first_call.json", "python.json"])  # not validate/icount/...
        self.assertEqual(self.benches["python/ctypes/noop"].file, "python.json")
        self.assertFalse(self.files["gbench.json"]["truncated"])
        self.assertEqual(self.files["python.json"]["context"]["runtime"], "python")

    def test_each_runtime_has_its_control(self):
        self.assertAlmostEqual(results.control_ns(self.benches), 0.25)
        self.assertAlmostEqual(results.control_ns(self.benches, "python"), 20.0)  # 0.02 us
        self.assertEqual(results.control_ns(self.benches, "java"), 0.0)

    def test_net_forks(self):
        net = results.net_forks(self.benches["python/ctypes/noop"], self.benches)
        self.assertAlmostEqual(results.center(net), 50.0)
        batch = results.net_forks(self.benches["c/direct/batch/n:16"], self.benches)
        self.assertAlmostEqual(results.center(batch), 280.0)  # (16 * 280 + 0.25) / 16 - 0.25 / 16
        first = self.benches["c/direct/first_call"]
        self.assertTrue(first.per_process)
        self.assertEqual(results.net_forks(first, self.benches), first.forks)  # no loop to subtract

    def test_threads(self):
        self.assertEqual(self.benches["c/direct/noop/threads:2"].threads, 2)
        self.assertEqual(self.benches["c/direct/noop"].threads, 1)

    def test_icount_net(self):
        icount = results.load_icount(self.folder)
        self.assertEqual(results.icount_net(icount, "c/direct/noop"), 5.0)
        self.assertAlmostEqual(results.icount_net(icount, "c/direct/batch/n:16"), 1750.0 - 3.0 / 16)
        self.assertIsNone(results.icount_net(icount, "c/plt/noop"))

    def test_describe_independent_values(self):
        d = results.describe(results.singletons([6, 1, 5, 2, 4, 3]))
        self.assertEqual((d["n"], d["forks"], d["median"], d["lo"], d["hi"]), (6, 6, 3.5, 1, 6))

    def test_hyperfine_and_validate(self):
        self.assertEqual([r["command"] for r in results.load_hyperfine(self.folder)],
                         ["c/direct/process", "c/dlopen/process"])
        self.assertEqual(results.load_validate(self.folder)["verdict"], "fail")
        self.assertEqual(results.load_hyperfine(os.path.join(INPUTS, "run")), [])
        self.assertIsNone(results.load_validate(os.path.join(INPUTS, "run")))


class Forks(unittest.TestCase):
    """The two-level model: repetitions within forks (processes), on inputs/forks (the driver's
    format) and on hand-made series."""

    def setUp(self):
        self.benches = results.load_benches(os.path.join(INPUTS, "forks"))

    def test_entries_grouped_by_fork(self):
        b = self.benches["c/direct/noop"]
        self.assertTrue(b.labelled)
        self.assertEqual(b.forks, [[1.0, 1.0, 1.1], [2.0, 2.0], [3.0, 3.1, 3.0]])
        self.assertEqual(len(b.samples), 8)

    def test_unlabelled_repetitions_are_forks_of_one(self):
        b = results.load_benches(os.path.join(INPUTS, "run"))["c/direct/noop"]
        self.assertFalse(b.labelled)
        self.assertEqual(sorted(b.forks), [[1.5], [2.0], [2.5]])

    def test_center_is_the_median_of_fork_medians(self):
        # pooled, the median of 1, 1, 1.1, 2, 2, 3, 3, 3.1 would be 2.0 by luck; here each process counts once
        self.assertEqual(results.center([[1.0, 1.0, 1.0, 1.0], [2.0], [3.0, 3.0]]), 2.0)
        self.assertEqual(results.center(self.benches["c/direct/noop"].forks), 2.0)

    def test_spread_between_and_within(self):
        d = results.describe([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
        self.assertAlmostEqual(d["cv_between"], 0.5)
        self.assertEqual(d["cv_within"], 0.0)
        self.assertEqual((d["n"], d["forks"]), (6, 3))

    def test_ci_spans_the_processes_not_the_repetitions(self):
        tight_reps = [[m * (1 + 0.0001 * i) for i in range(20)] for m in (1.0, 1.1, 0.9, 1.05, 0.95)]
        lo, hi = results.center_ci(tight_reps)
        self.assertLessEqual(lo, 0.96)  # the forks, not the 20 tight repetitions, set the width
        self.assertGreaterEqual(hi, 1.04)
        flat_lo, flat_hi = results.center_ci(results.singletons([x for f in tight_reps for x in f]))
        self.assertLess(flat_hi - flat_lo, hi - lo)

    def test_too_few_forks_have_no_ci(self):
        self.assertTrue(math.isnan(results.center_ci([[1.0, 1.1], [1.2, 1.3]])[0]))

    def test_bootstrap_is_seeded(self):
        f = [[1.0, 1.2], [0.9], [1.1, 1.3, 1.0]]
        self.assertEqual(list(results.bootstrap(f, 100)), list(results.bootstrap(f, 100)))


class Interrupted(unittest.TestCase):
    def test_cut_file_keeps_complete_entries(self):
        data = results.load_json_tolerant(os.path.join(INPUTS, "interrupted-gbench.json"))
        self.assertTrue(data["truncated"])
        self.assertEqual([b["name"] for b in data["benchmarks"]],
                         ["c/direct/noop", "c/direct/noop/threads:2", "c/direct/add/mode:latency"])

    def test_load_timing_says_so(self):
        tmp = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(INPUTS, "interrupted-gbench.json"), os.path.join(tmp, "gbench.json"))
            benches, files = results.load_timing(tmp)
            self.assertTrue(files["gbench.json"]["truncated"])
            self.assertEqual(len(benches), 3)
        finally:
            shutil.rmtree(tmp)


class Summary(unittest.TestCase):
    def test_table_net_figures(self):
        tmp = tempfile.mkdtemp()
        try:
            for f in ("gbench.json", "icount.json"):
                shutil.copy(os.path.join(INPUTS, "run", f), tmp)
            with redirect_stdout(io.StringIO()) as out:
                summary.main(tmp)
            text = out.getvalue()
            noop = next(line for line in text.splitlines() if line.startswith("noop"))
            self.assertIn("1.50", noop)  # median 2.0 ns - control 0.5 ns
            self.assertIn("5.00", text.split("instructions per operation")[1])  # 8 - 3
            self.assertIn("c/direct/put: run: wrong answer", text)
            with open(os.path.join(tmp, "summary.csv")) as f:
                self.assertEqual(len(f.read().splitlines()), 3)  # header, noop, scan
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
