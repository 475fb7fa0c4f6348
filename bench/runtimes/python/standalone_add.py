"""standalone_add.py — the simplest standalone loop for kv_add through ctypes, sharing no code with
the worker: argtypes declared, `x = kv_add(x, 1)` in a plain for loop in a function (locals, as
Python code is usually run; at module level each name is a dict lookup, ~25 % slower), timed with
perf_counter_ns. The cross-check of python/ctypes/add/mode:latency (--validate). Prints the median
of 5 rounds of 200 000 calls, in ns per call, loop included."""
import ctypes
import os
import statistics
import time

add = ctypes.CDLL(os.environ["KV_LIBRARY"]).kv_add
add.argtypes, add.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
N, rounds, x = 200_000, [], 0


def calls(x, add=add):
    for _ in range(N):
        x = add(x, 1)
    return x


for _ in range(5):
    t0 = time.perf_counter_ns()
    x = calls(x)
    rounds.append((time.perf_counter_ns() - t0) / N)
assert x == 5 * N
print(f"{statistics.median(rounds):.4f}")
