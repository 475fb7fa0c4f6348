#!/usr/bin/python3
"""Tests for the driver (bench/driver) against a fake worker with known answers (fake/worker.py):
the method (calibration, warm-up until steady, a runtime's warm-up minimum, repetitions, forks),
the plan (one benchmark per process, forks interleaved), what goes wrong (a wrong answer, a crash, a
hang: reported, and the run goes on), a runtime that cannot run, Ctrl-C, and the files it writes.

Usage: test_driver.py BUILD_DIR   (a CMake build with bench/ffibench_dataset)
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "bench"), os.path.join(ROOT, "scripts", "lib")]
import results  # noqa: E402
from driver import method  # noqa: E402
from driver.protocol import Sample  # noqa: E402

BUILD = None


def driver(tmp, *args, runtimes_dir=None, env=None, wait=True):
    """Runs the driver over the runtimes in runtimes_dir (default: only the fake one)."""
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "driver"), "--build-dir", BUILD,
           "--runtimes-dir", runtimes_dir or fake_dir(tmp), "--out", os.path.join(tmp, "out"),
           "--no-process", "--forks", "3", "--repetitions", "2", "--min-time", "0.001", *args]
    e = dict(os.environ, FAKE_LOG=os.path.join(tmp, "log"), **(env or {}))
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=600)


def fake_dir(tmp, extra=()):
    """A runtimes folder holding the fake runtime (and the named extra folders of tests/driver)."""
    d = os.path.join(tmp, "runtimes")
    if not os.path.exists(d):
        os.makedirs(d)
        shutil.copytree(os.path.join(HERE, "fake"), os.path.join(d, "fake"))
    for x in extra:
        shutil.copytree(os.path.join(HERE, x), os.path.join(d, x), dirs_exist_ok=True)
    return d


def load(tmp, name="fake"):
    with open(os.path.join(tmp, "out", f"{name}.json")) as f:
        return json.load(f)


def forks_log(tmp):
    with open(os.path.join(tmp, "out", "raw", "forks.jsonl")) as f:
        return [json.loads(line) for line in f]


class Method(unittest.TestCase):
    """method.measure on a scripted run function."""

    def test_calibrates_to_the_target_then_measures(self):
        calls = []

        def run(n, reps):
            calls.append((n, reps))
            return [Sample(n, n * 1000, n * 1000)] * reps
        m = method.Method(target_s=0.001, repetitions=4)
        n, warm, samples = method.measure(run, m)
        self.assertEqual(n, 1000)  # 1 ms of 1000 ns iterations
        self.assertEqual([s.wall_ns for s in samples], [1_000_000] * 4)
        self.assertTrue(warm.steady)
        self.assertEqual(calls[-1], (1000, 4))
        self.assertTrue(all(r == 1 for _, r in calls[:-1]))  # calibration and warm-up: one run each

    def test_waits_until_steady(self):
        runs = []

        def run(n, reps):  # 20 % faster each run, down to 1000 ns: steady from the 9th run on
            per = max(1000, int(5000 * 0.8 ** len(runs)))
            runs.append(n)
            return [Sample(n, n * per, 0)] * reps
        n, warm, samples = method.measure(run, method.Method(target_s=0.001))
        self.assertTrue(warm.steady)
        self.assertGreaterEqual(warm.runs, 10)  # the 8 faster-each-time runs, then 3 that agree
        self.assertEqual({s.wall_ns // s.iterations for s in samples}, {1000})
        self.assertEqual(n, 1000)  # re-sized to the target from the steady runs

    def test_never_steady_is_measured_and_marked(self):
        k = [0]

        def run(n, reps):
            k[0] += 1
            return [Sample(n, n * (1000 + 100 * (k[0] % 2)), 0)] * reps  # alternates by 10 %
        _, warm, samples = method.measure(run, method.Method(target_s=0.0001, warmup_max_runs=15))
        self.assertFalse(warm.steady)
        self.assertLessEqual(warm.runs, 15 + 8)  # the cap, past the calibration
        self.assertEqual(len(samples), method.Method().repetitions)

    def test_a_runtimes_minimum_is_honoured(self):
        n_runs = [0]

        def run(n, reps):
            n_runs[0] += 1
            return [Sample(n, n * 1000, 0)] * reps
        _, warm, _ = method.measure(run, method.Method(target_s=0.0001), min_runs=25)
        self.assertGreaterEqual(warm.runs, 25)

    def test_a_long_run_lets_a_loop_compiled_on_its_back_edges_speed_up(self):
        # As HotSpot's OSR: 1000 ns per iteration until one run has made 5000 iterations, then 10 ns.
        def measure(long_run):
            compiled = [False]

            def run(n, reps):
                out = [Sample(n, n * (10 if compiled[0] else 1000), 0)] * reps
                compiled[0] = compiled[0] or n >= 5000
                return out
            return method.measure(run, method.Method(target_s=0.001), long_run=long_run)
        n, _, samples = measure(long_run=5000)
        self.assertEqual(n, 100_000)  # calibrated on the compiled loop
        self.assertTrue(all(s.wall_ns == 1_000_000 for s in samples))
        # A slow iteration (1 ms, as a scan of 1024 records) caps the long run at about LONG_RUN_MAX_S.
        sizes = []

        def slow(n, reps):
            sizes.append(n)
            return [Sample(n, n * 1_000_000, 0)] * reps
        method.measure(slow, method.Method(target_s=0.001), long_run=200_000)
        self.assertLessEqual(max(sizes) * 1e-3, 1.2 * 100 * method.LONG_RUN_MAX_S)  # growth overshoots at most 100x
        self.assertLess(max(sizes), 200_000)
        n, _, samples = measure(long_run=0)
        self.assertEqual(n, 1000)  # 1 ms runs of 1000 slow iterations never reach 5000 in one run
        self.assertTrue(all(s.wall_ns == 1_000_000 for s in samples))

    def test_a_first_run_with_one_time_costs_does_not_end_the_calibration(self):
        k = [0]

        def run(n, reps):
            k[0] += 1
            return [Sample(n, 50_000_000 if k[0] == 1 else n * 1000, 0)] * reps
        n, _, _ = method.measure(run, method.Method(target_s=0.001))
        self.assertEqual(n, 1000)

    def test_steady_waits_for_the_compile_count_to_stand_still(self):
        k = [0]

        def run(n, reps):  # constant times from the start, while the JIT keeps compiling
            k[0] += 1
            return [Sample(n, n * 1000, n * 1000, jit=min(k[0], 12))] * reps
        _, warm, _ = method.measure(run, method.Method(target_s=0.001))
        self.assertTrue(warm.steady)
        self.assertGreaterEqual(warm.runs, 14)  # until 3 runs in a row report the same count

    def test_steady_rule(self):
        self.assertTrue(method.steady([9.0, 1.0, 1.01, 1.02], 3, 0.03))
        self.assertFalse(method.steady([1.0, 1.05, 1.0], 3, 0.03))
        self.assertFalse(method.steady([1.0, 1.0], 3, 0.03))


class Driver(unittest.TestCase):
    """The whole driver over the fake runtime."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        t0 = time.monotonic()
        cls.p = driver(cls.tmp, "--timeout", "3")
        cls.seconds = time.monotonic() - t0
        cls.data = load(cls.tmp)
        cls.benches = results.load_benches(os.path.join(cls.tmp, "out"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_exit_status_says_something_failed(self):
        self.assertEqual(self.p.returncode, 1, self.p.stderr[-3000:])

    def test_every_process_ran_one_benchmark(self):
        with open(os.path.join(self.tmp, "log")) as f:
            rows = [line.split() for line in f]
        per_pid = Counter(pid for pid, _ in rows)
        self.assertEqual(set(per_pid.values()), {1})
        per_bench = Counter(name for _, name in rows)
        # 3 forks each of the good ones; a failed benchmark is not run again
        for name in ("fake/ok/const", "fake/ok/warm", "fake/ok/tier", "fake/ok/jit", "fake/ok/first",
                     "fake/control/loop", "fake/ok/noop/threads:2"):
            self.assertEqual(per_bench[name], 3, name)
        for name in ("fake/bad/wrong", "fake/bad/crash", "fake/bad/hang"):
            self.assertEqual(per_bench[name], 1, name)

    def test_forks_interleaved(self):
        order = [name for _, name in (line.split() for line in open(os.path.join(self.tmp, "log")))]
        # round k holds every benchmark's fork k: the first round has every benchmark once
        self.assertEqual(len(set(order[:12])), 12)
        self.assertNotEqual(order[:12], sorted(order[:12]))  # shuffled, not in list order

    def test_known_answers(self):
        self.assertEqual(results.center(self.benches["fake/ok/const"].forks), 1000.0)
        self.assertEqual(results.center(self.benches["fake/ok/warm"].forks), 1000.0)  # after its warm-up
        self.assertEqual(results.control_ns(self.benches, "fake"), 100.0)
        # two threads: 3000 ns of wall time per iteration of each thread = 1500 ns per thread-iteration
        self.assertEqual(results.center(self.benches["fake/ok/noop/threads:2"].forks), 1500.0)
        self.assertAlmostEqual(results.center(self.benches["fake/ok/scan"].forks), 1000 / 1024)  # per op
        self.assertEqual(results.center(self.benches["fake/ok/first"].forks), 1000.0)

    def test_compile_counts_hold_the_warmup(self):
        rows = [r for r in forks_log(self.tmp) if r["name"] == "fake/ok/jit"]
        self.assertTrue(all(r["steady"] and r["warmup_runs"] >= 11 for r in rows), rows)
        self.assertTrue(all(r["iterations"] == 1000 for r in forks_log(self.tmp) if r["name"] == "fake/ok/first"))

    def test_entries_carry_their_fork(self):
        const = [e for e in self.data["benchmarks"] if e["name"] == "fake/ok/const"]
        self.assertEqual(len(const), 6)
        self.assertEqual(Counter(e["fork"] for e in const), {0: 2, 1: 2, 2: 2})
        self.assertEqual([e["repetition_index"] for e in const], list(range(6)))
        self.assertTrue(all(e["run_type"] == "iteration" and e["time_unit"] == "ns" for e in const))
        self.assertEqual(self.benches["fake/ok/const"].forks, [[1000.0, 1000.0]] * 3)

    def test_warmup_recorded(self):
        warm = [r for r in forks_log(self.tmp) if r["name"] == "fake/ok/warm"]
        self.assertEqual(len(warm), 3)
        self.assertTrue(all(r["steady"] and r["warmup_runs"] >= 10 for r in warm), warm)
        self.assertTrue(all(0 <= r["pad"] < 4096 for r in forks_log(self.tmp)))
        self.assertGreater(len({r["pad"] for r in forks_log(self.tmp)}), 3)  # varies between forks

    def test_failures_reported_and_the_run_went_on(self):
        errors = {e["name"]: e["error_message"] for e in self.data["benchmarks"] if e.get("error_occurred")}
        self.assertEqual(set(errors), {"fake/bad/wrong", "fake/bad/crash", "fake/bad/hang"})
        self.assertIn("wrong answer: record 7 answered 8", errors["fake/bad/wrong"])
        self.assertIn("exited with status 3", errors["fake/bad/crash"])
        self.assertIn("no answer within 3 s", errors["fake/bad/hang"])
        for name in ("fake/bad/wrong", "fake/bad/crash", "fake/bad/hang"):
            self.assertIn(f"FAILED {name}", self.p.stderr)
        self.assertLess(self.seconds, 60)

    def test_context_vocabulary(self):
        ctx = self.data["context"]
        for k in ("ffibench.runtime", "ffibench.runtime_name", "ffibench.runtime_version", "ffibench.method",
                  "ffibench.forks", "ffibench.repetitions_per_fork", "ffibench.dataset_checksum",
                  "ffibench.time_field", "ffibench.worker"):
            self.assertIn(k, ctx)
        self.assertEqual((ctx["ffibench.runtime"], ctx["ffibench.forks"]), ("fake", 3))

    def test_provenance_has_the_drivers_section(self):
        with open(os.path.join(self.tmp, "out", "provenance.json")) as f:
            d = json.load(f)["driver"]
        self.assertEqual(d["method"]["forks"], 3)
        rt = d["runtimes"]["fake"]
        self.assertEqual(rt["forks_failed"], 3)
        self.assertIn("environment_padding", d)

    def test_summary_and_report_written(self):
        for f in ("summary.txt", "summary.csv", "report.md", "report.html"):
            self.assertTrue(os.path.exists(os.path.join(self.tmp, "out", f)), f)


class Options(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_filter_is_a_python_regex_on_the_full_name(self):
        p = driver(self.tmp, "--filter", r"^fake/(ok/const|control/loop)$", "--list")
        self.assertEqual(p.returncode, 0, p.stderr)
        names = [line.split("\t")[1] for line in p.stdout.splitlines() if line.startswith("fork")]
        self.assertEqual(Counter(names), {"fake/ok/const": 3, "fake/control/loop": 3})

    def test_a_runtimes_subset_holds_unless_filtered_or_smoke(self):
        def planned(*args):
            p = driver(self.tmp, "--runtimes", "fakesub", "--list", *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            return {line.split("\t")[1] for line in p.stdout.splitlines() if line.startswith("fork")}
        self.assertEqual(planned(), {"fakesub/ok/const", "fakesub/control/loop"})
        self.assertIn("fakesub/ok/warm", planned("--filter", "ok/"))  # --filter says what to measure
        self.assertIn("fakesub/ok/warm", planned("--smoke"))  # a test runs every loop

    def test_trace_records_a_fork_and_replay_feeds_it_back(self):
        p = driver(self.tmp, "--runtimes", "fake", "--filter", "^fake/ok/const$", "--forks", "1", "--trace")
        tdir = os.path.join(self.tmp, "out", "raw", "trace")
        (name,) = os.listdir(tdir)
        self.assertEqual(name, "fake~ok~const~fork0.jsonl", p.stderr)
        with open(os.path.join(tdir, name)) as f:
            head, *reqs = [json.loads(line) for line in f]
        self.assertIn("FFIBENCH_PAD", head["env"])
        runs = [r for r in reqs if r["request"][0] == "run"]
        self.assertGreater(len(runs), 1)  # the warm-up's and the timed runs
        self.assertTrue(all(r["request"][1] == "fake/ok/const" and r["answer"][0][0] == "sample" for r in runs))
        data = os.path.join(self.tmp, "data")
        subprocess.run([os.path.join(BUILD, "bench", "ffibench_dataset"), data], check=True, capture_output=True)
        q = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "driver", "replay.py"),
                            os.path.join(tdir, name), "--data", data], capture_output=True, text=True, timeout=120)
        self.assertEqual(q.returncode, 0, q.stderr)
        lines = q.stdout.splitlines()
        self.assertEqual(len(lines), len(runs))
        # fake/ok/const takes 1000 ns an iteration (fake/worker.py), in the replay as in the run
        self.assertTrue(all(float(x) == 1000.0 for line in lines for x in line.split()[1:] if x != "jit"), lines[:3])

    def test_first_calls_and_hyperfine_are_spread_among_the_forks(self):
        p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "driver"), "--build-dir", BUILD,
                            "--runtimes-dir", fake_dir(self.tmp), "--out", os.path.join(self.tmp, "out"),
                            "--runtimes", "fake", "--forks", "5", "--list"], capture_output=True, text=True)
        lines = p.stdout.splitlines()
        kinds = [x.split("\t")[0].split()[0] for x in lines]
        self.assertEqual(kinds.count("first-call"), 2 * method.MODES["full"].first_call_rounds)
        self.assertEqual(kinds.count("hyperfine"), 4)
        firsts = [i for i, k in enumerate(kinds) if k != "fork"]
        third = len(lines) // 3  # some in every third of the run, not a block at its end
        self.assertTrue(all(any(lo <= i < lo + third for i in firsts) for lo in (0, third, 2 * third)))

    def test_validate_runs_the_standalone_cross_checks(self):
        p = driver(self.tmp, "--runtimes", "fake", "--filter", "ok/const$", "--validate")
        with open(os.path.join(self.tmp, "out", "crosscheck.json")) as f:
            (cc,) = json.load(f)["checks"]
        self.assertEqual((cc["benchmark"], cc["ns_per_call"], cc["error"]), ("fake/ok/const", [1000.0] * 5, None), p.stderr)
        with open(os.path.join(self.tmp, "out", "validate.json")) as f:
            checks = {c["name"]: c for c in json.load(f)["checks"]}
        c = checks["cross-check: fake/ok/const against a standalone loop"]
        self.assertTrue(c["pass"], c)
        self.assertEqual(c["measured"], "1.000x the standalone loop")

    def test_a_runtimes_warmup_minimum_sees_past_a_plateau(self):
        # A tier-up after 8 runs looks steady before it: only the runtime's declared minimum helps.
        p = driver(self.tmp, "--runtimes", "fakejit", "--filter", "ok/tier")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        rows = [r for r in forks_log(self.tmp) if r["name"] == "fakejit/ok/tier"]
        self.assertEqual(len(rows), 3)
        self.assertTrue(all(r["warmup_runs"] >= 12 for r in rows), rows)
        b = results.load_benches(os.path.join(self.tmp, "out"))
        self.assertEqual(results.center(b["fakejit/ok/tier"].forks), 1000.0)

    def test_a_data_set_mismatch_stops_the_runtime(self):
        p = driver(self.tmp, "--runtimes", "fake", env={"FAKE_CHECKSUM": "fnv1a64:0000000000000000"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("its data set checksum is fnv1a64:0000000000000000", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out", "fake.json")))

    def test_a_runtime_not_installed_fails_loudly_unless_skipped(self):
        d = fake_dir(self.tmp, extra=("missing",))
        p = driver(self.tmp, "--filter", "ok/const", runtimes_dir=d)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("runtime missing did not run: not installed here: missing: no such runtime", p.stderr)
        self.assertIn("install its packages with: apt-get install frobnicator-runtime", p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "out", "fake.json")))  # the others ran
        p = driver(self.tmp, "--filter", "ok/const", runtimes_dir=d, env={"FFIBENCH_SKIP_RUNTIMES": "missing"})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_unknown_runtime_is_bad_usage(self):
        p = driver(self.tmp, "--runtimes", "cobol")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no runtime named cobol", p.stderr)

    def test_ctrl_c_keeps_what_was_measured(self):
        proc = driver(self.tmp, "--runtimes", "fake", "--filter", "ok/(sleep|const)", "--forks", "40", wait=False)
        log = os.path.join(self.tmp, "out", "raw", "forks.jsonl")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if os.path.exists(log) and sum(1 for _ in open(log)) >= 6:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err[-2000:])
        self.assertIn("interrupted", err)
        b = results.load_benches(os.path.join(self.tmp, "out"))
        done = len(b["fake/ok/const"].forks) + len(b["fake/ok/sleep"].forks)
        self.assertGreaterEqual(done, 6)
        self.assertLess(done, 80)


class FirstCall(unittest.TestCase):
    def test_first_calls_per_process(self):
        tmp = tempfile.mkdtemp()
        try:
            p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "driver"), "--build-dir", BUILD,
                                "--runtimes-dir", fake_dir(tmp), "--out", os.path.join(tmp, "out"), "--runtimes",
                                "fake", "--filter", "first_call", "--no-icount"], capture_output=True, text=True,
                               timeout=600)
            self.assertEqual(p.returncode, 1, p.stderr)  # the `bad` mechanism fails
            b = results.load_benches(os.path.join(tmp, "out"))
            first = b["fake/ok/first_call"]
            self.assertTrue(first.per_process)
            self.assertEqual(len(first.forks), method.MODES["full"].first_call_rounds)
            self.assertEqual(results.center(first.forks), 200)
            self.assertEqual(results.center(b["fake/ok/first_call/call:second"].forks), 50)
            self.assertEqual(results.center(b["fake/ok/first_call/phase:load"].forks), 100)
            self.assertIn("exit 1", b["fake/bad/first_call"].error)
            with open(os.path.join(tmp, "out", "hyperfine.json")) as f:
                hf = {r["command"]: len(r["times"]) for r in json.load(f)["results"]}
            self.assertEqual(hf, {"fake/control/process": method.MODES["full"].hyperfine_runs,
                                  "fake/ok/process": method.MODES["full"].hyperfine_runs})
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
