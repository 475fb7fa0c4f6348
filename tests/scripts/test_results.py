#!/usr/bin/python3
"""Tests for the results-reading code (scripts/lib/results.py, summary.py) against stored inputs,
in the manner of google-benchmark's tools/gbench/Inputs: the maths and the units are checked on
files whose right answers are known by hand."""
import io
import json
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


class Interrupted(unittest.TestCase):
    def test_cut_file_keeps_complete_entries(self):
        data = results.load_json_tolerant(os.path.join(INPUTS, "interrupted-gbench.json"))
        self.assertTrue(data["truncated"])
        self.assertEqual([b["name"] for b in data["benchmarks"]],
                         ["c/direct/noop", "c/direct/noop/threads:2", "c/direct/add/mode:latency"])


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
