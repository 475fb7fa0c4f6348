"""bindings.py — every Python mechanism's binding of libkv, and its workload loops.

A workload loop must call the foreign function itself: a Python-level wrapper costs as much as the
call being measured, so there is no uniform wrapper API here. There are three call shapes, and each
has its loops written once:

  CShaped   the C signatures called as they are (ctypes, ctypes-noargtypes, cffi-abi, cffi-api, and
            cffi-api-handle, whose kvh_* functions have the kv_* shapes with integer handles);
  Marshal   one entry point, requests and responses as bytes (kvm_call, through cffi-api);
  Cext      kvext, the C extension module written for this benchmark: the native reference.

Every loop checks its answers as bench/workloads.c does and raises WrongAnswer on a wrong one.
Opening: Binding(db_path) opens an environment on db_path (no-sync); setup(method, param) starts the
transaction that workload needs, teardown() ends it.
"""
import ctypes
import importlib
import os
import struct
from itertools import repeat

import kv_abi

from workloads import (HEAD, KEY_LEN, KEYS, PUT_EVERY, PUT_KEYS, SCAN_RECORDS,
                       VAL_LEN, WrongAnswer, bytes_key, tables)

ABI = kv_abi.load()  # libkv's constants, from the kv_abi.json its build wrote (never typed here)
TXN_READ, TXN_WRITE = ABI["KV_TXN_READ"], ABI["KV_TXN_WRITE"]
NOSYNC = ABI["KV_DURABLE_NOSYNC"]
MAP_SIZE = 1 << 30
U32 = struct.Struct("<I")


def kv_library():
    return os.environ["KV_LIBRARY"]


def _fail(what, rc):
    return WrongAnswer(f"{what}: engine returned {rc}")


def _put_value(kind):
    """The 64-byte value put writes, as a Python object of the kind under test."""
    v = b"\x5a" * VAL_LEN
    if kind == "bytearray":
        return bytearray(v)
    if kind == "memoryview":
        return memoryview(bytearray(v))
    return v


# =================================================================================================
class CShaped:
    """The loops of every binding that calls the C functions with their own signatures.

    A subclass sets the raw callables (f_get, f_put, f_scan, f_batch, f_begin...), and provides
    out_buffer(cap) -> (native buffer, memoryview), sizes(n) -> native size_t[n], size(n) -> what a
    size_t parameter takes, conv -> the per-call conversion of a bytearray/memoryview to a pointer,
    scan_cb (native callback) with scan_state, and null."""

    name = ""
    buf_kinds = True  # converts Python buffers: runs the /buf:<kind> variants

    def setup(self, method, param):
        self.param = param
        self.txn = self.begin(TXN_WRITE if method == "put" else TXN_READ)
        self.done = self.chain = 0  # each benchmark starts its chain afresh, as wl_setup does
        self.lenp = self.sizes(1)

    def teardown(self):
        if self.txn is not None:
            self.end(self.txn, commit=True)  # commit: put's last writes; a read just ends
        self.txn = None

    # The pointer API's (kv.h) end and close, shared by ctypes and cffi; the handle ABI overrides them.
    def end(self, txn, commit):
        rc = (self.lib.kv_txn_commit if commit else self.lib.kv_txn_abort)(txn)
        self.lib.kv_txn_free(txn)
        if rc:
            raise _fail("kv_txn_commit", rc)

    def close_env(self):
        self.lib.kv_env_close(self.env)

    def size(self, n):
        return n

    # ---- loops ------------------------------------------------------------------------------
    def noop(self, n, _param):
        noop = self.f_noop
        for _ in repeat(None, n):
            noop()

    def add(self, n, _param):
        add, x = self.f_add, self.chain & 0x7FFFFFFF
        want = x + n
        for _ in repeat(None, n):
            x = add(x, 1)  # each call takes the previous result (mode:latency)
        if x != want:
            raise WrongAnswer(f"add: {x} != {want}")

    def get(self, n, kind):
        get, txn, lenp, keys = self.f_get, self.txn, self.lenp, tables().keys
        klen, cap, unpack, i = self.size(KEY_LEN), self.size(VAL_LEN), HEAD.unpack_from, self.chain
        if kind is None:  # the binding's own preallocated native buffer
            buf, view = self.out_buffer(VAL_LEN)
            for _ in repeat(None, n):
                rc = get(txn, keys[i], klen, buf, cap, lenp)
                if rc:
                    raise _fail("get", rc)
                nxt, own = unpack(view)
                if own != i or lenp[0] != VAL_LEN:
                    raise WrongAnswer(f"get: key {i} answered record {own}")
                i = nxt
        elif kind == "bytes":  # the value comes back as a new bytes object
            buf, view = self.out_buffer(VAL_LEN)
            for _ in repeat(None, n):
                rc = get(txn, keys[i], klen, buf, cap, lenp)
                if rc:
                    raise _fail("get", rc)
                value = bytes(view[: lenp[0]])
                nxt, own = unpack(value)
                if own != i or len(value) != VAL_LEN:
                    raise WrongAnswer(f"get: key {i} answered record {own}")
                i = nxt
        else:  # the caller's bytearray or memoryview, converted to a pointer on every call
            conv = self.conv
            out = bytearray(VAL_LEN) if kind == "bytearray" else memoryview(bytearray(VAL_LEN))
            for _ in repeat(None, n):
                rc = get(txn, keys[i], klen, conv(out), cap, lenp)
                if rc:
                    raise _fail("get", rc)
                nxt, own = unpack(out)
                if own != i or lenp[0] != VAL_LEN:
                    raise WrongAnswer(f"get: key {i} answered record {own}")
                i = nxt
        self.chain = i

    def put(self, n, kind):
        put, keys, value = self.f_put, tables().put_keys, _put_value(kind)
        klen, vlen = self.size(KEY_LEN), self.size(VAL_LEN)
        conv = None if kind in (None, "bytes") else self.conv
        done = self.done
        for _ in repeat(None, n):
            k = keys[done % PUT_KEYS]
            rc = put(self.txn, k, klen, value, vlen) if conv is None else \
                put(self.txn, k, klen, conv(value), vlen)
            if rc:
                raise _fail("put", rc)
            done += 1
            if done % PUT_EVERY == 0:  # commit every 100 puts (no-sync), as the C suite does
                self.end(self.txn, commit=True)
                self.txn = None
                self.txn = self.begin(TXN_WRITE)
        self.done = done

    def get_bytes(self, n, size):
        get, txn, lenp = self.f_get, self.txn, self.lenp
        key = bytes_key(size)
        klen, cap = self.size(len(key)), self.size(size)
        buf, _view = self.out_buffer(size)
        for _ in repeat(None, n):
            rc = get(txn, key, klen, buf, cap, lenp)
            if rc:
                raise _fail("get bytes", rc)
            if lenp[0] != size:
                raise WrongAnswer(f"get bytes:{size}: length {lenp[0]}")

    def scan(self, n, _param):
        scan, txn, cb, st, countp = self.f_scan, self.txn, self.scan_cb, self.scan_state, self.lenp
        keys = tables().keys
        lo, hi, klen = keys[0], keys[SCAN_RECORDS], self.size(KEY_LEN)
        null = self.null
        for _ in repeat(None, n):
            st[0] = st[1] = 0
            rc = scan(txn, lo, klen, hi, klen, cb, null, countp)
            if rc:
                raise _fail("scan", rc)
            if st[0] != SCAN_RECORDS or countp[0] != SCAN_RECORDS or st[1]:
                raise WrongAnswer(f"scan: {st[0]} upcalls, {countp[0]} counted, {st[1]} bad")

    def batch(self, n, size):
        batch, txn, t = self.f_batch, self.txn, tables()
        packed, order = t.order_packed, t.order
        buf, view = self.out_buffer(size * VAL_LEN)
        key_lens, val_lens, foundp = self.sizes(size), self.sizes(size), self.lenp
        for i in range(size):
            key_lens[i] = KEY_LEN
        nn, cap, c = self.size(size), self.size(size * VAL_LEN), self.chain
        for _ in repeat(None, n):
            start = c % KEYS
            c += size
            keys = packed[start * KEY_LEN: (start + size) * KEY_LEN]  # the C suite's memcpy
            rc = batch(txn, nn, keys, key_lens, buf, cap, val_lens, foundp)
            if rc:
                raise _fail("batch", rc)
            if foundp[0] != size or HEAD.unpack_from(view)[1] != order[start]:
                raise WrongAnswer(f"batch/n:{size}: found {foundp[0]}")
        self.chain = c

    def close(self):
        self.close_env()


# ---- ctypes -------------------------------------------------------------------------------------
class KvOptions(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("map_size", ctypes.c_uint64), ("durability", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32)]


def _nosync_options(opts):
    opts.version, opts.flags, opts.map_size, opts.durability, opts.reserved = 1, 0, MAP_SIZE, NOSYNC, 0
    return opts


SCAN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                           ctypes.c_size_t, ctypes.c_void_p)


def _load_ctypes(declare):
    """A private CDLL (its function objects carry their own argtypes), declared or not."""
    lib = ctypes.CDLL(kv_library())
    if declare:
        c = ctypes
        P, S, I, U = c.c_void_p, c.c_size_t, c.c_int, c.c_uint
        PS = c.POINTER(c.c_size_t)
        sig = {
            "kv_noop": (None, []), "kv_add": (I, [I, I]),
            "kv_env_open": (I, [c.POINTER(P), c.c_char_p, c.POINTER(KvOptions)]),
            "kv_env_close": (I, [P]), "kv_txn_begin": (I, [c.POINTER(P), P, U]),
            "kv_txn_commit": (I, [P]), "kv_txn_abort": (I, [P]), "kv_txn_free": (I, [P]),
            "kv_put": (I, [P, P, S, P, S]), "kv_get": (I, [P, P, S, P, S, PS]),
            "kv_get_batch": (I, [P, S, P, PS, P, S, PS, PS]),
            "kv_scan": (I, [P, P, S, P, S, SCAN_FN, P, PS]),
        }
        for fname, (res, args) in sig.items():
            f = getattr(lib, fname)
            f.restype, f.argtypes = res, args
    return lib


class Ctypes(CShaped):
    """ctypes with argtypes and restype declared: ctypes converts each argument by its declaration."""

    name = "ctypes"
    declare = True

    def __init__(self, db_path):
        lib = self.lib = _load_ctypes(self.declare)
        self.f_noop, self.f_add, self.f_get, self.f_put = lib.kv_noop, lib.kv_add, lib.kv_get, lib.kv_put
        self.f_scan, self.f_batch = lib.kv_scan, lib.kv_get_batch
        self.null = None
        env = ctypes.c_void_p()
        rc = lib.kv_env_open(ctypes.byref(env), os.fsencode(db_path),
                             ctypes.byref(_nosync_options(KvOptions())))
        if rc:
            raise _fail("kv_env_open", rc)
        self.env = env
        self.scan_state = st = [0, 0]

        def on_record(_key, key_len, _val, val_len, _payload):
            st[0] += 1
            if key_len != KEY_LEN or val_len != VAL_LEN:
                st[1] += 1
            return 0

        self.scan_cb = SCAN_FN(on_record)  # kept alive by self for as long as kv_scan may call it

    # Without argtypes a pointer must travel as a c_void_p (a bare int would be cut to a C int).
    def _ptr(self, p):
        return p.value if self.declare else p

    def begin(self, flags):
        txn = ctypes.c_void_p()
        rc = self.lib.kv_txn_begin(ctypes.byref(txn), self.env, flags)
        if rc:
            raise _fail("kv_txn_begin", rc)
        return self._ptr(txn)

    @staticmethod
    def sizes(n):
        return (ctypes.c_size_t * n)()

    @staticmethod
    def out_buffer(cap):
        buf = ctypes.create_string_buffer(cap)
        return buf, memoryview(buf)

    @staticmethod
    def conv(obj):
        # A bytearray or memoryview is no pointer to ctypes: wrap it in an array over its memory.
        return (ctypes.c_char * len(obj)).from_buffer(obj)


class CtypesNoArgtypes(Ctypes):
    """ctypes with nothing declared: every argument's type is found at call time. Sizes travel as
    c_size_t objects (a bare int would be passed as a C int), pointers as c_void_p."""

    name = "ctypes-noargtypes"
    declare = False

    def size(self, n):
        return ctypes.c_size_t(n)


# ---- cffi ---------------------------------------------------------------------------------------
class CffiBase(CShaped):
    """cffi: ABI mode (dlopen, calls through libffi) or API mode (a compiled module)."""

    def _open(self, ffi, lib, db_path, scan_cb, scan_state):
        self.ffi, self.lib = ffi, lib
        self.null = ffi.NULL
        self.scan_cb, self.scan_state = scan_cb, scan_state
        self.opts = ffi.new("kv_options *", [1, 0, MAP_SIZE, NOSYNC, 0])
        self._open_env(db_path)

    def _open_env(self, db_path):
        lib, ffi = self.lib, self.ffi
        self.f_noop, self.f_add, self.f_get, self.f_put = lib.kv_noop, lib.kv_add, lib.kv_get, lib.kv_put
        self.f_scan, self.f_batch = lib.kv_scan, lib.kv_get_batch
        envp = ffi.new("kv_env **")
        rc = lib.kv_env_open(envp, os.fsencode(db_path), self.opts)
        if rc:
            raise _fail("kv_env_open", rc)
        self.env = envp[0]

    def begin(self, flags):
        txnp = self.ffi.new("kv_txn **")
        rc = self.lib.kv_txn_begin(txnp, self.env, flags)
        if rc:
            raise _fail("kv_txn_begin", rc)
        return txnp[0]

    def sizes(self, n):
        return self.ffi.new("size_t[]", n)

    def out_buffer(self, cap):
        buf = self.ffi.new("char[]", cap)
        return buf, memoryview(self.ffi.buffer(buf))

    @property
    def conv(self):
        return self.ffi.from_buffer  # a bytearray/memoryview as a char[] over its memory


def _scan_counter():
    """A per-record callback body and its state [records, bad records]."""
    st = [0, 0]

    def on_record(_key, key_len, _val, val_len, _payload):
        st[0] += 1
        if key_len != KEY_LEN or val_len != VAL_LEN:
            st[1] += 1
        return 0

    return on_record, st


class CffiAbi(CffiBase):
    name = "cffi-abi"

    def __init__(self, db_path):
        import cffi
        from cffi_defs import CDEF
        ffi = cffi.FFI()
        ffi.cdef(CDEF)
        lib = ffi.dlopen(kv_library())
        on_record, st = _scan_counter()
        self._cb = ffi.callback("kv_scan_fn", on_record)  # alive as long as self
        self._open(ffi, lib, db_path, self._cb, st)


def _cffi_api():
    """The compiled API-mode module, with its extern "Python" scan callback attached once."""
    mod = importlib.import_module("_kvcffi")
    if not hasattr(mod, "scan_state"):
        on_record, st = _scan_counter()
        mod.ffi.def_extern(name="py_scan_cb")(on_record)
        mod.scan_state = st
    return mod


class CffiApi(CffiBase):
    name = "cffi-api"

    def __init__(self, db_path):
        mod = _cffi_api()
        self._open(mod.ffi, mod.lib, db_path, mod.lib.py_scan_cb, mod.scan_state)


class CffiApiHandle(CffiApi):
    """The handle ABI (kv_handle.h) through cffi API mode: the kv_* shapes with u64 handles, each
    validated by the engine on every call."""

    name = "cffi-api-handle"
    buf_kinds = False

    def _open_env(self, db_path):
        lib, ffi = self.lib, self.ffi
        self.f_get, self.f_put = lib.kvh_get, lib.kvh_put
        self.f_scan, self.f_batch = lib.kvh_scan, lib.kvh_get_batch
        hp = ffi.new("kvh_handle *")
        rc = lib.kvh_env_open(hp, os.fsencode(db_path), self.opts)
        if rc:
            raise _fail("kvh_env_open", rc)
        self.env = hp[0]
        self.sump = ffi.new("int *")

    def noop(self, n, _param):
        noop, env = self.lib.kvh_noop, self.env
        for _ in repeat(None, n):
            noop(env)

    def add(self, n, _param):
        add, env, sump, x = self.lib.kvh_add, self.env, self.sump, self.chain & 0x7FFFFFFF
        want = x + n
        for _ in repeat(None, n):
            add(env, x, 1, sump)
            x = sump[0]
        if x != want:
            raise WrongAnswer(f"add: {x} != {want}")

    def begin(self, flags):
        hp = self.ffi.new("kvh_handle *")
        rc = self.lib.kvh_txn_begin(hp, self.env, flags)
        if rc:
            raise _fail("kvh_txn_begin", rc)
        return hp[0]

    def end(self, txn, commit):  # commit and abort release the handle
        rc = (self.lib.kvh_txn_commit if commit else self.lib.kvh_txn_abort)(txn)
        if rc:
            raise _fail("kvh_txn_commit", rc)

    def close_env(self):
        self.lib.kvh_env_close(self.env)


# =================================================================================================
class Marshal:
    """The marshal ABI (kv_marshal.h, engine/doc/PROTOCOL.md) through cffi API mode: each
    operation is a request built with struct and one kvm_call; the response is decoded with struct.
    The marshal ABI has no callbacks: its scan streams every record into one response, and the
    Python callback runs per record while decoding it (the same upcall, on this side of the wire)."""

    name = "cffi-api-marshal"
    buf_kinds = False
    V = ABI["KVM_VERSION"]
    NOOP, ADD, ENV_OPEN, ENV_CLOSE = (ABI[f"KVM_OP_{op}"] for op in ("NOOP", "ADD", "ENV_OPEN", "ENV_CLOSE"))
    TXN_BEGIN, TXN_COMMIT, TXN_ABORT = (ABI[f"KVM_OP_{op}"] for op in ("TXN_BEGIN", "TXN_COMMIT", "TXN_ABORT"))
    PUT, GET, GET_BATCH, SCAN = (ABI[f"KVM_OP_{op}"] for op in ("PUT", "GET", "GET_BATCH", "SCAN"))
    ADD_REQ = struct.Struct("<BBii")
    HDR_H = struct.Struct("<BBQ")     # version, op, handle
    STATUS_H = struct.Struct("<iQ")   # status, handle
    GET_RESP = struct.Struct("<iIII")  # status, V, next, own
    RECORD = struct.Struct("<II")

    def __init__(self, db_path):
        mod = _cffi_api()
        self.ffi, self.call = mod.ffi, mod.lib.kvm_call
        self.lenp = self.ffi.new("size_t[1]")
        self.resp, self.view = self._buffer(64)
        path = os.fsencode(db_path)
        req = struct.pack("<BBI", self.V, self.ENV_OPEN, len(path)) + path + \
            struct.pack("<IIQII", 1, 0, MAP_SIZE, NOSYNC, 0)
        self.env = self._handle(req, "ENV_OPEN")
        self.txn, self.chain = None, 0

    def _buffer(self, cap):
        buf = self.ffi.new("char[]", cap)
        return buf, memoryview(self.ffi.buffer(buf))

    def _simple(self, req, what):
        rc = self.call(req, len(req), self.resp, 64, self.lenp)
        if rc:
            raise _fail(what, rc)

    def _handle(self, req, what):
        self._simple(req, what)
        return self.STATUS_H.unpack_from(self.view)[1]

    def begin(self, flags):
        return self._handle(self.HDR_H.pack(self.V, self.TXN_BEGIN, self.env) + U32.pack(flags),
                            "TXN_BEGIN")

    def end(self, txn, commit):
        self._simple(self.HDR_H.pack(self.V, self.TXN_COMMIT if commit else self.TXN_ABORT, txn),
                     "TXN_COMMIT")

    def setup(self, method, param):
        self.txn = self.begin(TXN_WRITE if method == "put" else TXN_READ)
        self.done = self.chain = 0

    teardown = CShaped.teardown

    def close(self):
        self._simple(self.HDR_H.pack(self.V, self.ENV_CLOSE, self.env), "ENV_CLOSE")

    # ---- loops ------------------------------------------------------------------------------
    def noop(self, n, _param):
        call, req, resp, lenp = self.call, bytes([self.V, self.NOOP]), self.resp, self.lenp
        for _ in repeat(None, n):
            call(req, 2, resp, 4, lenp)

    def add(self, n, _param):
        call, pack, resp, lenp, view = self.call, self.ADD_REQ.pack, self.resp, self.lenp, self.view
        unpack, x = struct.Struct("<ii").unpack_from, self.chain & 0x7FFFFFFF
        want = x + n
        for _ in repeat(None, n):
            call(pack(1, 1, x, 1), 10, resp, 8, lenp)
            x = unpack(view)[1]
        if x != want:
            raise WrongAnswer(f"add: {x} != {want}")

    def get(self, n, _kind):
        call, resp, lenp, view, keys = self.call, self.resp, self.lenp, self.view, tables().keys
        prefix = self.HDR_H.pack(self.V, self.GET, self.txn) + U32.pack(KEY_LEN)
        unpack, i, rlen, cap = self.GET_RESP.unpack_from, self.chain, 14 + KEY_LEN, 8 + VAL_LEN
        for _ in repeat(None, n):
            rc = call(prefix + keys[i], rlen, resp, cap, lenp)
            if rc:
                raise _fail("GET", rc)
            _st, vlen, nxt, own = unpack(view)
            if own != i or vlen != VAL_LEN:
                raise WrongAnswer(f"get: key {i} answered record {own}")
            i = nxt
        self.chain = i

    def put(self, n, _kind):
        call, resp, lenp, keys = self.call, self.resp, self.lenp, tables().put_keys
        head, tail = self.HDR_H.pack, U32.pack(VAL_LEN) + _put_value(None)
        klen, rlen, done = U32.pack(KEY_LEN), 18 + KEY_LEN + VAL_LEN, self.done
        for _ in repeat(None, n):
            req = b"".join((head(self.V, self.PUT, self.txn), klen, keys[done % PUT_KEYS], tail))
            rc = call(req, rlen, resp, 4, lenp)
            if rc:
                raise _fail("PUT", rc)
            done += 1
            if done % PUT_EVERY == 0:
                self.end(self.txn, commit=True)
                self.txn = None
                self.txn = self.begin(TXN_WRITE)
        self.done = done

    def get_bytes(self, n, size):
        call, lenp = self.call, self.lenp
        key = bytes_key(size)
        req = self.HDR_H.pack(self.V, self.GET, self.txn) + U32.pack(len(key)) + key
        resp, view = self._buffer(8 + size)
        for _ in repeat(None, n):
            rc = call(req, len(req), resp, 8 + size, lenp)
            if rc:
                raise _fail("GET", rc)
            if U32.unpack_from(view, 4)[0] != size:
                raise WrongAnswer(f"get bytes:{size}: wrong length")

    def scan(self, n, _param):
        keys = tables().keys
        req = self.HDR_H.pack(self.V, self.SCAN, self.txn) + b"\x01" + U32.pack(KEY_LEN) + keys[0] + \
            b"\x01" + U32.pack(KEY_LEN) + keys[SCAN_RECORDS]
        cap = 8 + SCAN_RECORDS * (8 + KEY_LEN + VAL_LEN)
        resp, view = self._buffer(cap)
        call, lenp, record = self.call, self.lenp, self.RECORD.unpack_from
        on_record, st = _scan_counter()
        for _ in repeat(None, n):
            rc = call(req, len(req), resp, cap, lenp)
            if rc:
                raise _fail("SCAN", rc)
            st[0] = st[1] = 0
            count, pos = U32.unpack_from(view, 4)[0], 8
            for _r in repeat(None, count):
                kl, vl = record(view, pos)
                on_record(None, kl, None, vl, None)
                pos += 8 + kl + vl
            if count != SCAN_RECORDS or st[0] != SCAN_RECORDS or st[1] or pos != lenp[0]:
                raise WrongAnswer(f"scan: {count} records, {st[0]} upcalls, {st[1]} bad")

    def batch(self, n, size):
        t = tables()
        packed, order = t.order_packed, t.order
        head = self.HDR_H.pack(self.V, self.GET_BATCH, self.txn) + U32.pack(size) + \
            struct.pack(f"<{size}I", *([KEY_LEN] * size))
        cap = 12 + 5 * size + size * VAL_LEN
        resp, view = self._buffer(cap)
        call, lenp, c, rlen = self.call, self.lenp, self.chain, len(head) + size * KEY_LEN
        found_at, own_at = 8, 12 + 5 * size + 4
        for _ in repeat(None, n):
            start = c % KEYS
            c += size
            rc = call(head + packed[start * KEY_LEN: (start + size) * KEY_LEN], rlen, resp, cap, lenp)
            if rc:
                raise _fail("GET_BATCH", rc)
            if U32.unpack_from(view, found_at)[0] != size or \
                    U32.unpack_from(view, own_at)[0] != order[start]:
                raise WrongAnswer(f"batch/n:{size}: wrong answer")
        self.chain = c


# =================================================================================================
class Cext:
    """kvext, the C extension module (kvext.c): the native reference. Its functions take Python
    objects and do the conversions in C (buffers through the buffer protocol, METH_FASTCALL)."""

    name = "cext"
    buf_kinds = True

    def __init__(self, db_path):
        self.m = m = importlib.import_module("kvext")
        self.env = m.env_open(os.fsencode(db_path), MAP_SIZE)
        self.txn, self.chain = None, 0

    def setup(self, method, param):
        self.txn = self.m.txn_begin(self.env, TXN_WRITE if method == "put" else TXN_READ)
        self.done = self.chain = 0

    def begin(self, flags):
        return self.m.txn_begin(self.env, flags)

    def end(self, txn, commit):
        self.m.txn_end(txn, commit)

    teardown = CShaped.teardown

    def close(self):
        self.m.env_close(self.env)

    def noop(self, n, _param):
        noop = self.m.noop
        for _ in repeat(None, n):
            noop()

    add = CShaped.add  # kvext.add has kv_add's shape

    @property
    def f_add(self):
        return self.m.add

    def get(self, n, kind):
        txn, keys, unpack, i = self.txn, tables().keys, HEAD.unpack_from, self.chain
        if kind == "bytes":  # kvext.get returns a new bytes object, copied straight from the map
            get = self.m.get
            for _ in repeat(None, n):
                value = get(txn, keys[i])
                nxt, own = unpack(value)
                if own != i or len(value) != VAL_LEN:
                    raise WrongAnswer(f"get: key {i} answered record {own}")
                i = nxt
        else:  # get_into: the caller's writable buffer (a bytearray, or a memoryview of one)
            get_into = self.m.get_into
            out = memoryview(bytearray(VAL_LEN)) if kind == "memoryview" else bytearray(VAL_LEN)
            for _ in repeat(None, n):
                if get_into(txn, keys[i], out) != VAL_LEN:
                    raise WrongAnswer(f"get: key {i}: wrong length")
                nxt, own = unpack(out)
                if own != i:
                    raise WrongAnswer(f"get: key {i} answered record {own}")
                i = nxt
        self.chain = i

    def put(self, n, kind):
        put, keys, value, done = self.m.put, tables().put_keys, _put_value(kind), self.done
        for _ in repeat(None, n):
            put(self.txn, keys[done % PUT_KEYS], value)  # raises kvext.Error on failure
            done += 1
            if done % PUT_EVERY == 0:
                self.end(self.txn, True)
                self.txn = None
                self.txn = self.begin(TXN_WRITE)
        self.done = done

    def get_bytes(self, n, size):
        get_into, txn, key, out = self.m.get_into, self.txn, bytes_key(size), bytearray(size)
        for _ in repeat(None, n):
            if get_into(txn, key, out) != size:
                raise WrongAnswer(f"get bytes:{size}: wrong length")

    def scan(self, n, _param):
        scan, txn, keys = self.m.scan, self.txn, tables().keys
        lo, hi = keys[0], keys[SCAN_RECORDS]
        st = [0, 0]

        def on_record(key_len, val_len):  # kvext passes the lengths (what the check needs)
            st[0] += 1
            if key_len != KEY_LEN or val_len != VAL_LEN:
                st[1] += 1
            return 0

        for _ in repeat(None, n):
            st[0] = st[1] = 0
            count = scan(txn, lo, hi, on_record)
            if count != SCAN_RECORDS or st[0] != SCAN_RECORDS or st[1]:
                raise WrongAnswer(f"scan: {st[0]} upcalls, {count} counted, {st[1]} bad")

    def batch(self, n, size):
        from array import array
        t = tables()
        packed, order, batch, txn = t.order_packed, t.order, self.m.get_batch, self.txn
        key_lens, val_lens = array("L", [KEY_LEN] * size), array("L", [0] * size)  # size_t[n]
        out, c = bytearray(size * VAL_LEN), self.chain
        for _ in repeat(None, n):
            start = c % KEYS
            c += size
            found = batch(txn, packed[start * KEY_LEN: (start + size) * KEY_LEN], key_lens, out, val_lens)
            if found != size or HEAD.unpack_from(out)[1] != order[start]:
                raise WrongAnswer(f"batch/n:{size}: found {found}")
        self.chain = c


MECHANISMS = {c.name: c for c in (Ctypes, CtypesNoArgtypes, CffiAbi, CffiApi, Cext, CffiApiHandle,
                                  Marshal)}


def mechanisms(pypy):
    """The mechanisms of this interpreter, by name. PyPy runs every one; its `cext` is the same
    kvext.c compiled for PyPy and run on cpyext (PyPy's emulation of CPython's C API), so it is
    named `cpyext` there: a figure of that layer, not of a native extension."""
    if not pypy:
        return MECHANISMS
    return {("cpyext" if name == "cext" else name): cls for name, cls in MECHANISMS.items()}
