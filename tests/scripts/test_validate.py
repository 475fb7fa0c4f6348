#!/usr/bin/python3
"""Tests for validate.py (scripts/lib/validate.py) on results folders whose right verdicts are known
by construction: every check passes on a folder built to pass it, and each fails on a folder with
the one defect it exists to catch."""
import json
import os
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from io import StringIO

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "lib"))
import validate  # noqa: E402

FORKS, REPS = 5, 5
# Spread within and between forks, the same for every benchmark: fork f, repetition r.
JITTER = [[0.01 * ((3 * f + 7 * r) % 11) for r in range(REPS)] for f in range(FORKS)]
GETS = ("get/mode:latency", "get/mode:throughput", "get/bytes:8", "get/bytes:4096", "get_miss")
OTHERS = ("noop", "add/mode:latency", "put/commit_every:100", "scan/dir:downcall", "batch/n:16")


def gbench(runtime, figures, shift=None):
    """A driver-written <runtime>.json: each benchmark's ns per iteration, FORKS x REPS samples;
    shift(name, fork) adds a per-fork offset."""
    rows = []
    for name, ns in figures.items():
        for f in range(FORKS):
            for r in range(REPS):
                t = ns * (1 + JITTER[f][r]) + (shift(name, f) if shift else 0.0)
                rows.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": FORKS * REPS,
                             "repetition_index": f * REPS + r, "threads": 1, "iterations": 1000,
                             "real_time": t, "cpu_time": t, "time_unit": "ns", "fork": f})
    return {"context": {"ffibench.runtime": runtime}, "benchmarks": rows}


def validation_rows(slowget=20.0, aa_offset=0.0):
    """The validation run's C rows: control, spin, delays, the A/A twin and the planted-cost row."""
    fig = {"c/control/loop": 0.5, "c/direct/spin/n:256": 100.5, "c/direct/spin/n:512": 200.5,
           "c/direct/spin/n:16": 6.5, "c/direct_delay256/noop": 101.5, "c/direct_delay0/noop": 2.5}
    base = {w: 40.0 if w in GETS else 5.0 for w in GETS + OTHERS}
    base["noop"] = 1.5
    for w, ns in base.items():
        fig[f"c/direct/{w}"] = ns
        fig[f"c/direct_aa/{w}"] = ns + aa_offset
        fig[f"c/direct_slowget/{w}"] = ns + (slowget if w in GETS else 0.0)
    # The twin's forks are the original's, interleaved in rank (as two sets of fresh processes of one
    # program would be): no difference to find.
    return gbench("c", fig, lambda name, f: 0.002 * f + (0.001 if "_aa/" in name else 0.0))


class Validate(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="ffibench-validate-")
        os.mkdir(os.path.join(self.folder, "validate"))

    def tearDown(self):
        shutil.rmtree(self.folder)

    def write(self, rel, doc):
        with open(os.path.join(self.folder, rel), "w", encoding="utf-8") as f:
            json.dump(doc, f)

    def run_validate(self, rows, checks=None, suite=None):
        self.write("validate/c.json", rows)
        self.write("c.json", gbench("c", suite or {"c/control/loop": 0.5, "c/direct/add/mode:latency": 1.0}))
        if checks is not None:
            self.write("crosscheck.json", {"about": "test", "checks": checks})
        with redirect_stdout(StringIO()):
            status = validate.main(self.folder)
        with open(os.path.join(self.folder, "validate.json"), encoding="utf-8") as f:
            doc = json.load(f)
        return status, doc["checks"]

    @staticmethod
    def find(checks, prefix):
        hits = [c for c in checks if c["name"].startswith(prefix)]
        assert len(hits) == 1, (prefix, [c["name"] for c in checks])
        return hits[0]

    def test_a_run_built_to_pass_passes_every_check(self):
        status, checks = self.run_validate(validation_rows())
        self.assertEqual(status, 0, [(c["name"], c["measured"]) for c in checks if not c["pass"]])
        self.assertEqual(len(checks), 5)

    def test_a_twin_that_differs_fails_the_aa_check(self):
        status, checks = self.run_validate(validation_rows(aa_offset=3.0))
        self.assertEqual(status, 1)
        self.assertFalse(self.find(checks, "A/A")["pass"])
        self.assertTrue(self.find(checks, "known answer: spin")["pass"])

    def test_a_planted_cost_too_small_to_see_fails_the_planted_check(self):
        _, checks = self.run_validate(validation_rows(slowget=0.0))
        check = self.find(checks, "planted cost")
        self.assertFalse(check["pass"])
        self.assertIn(f"0 of {len(GETS)} flagged", check["measured"])

    def test_missing_validation_rows_fail_rather_than_pass(self):
        rows = validation_rows()
        rows["benchmarks"] = [b for b in rows["benchmarks"] if "spin/n:512" not in b["name"]]
        _, checks = self.run_validate(rows)
        self.assertEqual(self.find(checks, "known answer: spin")["measured"], "not measured")

    def test_cross_checks_within_ten_percent_unless_explained(self):
        entry = {"runtime": "c", "benchmark": "c/direct/add/mode:latency", "command": ["loop"], "about": "a loop",
                 "explanation": "", "error": None}
        checks = [dict(entry, ns_per_call=[1.0, 1.02, 0.98, 1.05, 1.0]),          # suite ~1.02: pass
                  dict(entry, ns_per_call=[0.5, 0.5, 0.52, 0.49, 0.5]),           # 2x: fail
                  dict(entry, ns_per_call=[0.5, 0.5, 0.52, 0.49, 0.5], explanation="known"),  # 2x, explained
                  dict(entry, ns_per_call=[], error="exit status 1")]             # did not run: fail
        status, out = self.run_validate(validation_rows(), checks)
        self.assertEqual(status, 1)
        cross = [c for c in out if c["name"].startswith("cross-check")]
        self.assertEqual([c["pass"] for c in cross], [True, False, True, False])
        self.assertIn("explained: known", cross[2]["detail"])
        self.assertEqual(cross[3]["measured"], "not measured")


if __name__ == "__main__":
    unittest.main()
