"""workloads.py — bench/workloads.h in Python: constants, the key tables, the data set, the names.

The key tables and the data set are built exactly as bench/workloads.c builds them (splitmix64 with
the same seed, the same draws in the same order), so every harness reads the same records: 100 000
keys "key:%012u" -> 64-byte values whose bytes 0..3 hold the next key's index in one random cycle and
bytes 4..7 the record's own index; plus one record "bytes:N" of N bytes per size of the bytes curve.
"""
import os
import shutil
import struct

KEYS = 100_000
KEY_LEN = 16
VAL_LEN = 64
SCAN_RECORDS = 1024
MISS_KEYS = 4096
PUT_KEYS = 10_000
PUT_EVERY = 100
BYTES_SIZES = (8, 64, 512, 4096, 32768, 262144, 1048576)
BATCH_NS = (1, 4, 16, 64, 256, 1024)
BUF_KINDS = ("bytes", "bytearray", "memoryview")

_MASK = (1 << 64) - 1
HEAD = struct.Struct("<II")  # value bytes 0..3: next index, 4..7: own index


class WrongAnswer(Exception):
    """A workload got an answer that is not the one the data set implies: the run fails."""


def _splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & _MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return state, z ^ (z >> 31)


def _key(prefix, i):
    return b"%s%012d" % (prefix, i % 1_000_000_000_000)


class Tables:
    """wl_init_keys: keys, the single cycle (next) and the throughput order, from one seed."""

    def __init__(self):
        s = 20261125
        self.keys = [_key(b"key:", i) for i in range(KEYS)]
        for _ in range(MISS_KEYS):  # the miss keys' draws come first in workloads.c
            s, _r = _splitmix64(s)
        self.put_keys = [_key(b"put:", i) for i in range(PUT_KEYS)]
        perm = list(range(KEYS))  # Sattolo: a random permutation that is a single cycle
        for i in range(KEYS - 1, 0, -1):
            s, r = _splitmix64(s)
            j = r % i
            perm[i], perm[j] = perm[j], perm[i]
        self.next = perm
        order = list(range(KEYS))  # Fisher-Yates: the throughput (and batch) order
        for i in range(KEYS - 1, 0, -1):
            s, r = _splitmix64(s)
            j = r % (i + 1)
            order[i], order[j] = order[j], order[i]
        self.order = order
        # Every key in batch order, packed, with room to wrap: a batch of n keys is one slice.
        packed = b"".join(self.keys[o] for o in order)
        self.order_packed = packed + packed[: KEY_LEN * max(BATCH_NS)]

    def value(self, i):
        ramp = bytes(range(256)) * 2
        start = (i * 31 + 8) & 255
        return HEAD.pack(self.next[i], i) + ramp[start:start + VAL_LEN - 8]


_TABLES = None


def tables():
    global _TABLES
    if _TABLES is None:
        _TABLES = Tables()
    return _TABLES


def bytes_key(n):
    return b"bytes:%d" % n


def create_dataset(path, put_all):
    """Writes the data set with put_all(path, records) (one write transaction, no-sync) — the
    caller's binding does the writing; this only says what to write."""
    for p in (path, path + "-lock"):
        if os.path.exists(p):
            os.unlink(p)
    t = tables()
    records = [(t.keys[i], t.value(i)) for i in range(KEYS)]
    records += [(bytes_key(n), bytes([k + 1]) * n) for k, n in enumerate(BYTES_SIZES)]
    put_all(path, records)


def copy_dataset(base, path):
    """A fresh copy of the data set per process (LMDB: one open per file per process)."""
    if os.path.exists(path + "-lock"):
        os.unlink(path + "-lock")
    shutil.copyfile(base, path)


# ---- The workload list: (workload name, tag, param name, params, ops per iteration) -------------
# Names follow the C suite's (bench/workloads.c) so summaries line up row by row.
def workload_list(with_buf_kinds):
    """Every (method, name, param, ops) a mechanism runs; buf variants only where the binding
    converts Python buffers (with_buf_kinds)."""
    out = [("noop", "noop", None, 1), ("add", "add/mode:latency", None, 1),
           ("get", "get/mode:latency", None, 1), ("put", f"put/commit_every:{PUT_EVERY}", None, 1)]
    if with_buf_kinds:
        out += [("get", f"get/mode:latency/buf:{k}", k, 1) for k in BUF_KINDS]
        out += [("put", f"put/commit_every:{PUT_EVERY}/buf:{k}", k, 1) for k in BUF_KINDS]
    out += [("get_bytes", f"get/bytes:{n}", n, 1) for n in BYTES_SIZES]
    out += [("scan", "scan/dir:upcall", None, SCAN_RECORDS)]
    out += [("batch", f"batch/n:{n}", n, n) for n in BATCH_NS]
    return out
