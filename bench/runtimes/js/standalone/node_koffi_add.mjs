// A user's own loop: koffi's kv_add, x = add(x, 1), ns per call (loop included), median of 5.
// argv[2]: the folder holding npm/node_modules (the build's {out}).
import { createRequire } from "node:module";
const koffi = createRequire(`${process.argv[2]}/npm/`)("koffi");
const add = koffi.load(process.env.KV_LIBRARY).func("int kv_add(int a, int b)");
function round(n) {
  let x = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) x = add(x, 1);
  const t1 = process.hrtime.bigint();
  if (x !== n) throw new Error(`kv_add: ${x} != ${n}`);
  return Number(t1 - t0) / n;
}
round(2e5); // warm-up: the JIT tiers the loop up
const r = [1, 2, 3, 4, 5].map(() => round(1e6)).sort((a, b) => a - b);
console.log(r[2].toFixed(3));
