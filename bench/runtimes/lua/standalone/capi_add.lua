-- capi_add.lua — the simplest standalone loop for kv_add through the Lua 5.4 C API, sharing no code
-- with the worker: its own C module (addmod.c: one lua_CFunction calling kv_add), x = add(x, 1) in
-- a numeric for loop, timed with the module's now() (CLOCK_MONOTONIC, ns: Lua 5.4 has no wall clock
-- of its own). Prints the median of 5 rounds of 2*10^6 calls, in ns per call, loop included.
package.cpath = os.getenv("KV_BUILD_DIR") .. "/runtimes/lua/standalone/?.so;" .. package.cpath
local m = require("addmod")
local add, now = m.add, m.now
local N, rounds, x = 2000000, {}, 0
for r = 1, 5 do
  local t0 = now()
  for _ = 1, N do x = add(x, 1) end
  rounds[r] = (now() - t0) / N
end
assert(x == 5 * N)
table.sort(rounds)
print(("%.4f"):format(rounds[3]))
