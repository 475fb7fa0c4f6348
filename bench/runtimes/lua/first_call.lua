-- first_call.lua — a fresh interpreter's first call into the engine, for one mechanism.
--
-- worker.lua first-call MECHANISM prints three integers, in ns: load (what a program pays before
-- it can make the call: for the FFI, ffi.cdef of libkv's declarations, ffi.load of $KV_LIBRARY and
-- the symbol's lookup; for capi, require "kvlua", which dlopens kvlua.so and with it libkv), the
-- first kv_add(2, 3) (for the handle ABI kvh_add on KVH_NULL, which answers KV_E_BAD_HANDLE; for
-- the marshal ABI an ADD 2 3 request), and the second, identical call. The clock is read through
-- the FFI (LuaJIT, built in) or kvutil (Lua 5.4, which loads no libkv); the declarations' text is
-- read before the clock starts (a program has it in its source).
local M = {}

function M.main(mech, wall)
  local ABI = require("kv_abi") -- read before the clock starts
  local call, want
  local t0, t1
  if mech == "capi" then
    t0 = wall()
    local kvlua = require("kvlua")
    local add = kvlua.add
    t1 = wall()
    call, want = function() return add(2, 3) end, 5
  elseif mech == "ffi" or mech == "ffi-handle" or mech == "ffi-marshal" then
    local f = assert(io.open(os.getenv("KV_BUILD_DIR") .. "/runtimes/lua/kv_cdef.h", "rb"))
    local cdef = f:read("*a")
    f:close()
    local path = os.getenv("KV_LIBRARY")
    local ffi = require("ffi") -- built into LuaJIT: already loaded
    t0 = wall()
    ffi.cdef(cdef)
    local C = ffi.load(path)
    if mech == "ffi" then
      local _ = C.kv_add -- resolves the symbol
      t1 = wall()
      call, want = function() return C.kv_add(2, 3) end, 5
    elseif mech == "ffi-handle" then
      local _ = C.kvh_add
      local sump = ffi.new("int[1]")
      t1 = wall()
      call, want = function() return C.kvh_add(0, 2, 3, sump) end, ABI.KV_E_BAD_HANDLE
    else
      local _ = C.kvm_call
      local req = ffi.new("uint8_t[10]", ABI.KVM_VERSION, ABI.KVM_OP_ADD, 2, 0, 0, 0, 3, 0, 0, 0)
      local resp, lenp = ffi.new("int32_t[2]"), ffi.new("size_t[1]")
      t1 = wall()
      call = function()
        local rc = C.kvm_call(req, 10, resp, 8, lenp)
        return rc ~= 0 and rc or resp[1]
      end
      want = 5
    end
  else
    error("no mechanism " .. mech)
  end
  local first = call()
  local t2 = wall()
  local second = call()
  local t3 = wall()
  if first ~= want or second ~= want then
    error(("got %s, %s, want %s"):format(tostring(first), tostring(second), tostring(want)))
  end
  io.stdout:write(("%d %d %d\n"):format(t1 - t0, t2 - t1, t3 - t2))
end

return M
