// dlopen.mjs — what Deno's and Bun's bindings share. Both FFIs open libkv from the same signature
// tables (common.mjs) written in their own words, hand 64-bit out-parameters back as BigInts, and
// take a JavaScript function as the scan's callback; only the words, the pointer type and the
// callback's class differ, and each bind_<engine>.mjs says those (makeBindings's ffi argument).
import {
  Binding, C_FUNCTIONS, cstr, ffiSignature, ffiSymbols, firstCall, H_FUNCTIONS, M_FUNCTIONS, makeOptions,
  marshalFirstAdd, SCAN_FUNCTION,
} from "./common.mjs";

/**
 * The three mechanisms of one dlopen-style FFI: NAME (kv.h), NAME-handle (kv_handle.h) and
 * NAME-marshal (kv_marshal.h). ffi:
 *   name                  the mechanisms' name (dlopen, ffi)
 *   open(symbols)         the library object of libkv ($KV_LIBRARY) with those symbols
 *   words, declare        ffiSymbols's vocabulary: the FFI's type names and its declaration shape
 *   pointer(bigint)       an opaque pointer (kv_env*, kv_txn*) as the FFI passes it
 *   address(pointer)      its address, a BigInt (handed to another thread: pair.mjs)
 *   nul                   NULL as the FFI passes it
 *   usize(number)         a size_t argument as the FFI's fast path takes it
 *   callback(sig, fn)     [an object to keep alive, the native function pointer]
 */
export function makeBindings(ffi) {
  const C_SYMBOLS = ffiSymbols(C_FUNCTIONS, ffi.words, ffi.declare);
  const H_SYMBOLS = ffiSymbols(H_FUNCTIONS, ffi.words, ffi.declare);
  const M_SYMBOLS = ffiSymbols(M_FUNCTIONS, ffi.words, ffi.declare);
  const SCAN_FN = ffiSignature(SCAN_FUNCTION, ffi.words, ffi.declare);

  class Base extends Binding {
    constructor(abi, symbols, prefix) {
      super(abi);
      this.lib = ffi.open(symbols); // kept: its functions live as long as it does
      const s = (this.s = this.lib.symbols);
      const fn = (name) => s[`${prefix}_${name}`];
      this.f = { noop: fn("noop"), add: fn("add"), get: fn("get"), put: fn("put"), scan: fn("scan"), batch: fn("get_batch") };
      this.prefix = prefix;
      this.nul = ffi.nul;
    }

    usize(n) {
      return ffi.usize(n);
    }

    callback(onRecord) {
      const [keep, pointer] = ffi.callback(SCAN_FN, onRecord);
      this.upcall = keep; // kept alive by this binding
      return pointer;
    }

    /** The call's out-parameter as the FFI's value: a pointer, or the handle itself (a BigInt). */
    made(out) {
      return out[0];
    }

    openEnv(db) {
      const out = new BigUint64Array(1);
      const rc = this.s[`${this.prefix}_env_open`](out, cstr(db), makeOptions(this.abi, this.s.kv_options_init));
      if (rc) throw new Error(`${this.prefix}_env_open: ${rc}`);
      this.env = this.made(out);
    }

    beginTxn(write) {
      const out = new BigUint64Array(1);
      const rc = this.s[`${this.prefix}_txn_begin`](out, this.env, write ? this.abi.KV_TXN_WRITE : this.abi.KV_TXN_READ);
      if (rc) throw new Error(`${this.prefix}_txn_begin: ${rc}`);
      return this.made(out);
    }

    closeEnv() {
      this.s[`${this.prefix}_env_close`](this.env);
    }

    /** The environment for another thread's binding (pair.mjs): a handle is its own address. */
    envAddress() {
      return this.env;
    }

    adoptEnv(address) {
      return address;
    }
  }

  /** kv.h: pointers for the environment and the transaction. */
  class Pointer extends Base {
    constructor(abi) {
      super(abi, C_SYMBOLS, "kv");
    }

    made(out) {
      return ffi.pointer(out[0]);
    }

    envAddress() {
      return ffi.address(this.env);
    }

    adoptEnv(address) {
      return ffi.pointer(address);
    }

    endTxn(txn, _commit) {
      const rc = this.s.kv_txn_commit(txn);
      this.s.kv_txn_free(txn);
      return rc;
    }
  }

  /** kv_handle.h: 64-bit handles, passed as BigInts. */
  class Handle extends Base {
    constructor(abi, symbols = H_SYMBOLS) {
      super(abi, symbols, "kvh");
      this.shape = "handle";
    }

    endTxn(txn, _commit) {
      return this.s.kvh_txn_commit(txn);
    }
  }

  /** kv_marshal.h: kvm_call alone in the loops; the environment and transactions, the handles the
   *  marshal ABI shares, opened (untimed) with kvh_*. */
  class Marshal extends Handle {
    constructor(abi) {
      super(abi, { ...H_SYMBOLS, ...M_SYMBOLS });
      this.shape = "marshal";
      this.f = { call: this.s.kvm_call };
    }
  }

  const mechanism = (Cls, shape) => ({
    shape,
    primary: Cls === Pointer,
    threads: Cls === Pointer,
    open(db, abi) {
      return new Cls(abi).init(db);
    },
    attach(env, abi) {
      return new Cls(abi).attach(env);
    },
  });

  const handleName = `${ffi.name}-handle`, marshalName = `${ffi.name}-marshal`;
  return {
    /** The mechanisms, for engine(). */
    mechanisms: () => ({
      [ffi.name]: mechanism(Pointer, "c"),
      [handleName]: mechanism(Handle, "handle"),
      [marshalName]: mechanism(Marshal, "marshal"),
    }),
    /** first-call MECH: libkv opened with kv_add (kvh_add, kvm_call) alone, then two calls. */
    firstCall(mech, now) {
      const load = () => {
        if (mech === ffi.name) {
          const add = ffi.open({ kv_add: C_SYMBOLS.kv_add }).symbols.kv_add;
          return [() => add(2, 3), 5];
        }
        if (mech === handleName) {
          const add = ffi.open({ kvh_add: H_SYMBOLS.kvh_add }).symbols.kvh_add, sum = new Int32Array(1);
          return [() => add(0n, 2, 3, sum), firstCallAbi.KV_E_BAD_HANDLE]; // kvh_add on KVH_NULL
        }
        if (mech === marshalName) return marshalFirstAdd(firstCallAbi, ffi.open(M_SYMBOLS).symbols.kvm_call, ffi.usize);
        throw new Error(`no mechanism ${mech}`);
      };
      firstCall(mech, load, now);
    },
  };
}

// The first call's constants (KV_E_BAD_HANDLE, the marshal ABI's): read from kv_abi.json before the
// clock starts.
let firstCallAbi = null;
export function prepareFirstCall(abi) {
  firstCallAbi = abi;
}

/** A Web Worker (Deno's, Bun's) running the module at url, given data as its first message. */
export function spawnWorker(url, data) {
  const w = new Worker(url.href, { type: "module" });
  w.postMessage(data);
  return w;
}

/** The clocks from libc's clock_gettime(id, int64[2]) through the FFI: integer ns as BigInts (the
 *  thread's CPU time, which neither Deno nor Bun gives). */
export function libcClocks(clockGettime) {
  const ts = new BigInt64Array(2);
  const read = (id) => {
    if (clockGettime(id, ts)) throw new Error("clock_gettime failed");
    return ts[0] * 1000000000n + ts[1];
  };
  const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3; // <time.h> (Linux), not libkv's
  return { wall: () => read(CLOCK_MONOTONIC), cpu: () => read(CLOCK_THREAD_CPUTIME_ID) };
}
