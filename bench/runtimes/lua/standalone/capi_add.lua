-- capi_add.lua — the simplest standalone loop for kv_add through the Lua 5.4 C API, sharing no code
-- with the worker: its own C module (addmod.c: one lua_CFunction calling kv_add), x = add(x, 1) in
-- a numeric for loop, timed with os.clock (process CPU time: Lua 5.4 has no wall clock of its
-- own, and the loop does not block). Prints the median of 5 rounds of 2*10^6 calls, in ns per call.
package.cpath = os.getenv("KV_BUILD_DIR") .. "/runtimes/lua/standalone/?.so;" .. package.cpath
local add = require("addmod").add
local N, rounds, x = 2000000, {}, 0
for r = 1, 5 do
  local t0 = os.clock()
  for _ = 1, N do x = add(x, 1) end
  rounds[r] = (os.clock() - t0) * 1e9 / N
end
assert(x == 5 * N)
table.sort(rounds)
print(("%.4f"):format(rounds[3]))
