// A user's own loop: bun:ffi's kv_add, x = add(x, 1), ns per call (loop included), median of 5.
import { dlopen } from "bun:ffi";
const lib = dlopen(process.env.KV_LIBRARY, { kv_add: { args: ["i32", "i32"], returns: "i32" } });
const add = lib.symbols.kv_add;
function round(n) {
  let x = 0;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) x = add(x, 1);
  const t1 = Bun.nanoseconds();
  if (x !== n) throw new Error(`kv_add: ${x} != ${n}`);
  return (t1 - t0) / n;
}
round(1e6); // warm-up: the JIT tiers the loop up
const r = [1, 2, 3, 4, 5].map(() => round(5e6)).sort((a, b) => a - b);
console.log(r[2].toFixed(3));
