"""standalone_add.py — the simplest standalone loop for kv_add through ctypes, sharing no code with
the worker: argtypes declared, `x = kv_add(x, 1)` in a plain for loop, timed with perf_counter_ns.
The cross-check of python/ctypes/add/mode:latency (--validate). Prints the median of 5 rounds of
200 000 calls, in ns per call, loop included."""
import ctypes
import os
import statistics
import time

add = ctypes.CDLL(os.environ["KV_LIBRARY"]).kv_add
add.argtypes, add.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
N, rounds, x = 200_000, [], 0
for _ in range(5):
    t0 = time.perf_counter_ns()
    for _ in range(N):
        x = add(x, 1)
    rounds.append((time.perf_counter_ns() - t0) / N)
assert x == 5 * N
print(f"{statistics.median(rounds):.4f}")
