// bind_node.mjs — Node's mechanisms, and the engine's clocks. Loaded by worker.mjs under Node only.
//
//   napi           kvnapi.node (kvnapi.c, built by ./build against /usr/include/node): kv.h, kv_env*
//                  and kv_txn* as napi_external values, buffers as typed arrays
//   napi-handle    the same addon's kv_handle.h functions: 64-bit handles as BigInts
//   koffi          koffi 3 (package-lock.json) on kv.h: opaque pointers, typed arrays for void*
//   koffi-handle   koffi on kv_handle.h: uint64_t handles as BigInts
//   napi-marshal   the addon's mcall: kvm_call (kv_marshal.h) on typed arrays, the status returned
//   koffi-marshal  koffi's kvm_call, declared from common.mjs's M_FUNCTIONS
// The marshal mechanisms open their environment and transactions with the handle ABI (untimed).
// get and put also run with a Node Buffer (/buf:buffer) beside the default Uint8Array.
import { createRequire } from "node:module";
import * as path from "node:path";
import process from "node:process";
import { Binding, cstr, ffiSignature, firstCall, M_FUNCTIONS, makeOptions, marshalFirstAdd } from "./common.mjs";

const require = createRequire(import.meta.url);
const OUT = () => process.env.FFIBENCH_JS_OUT ?? path.join(process.env.KV_BUILD_DIR, "runtimes", "js");
const addon = () => require(path.join(OUT(), "kvnapi.node"));
const koffiModule = () => require(path.join(OUT(), "npm", "node_modules", "koffi"));

class NodeBinding extends Binding {
  bufOf(kind, n) {
    if (kind !== "buffer") throw new Error(`no buffer kind ${kind}`);
    return Buffer.alloc(n); // a Node Buffer (a Uint8Array subclass), not from the shared pool
  }
}

class Napi extends NodeBinding {
  constructor(abi) {
    super(abi);
    const a = (this.a = addon());
    this.f = { noop: a.noop, add: a.add, get: a.get, put: a.put, scan: a.scan, batch: a.batch };
    this.nul = null;
  }
  callback(onRecord) { return onRecord; } // N-API calls the JS function itself (napi_call_function)
  openEnv(db) {
    const e = this.a.envOpen(cstr(db), makeOptions(this.abi, this.a.optionsInit));
    if (typeof e === "number") throw new Error(`kv_env_open: ${e}`);
    this.env = e;
  }
  beginTxn(write) {
    const t = this.a.txnBegin(this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (typeof t === "number") throw new Error(`kv_txn_begin: ${t}`);
    return t;
  }
  endTxn(txn) { return this.a.txnCommit(txn); }
  closeEnv() { this.a.envClose(this.env); }
  envAddress() { return this.a.envAddress(this.env); }
  adoptEnv(address) { return this.a.envAt(address); }
}

class NapiHandle extends Napi {
  constructor(abi) {
    super(abi);
    const a = this.a;
    this.shape = "handle";
    this.f = { noop: a.hnoop, add: a.hadd, get: a.hget, put: a.hput, scan: a.hscan, batch: a.hbatch };
  }
  openEnv(db) {
    const e = this.a.henvOpen(cstr(db), makeOptions(this.abi, this.a.optionsInit));
    if (typeof e === "number") throw new Error(`kvh_env_open: ${e}`);
    this.env = e;
  }
  beginTxn(write) {
    const t = this.a.htxnBegin(this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (typeof t === "number") throw new Error(`kvh_txn_begin: ${t}`);
    return t;
  }
  endTxn(txn) { return this.a.htxnCommit(txn); }
  closeEnv() { this.a.henvClose(this.env); }
  envAddress() { return this.env; } // the handle itself
  adoptEnv(handle) { return handle; }
}

class NapiMarshal extends NapiHandle {
  constructor(abi) {
    super(abi);
    this.shape = "marshal";
    this.f = { call: this.a.mcall };
  }
}

// koffi's words for common.mjs's signature tables; (name, result, parameters) is lib.func's form.
const KOFFI_WORDS = { buf: "void *", ptr: "void *", usize: "size_t", i32: "int" };
const koffiFunc = (lib, table, name) => lib.func(name, ...ffiSignature(table[name], KOFFI_WORDS, (params, result) => [result, params]));

// koffi: buffers and size_t out-parameters as void* (koffi passes a typed array's memory).
function koffiLib(handle, marshal) {
  const koffi = koffiModule();
  const lib = koffi.load(process.env.KV_LIBRARY);
  const scanFn = koffi.proto(`int kv_scan_fn_${marshal ? "m" : handle ? "h" : "p"}(const void *key, size_t key_len, const void *val, size_t val_len, void *payload)`);
  const T = handle ? "uint64_t" : "void *";
  const fn = (sig) => lib.func(sig);
  const f = {
    optionsInit: fn("int kv_options_init(void *opts)"),
    envOpen: fn(`int ${handle ? "kvh" : "kv"}_env_open(void *env, const char *path, const void *opts)`),
    envClose: fn(`int ${handle ? "kvh" : "kv"}_env_close(${T} env)`),
    txnBegin: fn(`int ${handle ? "kvh" : "kv"}_txn_begin(void *txn, ${T} env, unsigned int flags)`),
    txnCommit: fn(`int ${handle ? "kvh" : "kv"}_txn_commit(${T} txn)`),
    noop: handle ? fn("int kvh_noop(uint64_t env)") : fn("void kv_noop()"),
    add: handle ? fn("int kvh_add(uint64_t env, int a, int b, void *sum)") : fn("int kv_add(int a, int b)"),
    get: fn(`int ${handle ? "kvh" : "kv"}_get(${T} txn, const void *key, size_t key_len, void *buf, size_t cap, void *len)`),
    put: fn(`int ${handle ? "kvh" : "kv"}_put(${T} txn, const void *key, size_t key_len, const void *val, size_t val_len)`),
    scan: lib.func(`${handle ? "kvh" : "kv"}_scan`, "int", [T, "const void *", "size_t", "const void *", "size_t", koffi.pointer(scanFn), "void *", "void *"]),
    batch: fn(`int ${handle ? "kvh" : "kv"}_get_batch(${T} txn, size_t n, const void *keys, const void *key_lens, void *buf, size_t cap, void *val_lens, void *found)`),
  };
  if (!handle) f.txnFree = fn("void kv_txn_free(void *txn)");
  if (marshal) f.call = koffiFunc(lib, M_FUNCTIONS, "kvm_call");
  return { koffi, f, scanFn };
}

class Koffi extends NodeBinding {
  /** shape: "c" (kv.h), "handle" (kv_handle.h) or "marshal" (kvm_call; kv_handle.h untimed). */
  constructor(abi, shape = "c") {
    super(abi);
    const { koffi, f, scanFn } = koffiLib(shape !== "c", shape === "marshal");
    this.k = koffi;
    this.s = f;
    this.scanFn = scanFn;
    this.shape = shape;
    this.f = shape === "marshal" ? { call: f.call } : { noop: f.noop, add: f.add, get: f.get, put: f.put, scan: f.scan, batch: f.batch };
    this.nul = null;
  }
  callback(onRecord) {
    this.registered = this.k.register(onRecord, this.k.pointer(this.scanFn)); // one trampoline, kept
    return this.registered;
  }
  openEnv(db) {
    const out = new BigUint64Array(1);
    const rc = this.s.envOpen(out, db, makeOptions(this.abi, this.s.optionsInit));
    if (rc) throw new Error(`env_open: ${rc}`);
    this.env = this.unbox(out);
  }
  unbox(out) {
    // A handle is the BigInt itself; a pointer is turned back into one of koffi's pointer values.
    return this.shape === "c" ? this.k.decode(out, "void *") : out[0];
  }
  beginTxn(write) {
    const out = new BigUint64Array(1);
    const rc = this.s.txnBegin(out, this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
    if (rc) throw new Error(`txn_begin: ${rc}`);
    return this.unbox(out);
  }
  endTxn(txn) {
    const rc = this.s.txnCommit(txn);
    if (this.s.txnFree) this.s.txnFree(txn);
    return rc;
  }
  closeEnv() { this.s.envClose(this.env); }
  envAddress() { return this.shape === "c" ? this.k.address(this.env) : this.env; }
  adoptEnv(address) { return this.unbox(BigUint64Array.of(address)); }
}

export function engine() {
  const a = addon();
  const mk = (make, shape) => ({
    shape, primary: shape === "c", threads: shape === "c", bufs: ["buffer"],
    open: (db, abi) => make(abi).init(db), attach: (env, abi) => make(abi).attach(env),
  });
  const koffi = (shape) => mk((abi) => new Koffi(abi, shape), shape);
  const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3; // <time.h> (Linux), not libkv's
  const clock = a.clock;
  const koffiVersion = () => { // asked by hello only: a /threads:2 thread of napi loads no koffi
    try { return koffiModule().version; } catch { return "missing"; }
  };
  return {
    runtime: "node",
    mechanisms: {
      napi: mk((abi) => new Napi(abi), "c"),
      "napi-handle": mk((abi) => new NapiHandle(abi), "handle"),
      "napi-marshal": mk((abi) => new NapiMarshal(abi), "marshal"),
      koffi: koffi("c"),
      "koffi-handle": koffi("handle"),
      "koffi-marshal": koffi("marshal"),
    },
    clock: { wall: () => clock(CLOCK_MONOTONIC), cpu: () => clock(CLOCK_THREAD_CPUTIME_ID) },
    spawn: (url, data) => new (require("node:worker_threads").Worker)(url, { workerData: data }),
    hello: () => [["runtime_name", `Node.js (${process.execPath})`], ["runtime_version", process.versions.node],
      ["runtime_flags", ["node", ...process.execArgv].join(" ")],
      ["runtime_mode", "V8 JIT (Ignition, Sparkplug, Maglev, TurboFan)"],
      ["v8_version", process.versions.v8], ["napi_version", process.versions.napi], ["koffi_version", koffiVersion()],
      ["clock", "clock_gettime(CLOCK_MONOTONIC / CLOCK_THREAD_CPUTIME_ID) in kvnapi.node"]],
  };
}

let fcAbi = null; // kv_abi.json's constants, read before the clock starts
export function prepareFirstCall(abi) {
  fcAbi = abi;
  OUT(); // resolve paths before the clock starts
}

export function firstCallMain(mech, now) {
  const load = () => {
    if (mech === "napi") { const a = addon(); return [() => a.add(2, 3), 5]; }
    // kvh_add on KVH_NULL answers KV_E_BAD_HANDLE
    if (mech === "napi-handle") { const a = addon(), s = new Int32Array(1); return [() => a.hadd(0n, 2, 3, s), fcAbi.KV_E_BAD_HANDLE]; }
    if (mech === "napi-marshal") return marshalFirstAdd(fcAbi, addon().mcall);
    if (mech.startsWith("koffi")) {
      const koffi = koffiModule(), lib = koffi.load(process.env.KV_LIBRARY);
      if (mech === "koffi") { const add = lib.func("int kv_add(int a, int b)"); return [() => add(2, 3), 5]; }
      if (mech === "koffi-marshal") return marshalFirstAdd(fcAbi, koffiFunc(lib, M_FUNCTIONS, "kvm_call"));
      if (mech !== "koffi-handle") throw new Error(`no mechanism ${mech}`);
      const add = lib.func("int kvh_add(uint64_t env, int a, int b, void *sum)"), s = new Int32Array(1);
      return [() => add(0n, 2, 3, s), fcAbi.KV_E_BAD_HANDLE];
    }
    throw new Error(`no mechanism ${mech}`);
  };
  firstCall(mech, load, now);
}
