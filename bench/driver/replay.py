#!/usr/bin/python3
"""replay.py — feeds a fork's recorded requests (a file of raw/trace/, written by the driver's
--trace) to a fresh worker, started as the driver started it, and prints what each `run` measured:
its iterations, then ns per iteration of each repeat (wall clock) and the worker's JIT count.

It separates what a worker does from how the driver drives it: the same requests at the same sizes,
in the same order, without the driver's timing or its other processes. Extra VAR=VALUE arguments
are added to the worker's environment, e.g. DOTNET_JitStdOutFile=/tmp/jit.txt DOTNET_JitDisasm=Run
(bench/runtimes/dotnet/README.md, "Inlined into the worker's try").

Usage: replay.py TRACE [--data DIR] [--pace] [VAR=VALUE ...]
  --data DIR   the data set (ffibench_dataset's folder) if the recorded one is gone, as it is after
               a run: make one with build/release/bench/ffibench_dataset DIR
  --pace       wait between requests as long as the recorded run did
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocol import Worker, WorkerError  # noqa: E402


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trace")
    p.add_argument("--data", help="the data set, if the recorded one is gone")
    p.add_argument("--pace", action="store_true", help="keep the recorded pauses between requests")
    p.add_argument("set", nargs="*", metavar="VAR=VALUE", help="added to the worker's environment")
    a = p.parse_args(argv)
    with open(a.trace, encoding="utf-8") as f:
        head, *requests = [json.loads(line) for line in f]
    env = dict(os.environ, **head["env"])
    if a.data:
        env["FFIBENCH_DATA"] = a.data
    if not os.path.isdir(env.get("FFIBENCH_DATA", "")):
        print(f"replay: no data set at {env.get('FFIBENCH_DATA')!r}: give --data DIR", file=sys.stderr)
        return 2
    for kv in a.set:
        k, _, v = kv.partition("=")
        env[k] = v
    scratch = tempfile.mkdtemp(prefix="ffibench-replay-")
    env["FFIBENCH_SCRATCH"] = scratch
    try:
        with Worker(head["argv"], env, scratch, os.path.join(scratch, "stderr.log")) as w:
            t0 = time.monotonic()
            for r in requests:
                if a.pace:
                    time.sleep(max(0.0, r["t"] - (time.monotonic() - t0)))
                try:
                    answer = w.request(*r["request"])
                except WorkerError as e:
                    print(f"{' '.join(r['request'])}: error: {e}")
                    continue
                if r["request"][0] == "run":
                    n = int(r["request"][2])
                    ns = [f"{int(x[1]) / n:.3f}" for x in answer if x[0] == "sample"]
                    jit = [x[1] for x in answer if x[0] == "jit"]
                    print(n, " ".join(ns), f"jit {jit[0]}" if jit else "")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
