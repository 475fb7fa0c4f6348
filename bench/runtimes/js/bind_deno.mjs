// bind_deno.mjs — Deno's mechanisms: Deno.dlopen on libkv (V8 fast API calls where the signature
// allows them), and the engine's clocks. Loaded by worker.mjs under Deno only.
//
//   dlopen          kv.h: i32 arguments and results, "buffer" (typed arrays) and "pointer"
//                   (opaque kv_txn*) parameters: the signatures Deno compiles to a V8 fast call
//   dlopen-handle   kv_handle.h: the same calls with a 64-bit handle ("u64", passed as a BigInt):
//                   the case that leaves the small-integer path
// The scan's upcall is a Deno.UnsafeCallback (a "function" parameter) in both.
import {
  Binding, C_FUNCTIONS, ffiSignature, ffiSymbols, firstCall, H_FUNCTIONS, makeOptions, SCAN_FUNCTION,
} from "./common.mjs";

const LIB = () => Deno.env.get("KV_LIBRARY");

const WORDS = { buf: "buffer", ptr: "pointer", fn: "function" };
const declare = (parameters, result) => ({ parameters, result });
const C_SYMBOLS = ffiSymbols(C_FUNCTIONS, WORDS, declare);
const H_SYMBOLS = ffiSymbols(H_FUNCTIONS, WORDS, declare);
const SCAN_FN = ffiSignature(SCAN_FUNCTION, WORDS, declare);
const enc = new TextEncoder();

class DenoBinding extends Binding {
  callback(onRecord) {
    this.upcall = new Deno.UnsafeCallback(SCAN_FN, onRecord); // kept alive by this binding
    return this.upcall.pointer;
  }
}

class Dlopen extends DenoBinding {
  constructor(abi) {
    super(abi);
    this.lib = Deno.dlopen(LIB(), C_SYMBOLS);
    const s = this.lib.symbols;
    this.s = s;
    this.f = { noop: s.kv_noop, add: s.kv_add, get: s.kv_get, put: s.kv_put, scan: s.kv_scan, batch: s.kv_get_batch };
    this.nul = null;
  }

  openEnv(db) {
    const out = new BigUint64Array(1);
    const rc = this.s.kv_env_open(out, enc.encode(db + "\0"), makeOptions(this.abi, this.s.kv_options_init));
    if (rc) throw new Error(`kv_env_open: ${rc}`);
    this.env = Deno.UnsafePointer.create(out[0]);
  }

  beginTxn(write) {
    const out = new BigUint64Array(1);
    const rc = this.s.kv_txn_begin(out, this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (rc) throw new Error(`kv_txn_begin: ${rc}`);
    return Deno.UnsafePointer.create(out[0]);
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

class DlopenHandle extends DenoBinding {
  constructor(abi) {
    super(abi);
    this.shape = "handle";
    this.lib = Deno.dlopen(LIB(), H_SYMBOLS);
    const s = this.lib.symbols;
    this.s = s;
    this.f = { noop: s.kvh_noop, add: s.kvh_add, get: s.kvh_get, put: s.kvh_put, scan: s.kvh_scan, batch: s.kvh_get_batch };
    this.nul = null;
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
    shape: Cls === DlopenHandle ? "handle" : "c",
    primary: Cls === Dlopen,
    open(db, abi) {
      return new Cls(abi).init(db);
    },
  });
  // The clocks: clock_gettime from libc through the same FFI (integer nanoseconds; the thread's
  // CPU time, which no Deno API gives).
  const libc = Deno.dlopen("libc.so.6", { clock_gettime: { parameters: ["i32", "buffer"], result: "i32" } });
  const ts = new BigInt64Array(2), gt = libc.symbols.clock_gettime;
  const read = (id) => {
    if (gt(id, ts)) throw new Error("clock_gettime failed");
    return ts[0] * 1000000000n + ts[1];
  };
  const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3; // <time.h> (Linux), not libkv's
  const wall = () => read(CLOCK_MONOTONIC), cpu = () => read(CLOCK_THREAD_CPUTIME_ID); // BigInt ns
  return {
    runtime: "deno",
    mechanisms: { dlopen: mk(Dlopen), "dlopen-handle": mk(DlopenHandle) },
    clock: { wall, cpu },
    hello: () => [["runtime_name", `Deno (${Deno.execPath()})`], ["runtime_version", Deno.version.deno],
      ["runtime_flags", `deno run ${Deno.env.get("FFIBENCH_JS_FLAGS") ?? ""}`.trim()],
      ["runtime_mode", "V8 JIT (Ignition, Sparkplug, Maglev, TurboFan); FFI calls as V8 fast API calls where the signature allows"],
      ["v8_version", Deno.version.v8], ["typescript_version", Deno.version.typescript],
      ["clock", "clock_gettime(CLOCK_MONOTONIC / CLOCK_THREAD_CPUTIME_ID) through Deno.dlopen of libc"]],
  };
}

export function firstCallMain(mech, now) {
  const load = () => {
    if (mech === "dlopen") {
      const lib = Deno.dlopen(LIB(), { kv_add: C_SYMBOLS.kv_add });
      const add = lib.symbols.kv_add;
      return [() => add(2, 3), 5];
    }
    if (mech === "dlopen-handle") {
      const lib = Deno.dlopen(LIB(), { kvh_add: H_SYMBOLS.kvh_add });
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
