// bind_bun.mjs — Bun's mechanisms: bun:ffi on libkv (call stubs compiled by Bun's embedded TinyCC,
// called from JavaScriptCore), and the engine's clocks. Loaded by worker.mjs under Bun only.
//
//   ffi          kv.h: i32 arguments and results, "ptr" parameters given typed arrays (Bun takes
//                their address on each call) and kv_txn* as a number
//   ffi-handle   kv_handle.h: the same calls with a 64-bit handle ("u64", passed as a BigInt):
//                the case that leaves the small-integer path
// The scan's upcall is a JSCallback (a "function" parameter) in both.
import { dlopen, JSCallback } from "bun:ffi";
import {
  Binding, C_FUNCTIONS, ffiSignature, ffiSymbols, firstCall, H_FUNCTIONS, makeOptions, SCAN_FUNCTION,
} from "./common.mjs";

const LIB = () => process.env.KV_LIBRARY;

const WORDS = { buf: "ptr", fn: "function" };
const declare = (args, returns) => ({ args, returns });
const C_SYMBOLS = ffiSymbols(C_FUNCTIONS, WORDS, declare);
const H_SYMBOLS = ffiSymbols(H_FUNCTIONS, WORDS, declare);
const SCAN_FN = ffiSignature(SCAN_FUNCTION, WORDS, declare);
const enc = new TextEncoder();

class BunBinding extends Binding {
  callback(onRecord) {
    this.upcall = new JSCallback(onRecord, SCAN_FN); // kept alive by this binding
    return this.upcall.ptr;
  }
}

class Ffi extends BunBinding {
  constructor(abi) {
    super(abi);
    this.lib = dlopen(LIB(), C_SYMBOLS);
    const s = this.lib.symbols;
    this.s = s;
    this.f = { noop: s.kv_noop, add: s.kv_add, get: s.kv_get, put: s.kv_put, scan: s.kv_scan, batch: s.kv_get_batch };
    this.nul = 0;
  }

  openEnv(db) {
    const out = new BigUint64Array(1);
    const rc = this.s.kv_env_open(out, enc.encode(db + "\0"), makeOptions(this.abi, this.s.kv_options_init));
    if (rc) throw new Error(`kv_env_open: ${rc}`);
    this.env = Number(out[0]);
  }

  beginTxn(write) {
    const out = new BigUint64Array(1);
    const rc = this.s.kv_txn_begin(out, this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (rc) throw new Error(`kv_txn_begin: ${rc}`);
    return Number(out[0]);
  }

  endTxn(txn, _commit) {
    const rc = this.s.kv_txn_commit(txn);
    this.s.kv_txn_free(txn);
    return rc;
  }

  closeEnv() {
    this.s.kv_env_close(this.env);
  }
}

class FfiHandle extends BunBinding {
  constructor(abi) {
    super(abi);
    this.shape = "handle";
    this.lib = dlopen(LIB(), H_SYMBOLS);
    const s = this.lib.symbols;
    this.s = s;
    this.f = { noop: s.kvh_noop, add: s.kvh_add, get: s.kvh_get, put: s.kvh_put, scan: s.kvh_scan, batch: s.kvh_get_batch };
    this.nul = 0;
  }

  openEnv(db) {
    const out = new BigUint64Array(1);
    const rc = this.s.kvh_env_open(out, enc.encode(db + "\0"), makeOptions(this.abi, this.s.kv_options_init));
    if (rc) throw new Error(`kvh_env_open: ${rc}`);
    this.env = out[0]; // a BigInt: the handle is 64 bits wide
  }

  beginTxn(write) {
    const out = new BigUint64Array(1);
    const rc = this.s.kvh_txn_begin(out, this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (rc) throw new Error(`kvh_txn_begin: ${rc}`);
    return out[0];
  }

  endTxn(txn, _commit) {
    return this.s.kvh_txn_commit(txn);
  }

  closeEnv() {
    this.s.kvh_env_close(this.env);
  }
}

export function engine() {
  const mk = (Cls) => ({
    shape: Cls === FfiHandle ? "handle" : "c",
    primary: Cls === Ffi,
    open(db, abi) {
      return new Cls(abi).init(db);
    },
  });
  // The clocks: clock_gettime from libc through the same FFI (integer nanoseconds; the thread's
  // CPU time, which no Bun API gives).
  const libc = dlopen("libc.so.6", { clock_gettime: { args: ["i32", "ptr"], returns: "i32" } });
  const ts = new BigInt64Array(2), gt = libc.symbols.clock_gettime;
  const read = (id) => {
    if (gt(id, ts)) throw new Error("clock_gettime failed");
    return ts[0] * 1000000000n + ts[1];
  };
  const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3; // <time.h> (Linux), not libkv's
  const wall = () => read(CLOCK_MONOTONIC), cpu = () => read(CLOCK_THREAD_CPUTIME_ID); // BigInt ns
  return {
    runtime: "bun",
    mechanisms: { ffi: mk(Ffi), "ffi-handle": mk(FfiHandle) },
    clock: { wall, cpu },
    hello: () => [["runtime_name", `Bun (${process.execPath})`], ["runtime_version", Bun.version],
      ["runtime_flags", `bun run ${process.env.FFIBENCH_JS_FLAGS ?? ""}`.trim()],
      ["runtime_mode", "JavaScriptCore JIT (LLInt, Baseline, DFG, FTL); bun:ffi stubs compiled by TinyCC"],
      ["bun_revision", Bun.revision],
      ["clock", "clock_gettime(CLOCK_MONOTONIC / CLOCK_THREAD_CPUTIME_ID) through bun:ffi of libc"]],
  };
}

export function firstCallMain(mech, now) {
  const load = () => {
    if (mech === "ffi") {
      const lib = dlopen(LIB(), { kv_add: C_SYMBOLS.kv_add });
      const add = lib.symbols.kv_add;
      return [() => add(2, 3), 5];
    }
    if (mech === "ffi-handle") {
      const lib = dlopen(LIB(), { kvh_add: H_SYMBOLS.kvh_add });
      const add = lib.symbols.kvh_add, sum = new Int32Array(1);
      return [() => add(0n, 2, 3, sum), KV_E_BAD_HANDLE()];
    }
    throw new Error(`no mechanism ${mech}`);
  };
  firstCall(mech, load, now);
}

// kvh_add on KVH_NULL answers KV_E_BAD_HANDLE: read from kv_abi.json before the clock starts.
let badHandle = null;
export function prepareFirstCall(abi) {
  badHandle = abi.KV_E_BAD_HANDLE;
}
function KV_E_BAD_HANDLE() {
  return badHandle;
}
