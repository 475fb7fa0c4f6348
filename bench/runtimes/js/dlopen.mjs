// dlopen.mjs — what Deno's and Bun's bindings share. Both FFIs open libkv from the same signature
// table (common.mjs) written in their own words, hand 64-bit out-parameters back as BigInts, and
// take a JavaScript function as the scan's callback; only the words, the pointer type and the
// callback's class differ, and each bind_<engine>.mjs says those (makeBindings's ffi argument).
import {
  Binding, C_FUNCTIONS, cstr, ffiSignature, ffiSymbols, firstCall, H_FUNCTIONS, makeOptions, SCAN_FUNCTION,
} from "./common.mjs";

/**
 * The two mechanisms of one dlopen-style FFI. ffi:
 *   open(symbols)         the library object of libkv ($KV_LIBRARY) with those symbols
 *   words, declare        ffiSymbols's vocabulary: the FFI's type names and its declaration shape
 *   pointer(bigint)       an opaque pointer (kv_env*, kv_txn*) as the FFI passes it
 *   nul                   NULL as the FFI passes it
 *   callback(sig, fn)     [an object to keep alive, the native function pointer]
 */
export function makeBindings(ffi) {
  const C_SYMBOLS = ffiSymbols(C_FUNCTIONS, ffi.words, ffi.declare);
  const H_SYMBOLS = ffiSymbols(H_FUNCTIONS, ffi.words, ffi.declare);
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
  }

  /** kv.h: pointers for the environment and the transaction. */
  class Pointer extends Base {
    constructor(abi) {
      super(abi, C_SYMBOLS, "kv");
    }

    made(out) {
      return ffi.pointer(out[0]);
    }

    endTxn(txn, _commit) {
      const rc = this.s.kv_txn_commit(txn);
      this.s.kv_txn_free(txn);
      return rc;
    }
  }

  /** kv_handle.h: 64-bit handles, passed as BigInts. */
  class Handle extends Base {
    constructor(abi) {
      super(abi, H_SYMBOLS, "kvh");
      this.shape = "handle";
    }

    endTxn(txn, _commit) {
      return this.s.kvh_txn_commit(txn);
    }
  }

  const mechanism = (Cls) => ({
    shape: Cls === Handle ? "handle" : "c",
    primary: Cls === Pointer,
    open(db, abi) {
      return new Cls(abi).init(db);
    },
  });

  return {
    /** {pointerName: the kv.h mechanism, handleName: the kv_handle.h one}, for engine(). */
    mechanisms: (pointerName, handleName) => ({ [pointerName]: mechanism(Pointer), [handleName]: mechanism(Handle) }),
    /** first-call MECH: libkv opened with kv_add (or kvh_add) alone, then two calls. */
    firstCall(mech, now, pointerName, handleName) {
      const load = () => {
        if (mech === pointerName) {
          const add = ffi.open({ kv_add: C_SYMBOLS.kv_add }).symbols.kv_add;
          return [() => add(2, 3), 5];
        }
        if (mech === handleName) {
          const add = ffi.open({ kvh_add: H_SYMBOLS.kvh_add }).symbols.kvh_add, sum = new Int32Array(1);
          return [() => add(0n, 2, 3, sum), badHandle];
        }
        throw new Error(`no mechanism ${mech}`);
      };
      firstCall(mech, load, now);
    },
  };
}

// kvh_add on KVH_NULL answers KV_E_BAD_HANDLE: read from kv_abi.json before the clock starts.
let badHandle = null;
export function prepareFirstCall(abi) {
  badHandle = abi.KV_E_BAD_HANDLE;
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
