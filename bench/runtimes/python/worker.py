"""worker.py — the Python runtimes' worker (bench/runtimes/README.md is the protocol): one worker,
two interpreters. Under CPython it is the `python` runtime, under PyPy the `pypy` runtime (which also
reports the JIT's cumulative compile count after every run).

  worker.py                      answers the driver's requests on stdin/stdout
  worker.py first-call MECH      prints the first call's figures (first_call.py) and exits

It holds no measurement method: the driver says how many iterations and repeats; this runs the
bindings' loops (bindings.py), reads the clocks around them, and reports.
"""
import gc
import os
import platform
import sys
import time
from itertools import repeat

HERE = os.path.dirname(os.path.abspath(__file__))
PYPY = platform.python_implementation() == "PyPy"
RUNTIME = "pypy" if PYPY else "python"
INTERP = "pypy" if PYPY else "cpython"  # build.py's folder of this interpreter's compiled modules


def jit_count():
    """PyPy: what its JIT has compiled so far, cumulative: loops and bridges compiled plus traces
    aborted (pypyjit's counters; each is a unit of JIT work that changes what the loop runs)."""
    c = pypyjit.get_stats_snapshot().counters
    return (c["TOTAL_COMPILED_LOOPS"] + c["TOTAL_COMPILED_BRIDGES"]
            + sum(v for k, v in c.items() if k.startswith("ABORT_")))


if PYPY:
    import pypyjit


def control_loop(n, _param):
    """python/control/loop: the loop every workload runs, with nothing in it."""
    for _ in repeat(None, n):
        pass


class Worker:
    def __init__(self):
        import bindings
        import workloads
        self.bindings, self.workloads = bindings, workloads
        # name -> (mechanism, method, param, ops)
        self.benches = {f"{RUNTIME}/control/loop": ("control", "loop", None, 1)}
        self.mechanisms = bindings.mechanisms(PYPY)
        # PyPy runs a subset (workloads.PYPY_PLAN) unless FFIBENCH_LIST=all (every loop, to test them)
        plan = workloads.PYPY_PLAN if PYPY and os.environ.get("FFIBENCH_LIST") != "all" else None
        if plan:
            self.mechanisms = {m: c for m, c in self.mechanisms.items() if m in plan}
        for mech, cls in self.mechanisms.items():
            for method, wl, param, ops in workloads.workload_list(cls.buf_kinds):
                if plan and wl not in plan[mech]:
                    continue
                self.benches[f"{RUNTIME}/{mech}/{wl}"] = (mech, method, param, ops)
        self.plan = plan
        self.opened = {}       # mechanism -> its binding, open on its own copy of the data set
        self.current = None    # (name, binding or None, loop, param)

    def hello(self):
        import cffi
        impl = platform.python_implementation()
        if PYPY:  # Python 3.9: no sys.orig_argv
            v = sys.pypy_version_info
            return [("context", "runtime_name", f"{impl} ({sys.executable})"),
                    ("context", "runtime_version", f"{v.major}.{v.minor}.{v.micro} (Python {platform.python_version()})"),
                    ("context", "runtime_flags", f"{sys.executable} (default JIT parameters: " + " ".join(
                        f"{k}={pypyjit.defaults[k]}" for k in ("threshold", "function_threshold", "trace_limit"))
                     + "); "
                     f"PYTHONHASHSEED={os.environ.get('PYTHONHASHSEED', 'random')}; "
                     "major collections off while timing (gc.disable; PyPy's minor collections still run)"),
                    ("context", "runtime_mode", "tracing JIT (RPython meta-tracing); jit COUNT: loops and bridges "
                     "compiled plus traces aborted"),
                    ("context", "cffi_version", cffi.__version__),
                    ("protocol", "1")]
        return [("context", "runtime_name", f"{impl} ({sys.executable})"),
                ("context", "runtime_version", platform.python_version()),
                ("context", "runtime_flags", " ".join(sys.orig_argv[:-1] if len(sys.orig_argv) > 1 else sys.orig_argv)
                 + f"; PYTHONHASHSEED={os.environ.get('PYTHONHASHSEED', 'random')}; the garbage collector off while timing"),
                ("context", "runtime_mode", "interpreter (3.11's specialising bytecode, no JIT)"
                 if impl == "CPython" else impl),
                ("context", "cffi_version", cffi.__version__),
                ("protocol", "1")]

    def list(self):
        out = [("bench", name, ops, 1) for name, (_m, _meth, _p, ops) in self.benches.items()]
        first = self.workloads.PYPY_FIRST_CALL if PYPY and self.plan else self.mechanisms
        return out + [("first-call", m) for m in first]

    def data(self):
        return [("checksum", self.workloads.tables().checksum())]

    def _select(self, name):
        if self.current and self.current[0] == name:
            return self.current
        if name not in self.benches:
            raise KeyError(f"no benchmark {name}")
        self._end()
        mech, method, param, _ops = self.benches[name]
        if mech == "control":
            self.current = (name, None, control_loop, param)
            return self.current
        b = self.opened.get(mech)
        if b is None:  # its own copy of the data set (LMDB: one open per file per process)
            path = os.path.join(os.environ["FFIBENCH_SCRATCH"], f"{mech}.kv")
            with open(os.path.join(self.workloads.DATA, "base.kv"), "rb") as src, open(path, "wb") as dst:
                dst.write(src.read())
            b = self.opened[mech] = self.mechanisms[mech](path)
        b.setup(method, param)
        self.current = (name, b, getattr(b, method), param)
        return self.current

    def _end(self):
        if self.current and self.current[1] is not None:
            self.current[1].teardown()
        self.current = None

    def run(self, name, iterations, repeats):
        _name, _b, loop, param = self._select(name)
        n, out = int(iterations), []
        thread_ns, perf_ns = time.thread_time_ns, time.perf_counter_ns
        enabled = gc.isenabled()
        gc.disable()  # as timeit does
        try:
            for _ in range(int(repeats)):
                c0, t0 = thread_ns(), perf_ns()
                loop(n, param)
                t1, c1 = perf_ns(), thread_ns()
                out.append(("sample", t1 - t0, c1 - c0))
        finally:
            if enabled:
                gc.enable()
        if PYPY:
            out.append(("jit", jit_count()))
        return out

    def close(self):
        self._end()
        for b in self.opened.values():
            b.close()


def serve(inp, out):
    w = None
    for line in inp:
        fields = line.rstrip("\n").split("\t")
        if fields == ["quit"]:
            break
        try:
            if w is None:
                w = Worker()
            op, args = fields[0], fields[1:]
            if op == "hello" and not args:
                rows = w.hello()
            elif op == "list" and not args:
                rows = w.list()
            elif op == "data" and not args:
                rows = w.data()
            elif op == "run" and len(args) == 3:
                rows = w.run(*args)
            else:
                raise ValueError(f"bad request {line.strip()!r}")
            for r in rows:
                out.write("\t".join(str(x) for x in r) + "\n")
            out.write("ok\n")
        except Exception as e:  # every failure is an answer: a wrong answer, an engine error, a bad request
            out.write(f"error\t{type(e).__name__}: {e}".replace("\n", " ") + "\n")
        out.flush()
    if w is not None:
        w.close()


def main(argv):
    # This folder, the compiled modules, and bench/runtimes (kv_abi.py: libkv's constants).
    sys.path[:0] = [HERE, os.path.join(os.environ["KV_BUILD_DIR"], "runtimes", "python", INTERP), os.path.dirname(HERE)]
    if argv[:1] == ["first-call"] and len(argv) == 2:
        if argv[1] == "none":
            return 0
        import first_call
        return first_call.main(argv[1])
    if argv:
        sys.exit(__doc__)
    serve(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
