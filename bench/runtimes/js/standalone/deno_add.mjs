// A user's own loop: Deno.dlopen's kv_add, x = add(x, 1), ns per call (loop included), median of 5.
const lib = Deno.dlopen(Deno.env.get("KV_LIBRARY"), { kv_add: { parameters: ["i32", "i32"], result: "i32" } });
const add = lib.symbols.kv_add;
function round(n) {
  let x = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) x = add(x, 1);
  const t1 = performance.now();
  if (x !== n) throw new Error(`kv_add: ${x} != ${n}`);
  return ((t1 - t0) * 1e6) / n;
}
round(1e6); // warm-up: the JIT tiers the loop up
const r = [1, 2, 3, 4, 5].map(() => round(5e6)).sort((a, b) => a - b);
console.log(r[2].toFixed(3));
