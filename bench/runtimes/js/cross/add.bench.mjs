// deno bench's own loop around one Deno.dlopen kv_add call (deno_bench_add.mjs runs it).
const add = Deno.dlopen(Deno.env.get("KV_LIBRARY"), { kv_add: { parameters: ["i32", "i32"], result: "i32" } }).symbols.kv_add;
let i = 0;
Deno.bench("kv_add", () => {
  add(i++ | 0, 1);
});
