-- ffi_add.lua — the simplest standalone loop for kv_add through LuaJIT's FFI, sharing no code with
-- the worker: one ffi.cdef line, ffi.load of $KV_LIBRARY, x = C.kv_add(x, 1) in a numeric for loop,
-- timed with clock_gettime(CLOCK_MONOTONIC). Prints the median of 5 rounds of 10^7 calls (10^6
-- with the JIT off), in ns per call, loop included.
local ffi = require("ffi")
ffi.cdef [[
  int kv_add(int a, int b);
  struct sa_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clk, struct sa_timespec *tp);
]]
local C, libc = ffi.load(os.getenv("KV_LIBRARY")), ffi.C
local ts = ffi.new("struct sa_timespec")
local function now() libc.clock_gettime(1, ts) return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec) end
local N = jit.status() and 10000000 or 1000000
local rounds, x = {}, 0
for r = 1, 5 do
  local t0 = now()
  for _ = 1, N do x = C.kv_add(x, 1) end
  rounds[r] = (now() - t0) / N
end
assert(x == 5 * N)
table.sort(rounds)
print(("%.4f"):format(rounds[3]))
