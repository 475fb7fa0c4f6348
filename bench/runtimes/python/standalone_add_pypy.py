"""standalone_add_pypy.py cffi|ctypes — PyPy's simplest standalone loops for kv_add, sharing no code
with the worker: cffi in ABI mode (ffi.dlopen, one cdef line) or ctypes with argtypes, `x =
kv_add(x, 1)` in a plain for loop in a function, timed with perf_counter_ns. The cross-checks of
pypy/cffi-abi/add/mode:latency and pypy/ctypes/add/mode:latency (--validate). The JIT compiles the
loop during the first of 7 rounds (of 2 000 000 calls; ctypes, ~100x slower here: 50 000); prints
the median round's ns per call."""
import os
import statistics
import sys
import time

if sys.argv[1:] == ["cffi"]:
    import cffi
    ffi = cffi.FFI()
    ffi.cdef("int kv_add(int a, int b);")
    add = ffi.dlopen(os.environ["KV_LIBRARY"]).kv_add
    N = 2_000_000
else:
    import ctypes
    add = ctypes.CDLL(os.environ["KV_LIBRARY"]).kv_add
    add.argtypes, add.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    N = 50_000


def calls(x):  # in a function, as Python code is run: locals, not module globals, in the loop
    for _ in range(N):
        x = add(x, 1)
    return x


rounds, x = [], 0
for _ in range(7):
    t0 = time.perf_counter_ns()
    x = calls(x)
    rounds.append((time.perf_counter_ns() - t0) / N)
assert x == 7 * N
print(f"{statistics.median(rounds):.4f}")
