#!/usr/bin/python3
"""Tests for ./scripts/report --history (scripts/lib/history.py) on a stored tree of runs,
inputs/history: five runs with known answers (5 processes × 2 repetitions of each benchmark, within
±0.4 %). Machine A made #1, #2, #3 and #5; machine B (another CPU) made #4, in a subfolder. #3 makes
c/handle/noop 20 % slower, #5 brings it back; B measures everything twice as slow, which must not
count, since B is not comparable with A."""
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import compare  # noqa: E402
import history  # noqa: E402

TREE = os.path.join(HERE, "inputs", "history")


class History(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            cls.found = history.build(TREE, cls.out, 0.05, None, screenshot=False)
        with open(os.path.join(cls.out, "history.md"), encoding="utf-8") as f:
            cls.md = f.read()
        with open(os.path.join(cls.out, "history.html"), encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out)

    def test_every_run_found_in_time_order(self):
        self.assertEqual([r.name for r in self.found["runs"]], ["r1", "r2", "r3", "other-machine/r4", "r5"])
        self.assertEqual([r.commit for r in self.found["runs"]], ["aaa1111", "bbb2222", "ccc3333", "ccc3333",
                                                                  "ddd4444"])
        self.assertIn("| #4B | `other-machine/r4` | 2026-11-04T10:00:00Z | B | `ccc3333` | c | 2 |", self.md)

    def test_machine_groups(self):
        groups = {g: [r.number for r in runs] for g, (_, runs) in self.found["groups"].items()}
        self.assertEqual(groups, {"A": [1, 2, 3, 5], "B": [4]})
        self.assertIn("- **B** — CPU CPU B; host box; kernel 6.1.0; build type Release; C flags -O3 -DNDEBUG: #4 "
                      "(a run of its own: nothing to compare it with)", self.md)
        self.assertIn("| #3A | same machine | same machine |  | differs: CPU | same machine |", self.md)

    def test_change_points_use_compares_test_between_consecutive_comparable_runs(self):
        flagged = [(n, a.number, b.number) for n, a, b, _ in self.found["flagged"]]
        self.assertEqual(flagged, [("c/handle/noop", 2, 3), ("c/handle/noop", 3, 5)])  # #4 (B) skipped
        # 3 benchmarks in #1-#3 and #5 (A): 3 pairs each of c/direct, c/handle and python/ctypes
        self.assertEqual(len(self.found["pairs"]), 9)
        _, a, b, res = self.found["flagged"][0]
        same = compare.compare_samples(a.benches["c/handle/noop"].forks, b.benches["c/handle/noop"].forks)
        self.assertEqual(res, same)
        self.assertAlmostEqual(res["ratio"], 1.2, places=2)
        self.assertIn("| `c/handle/noop` | A | #2 `bbb2222` | #3 `ccc3333` | 3.00 | 3.60 | +19.9 % |", self.md)
        self.assertIn("2 of 9 comparisons between consecutive runs of a machine group changed significantly", self.md)

    def test_threshold(self):
        out = tempfile.mkdtemp()
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                found = history.build(TREE, out, 0.05, 18.0, screenshot=False)
            self.assertEqual([(a.number, b.number) for _, a, b, _ in found["flagged"]], [(2, 3)])  # -16.7 % is not
        finally:
            shutil.rmtree(out)

    def test_trends_and_table(self):
        self.assertEqual(self.found["charts"], ["history-noop.svg", "history-changed.svg"])
        svg = open(os.path.join(self.out, "history-noop.svg"), encoding="utf-8").read()
        for label in ("#1A", "#4B", "#5A", ">c<", ">python<"):
            self.assertIn(label, svg)
        row = next(x for x in self.md.splitlines() if x.startswith("| `c/handle/noop` |") and "▲" in x)
        cells = [c.strip() for c in row.strip("|").split("|")]
        self.assertTrue(cells[3].startswith("▲3.60"), cells)  # #3: slower than #2
        self.assertTrue(cells[4].startswith("6.00"), cells)   # #4: another machine, no mark
        self.assertTrue(cells[5].startswith("▼3.00"), cells)  # #5: faster than #3, the last run of A
        python = next(x for x in self.md.splitlines() if x.startswith("| `python/ctypes/noop` |"))
        self.assertEqual([c.strip() for c in python.strip("|").split("|")][4], "")  # not run on B

    def test_page_self_contained_with_contents(self):
        self.assertNotIn("<script", self.html)
        self.assertNotRegex(self.html, r"(?i)(src|href)=\"(https?:)?//")
        for anchor in re.findall(r'<nav class="toc">.*?</nav>', self.html, re.S)[0].split('href="#')[1:]:
            self.assertIn(f'<h2 id="{anchor.split(chr(34))[0]}">', self.html)
        self.assertIn('<h2 id="which-runs-are-comparable">', self.html)

    def test_one_run_has_nothing_to_compare(self):
        out = tempfile.mkdtemp()
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                found = history.build(os.path.join(TREE, "r1"), out, 0.05, None, screenshot=False)
            self.assertEqual(len(found["runs"]), 1)
            with open(os.path.join(out, "history.md"), encoding="utf-8") as f:
                self.assertIn("no machine group has two runs of the same benchmark", f.read())
        finally:
            shutil.rmtree(out)


class Wrapper(unittest.TestCase):
    def test_report_history(self):
        out = tempfile.mkdtemp()
        script = os.path.join(ROOT, "scripts", "report")
        try:
            p = subprocess.run([script, "--history", TREE, "--out", out], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("5 runs on 2 machine(s), 2 change point(s) in 9 comparisons", p.stdout)
            for f in ("history.md", "history.html", "history.png"):
                self.assertTrue(os.path.exists(os.path.join(out, f)), f)
            empty = os.path.join(out, "empty")
            os.mkdir(empty)
            self.assertEqual(subprocess.run([script, "--history", empty], capture_output=True).returncode, 2)
            self.assertEqual(subprocess.run([script, "--history"], capture_output=True).returncode, 2)
        finally:
            shutil.rmtree(out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
