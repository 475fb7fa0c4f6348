// The ecosystem's harness as a cross-check: mitata's bench() around one kv_add call, under the
// engine running this file (Node: koffi; Deno: Deno.dlopen; Bun: bun:ffi). Prints mitata's average
// ns per call. argv: the folder holding npm/node_modules (the build's {out}).
// mitata runs the function in batches of 4096 calls, unrolled 4 times, and drops the results: the
// calls are independent (no chain from one result to the next argument): compare it with
// add/mode:throughput, not add/mode:latency (README.md, "Which figure is which").
import { createRequire } from "node:module";
import process from "node:process";
const isDeno = typeof Deno !== "undefined", isBun = typeof Bun !== "undefined";
const out = isDeno ? Deno.args[0] : process.argv[2];
const { bench, run } = await import(`${out}/npm/node_modules/mitata/src/main.mjs`);
const lib = process.env.KV_LIBRARY;
let add;
if (isDeno) add = Deno.dlopen(lib, { kv_add: { parameters: ["i32", "i32"], result: "i32" } }).symbols.kv_add;
else if (isBun) add = (await import("bun:ffi")).dlopen(lib, { kv_add: { args: ["i32", "i32"], returns: "i32" } }).symbols.kv_add;
else add = createRequire(`${out}/npm/`)("koffi").load(lib).func("int kv_add(int a, int b)");
let i = 0;
bench("kv_add", () => add(i++ | 0, 1)); // returned, as a mitata user writes it
const { benchmarks } = await run({ print: () => {}, format: "json" });
const stats = benchmarks[0].runs[0].stats;
if (add(2, 3) !== 5) throw new Error("kv_add(2, 3) != 5");
console.log(stats.avg.toFixed(3));
