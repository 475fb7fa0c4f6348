// common.mjs — what the three JavaScript engines' workers share (bench/runtimes/README.md is the
// protocol): the data folder ($FFIBENCH_DATA) as the bindings use it, libkv's constants (from
// kv_abi.json, never typed here), the workload loops, and the protocol loop.
//
// Engine-neutral: it uses node:fs, which Node, Deno and Bun all provide. A binding module
// (bind_node.mjs, bind_deno.mjs, bind_bun.mjs) gives each mechanism's raw foreign functions in the
// C shapes (f.get(txn, key, klen, buf, cap, lenp) ...); the loops here call them directly, so the
// timed loop holds the FFI's own call site and nothing else. A process runs one benchmark (the
// driver forks per benchmark), so each loop below sees one mechanism's functions: monomorphic.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { Pair } from "./pair.mjs";

// libkv's functions the Deno and Bun bindings open, in engine-neutral types — "buf": a typed array
// passed as a pointer to its bytes, "ptr": an opaque pointer, "fn": a callback pointer — which each
// binding spells in its FFI's own words (ffiSymbols).
export const C_FUNCTIONS = {
  kv_options_init: [["buf"], "i32"],
  kv_env_open: [["buf", "buf", "buf"], "i32"],
  kv_env_close: [["ptr"], "i32"],
  kv_txn_begin: [["buf", "ptr", "u32"], "i32"],
  kv_txn_commit: [["ptr"], "i32"],
  kv_txn_free: [["ptr"], "void"],
  kv_noop: [[], "void"],
  kv_add: [["i32", "i32"], "i32"],
  kv_get: [["ptr", "buf", "usize", "buf", "usize", "buf"], "i32"],
  kv_put: [["ptr", "buf", "usize", "buf", "usize"], "i32"],
  kv_scan: [["ptr", "buf", "usize", "buf", "usize", "fn", "ptr", "buf"], "i32"],
  kv_get_batch: [["ptr", "usize", "buf", "buf", "buf", "usize", "buf", "buf"], "i32"],
};

export const H_FUNCTIONS = {
  kv_options_init: [["buf"], "i32"],
  kvh_env_open: [["buf", "buf", "buf"], "i32"],
  kvh_env_close: [["u64"], "i32"],
  kvh_txn_begin: [["buf", "u64", "u32"], "i32"],
  kvh_txn_commit: [["u64"], "i32"],
  kvh_noop: [["u64"], "i32"],
  kvh_add: [["u64", "i32", "i32", "buf"], "i32"],
  kvh_get: [["u64", "buf", "usize", "buf", "usize", "buf"], "i32"],
  kvh_put: [["u64", "buf", "usize", "buf", "usize"], "i32"],
  kvh_scan: [["u64", "buf", "usize", "buf", "usize", "fn", "ptr", "buf"], "i32"],
  kvh_get_batch: [["u64", "usize", "buf", "buf", "buf", "usize", "buf", "buf"], "i32"],
};

// The marshal ABI (kv_marshal.h): one entry point, kvm_call(req, req_len, resp, resp_cap, &resp_len).
// Its environments and transactions are the handle ABI's (H_FUNCTIONS opens them).
export const M_FUNCTIONS = {
  kvm_call: [["buf", "usize", "buf", "usize", "buf"], "i32"],
};

// The scan callback's signature: (key, key_len, value, value_len, ctx) -> continue?
export const SCAN_FUNCTION = [["ptr", "usize", "ptr", "usize", "ptr"], "i32"];

// A signature in an FFI's type words ({buf: "buffer", ...}; a type not named is its own word) and
// its declaration shape ((params, result) -> declaration); ffiSymbols does a table of them.
export function ffiSignature([params, result], words, shape) {
  const word = (t) => words[t] ?? t;
  return shape(params.map(word), word(result));
}

export function ffiSymbols(functions, words, shape) {
  return Object.fromEntries(Object.entries(functions).map(([name, sig]) => [name, ffiSignature(sig, words, shape)]));
}

export class WrongAnswer extends Error {}

export function fail(what, rc) {
  return new WrongAnswer(`${what}: engine returned ${rc}`);
}

// ---- libkv's ABI constants ----------------------------------------------------------------------
export function loadAbi() {
  const file = path.join(process.env.KV_BUILD_DIR ?? "", "engine", "kv_abi.json");
  const abi = JSON.parse(fs.readFileSync(file, "utf8"));
  const c = { ...abi.constants };
  for (const e of abi.errors) c[e.name] = e.code;
  for (const op of abi.marshal.ops) c[op.name] = op.code;
  c.options = abi.structs.kv_options; // { size, fields: [{ name, offset, size }] }
  return c;
}

/** A kv_options block: filled by the library's own kv_options_init (init(bytes) -> rc), then the
 *  suite's settings (1 GiB map, no-sync) written at the offsets kv_abi.json gives. */
export function makeOptions(abi, init) {
  const bytes = new Uint8Array(abi.options.size);
  const rc = init(bytes);
  if (rc) throw fail("kv_options_init", rc);
  const dv = new DataView(bytes.buffer);
  const at = (n) => abi.options.fields.find((f) => f.name === n).offset;
  dv.setBigUint64(at("map_size"), 1n << 30n, true);
  dv.setUint32(at("durability"), abi.KV_DURABLE_NOSYNC, true);
  return bytes;
}

// ---- the data folder ----------------------------------------------------------------------------
export const DATA = process.env.FFIBENCH_DATA ?? "";

function manifest(folder) {
  const facts = {}, workloads = {};
  for (const line of fs.readFileSync(path.join(folder, "manifest.txt"), "utf8").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const f = line.split("\t");
    if (f[0] === "workload") workloads[f[1]] = f.slice(2);
    else facts[f[0]] = f.slice(1);
  }
  return { facts, workloads };
}

const M = DATA ? manifest(DATA) : { facts: {}, workloads: {} };
const values = (w) => M.workloads[w][1].split(",").map(Number);
const fact = (k, i) => Number(M.facts[k][i]);

export const KEYS = DATA ? fact("keys", 1) : 0;
export const KEY_LEN = DATA ? fact("keys", 2) : 0;
export const MISS_KEYS = DATA ? fact("miss", 1) : 0;
export const PUT_KEYS = DATA ? fact("put_keys", 1) : 0;
export const VAL_LEN = DATA ? fact("value_length", 0) : 0;
export const SCAN_RECORDS = DATA ? Number(M.workloads["scan/dir:upcall"][2]) : 0;
export const PUT_EVERY = DATA ? values("put")[0] : 0;
export const BYTES_SIZES = DATA ? values("get") : [];
export const BATCH_NS = DATA ? values("batch") : [];

function table(name) {
  const [file, rows, width] = [M.facts[name][0], Number(M.facts[name][1]), Number(M.facts[name][2])];
  const blob = new Uint8Array(fs.readFileSync(path.join(DATA, file)));
  if (blob.length !== rows * width) throw new WrongAnswer(`${file}: ${blob.length} bytes, the manifest says ${rows} x ${width}`);
  return { blob, rows, width };
}

/** The tables, each key its own Uint8Array (a view into the file's bytes, as C's keys[i] points
 *  into its table), the order as numbers, and every key in batch order packed, with room to wrap. */
export class Tables {
  constructor() {
    const k = table("keys"), m = table("miss"), p = table("put_keys"), o = table("order");
    const rows = (t) => Array.from({ length: t.rows }, (_, i) => t.blob.subarray(i * t.width, (i + 1) * t.width));
    this.raw = [k.blob, o.blob, m.blob, p.blob];
    this.keys = rows(k);
    this.miss = rows(m);
    this.putKeys = rows(p);
    if (o.width !== 4 || o.rows !== KEYS) throw new WrongAnswer("order.u32 does not hold one u32 per key");
    const dv = new DataView(o.blob.buffer, o.blob.byteOffset, o.blob.byteLength);
    this.order = Array.from({ length: o.rows }, (_, i) => dv.getUint32(4 * i, true));
  }

  get orderPacked() { // made on first use (batch only)
    if (!this.packed) {
      const extra = Math.max(...BATCH_NS);
      this.packed = new Uint8Array((KEYS + extra) * KEY_LEN);
      for (let i = 0; i < KEYS + extra; i++) this.packed.set(this.keys[this.order[i % KEYS]], i * KEY_LEN);
    }
    return this.packed;
  }

  checksum() {
    // FNV-1a 64 over keys, order (re-encoded as u32 little-endian from what was parsed), miss, put keys.
    let h = 0xcbf29ce484222325n;
    const prime = 0x100000001b3n, mask = (1n << 64n) - 1n;
    const order = new Uint8Array(this.order.length * 4);
    const dv = new DataView(order.buffer);
    this.order.forEach((v, i) => dv.setUint32(4 * i, v, true));
    for (const blob of [this.raw[0], order, this.raw[2], this.raw[3]]) {
      for (let i = 0; i < blob.length; i++) h = ((h ^ BigInt(blob[i])) * prime) & mask;
    }
    return `fnv1a64:${h.toString(16).padStart(16, "0")}`;
  }
}

let TABLES = null;
export function tables() {
  return (TABLES ??= new Tables());
}

const enc = new TextEncoder();
export const bytesKey = (n) => enc.encode(`bytes:${n}`);
export const cstr = (s) => enc.encode(s + "\0");

// ---- the benchmarks of a mechanism ---------------------------------------------------------------
/** The ends of a manifest's parameter list: a full run's time budget (README.md, "Time") gives
 *  the JavaScript runtimes the two ends of each curve, not every point of it. */
export function ends(list) {
  return list.length > 1 ? [list[0], list[list.length - 1]] : list;
}

/** FFIBENCH_LIST=all: every benchmark the loops can run (the protocol test), not a full run's list. */
const LIST_ALL = process.env.FFIBENCH_LIST === "all";

/** [method, workload name, param, ops, threads] for a mechanism. mech.primary: the engine's main
 *  mechanism, which runs every workload (payload and batch curves at their ends); the others (the
 *  handle and marshal ABIs) run the calls, where they differ. mech.shape "marshal": kvm_call's
 *  loops (noop, add, get). mech.bufs: the buffer kinds get and put also run with (/buf:<kind>),
 *  e.g. Node's Buffer. mech.threads: noop and get/mode:latency also run on two threads at once
 *  (pair.mjs). With FFIBENCH_LIST=all every mechanism lists every loop it has, at every size. */
export function workloadList(mech) {
  const out = [["noop", "noop", null, 1, 1], ["add", "add/mode:latency", null, 1, 1]];
  if (mech.shape === "marshal") {
    if (LIST_ALL) out.push(["get", "get/mode:latency", null, 1, 1]);
    return out;
  }
  if (!mech.primary && !LIST_ALL) return out;
  const curve = (list) => (LIST_ALL ? list : ends(list));
  out.push(["addThroughput", "add/mode:throughput", null, 1, 1],
    ["get", "get/mode:latency", null, 1, 1], ["getThroughput", "get/mode:throughput", null, 1, 1],
    ["getMiss", "get_miss", null, 1, 1], ["put", `put/commit_every:${PUT_EVERY}`, null, 1, 1]);
  for (const k of mech.bufs ?? []) {
    out.push(["get", `get/mode:latency/buf:${k}`, k, 1, 1], ["put", `put/commit_every:${PUT_EVERY}/buf:${k}`, k, 1, 1]);
  }
  for (const n of curve(BYTES_SIZES)) out.push(["getBytes", `get/bytes:${n}`, n, 1, 1]);
  out.push(["scan", "scan/dir:upcall", null, SCAN_RECORDS, 1]);
  for (const n of curve(BATCH_NS)) out.push(["batch", `batch/n:${n}`, n, n, 1]);
  if (mech.threads) out.push(["noop", "noop/threads:2", null, 1, 2], ["get", "get/mode:latency/threads:2", null, 1, 2]);
  return out;
}

// ---- the loops -----------------------------------------------------------------------------------
// b: a mechanism's binding. b.f: its raw foreign functions; b.txn the open transaction (a pointer
// value of the FFI, or a handle); b.alloc(n) a buffer the FFI passes as a pointer; b.sizes(n) a
// size_t[n] (a BigUint64Array) and b.sizesView its low 32-bit words to read; b.cb the native scan
// callback, whose JS body counts into b.scanState. Shapes: "c" (kv.h: add returns the sum, noop
// returns nothing), "handle" (kv_handle.h: every call returns a code, add's sum by pointer) or
// "marshal" (kv_marshal.h: b.f.call is kvm_call; each loop writes its request into a buffer made
// once, b.request(op, len), and reads the response from b.response(): status, then results).
export const loops = {
  control(b, n) {
    for (let i = 0; i < n; i++) {
      // nothing: <runtime>/control/loop
    }
  },

  noop(b, n) {
    if (b.shape === "marshal") {
      const call = b.f.call, req = b.request(b.abi.KVM_OP_NOOP, b.abi.KVM_HEADER_SIZE), [resp, , lenp] = b.response();
      const reqLen = b.usize(req.length), cap = b.usize(b.abi.KVM_STATUS_SIZE); // NOOP: header -> status
      let bad = 0;
      for (let i = 0; i < n; i++) bad |= call(req, reqLen, resp, cap, lenp); // the status
      if (bad) throw fail("kvm_call NOOP", bad);
      return;
    }
    const noop = b.f.noop;
    if (b.shape === "handle") {
      const env = b.env;
      let bad = 0;
      for (let i = 0; i < n; i++) bad |= noop(env);
      if (bad) throw fail("kvh_noop", bad);
    } else {
      for (let i = 0; i < n; i++) noop();
    }
  },

  add(b, n) {
    const add = b.f.add;
    // The chain goes on from the last run, kept below 2^20 at the start of a run, so that x stays
    // a small integer (V8's Smi, 31 bits) however many runs a fork makes, as in every fork.
    let x = b.chain & 0xfffff;
    const want = x + n;
    if (b.shape === "marshal") {
      // ADD: request [version, op, i32 a, i32 b], response [i32 status, i32 sum] (PROTOCOL.md 5.1)
      const A = b.abi.KVM_HEADER_SIZE, call = b.f.call, req = b.request(b.abi.KVM_OP_ADD, A + 8), reqLen = b.usize(req.length);
      const [resp, words, lenp] = b.response(), cap = b.usize(b.abi.KVM_STATUS_SIZE + 4); // words: resp's i32s
      const args = new DataView(req.buffer, req.byteOffset, req.byteLength);
      args.setInt32(A + 4, 1, true); // b
      for (let i = 0; i < n; i++) {
        args.setInt32(A, x, true); // a: each call takes the previous result (mode:latency)
        const rc = call(req, reqLen, resp, cap, lenp);
        if (rc) throw fail("kvm_call ADD", rc);
        x = words[1]; // the sum, after the status
      }
    } else if (b.shape === "handle") {
      const env = b.env, sump = b.sump, sum = b.sum;
      for (let i = 0; i < n; i++) {
        const rc = add(env, x, 1, sump); // each call takes the previous result (mode:latency)
        if (rc) throw fail("kvh_add", rc);
        x = sum[0];
      }
    } else {
      for (let i = 0; i < n; i++) x = add(x, 1); // each call takes the previous result (mode:latency)
    }
    if (x !== want) throw new WrongAnswer(`add: ${x} != ${want}`);
    b.chain = x;
  },

  addThroughput(b, n) {
    const add = b.f.add;
    let acc = 0; // independent calls, results summed (u32 wrap, as the C loop)
    if (b.shape === "handle") {
      const env = b.env, sump = b.sump, sum = b.sum;
      for (let i = 0; i < n; i++) {
        const rc = add(env, i | 0, 1, sump);
        acc = (acc + (rc === 0 ? sum[0] : 0x40000000)) >>> 0;
      }
    } else {
      for (let i = 0; i < n; i++) acc = (acc + add(i | 0, 1)) >>> 0;
    }
    let want = 0;
    for (let i = 0; i < n; i++) want = (want + (i | 0) + 1) >>> 0;
    if (acc !== want) throw new WrongAnswer(`add throughput: ${acc} != ${want}`);
  },

  get(b, n, kind) {
    if (b.shape === "marshal") {
      // GET: request [version, op, handle txn, u32 K, key], response [i32 status, u32 V, value]
      // (PROTOCOL.md 5.4); the key copied into the request each call, as the C marshal row does.
      const A = b.abi.KVM_HEADER_SIZE, KEY_AT = A + 12, keys = tables().keys;
      const call = b.f.call, req = b.request(b.abi.KVM_OP_GET, KEY_AT + KEY_LEN), reqLen = b.usize(req.length);
      const [resp, words, lenp] = b.response(), cap = b.usize(b.abi.KVM_STATUS_SIZE + 4 + VAL_LEN);
      const head = new DataView(req.buffer, req.byteOffset, req.byteLength);
      head.setBigUint64(A, b.txn, true);
      head.setUint32(A + 8, KEY_LEN, true);
      let i = b.chain;
      for (let k = 0; k < n; k++) {
        req.set(keys[i], KEY_AT);
        const rc = call(req, reqLen, resp, cap, lenp);
        if (rc) throw fail("kvm_call GET", rc);
        // words: status, V, then the value's: [next key, own index, ...]
        if (words[1] !== VAL_LEN || words[3] !== i) throw new WrongAnswer(`get: key ${i} answered record ${words[3]}`);
        i = words[2]; // the next key comes out of the value just read (mode:latency)
      }
      b.chain = i;
      return;
    }
    const get = b.f.get, txn = b.txn, lenp = b.lenp, len = b.lenView, keys = tables().keys;
    const klen = b.usize(KEY_LEN), cap = b.usize(VAL_LEN), buf = kind ? b.bufOf(kind, VAL_LEN) : b.out(VAL_LEN);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let i = b.chain;
    for (let k = 0; k < n; k++) {
      const rc = get(txn, keys[i], klen, buf, cap, lenp);
      if (rc) throw fail("get", rc);
      if (len[0] !== VAL_LEN || v.getUint32(4, true) !== i) throw new WrongAnswer(`get: key ${i} answered record ${v.getUint32(4, true)}`);
      i = v.getUint32(0, true); // the next key comes out of the value just read (mode:latency)
    }
    b.chain = i;
  },

  getThroughput(b, n) {
    const get = b.f.get, txn = b.txn, lenp = b.lenp, len = b.lenView, t = tables(), keys = t.keys, order = t.order;
    const klen = b.usize(KEY_LEN), cap = b.usize(VAL_LEN), buf = b.out(VAL_LEN);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let at = b.chain;
    for (let k = 0; k < n; k++) {
      const i = order[at++ % KEYS];
      const rc = get(txn, keys[i], klen, buf, cap, lenp);
      if (rc) throw fail("get", rc);
      if (len[0] !== VAL_LEN || v.getUint32(4, true) !== i) throw new WrongAnswer(`get: key ${i} answered record ${v.getUint32(4, true)}`);
    }
    b.chain = at;
  },

  getMiss(b, n) {
    const get = b.f.get, txn = b.txn, lenp = b.lenp, miss = tables().miss, buf = b.out(VAL_LEN);
    const klen = b.usize(KEY_LEN), cap = b.usize(VAL_LEN), want = b.abi.KV_E_NOT_FOUND;
    let at = b.chain;
    for (let k = 0; k < n; k++) {
      const rc = get(txn, miss[at++ % MISS_KEYS], klen, buf, cap, lenp);
      if (rc !== want) throw new WrongAnswer(`get_miss: engine returned ${rc}, not KV_E_NOT_FOUND`);
    }
    b.chain = at;
  },

  put(b, n, kind) {
    const put = b.f.put, keys = tables().putKeys;
    const value = kind ? b.bufOf(kind, VAL_LEN) : b.out(VAL_LEN), klen = b.usize(KEY_LEN), vlen = b.usize(VAL_LEN);
    value.fill(0x5a);
    let done = b.done;
    for (let k = 0; k < n; k++) {
      const rc = put(b.txn, keys[done % PUT_KEYS], klen, value, vlen);
      if (rc) throw fail("put", rc);
      done++;
      if (done % PUT_EVERY === 0) { // commit every 100 puts (no-sync), as the C suite does
        b.end(true);
        b.begin(true);
      }
    }
    b.done = done;
  },

  getBytes(b, n, size) {
    const get = b.f.get, txn = b.txn, lenp = b.lenp, len = b.lenView;
    const key = bytesKey(size), klen = b.usize(key.length), cap = b.usize(size), buf = b.out(size);
    for (let k = 0; k < n; k++) {
      const rc = get(txn, key, klen, buf, cap, lenp);
      if (rc) throw fail("get bytes", rc);
      if (len[0] !== size) throw new WrongAnswer(`get bytes:${size}: length ${len[0]}`);
    }
  },

  scan(b, n) {
    const scan = b.f.scan, txn = b.txn, cb = b.cb, st = b.scanState, countp = b.lenp, count = b.lenView;
    const keys = tables().keys, lo = keys[0], hi = keys[SCAN_RECORDS], nul = b.nul, klen = b.usize(KEY_LEN);
    for (let k = 0; k < n; k++) {
      st[0] = st[1] = 0;
      const rc = scan(txn, lo, klen, hi, klen, cb, nul, countp);
      if (rc) throw fail("scan", rc);
      if (st[0] !== SCAN_RECORDS || count[0] !== SCAN_RECORDS || st[1]) {
        throw new WrongAnswer(`scan: ${st[0]} upcalls, ${count[0]} counted, ${st[1]} bad`);
      }
    }
  },

  batch(b, n, size) {
    const batch = b.f.batch, txn = b.txn, t = tables(), packed = t.orderPacked, order = t.order;
    const buf = b.out(size * VAL_LEN), v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const keys = b.out(size * KEY_LEN, "keys"), keyLens = b.sizes(size), valLens = b.sizes(size, "vals");
    const foundp = b.lenp, found = b.lenView, count = b.usize(size), cap = b.usize(size * VAL_LEN);
    const keyLensp = new Uint8Array(keyLens.buffer), valLensp = new Uint8Array(valLens.buffer); // passed as bytes
    keyLens.fill(BigInt(KEY_LEN));
    let c = b.chain;
    for (let k = 0; k < n; k++) {
      const start = c % KEYS;
      c += size;
      keys.set(packed.subarray(start * KEY_LEN, (start + size) * KEY_LEN)); // the C suite's memcpy
      const rc = batch(txn, count, keys, keyLensp, buf, cap, valLensp, foundp);
      if (rc) throw fail("batch", rc);
      if (found[0] !== size || v.getUint32(4, true) !== order[start]) throw new WrongAnswer(`batch/n:${size}: found ${found[0]}`);
    }
    b.chain = c;
  },
};

/** The JS body of the scan callback: counts records and bad ones into st = [records, bad]. */
export function scanCounter() {
  const st = new Int32Array(2);
  const onRecord = (_key, keyLen, _val, valLen, _payload) => {
    st[0]++;
    if (Number(keyLen) !== KEY_LEN || Number(valLen) !== VAL_LEN) st[1]++;
    return 0;
  };
  return { st, onRecord };
}

// ---- the worker and the protocol -----------------------------------------------------------------
/** engine: { runtime, hello(): [[k, v]...], mechanisms: { name: { shape, open(dbPath, abi),
 *  attach(envAddress, abi) } }, clock: { wall(): bigint ns, cpu(): bigint ns (this thread) },
 *  spawn(url, data): a Worker running url, given data (/threads:2, pair.mjs) }. */
export class Worker {
  constructor(engine) {
    this.engine = engine;
    this.abi = loadAbi();
    this.benches = new Map([[`${engine.runtime}/control/loop`, ["control", "control", null, 1, 1]]]);
    for (const [mech, m] of Object.entries(engine.mechanisms)) {
      for (const [method, wl, ...rest] of workloadList(m)) this.benches.set(`${engine.runtime}/${mech}/${wl}`, [mech, method, ...rest]);
    }
    this.opened = new Map();
    this.current = null;
  }

  hello() {
    return [...this.engine.hello().map(([k, v]) => ["context", k, v]), ["protocol", 1]];
  }

  list() {
    const out = [...this.benches].map(([name, [, , , ops, threads]]) => ["bench", name, ops, threads]);
    return out.concat(Object.keys(this.engine.mechanisms).map((m) => ["first-call", m]));
  }

  data() {
    return [["checksum", tables().checksum()]];
  }

  select(name) {
    if (this.current && this.current.name === name) return this.current;
    const spec = this.benches.get(name);
    if (!spec) throw new Error(`no benchmark ${name}`);
    this.endCurrent();
    const [mech, method, param, , threads] = spec;
    let b = null, pair = null;
    if (mech !== "control") {
      b = this.opened.get(mech);
      if (!b) { // its own copy of the data set (LMDB: one open per file per process)
        const db = path.join(process.env.FFIBENCH_SCRATCH, `${mech}.kv`);
        fs.copyFileSync(path.join(DATA, "base.kv"), db);
        tables();
        b = this.engine.mechanisms[mech].open(db, this.abi);
        this.opened.set(mech, b);
      }
      if (threads === 2) pair = new Pair(this.engine, mech, b, method, param); // its threads' transactions
      else b.setup(method);
    }
    const loop = loops[method];
    this.current = { name, b: pair ? null : b, pair, loop, param };
    return this.current;
  }

  endCurrent() {
    const c = this.current;
    this.current = null;
    if (c && c.pair) c.pair.stop();
    if (c && c.b) c.b.teardown();
  }

  run(name, iterations, repeats) {
    const { b, pair, loop, param } = this.select(name);
    const n = Number(iterations), r = Number(repeats);
    if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(r) || r < 0) throw new Error(`bad counts ${iterations} ${repeats}`);
    const { wall, cpu } = this.engine.clock;
    const out = [];
    for (let k = 0; k < r; k++) {
      if (pair) { // two threads, n iterations each (pair.mjs): WALL from the release, CPU of both
        out.push(["sample", ...pair.run(n)]);
        continue;
      }
      const c0 = cpu(), t0 = wall();
      loop(b, n, param);
      const t1 = wall(), c1 = cpu();
      out.push(["sample", t1 - t0, c1 - c0]);
    }
    if (this.engine.jitCount) out.push(["jit", this.engine.jitCount()]);
    return out;
  }

  close() {
    this.endCurrent();
    for (const b of this.opened.values()) b.close();
  }
}

/** Lines of fd 0, read synchronously (the protocol is one request at a time). */
export function* stdinLines() {
  const buf = new Uint8Array(65536), dec = new TextDecoder();
  let pending = "";
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") n = 0; else throw e;
    }
    if (n === 0) break;
    pending += dec.decode(buf.subarray(0, n), { stream: true });
    let at;
    while ((at = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, at);
      pending = pending.slice(at + 1);
    }
  }
  if (pending) yield pending;
}

const write = (s) => {
  const bytes = enc.encode(s);
  for (let off = 0; off < bytes.length;) off += fs.writeSync(1, bytes, off, bytes.length - off);
};

export function serve(engineFactory, lines = stdinLines()) {
  let w = null;
  for (const line of lines) {
    const fields = line.replace(/\r$/, "").split("\t");
    if (fields.length === 1 && fields[0] === "quit") break;
    let text;
    try {
      w ??= new Worker(engineFactory());
      const [op, ...args] = fields;
      let rows;
      if (op === "hello" && !args.length) rows = w.hello();
      else if (op === "list" && !args.length) rows = w.list();
      else if (op === "data" && !args.length) rows = w.data();
      else if (op === "run" && args.length === 3) rows = w.run(...args);
      else throw new Error(`bad request ${JSON.stringify(line)}`);
      text = rows.map((r) => r.join("\t") + "\n").join("") + "ok\n";
    } catch (e) { // every failure is an answer: a wrong answer, an engine error, a bad request
      text = "error\t" + `${e?.name ?? "Error"}: ${e?.message ?? e}`.replace(/[\n\t]/g, " ") + "\n";
    }
    write(text);
  }
  if (w) w.close();
}

/** first-call MECH: prints "LOAD_NS FIRST_NS SECOND_NS". load() makes the call possible and returns
 *  [call, want]; the clock (process.hrtime, which every engine has without loading anything) starts
 *  before load. */
export function firstCall(mech, load, now) {
  const t0 = now();
  const [call, want] = load();
  const t1 = now();
  const first = call();
  const t2 = now();
  const second = call();
  const t3 = now();
  if (first !== want || second !== want) throw new Error(`first_call ${mech}: got ${first}, ${second}, want ${want}`);
  write(`${t1 - t0} ${t2 - t1} ${t3 - t2}\n`);
}

/** [a response buffer of cap bytes, its i32 words, an 8-byte resp_len], Uint8Arrays to pass. */
function marshalBuffers(cap) {
  const resp = new Uint8Array((cap + 3) & ~3);
  return [resp, new Int32Array(resp.buffer), new Uint8Array(8)];
}

/** A marshal ABI request of len bytes for op, its header (KVM_VERSION, op) written. */
export function kvmRequest(abi, op, len) {
  const req = new Uint8Array(len);
  req[0] = abi.KVM_VERSION;
  req[1] = op;
  return req;
}

/** first-call MECH of a marshal mechanism: load's [call, want] for kvm_call (call) with the request
 *  ADD 2 3, made here, where the caller's clock is running (a program's first call writes one too). */
export function marshalFirstAdd(abi, call, usize = (n) => n) {
  const A = abi.KVM_HEADER_SIZE, req = kvmRequest(abi, abi.KVM_OP_ADD, A + 8), [resp, words, lenp] = marshalBuffers(8);
  const args = new DataView(req.buffer);
  args.setInt32(A, 2, true);
  args.setInt32(A + 4, 3, true);
  const reqLen = usize(req.length), cap = usize(resp.length);
  return [() => call(req, reqLen, resp, cap, lenp) || words[1], 5]; // status, or the sum
}

/** What every mechanism's binding shares. A subclass sets shape ("c", "handle" or "marshal"), f
 *  (the raw foreign functions), and implements openEnv(path, opts), beginTxn(write) -> txn, endTxn(txn,
 *  commit) -> rc, closeEnv(), callback(onRecord) -> the native scan callback, and nul (NULL). */
export class Binding {
  constructor(abi) {
    this.abi = abi;
    this.shape = "c";
    this.txn = null;
    this.chain = this.done = 0;
    this.buffers = new Map();
    // Out-parameters are passed as Uint8Arrays, the typed array every FFI takes on its fastest path
    // (Deno's fast call takes no other: an Int32Array or a BigUint64Array costs ~35 ns a call), and
    // read through a view of their bytes.
    this.lenp = new Uint8Array(8); // a size_t out-parameter
    this.lenView = new Uint32Array(this.lenp.buffer); // its low word (little-endian; lengths < 2^32)
    this.sump = new Uint8Array(4); // kvh_add's int out-parameter
    this.sum = new Int32Array(this.sump.buffer);
    this.resp = null; // the marshal ABI's response buffer (response())
  }

  /** Uses the environment another thread opened (/threads:2: pair.mjs), at the address its
   *  envAddress() gave; the subclass's adoptEnv(address) makes the FFI's value of it. */
  attach(address) {
    this.env = this.adoptEnv(address);
    this.attached = true;
    return this;
  }

  /** Opens the environment and makes the scan callback (after the subclass set its functions). */
  init(dbPath) {
    const { st, onRecord } = scanCounter();
    this.scanState = st;
    this.cb = this.callback(onRecord);
    this.openEnv(dbPath);
    return this;
  }

  out(n, tag = "") {
    const k = `${tag}:${n}`;
    let b = this.buffers.get(k);
    if (!b) this.buffers.set(k, (b = new Uint8Array(n)));
    return b;
  }

  sizes(n, tag = "") {
    const k = `sizes${tag}:${n}`;
    let b = this.buffers.get(k);
    if (!b) this.buffers.set(k, (b = new BigUint64Array(n)));
    return b;
  }

  bufOf(kind, n) {
    throw new Error(`no buffer kind ${kind}`);
  }

  /** A size_t argument as the FFI's fast path takes it (Deno: a BigInt; the others: a number).
   *  The loops convert their sizes once, before the loop. */
  usize(n) {
    return n;
  }

  /** The marshal ABI's request for op, len bytes, its header (version, op) written: made once. */
  request(op, len) {
    const k = `kvm:${op}:${len}`;
    let r = this.buffers.get(k);
    if (!r) this.buffers.set(k, (r = kvmRequest(this.abi, op, len)));
    return r;
  }

  /** The marshal ABI's buffers, made once: [the response (room for a GET of a value), its i32
   *  words, the size_t resp_len]. Both passed as Uint8Arrays, the typed array every FFI takes on its
   *  fastest path (under Deno, another kind costs ~35 ns a call); the loops do not read resp_len. */
  response() {
    this.resp ??= marshalBuffers(this.abi.KVM_STATUS_SIZE + 4 + VAL_LEN);
    return this.resp;
  }

  begin(write) {
    this.txn = this.beginTxn(write);
  }

  end(commit) {
    const txn = this.txn;
    this.txn = null;
    const rc = this.endTxn(txn, commit);
    if (rc) throw fail("kv_txn_commit", rc);
  }

  setup(method) {
    this.chain = this.done = 0; // each benchmark starts its chain afresh, as wl_setup does
    this.begin(method === "put");
  }

  teardown() {
    if (this.txn !== null) this.end(true); // commit: put's last writes; a read just ends
  }

  close() {
    if (!this.attached) this.closeEnv(); // the thread that opened it closes it
  }
}
