#!/usr/bin/python3
"""check_abi.py KV_ABI_JSON LIBKV_SO — kv_abi.json describes the library that was built.

Loads the JSON and the library (ctypes) and checks, entry by entry, what the library itself says:
every error code's name and message (kv_err_name, kv_strerror), that the codes are distinct and fill
[KV_E_LAST_, -1]; the version (kv_version, kv_version_string) and the soname (the library's file);
sizeof(kv_options) (kv_options_size) and that its fields tile it; that the marshal operations are
exactly the codes kvm_call knows (any other is KV_E_UNKNOWN_OP). Exit 0 when all hold."""
import ctypes
import json
import os
import sys


def main(json_path, lib_path):
    abi = json.load(open(json_path, encoding="utf-8"))
    lib = ctypes.CDLL(lib_path)
    lib.kv_err_name.restype = ctypes.c_char_p
    lib.kv_strerror.restype = ctypes.c_char_p
    lib.kv_version_string.restype = ctypes.c_char_p
    lib.kv_options_size.restype = ctypes.c_size_t
    bad = []

    def check(ok, what):
        if not ok:
            bad.append(what)

    consts = abi["constants"]
    codes = [e["code"] for e in abi["errors"]]
    check(sorted(codes) == list(range(consts["KV_E_LAST_"], 0)), f"error codes {sorted(codes)}")
    for e in abi["errors"]:
        check(lib.kv_err_name(e["code"]).decode() == e["name"], f"name of {e['code']}")
        check(lib.kv_strerror(e["code"]).decode() == e["message"], f"message of {e['name']}")
    check(lib.kv_version() == abi["version_hex"], "version_hex")
    check(lib.kv_version_string().decode() == abi["version"], "version")
    check(os.path.basename(os.path.realpath(lib_path)).startswith(abi["soname"] + "."), "soname")
    opts = abi["structs"]["kv_options"]
    check(lib.kv_options_size() == opts["size"], "sizeof(kv_options)")
    at = 0
    for f in opts["fields"]:
        check(f["offset"] == at, f"kv_options.{f['name']} offset")
        at += f["size"]
    check(at == opts["size"], "kv_options fields tile the struct")
    known = {op["code"] for op in abi["marshal"]["ops"]}
    check(len(known) == len(abi["marshal"]["ops"]), "marshal op codes are distinct")
    unknown_op = next(e["code"] for e in abi["errors"] if e["name"] == "KV_E_UNKNOWN_OP")
    resp = ctypes.create_string_buffer(64)
    n = ctypes.c_size_t()
    for op in range(256):
        req = bytes([abi["marshal"]["version"], op])  # arguments missing: never performed
        rc = lib.kvm_call(req, len(req), resp, 64, ctypes.byref(n))
        check((rc == unknown_op) == (op not in known), f"kvm_call op 0x{op:02x} -> {rc}")
    for what in bad:
        print(f"FAIL {what}")
    print(f"kv_abi.json: {len(abi['errors'])} errors, {len(known)} operations, "
          f"{len(consts)} constants checked against {lib_path}: {len(bad)} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
