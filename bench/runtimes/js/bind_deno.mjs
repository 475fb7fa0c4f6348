// bind_deno.mjs — Deno's mechanisms: Deno.dlopen on libkv (V8 fast API calls where the signature
// allows them), and the engine's clocks. Loaded by worker.mjs under Deno only.
//
//   dlopen          kv.h: i32 arguments and results, "buffer" (typed arrays) and "pointer"
//                   (opaque kv_txn*) parameters: the signatures Deno compiles to a V8 fast call
//   dlopen-handle   kv_handle.h: the same calls with a 64-bit handle ("u64", passed as a BigInt):
//                   the case that leaves the small-integer path
//   dlopen-marshal  kv_marshal.h: kvm_call with "buffer" requests and responses (dlopen.mjs)
// The scan's upcall is a Deno.UnsafeCallback (a "function" parameter) in both.
import { libcClocks, makeBindings, spawnWorker } from "./dlopen.mjs";

export { prepareFirstCall } from "./dlopen.mjs";

const FFI = makeBindings({
  name: "dlopen",
  open: (symbols) => Deno.dlopen(Deno.env.get("KV_LIBRARY"), symbols),
  words: { buf: "buffer", ptr: "pointer", fn: "function" },
  declare: (parameters, result) => ({ parameters, result }),
  pointer: (address) => Deno.UnsafePointer.create(address),
  address: (pointer) => BigInt(Deno.UnsafePointer.value(pointer)),
  nul: null,
  // usize as a BigInt: Deno's fast call takes 64-bit integers as BigInts only (a number takes the
  // slow path, ~170 ns more: denoland/deno#23983)
  usize: (n) => BigInt(n),
  callback(signature, fn) {
    const cb = new Deno.UnsafeCallback(signature, fn);
    return [cb, cb.pointer];
  },
});

export function engine() {
  const libc = Deno.dlopen("libc.so.6", { clock_gettime: { parameters: ["i32", "buffer"], result: "i32" } });
  return {
    runtime: "deno",
    mechanisms: FFI.mechanisms(),
    clock: libcClocks(libc.symbols.clock_gettime),
    spawn: spawnWorker,
    hello: () => [["runtime_name", `Deno (${Deno.execPath()})`], ["runtime_version", Deno.version.deno],
      ["runtime_flags", `deno run ${Deno.env.get("FFIBENCH_JS_FLAGS") ?? ""}`.trim()],
      ["runtime_mode", "V8 JIT (Ignition, Sparkplug, Maglev, TurboFan); FFI calls as V8 fast API calls where the signature allows"],
      ["v8_version", Deno.version.v8], ["typescript_version", Deno.version.typescript],
      ["clock", "clock_gettime(CLOCK_MONOTONIC / CLOCK_THREAD_CPUTIME_ID) through Deno.dlopen of libc"]],
  };
}

export const firstCallMain = (mech, now) => FFI.firstCall(mech, now);
