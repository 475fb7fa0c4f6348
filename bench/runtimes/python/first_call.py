"""first_call.py — a fresh interpreter's first call into the engine, for one mechanism.

Usage: worker.py first-call MECHANISM (worker.py puts the compiled modules on the path)
Prints three integers, in ns: load (importing the binding and loading libkv: what a program pays
before it can call), the first kv_add(2, 3) (for the handle ABI kvh_add on KVH_NULL, for the marshal
ABI an ADD request), and the second, identical call. Nothing else is imported before the clock
starts, so `load` includes the FFI module's own import.
"""
import os
import sys
import time

import kv_abi

ABI = kv_abi.load()  # read before the clock starts
KV_E_BAD_HANDLE = ABI["KV_E_BAD_HANDLE"]
ADD_2_3 = bytes([ABI["KVM_VERSION"], ABI["KVM_OP_ADD"]]) + (2).to_bytes(4, "little") + (3).to_bytes(4, "little")


def main(mech):
    lib_path = os.environ["KV_LIBRARY"]
    t0 = time.perf_counter_ns()
    if mech.startswith("ctypes"):
        import ctypes
        f = ctypes.CDLL(lib_path).kv_add
        if mech == "ctypes":
            f.argtypes, f.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        call, want = (lambda: f(2, 3)), 5
    elif mech == "cffi-abi":
        import cffi
        from cffi_defs import CDEF
        ffi = cffi.FFI()
        ffi.cdef(CDEF)
        f = ffi.dlopen(lib_path).kv_add
        call, want = (lambda: f(2, 3)), 5
    elif mech in ("cext", "cpyext"):  # cpyext: the same kvext under PyPy (bindings.mechanisms)
        import kvext
        call, want = (lambda: kvext.add(2, 3)), 5
    else:
        from _kvcffi import ffi, lib
        if mech == "cffi-api":
            call, want = (lambda: lib.kv_add(2, 3)), 5
        elif mech == "cffi-api-handle":
            sump = ffi.new("int *")
            call, want = (lambda: lib.kvh_add(0, 2, 3, sump)), KV_E_BAD_HANDLE
        else:  # cffi-api-marshal: ADD 2 3
            req, resp, lenp = ADD_2_3, ffi.new("char[8]"), ffi.new("size_t *")

            def call():
                rc = lib.kvm_call(req, 10, resp, 8, lenp)
                return rc or int.from_bytes(ffi.buffer(resp)[4:8], "little")

            want = 5
    t1 = time.perf_counter_ns()
    first = call()
    t2 = time.perf_counter_ns()
    second = call()
    t3 = time.perf_counter_ns()
    if first != want or second != want:
        sys.exit(f"first_call {mech}: got {first}, {second}, want {want}")
    print(t1 - t0, t2 - t1, t3 - t2)
    return 0
