"""harness.py — the Python runtime's harness (bench/runtimes/README.md is the contract).

  run OUT_DIR [--quick] [--filter REGEX] [--repetitions N] [--smoke]

Builds the compiled bindings, writes the data set, then measures every mechanism's workloads in
several worker processes (worker.py), each running the whole list in its own shuffled order; the
first call per process in many fresh interpreters, interleaved; and whole processes with hyperfine.
Writes OUT_DIR/python.json (google-benchmark schema) and the raw outputs under OUT_DIR/python/.
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import build
import timing
import per_process  # noqa: E402  scripts/lib, put on the path by timing
import workloads

RUNTIME = "python"
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's interpreter, whatever python3 is first on PATH
CALIBRATION = ("noop", "add", "loop")  # the calls whose CI the target bounds: more repetitions

# (processes, min_time s, reps per process, calibration reps per process, max warm-ups,
#  first-call rounds, hyperfine runs)
MODES = {
    "full": (3, 0.010, 3, 10, 6, 15, 20),
    "quick": (2, 0.002, 3, 4, 2, 3, 0),
    "smoke": (1, 0.0, 1, 1, 0, 1, 0),
}


def parse(argv):
    p = argparse.ArgumentParser(prog="run", description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--filter", default="")
    p.add_argument("--repetitions", type=int, default=0, help="repetitions per process")
    return p.parse_args(argv)


def plan(pattern):
    """Every benchmark: (mechanism, method, name, param, ops), the control first."""
    out = [("control", "loop", f"{RUNTIME}/control/loop", None, 1)]
    import bindings  # after the build: the compiled modules must be importable
    for mech, cls in bindings.MECHANISMS.items():
        for method, wl, param, ops in workloads.workload_list(cls.buf_kinds):
            out.append((mech, method, f"{RUNTIME}/{mech}/{wl}", param, ops))
    rx = re.compile(pattern) if pattern else None
    return [b for b in out if not rx or rx.search(b[2])]


def run_workers(benches, mode, args, env, base, raw_dir, data_dir):
    procs, min_time, reps, calib_reps, warmups, _, _ = MODES[mode]
    if args.repetitions:
        reps = calib_reps = args.repetitions
    runs, ops = {}, {}
    rng = random.Random(20261125)
    for k in range(procs):
        order = list(benches)
        rng.shuffle(order)  # each process its own order: drift hits every benchmark alike
        spec = {"base": base, "dir": data_dir, "tag": f"w{k}",
                "discipline": {"min_time": min_time, "reps": reps, "max_warmups": warmups,
                               "smoke": mode == "smoke"},
                "benchmarks": [[m, meth, name, param, o,
                                calib_reps if meth in CALIBRATION else reps]
                               for m, meth, name, param, o in order]}
        spec_path = os.path.join(raw_dir, f"worker-{k}.spec.json")
        out_path = os.path.join(raw_dir, f"worker-{k}.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        subprocess.run([PYTHON, os.path.join(HERE, "worker.py"), spec_path, out_path], env=env,
                       check=True)
        with open(out_path, encoding="utf-8") as f:
            got = json.load(f)
        for name, rs in got["runs"].items():
            runs.setdefault(name, []).extend(rs)
        ops.update(got["ops"])
    out = []
    for _m, _meth, name, _p, _o in benches:
        out += timing.entries(name, [tuple(r) for r in runs[name]], ops[name])
    return out


def first_calls(mechs, rounds, env, raw_dir):
    """The first call in `rounds` fresh interpreters per mechanism, interleaved and shuffled."""
    rows = per_process.measure({m: [PYTHON, os.path.join(HERE, "first_call.py"), m] for m in mechs},
                               rounds, env)
    with open(os.path.join(raw_dir, "first_call.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    out = []
    for m, rs in rows.items():
        base = f"{RUNTIME}/{m}/first_call"
        out += timing.entries(base, [(1, first, first) for _l, first, _s in rs])
        out += timing.entries(base + "/call:second", [(1, s, s) for _l, _f, s in rs])
        out += timing.entries(base + "/phase:load", [(1, load, load) for load, _f, _s in rs])
    return out


def hyperfine(mechs, runs, env, raw_dir):
    """Whole processes (interpreter start, import, first call, exit) with hyperfine."""
    if not shutil.which("hyperfine"):
        print("python: hyperfine not installed; whole-process times skipped", file=sys.stderr)
        return
    cmd = ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--style", "none",
           "--export-json", os.path.join(raw_dir, "hyperfine.json"),
           "-n", f"{RUNTIME}/control/process", f"{PYTHON} -c pass"]
    for m in mechs:
        cmd += ["-n", f"{RUNTIME}/{m}/process", f"{PYTHON} {os.path.join(HERE, 'first_call.py')} {m}"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def context(mode, args):
    import cffi
    ver = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    procs, min_time, reps, calib_reps, warmups, rounds, hf = MODES[mode]
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_name": socket.gethostname(),
        "num_cpus": os.cpu_count(),
        "executable": PYTHON,
        "ffibench.runtime": "python",
        "ffibench.runtime_name": f"CPython ({platform.python_implementation()}, Debian's {PYTHON})",
        "ffibench.runtime_version": ver,
        "ffibench.runtime_flags": "-X none (default interpreter; garbage collector off while timing)",
        "ffibench.runtime_mode": "interpreter (no JIT; 3.11 specialising bytecode)",
        "ffibench.cffi_version": cffi.__version__,
        "ffibench.harness": (f"by hand, pyperf's discipline: {procs} processes, {reps} repetitions "
                             f"each ({calib_reps} for noop/add/loop), runs of >= {min_time * 1e3:g} ms "
                             f"after calibration, up to {warmups} warm-up runs until two agree "
                             f"within {timing.WARM_TOLERANCE:.0%}"),
        "ffibench.mode": mode,
        "ffibench.filter": args.filter,
        "ffibench.first_call": f"{rounds} fresh interpreters per mechanism, interleaved",
        "ffibench.durability": "nosync (KV_DURABLE_NOSYNC) for every write",
        "ffibench.time_field": "real_time (per iteration; divide by ops)",
        "ffibench.kv_library": os.environ["KV_LIBRARY"],
    }


def main(argv):
    args = parse(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    for var in ("KV_LIBRARY", "KV_INCLUDE", "KV_BUILD_DIR"):
        if not os.environ.get(var):
            sys.exit(f"python: {var} is not set")
    build_dir = build.build()
    sys.path.insert(0, build_dir)
    env = dict(os.environ, FFIBENCH_PY_BUILD=build_dir, PYTHONHASHSEED="0")
    data_dir = os.path.join(os.environ.get("FFIBENCH_DATA") or tempfile.gettempdir(), RUNTIME)
    raw_dir = os.path.join(args.out_dir, RUNTIME)
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(raw_dir, exist_ok=True)

    import bindings
    benches = plan(args.filter)
    base = os.path.join(data_dir, "base.kv")
    t0 = time.monotonic()
    if benches:
        workloads.create_dataset(base, bindings.put_all_ctypes)
        results = run_workers(benches, mode, args, env, base, raw_dir, data_dir)
    else:
        results = []
    _p, _t, _r, _c, _w, rounds, hf_runs = MODES[mode]
    rx = re.compile(args.filter) if args.filter else None
    fc_mechs = [m for m in bindings.MECHANISMS
                if not rx or rx.search(f"{RUNTIME}/{m}/first_call") or rx.search(f"{RUNTIME}/{m}/process")]
    results += first_calls(fc_mechs, rounds, env, raw_dir) if fc_mechs else []
    if hf_runs and fc_mechs:
        hyperfine(fc_mechs, hf_runs, env, raw_dir)
    timing.write(os.path.join(args.out_dir, f"{RUNTIME}.json"), context(mode, args), results)
    for name, med, lo, hi, n in timing.summarize(results):
        ci = f"[{lo:.1f}, {hi:.1f}]" if lo == lo else "(too few for a CI)"
        print(f"{name:60s} {med:12.1f} ns  {ci}  n={n}")
    print(f"python: {len(results)} repetitions in {time.monotonic() - t0:.0f} s -> "
          f"{os.path.join(args.out_dir, RUNTIME + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
