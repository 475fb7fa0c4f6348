#!/usr/bin/python3
"""Tests for the noise warnings (scripts/lib/noise.py): the modified z-score and hyperfine's two rules
on series whose answers are known (hyperfine's own test cases among them), then at both levels of a
benchmark — processes (forks) and the repetitions inside them — and the warnings' texts."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "lib"))
import noise  # noqa: E402
import results  # noqa: E402


def bench(name, forks, labelled=True):
    b = results.Bench(name)
    for i, f in enumerate(forks):
        for x in f:
            b.add(i if labelled else ("unlabelled", len(b.samples)), x)
    b.labelled = labelled
    return b


def steady(m, reps=5):
    return [m * (1 + 0.002 * (i - reps // 2)) for i in range(reps)]


class Series(unittest.TestCase):
    def outliers(self, xs):
        return sum(1 for z in noise.modified_z(xs) if abs(z) > noise.THRESHOLD)

    def test_hyperfines_cases(self):
        self.assertIsNone(noise.check_series([50.0]))
        self.assertIsNone(noise.check_series([1000.0, 0.0]))  # too few to say
        self.assertIsNone(noise.check_series([-0.2, 0.0, 0.2]))  # low variance
        self.assertEqual(noise.check_series([-0.2, 0.0, 0.2, 4.0])[:2], ("outliers", 1))
        self.assertEqual(noise.check_series([0.5, 0.30, 0.29, 0.31, 0.30])[0], "slow first")
        normal = [2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273, -1.0712388,
                  -0.96394741, -1.15897446, 1.10976285]
        self.assertIsNone(noise.check_series(normal))
        self.assertEqual(self.outliers(normal + [20.0, -500.0]), 2)
        self.assertEqual(self.outliers([10.0] * 7 + [100.0]), 1)  # a MAD of 0
        self.assertEqual(self.outliers([10.0] * 7 + [100.0, 100.0]), 2)

    def test_the_mad_floor_ignores_wobble_in_a_flat_series(self):
        # MAD 0, a value 1 % off: hyperfine would call it an outlier; under 1.5 % off is not one here
        self.assertIsNone(noise.check_series([100.0] * 6 + [101.0]))
        self.assertEqual(noise.check_series([100.0] * 6 + [102.0])[:2], ("outliers", 1))

    def test_slow_first_reports_its_size(self):
        kind, count, change = noise.check_series([13.0, 10.0, 10.1, 9.9, 10.0])
        self.assertEqual((kind, count), ("slow first", 1))
        self.assertAlmostEqual(change, 0.3)


class TwoLevels(unittest.TestCase):
    def test_steady_benchmark_has_nothing(self):
        self.assertEqual(noise.bench_findings(bench("c/direct/noop", [steady(m) for m in (1.0, 1.01, 0.99, 1.0, 1.0)])),
                         {})

    def test_slow_first_process(self):
        b = bench("c/direct/noop", [steady(m) for m in (1.5, 1.0, 1.01, 0.99, 1.0)])
        f = noise.bench_findings(b)
        self.assertAlmostEqual(f["slow_first_fork"], 0.5, places=2)
        self.assertNotIn("outlier_forks", f)

    def test_outlier_process_not_the_first(self):
        f = noise.bench_findings(bench("c/direct/noop", [steady(m) for m in (1.0, 1.01, 2.0, 0.99, 1.0)]))
        self.assertEqual(f["outlier_forks"][0], 1)
        self.assertAlmostEqual(f["outlier_forks"][1], 1.0, places=2)

    def test_slow_first_repetition_in_some_processes(self):
        forks = [steady(1.0) for _ in range(5)]
        for f in forks[:3]:
            f[0] = 1.2
        self.assertEqual(noise.bench_findings(bench("c/direct/noop", forks))["slow_first_rep"][:2], (3, 5))

    def test_outlier_repetition(self):
        forks = [steady(1.0) for _ in range(5)]
        forks[4][3] = 3.0
        f = noise.bench_findings(bench("c/direct/noop", forks))
        self.assertEqual(f["outlier_reps"][:2], (1, 5))
        self.assertAlmostEqual(f["outlier_reps"][2], 2.0, places=2)

    def test_unlabelled_series_is_checked_as_hyperfine_checks_one_command(self):
        f = noise.bench_findings(bench("c/direct/noop", [[1.4], [1.0], [1.0], [1.01], [0.99]], labelled=False))
        self.assertEqual(f, {"slow_first_rep": (1, 1, f["slow_first_rep"][2])})

    def test_warnings_say_what_to_do(self):
        slow = bench("c/direct/noop", [steady(m) for m in (1.5, 1.0, 1.01, 0.99, 1.0)])
        odd = bench("c/plt/noop", [steady(m) for m in (1.0, 1.01, 2.0, 0.99, 1.0)])
        calm = bench("c/dlopen/noop", [steady(1.0) for _ in range(5)])
        hf = [{"command": "c/direct/process", "times": [0.002, 0.001, 0.001, 0.00101, 0.00099]}]
        found = noise.warnings([slow, odd, calm], hf)
        titles = [t for _, t, _, _ in found]
        self.assertEqual(titles, ["the first process was slower than the rest in 1 benchmark(s)",
                                  "a process ran unlike the others in 1 benchmark(s)",
                                  "whole processes: the first run was slow for 1 command(s)"])
        self.assertIn("In 1 of 3 benchmarks the first process", found[0][2])
        self.assertIn("`c/direct/noop` +50 %", found[0][2])
        self.assertIn("`c/plt/noop` +100 %", found[1][2])
        self.assertIn("`c/direct/process` +100 %", found[2][2])
        for kind, _, what, todo in found:
            self.assertEqual(kind, "warning")
            self.assertTrue(todo)


if __name__ == "__main__":
    unittest.main(verbosity=2)
