"""worker.py — one measuring process: runs the benchmarks it is given, in the order given, and
writes their timings as JSON. The harness starts several, one after another (pyperf's processes).

Usage: worker.py SPEC.json OUT.json
SPEC: {"base": data set path, "dir": scratch folder, "tag": unique per process,
       "discipline": {min_time, reps, max_warmups, smoke},
       "benchmarks": [[mechanism, method, name, param, ops, reps], ...]}
OUT:  {"runs": {name: [[iterations, real_ns, cpu_ns], ...]}, "ops": {name: ops}}
A wrong answer or an engine error raises: the process exits non-zero and the run fails.
"""
import json
import os
import sys
from itertools import repeat

import bindings
import timing
import workloads


def control_loop(n, _param):
    """python/control/loop: the loop every workload runs, with nothing in it."""
    for _ in repeat(None, n):
        pass


def main(spec_path, out_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    d = timing.Discipline(**spec["discipline"])
    opened = {}
    runs, ops = {}, {}
    try:
        for mech, method, name, param, n_ops, reps in spec["benchmarks"]:
            if mech == "control":
                fn, b = control_loop, None
            else:
                b = opened.get(mech)
                if b is None:  # one environment per mechanism, on its own copy of the data set
                    path = os.path.join(spec["dir"], f"{spec['tag']}-{mech}.kv")
                    workloads.copy_dataset(spec["base"], path)
                    b = opened[mech] = bindings.MECHANISMS[mech](path)
                b.setup(method, param)
                fn = getattr(b, method)
            try:
                n, samples = timing.measure(fn, param, d, reps)
            finally:
                if b is not None:
                    b.teardown()
            runs[name] = [[n, r, c] for r, c in samples]
            ops[name] = n_ops
    finally:
        for mech, b in opened.items():
            b.close()
            for suffix in ("", "-lock"):
                p = os.path.join(spec["dir"], f"{spec['tag']}-{mech}.kv{suffix}")
                if os.path.exists(p):
                    os.unlink(p)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"runs": runs, "ops": ops}, f)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.path.insert(0, os.environ["FFIBENCH_PY_BUILD"])
    main(sys.argv[1], sys.argv[2])
