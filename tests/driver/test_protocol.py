#!/usr/bin/python3
"""The worker protocol's conformance test (bench/runtimes/README.md), run against every runtime of
one runtime folder: builds the folder, then for each runtime's worker checks hello, list (names under
the runtime, a control loop), data (the data folder's checksum: the worker read the same data), every
benchmark run once with its answers checked (every one it has: the worker runs with FFIBENCH_LIST=all,
which lifts the subset a full run lists), bad requests answered with `error` and the worker
still answering after them, and the first-call mode of every mechanism. A google-benchmark runtime
(the C suite) is checked through ffibench_c --ffibench_list instead.

A runtime that is not installed here fails the test, unless $FFIBENCH_SKIP_RUNTIMES names it (then
the test is skipped, exit 77): a CI run that skips a runtime must say so.

Usage: test_protocol.py RUNTIME_FOLDER BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from driver import runtimes  # noqa: E402
from driver.cli import base_env  # noqa: E402
from driver.protocol import Worker, WorkerError  # noqa: E402
from pathlib import Path  # noqa: E402

NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9_-]*/[a-z_]+(/[a-z_]+(:[A-Za-z0-9_.-]+)?)*$")
FOLDER = BUILD = None
STATE = {}


def setUpModule():
    tmp = STATE["tmp"] = tempfile.mkdtemp(prefix="protocol-")
    data = os.path.join(tmp, "data")
    subprocess.run([os.path.join(BUILD, "bench", "ffibench_dataset"), data], check=True)
    with open(os.path.join(data, "manifest.txt")) as f:
        STATE["checksum"] = next(x.rstrip("\n").split("\t")[1] for x in f if x.startswith("checksum\t"))
    STATE["env"] = base_env(Path(BUILD), data)
    STATE["folder"] = runtimes.load_folder(Path(FOLDER), Path(BUILD))


def tearDownModule():
    shutil.rmtree(STATE["tmp"], ignore_errors=True)


class Conformance(unittest.TestCase):
    def worker(self, rt):
        scratch = tempfile.mkdtemp(dir=STATE["tmp"])
        env = {**STATE["env"], **rt.env, "FFIBENCH_SCRATCH": scratch, "FFIBENCH_PAD": ""}
        return Worker(rt.worker, env, scratch, os.path.join(scratch, "stderr.log"), timeout=600)

    def test_every_runtime(self):
        f = STATE["folder"]
        self.assertTrue(f.runtimes, "runtime.toml declares no runtime")
        for rt in f.runtimes:
            with self.subTest(runtime=rt.name):
                if rt.protocol == "gbench":
                    self.check_gbench(rt)
                else:
                    self.check_worker(rt)

    def check_gbench(self, rt):
        p = subprocess.run([*rt.worker, "--ffibench_list"], capture_output=True, text=True, env=STATE["env"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [x.split("\t") for x in p.stdout.splitlines()]
        self.assertEqual(lines[-1], ["ok"])
        names = [x[1] for x in lines[:-1]]
        self.assertTrue(all(x[0] == "bench" and len(x) == 4 for x in lines[:-1]))
        self.assertIn(f"{rt.name}/control/loop", names)
        self.check_names(rt, names)
        for mech, argv in rt.first_call.items():
            self.check_first_call(rt, mech)

    def check_names(self, rt, names):
        self.assertEqual(len(names), len(set(names)), "a name listed twice")
        for n in names:
            self.assertRegex(n, NAME)
            self.assertTrue(n.startswith(rt.name + "/"), n)

    def check_worker(self, rt):
        if not os.path.exists(rt.worker[0]) and not shutil.which(rt.worker[0]):
            self.fail(f"{rt.name}: its worker {rt.worker[0]} was not built (see the build's output above)")
        with self.worker(rt) as w:
            ctx = w.hello()
            for k in ("runtime_name", "runtime_version"):
                self.assertIn(k, ctx)
            benches, mechs = w.list()
            names = [b.name for b in benches]
            self.assertIn(f"{rt.name}/control/loop", names)
            self.check_names(rt, names)
            self.assertTrue(all(b.ops >= 1 and b.threads in (1, 2) for b in benches))
            self.assertEqual(w.data(), STATE["checksum"])
            for b in benches:  # every benchmark once: its answers are checked by the worker
                samples = w.run(b.name, 1, 2)
                self.assertEqual(len(samples), 2)
                self.assertTrue(all(s.wall_ns >= 0 and s.cpu_ns >= 0 for s in samples), b.name)
            with self.assertRaises(WorkerError):
                w.run(f"{rt.name}/no/such/benchmark", 1, 1)
            with self.assertRaises(WorkerError):
                w.request("frobnicate", "now")
            self.assertEqual(w.hello(), ctx)  # still answering
            self.assertEqual(w.close(), 0)
        for mech in mechs:
            self.check_first_call(rt, mech)
        p = self.first_call(rt, "none")
        self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)

    def first_call(self, rt, mech):
        scratch = tempfile.mkdtemp(dir=STATE["tmp"])
        env = {**STATE["env"], **rt.env, "FFIBENCH_SCRATCH": scratch}
        return subprocess.run(rt.first_call_argv(mech), capture_output=True, text=True, env=env, cwd=scratch,
                              timeout=300)

    def check_first_call(self, rt, mech):
        p = self.first_call(rt, mech)
        self.assertEqual(p.returncode, 0, f"{rt.name} first-call {mech}: {p.stderr[-1000:]}")
        fields = p.stdout.split()
        self.assertEqual(len(fields), 3, p.stdout)
        self.assertTrue(all(x.isdigit() for x in fields), p.stdout)


def main():
    global FOLDER, BUILD
    FOLDER, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.environ["FFIBENCH_LIST"] = "all"  # every loop the worker has, not a full run's subset
    folder = runtimes.load_folder(Path(FOLDER), Path(BUILD))
    env = base_env(Path(BUILD), "")
    log = Path(tempfile.mkstemp(prefix="build-")[1])
    ok, why = runtimes.build(folder, env, log)
    print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
    log.unlink()
    if not ok:
        skip = {s.strip() for s in os.environ.get("FFIBENCH_SKIP_RUNTIMES", "").split(",")}
        print(f"{folder.name}: {why}", file=sys.stderr)
        if why.startswith(runtimes.NOT_INSTALLED) and folder.name in skip:
            print(f"{folder.name}: skipped, as FFIBENCH_SKIP_RUNTIMES asks", file=sys.stderr)
            return 77
        if why.startswith(runtimes.NOT_INSTALLED):
            print(f"{folder.name}: install its packages ({' '.join(folder.packages)}) or name it in "
                  "FFIBENCH_SKIP_RUNTIMES", file=sys.stderr)
        return 1
    prog = unittest.main(argv=sys.argv[:1], exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
