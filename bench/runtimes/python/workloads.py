"""workloads.py — the data folder ($FFIBENCH_DATA, bench/dataset.h) as the Python bindings use it,
and the benchmarks each mechanism has.

Nothing here derives the data: the tables are read from the folder's files and the workload
vocabulary (parameter values, records per scan, the commit interval) from its manifest.txt.
"""
import os
import struct
import sys
from array import array


class WrongAnswer(Exception):
    """A workload got an answer that is not the one the data set implies: the run fails."""


def _manifest(folder):
    facts, workloads = {}, {}
    with open(os.path.join(folder, "manifest.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "workload":
                workloads[fields[1]] = fields[2:]  # parameter, values, operations per iteration
            else:
                facts[fields[0]] = fields[1:]
    return facts, workloads


DATA = os.environ.get("FFIBENCH_DATA", "")
FACTS, WORKLOADS = _manifest(DATA) if DATA else ({}, {})


def _values(workload):
    return tuple(int(v) for v in WORKLOADS[workload][1].split(","))


KEYS, KEY_LEN = int(FACTS["keys"][1]), int(FACTS["keys"][2])
MISS_KEYS, PUT_KEYS = int(FACTS["miss"][1]), int(FACTS["put_keys"][1])
VAL_LEN = int(FACTS["value_length"][0])
SCAN_RECORDS = int(WORKLOADS["scan/dir:upcall"][2])
(PUT_EVERY,) = _values("put")
BYTES_SIZES = _values("get")
BATCH_NS = _values("batch")
BUF_KINDS = ("bytes", "bytearray", "memoryview")
CHECKSUM = FACTS["checksum"][0]
HEAD = struct.Struct("<II")  # value bytes 0..3: next index, 4..7: own index


def _rows(name):
    """A table file's rows as bytes objects."""
    file, rows, width = FACTS[name][0], int(FACTS[name][1]), int(FACTS[name][2])
    with open(os.path.join(DATA, file), "rb") as f:
        blob = f.read()
    if len(blob) != rows * width:
        raise WrongAnswer(f"{file}: {len(blob)} bytes, the manifest says {rows} x {width}")
    return [blob[i * width:(i + 1) * width] for i in range(rows)]


class Tables:
    """The data folder's tables: keys, the throughput order, miss keys, put keys."""

    def __init__(self):
        self.keys = _rows("keys")
        self.miss = _rows("miss")
        self.put_keys = _rows("put_keys")
        order = array("I")
        with open(os.path.join(DATA, FACTS["order"][0]), "rb") as f:
            order.frombytes(f.read())
        if order.itemsize != 4 or len(order) != KEYS:
            raise WrongAnswer("order.u32 does not hold one u32 per key")
        if sys.byteorder != "little":
            order.byteswap()
        self.order = order.tolist()
        # Every key in batch order, packed, with room to wrap: a batch of n keys is one slice.
        packed = b"".join(self.keys[o] for o in self.order)
        self.order_packed = packed + packed[: KEY_LEN * max(BATCH_NS)]

    def checksum(self):
        """FNV-1a 64 over keys, order (as u32 little-endian), miss and put keys, as loaded."""
        h, mask = 0xCBF29CE484222325, (1 << 64) - 1
        for blob in (b"".join(self.keys), struct.pack(f"<{len(self.order)}I", *self.order),
                     b"".join(self.miss), b"".join(self.put_keys)):
            for byte in blob:
                h = ((h ^ byte) * 0x100000001B3) & mask
        return f"fnv1a64:{h:016x}"


_TABLES = None


def tables():
    global _TABLES
    if _TABLES is None:
        _TABLES = Tables()
    return _TABLES


def bytes_key(n):
    return b"bytes:%d" % n


def workload_list(with_buf_kinds):
    """Every (method, workload name, param, ops) a mechanism runs, with the C suite's names; the
    /buf:<kind> variants only where the binding converts Python buffers (with_buf_kinds)."""
    out = [("noop", "noop", None, 1), ("add", "add/mode:latency", None, 1),
           ("get", "get/mode:latency", None, 1), ("put", f"put/commit_every:{PUT_EVERY}", None, 1)]
    if with_buf_kinds:
        out += [("get", f"get/mode:latency/buf:{k}", k, 1) for k in BUF_KINDS]
        out += [("put", f"put/commit_every:{PUT_EVERY}/buf:{k}", k, 1) for k in BUF_KINDS]
    out += [("get_bytes", f"get/bytes:{n}", n, 1) for n in BYTES_SIZES]
    out += [("scan", "scan/dir:upcall", None, SCAN_RECORDS)]
    out += [("batch", f"batch/n:{n}", n, n) for n in BATCH_NS]
    return out


# The pypy runtime's share of a full run is small and every process is a fresh PyPy (about 0.1-0.2 s
# to start on a quiet machine, then set up and warm up its JIT), so it runs a subset, per mechanism
# (CPython, the python runtime, runs everything): cffi, PyPy's own FFI, in API mode keeps a get, a
# put, the payload and batch curves' far ends and the upcall; ABI mode the upcall (ffi.callback
# against API mode's extern "Python"); ctypes, the C extension on cpyext and the other ABI styles the
# calls (noop, add). ctypes without argtypes is CPython's only. First calls and whole processes (20
# fresh processes each, and hyperfine's) for cffi API and ABI mode.
_CALLS = ("noop", "add/mode:latency")
PYPY_PLAN = {
    "cffi-api": _CALLS + ("get/mode:latency", f"put/commit_every:{PUT_EVERY}", f"get/bytes:{BYTES_SIZES[-1]}",
                          "scan/dir:upcall", f"batch/n:{BATCH_NS[-1]}"),
    "cffi-abi": _CALLS + ("scan/dir:upcall",),
    "ctypes": _CALLS,
    "cpyext": _CALLS,
    "cffi-api-handle": _CALLS,
    "cffi-api-marshal": _CALLS,
}
PYPY_FIRST_CALL = ("cffi-api", "cffi-abi")
