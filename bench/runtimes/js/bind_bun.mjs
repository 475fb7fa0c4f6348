// bind_bun.mjs — Bun's mechanisms: bun:ffi on libkv (call stubs compiled by Bun's embedded TinyCC,
// called from JavaScriptCore), and the engine's clocks. Loaded by worker.mjs under Bun only.
//
//   ffi          kv.h: i32 arguments and results, "ptr" parameters given typed arrays (Bun takes
//                their address on each call) and kv_txn* as a number
//   ffi-handle   kv_handle.h: the same calls with a 64-bit handle ("u64", passed as a BigInt):
//                the case that leaves the small-integer path
//   ffi-marshal  kv_marshal.h: kvm_call with "ptr" requests and responses (dlopen.mjs)
// The scan's upcall is a JSCallback (a "function" parameter) in both.
import { dlopen, JSCallback } from "bun:ffi";
import { libcClocks, makeBindings, spawnWorker } from "./dlopen.mjs";

export { prepareFirstCall } from "./dlopen.mjs";

const FFI = makeBindings({
  name: "ffi",
  open: (symbols) => dlopen(process.env.KV_LIBRARY, symbols),
  words: { buf: "ptr", fn: "function" },
  declare: (args, returns) => ({ args, returns }),
  pointer: (address) => Number(address),
  address: (pointer) => BigInt(pointer),
  nul: 0,
  usize: (n) => n,
  callback(signature, fn) {
    const cb = new JSCallback(fn, signature);
    return [cb, cb.ptr];
  },
});

export function engine() {
  const libc = dlopen("libc.so.6", { clock_gettime: { args: ["i32", "ptr"], returns: "i32" } });
  return {
    runtime: "bun",
    mechanisms: FFI.mechanisms(),
    clock: libcClocks(libc.symbols.clock_gettime),
    spawn: spawnWorker,
    hello: () => [["runtime_name", `Bun (${process.execPath})`], ["runtime_version", Bun.version],
      ["runtime_flags", `bun run ${process.env.FFIBENCH_JS_FLAGS ?? ""}`.trim()],
      ["runtime_mode", "JavaScriptCore JIT (LLInt, Baseline, DFG, FTL); bun:ffi stubs compiled by TinyCC"],
      ["bun_revision", Bun.revision],
      ["clock", "clock_gettime(CLOCK_MONOTONIC / CLOCK_THREAD_CPUTIME_ID) through bun:ffi of libc"]],
  };
}

export const firstCallMain = (mech, now) => FFI.firstCall(mech, now);
