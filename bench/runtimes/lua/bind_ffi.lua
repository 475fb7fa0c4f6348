-- bind_ffi.lua — libkv through LuaJIT's FFI: three mechanisms, one per ABI style.
--
--   ffi          the pointer API (kv.h): kv_env* / kv_txn* as cdata pointers
--   ffi-handle   the handle ABI (kv_handle.h): uint64_t handles, validated by the engine per call
--   ffi-marshal  the marshal ABI (kv_marshal.h): requests written into a uint8_t buffer, one
--                kvm_call per operation, the response read back from another
--
-- The declarations are kv.h, kv_handle.h and kv_marshal.h themselves, preprocessed by ./build
-- (kv_cdef.h) and given to ffi.cdef; ffi.load opens $KV_LIBRARY. Every loop calls the library's
-- namespace directly (`C.kv_add(x, 1)`: LuaJIT's documented fast path — the JIT turns the lookup
-- into a constant and the call into a direct call), so the timed region holds the FFI call site and
-- nothing else. Every loop checks its answers as bench/workloads.c does.
--
-- M.new(mech, db_path) -> binding: b:loop(method, param) -> function(n) (the timed loop, its state
-- set up), b:teardown(), b:close().
local ffi = require("ffi")
local D = require("data")
local ABI = require("kv_abi")

local M = {}

local cdef_done = false
local function lib()
  if not cdef_done then
    local f = assert(io.open(os.getenv("KV_BUILD_DIR") .. "/runtimes/lua/kv_cdef.h", "rb"))
    ffi.cdef(f:read("*a"))
    f:close()
    cdef_done = true
  end
  return ffi.load(os.getenv("KV_LIBRARY"))
end
M.lib = lib

local KEY_LEN, VAL_LEN, KEYS = D.KEY_LEN, D.VAL_LEN, D.KEYS
local TXN_READ, TXN_WRITE = ABI.KV_TXN_READ, ABI.KV_TXN_WRITE
local NOT_FOUND = ABI.KV_E_NOT_FOUND
local MAP_SIZE = 2 ^ 30

local function fail(what, rc) error(("%s: engine returned %d"):format(what, tonumber(rc)), 0) end
local function wrong(fmt, ...) error("wrong answer: " .. fmt:format(...), 0) end

-- The data set's tables as native memory (what a LuaJIT program passes to C): keys, miss keys and
-- put keys as packed uint8_t arrays, order as uint32_t[KEYS].
local native
local function tables()
  if native then return native end
  local t = D.tables()
  local n = {}
  local function blob(s)
    local p = ffi.new("uint8_t[?]", #s)
    ffi.copy(p, s, #s)
    return p
  end
  n.keys, n.miss, n.put_keys = blob(t.keys_blob), blob(t.miss_blob), blob(t.put_blob)
  n.order = ffi.new("uint32_t[?]", KEYS)
  for k = 0, KEYS - 1 do n.order[k] = t.order[k + 1] end
  native = n
  return n
end

local function options()
  local o = ffi.new("kv_options")
  local C = lib()
  local rc = C.kv_options_init(o)
  if rc ~= 0 then fail("kv_options_init", rc) end
  o.map_size, o.durability = MAP_SIZE, ABI.KV_DURABLE_NOSYNC
  return o
end

-- What C function `name` makes through its first argument, an out-parameter of type `ctype`
-- (a one-element array), the other arguments after it; an error status fails. Setup only.
local function made(C, name, ctype, ...)
  local out = ffi.new(ctype)
  local rc = C[name](out, ...)
  if rc ~= 0 then fail(name, rc) end
  return out[0]
end

-- =================================================================================================
-- The pointer API (kv.h) and the handle ABI (kv_handle.h) share the loops' shapes but not their
-- call sites: each loop below is written out per ABI so that its call is the ABI's own.
local Ptr = {}
Ptr.__index = Ptr

function Ptr.open(path)
  local C = lib()
  return setmetatable({ C = C, env = made(C, "kv_env_open", "kv_env *[1]", path, options()) }, Ptr)
end

function Ptr:begin(flags) return made(self.C, "kv_txn_begin", "kv_txn *[1]", self.env, flags) end

function Ptr:finish(txn, commit)
  local C = self.C
  local rc = commit and C.kv_txn_commit(txn) or C.kv_txn_abort(txn)
  C.kv_txn_free(txn)
  if rc ~= 0 then fail("kv_txn_commit", rc) end
end

function Ptr:close() self.C.kv_env_close(self.env) end

local Hnd = {}
Hnd.__index = Hnd

function Hnd.open(path)
  local C = lib()
  return setmetatable({ C = C, env = made(C, "kvh_env_open", "kvh_handle[1]", path, options()) }, Hnd)
end

function Hnd:begin(flags) return made(self.C, "kvh_txn_begin", "kvh_handle[1]", self.env, flags) end

function Hnd:finish(txn, commit) -- commit and abort release the handle
  local rc = commit and self.C.kvh_txn_commit(txn) or self.C.kvh_txn_abort(txn)
  if rc ~= 0 then fail("kvh_txn_commit", rc) end
end

function Hnd:close() self.C.kvh_env_close(self.env) end

-- The marshal ABI: its handles are the handle ABI's (PROTOCOL.md), so the environment and the
-- transactions are opened, untimed, through kvh_*; every timed operation is one kvm_call.
local Msh = setmetatable({}, { __index = Hnd })
Msh.__index = Msh
function Msh.open(path) return setmetatable(Hnd.open(path), Msh) end

-- =================================================================================================
local loops = {}

-- ---- the pointer API ----------------------------------------------------------------------------
function loops.ffi_noop(b)
  local C = b.C
  return function(n)
    for _ = 1, n do C.kv_noop() end
  end
end

function loops.ffi_add(b)
  local C = b.C
  return function(n)
    local x = b.chain
    for _ = 1, n do x = C.kv_add(x, 1) end -- each call takes the previous result (mode:latency)
    local want = D.wrap32(b.chain + n)
    if x ~= want then wrong("add: %d ~= %d", x, want) end
    b.chain = want
  end
end

-- add/mode:latency/site:local: the call site the LuaJIT manual advises against — the function
-- cdata taken out of the namespace once (`local add = C.kv_add`) and called through that local.
function loops.ffi_add_local(b)
  local add = b.C.kv_add
  return function(n)
    local x = b.chain
    for _ = 1, n do x = add(x, 1) end
    local want = D.wrap32(b.chain + n)
    if x ~= want then wrong("add: %d ~= %d", x, want) end
    b.chain = want
  end
end

function loops.ffi_add_throughput(b)
  local C = b.C
  return function(n)
    local acc = 0 -- independent calls; the results are only summed
    for i = 0, n - 1 do acc = acc + C.kv_add(i, 1) end
    if acc ~= n * (n + 1) / 2 then wrong("add throughput: sum %d", acc) end
  end
end

local function get_state(b, cap)
  local buf = ffi.new("uint8_t[?]", cap)
  return buf, ffi.cast("const uint32_t *", buf), ffi.new("size_t[1]")
end

function loops.ffi_get(b)
  local C, txn, keys = b.C, b.txn, tables().keys
  local buf, u32, lenp = get_state(b, VAL_LEN)
  return function(n)
    local i = b.chain -- the next key comes out of the value just read (mode:latency)
    for _ = 1, n do
      local rc = C.kv_get(txn, keys + i * KEY_LEN, KEY_LEN, buf, VAL_LEN, lenp)
      if rc ~= 0 then fail("kv_get", rc) end
      if lenp[0] ~= VAL_LEN or u32[1] ~= i then wrong("get: key %d answered record %d", i, u32[1]) end
      i = u32[0]
    end
    b.chain = i
  end
end

function loops.ffi_get_throughput(b)
  local C, txn, t = b.C, b.txn, tables()
  local keys, order = t.keys, t.order
  local buf, u32, lenp = get_state(b, VAL_LEN)
  return function(n)
    local at = b.chain
    for _ = 1, n do
      local i = order[at % KEYS]
      at = at + 1
      local rc = C.kv_get(txn, keys + i * KEY_LEN, KEY_LEN, buf, VAL_LEN, lenp)
      if rc ~= 0 then fail("kv_get", rc) end
      if lenp[0] ~= VAL_LEN or u32[1] ~= i then wrong("get: key %d answered record %d", i, u32[1]) end
    end
    b.chain = at
  end
end

function loops.ffi_get_miss(b)
  local C, txn, miss, MISS = b.C, b.txn, tables().miss, D.MISS_KEYS
  local buf, _, lenp = get_state(b, VAL_LEN)
  return function(n)
    local at = b.chain
    for _ = 1, n do
      local rc = C.kv_get(txn, miss + (at % MISS) * KEY_LEN, KEY_LEN, buf, VAL_LEN, lenp)
      at = at + 1
      if rc ~= NOT_FOUND then
        if rc == 0 then wrong("get_miss: a miss key was found") end
        fail("kv_get", rc)
      end
    end
    b.chain = at
  end
end

function loops.ffi_put(b)
  local C, put_keys, PUT, EVERY = b.C, tables().put_keys, D.PUT_KEYS, D.PUT_EVERY
  local v = ffi.new("uint8_t[?]", VAL_LEN)
  ffi.fill(v, VAL_LEN, 0x5a)
  return function(n)
    local done, txn = b.done, b.txn
    for _ = 1, n do
      local rc = C.kv_put(txn, put_keys + (done % PUT) * KEY_LEN, KEY_LEN, v, VAL_LEN)
      if rc ~= 0 then fail("kv_put", rc) end
      done = done + 1
      if done % EVERY == 0 then -- commit every 100 puts (no-sync), as the C suite does
        b.txn = nil
        b:finish(txn, true)
        txn = b:begin(TXN_WRITE)
        b.txn = txn
      end
    end
    b.done = done
  end
end

function loops.ffi_get_bytes(b, size)
  local C, txn, key = b.C, b.txn, D.bytes_key(size)
  local klen = #key
  local buf, _, lenp = get_state(b, size)
  return function(n)
    for _ = 1, n do
      local rc = C.kv_get(txn, key, klen, buf, size, lenp)
      if rc ~= 0 then fail("kv_get bytes", rc) end
      if lenp[0] ~= size then wrong("get bytes:%d: length %d", size, tonumber(lenp[0])) end
    end
  end
end

-- scan/dir:upcall: a Lua function as the kv_scan_fn (ffi.cast of a Lua function: a callback). Per
-- LuaJIT's documentation a C function that calls back into Lua must not be called from compiled
-- code: the loop that calls kv_scan is kept in the interpreter (jit.off on it), and the record
-- count and check run in the callback, i.e. in the interpreter on every record.
function loops.ffi_scan(b)
  local C, txn, keys, RECORDS = b.C, b.txn, tables().keys, D.SCAN_RECORDS
  local lo, hi = keys, keys + RECORDS * KEY_LEN
  local count, bad = 0, 0
  local cb = ffi.cast("kv_scan_fn", function(_k, kl, _v, vl, _p)
    count = count + 1
    if kl ~= KEY_LEN or vl ~= VAL_LEN then bad = bad + 1 end
    return 0
  end)
  b.keep = cb -- alive as long as the loop; freed in teardown
  local countp = ffi.new("size_t[1]")
  local loop = function(n)
    for _ = 1, n do
      count, bad = 0, 0
      local rc = C.kv_scan(txn, lo, KEY_LEN, hi, KEY_LEN, cb, nil, countp)
      if rc ~= 0 then fail("kv_scan", rc) end
      if count ~= RECORDS or countp[0] ~= RECORDS or bad ~= 0 then
        wrong("scan: %d upcalls, %d counted, %d bad", count, tonumber(countp[0]), bad)
      end
    end
  end
  if jit then jit.off(loop) end
  return loop, true -- true: interpreted on purpose
end

-- scan/dir:downcall: a cursor, one kv_cursor_next per record (the pointer API's references).
function loops.ffi_scan_downcall(b)
  local C, txn, keys, RECORDS = b.C, b.txn, tables().keys, D.SCAN_RECORDS
  local curp = ffi.new("kv_cursor *[1]")
  local kp, vp = ffi.new("const void *[1]"), ffi.new("const void *[1]")
  local klp, vlp = ffi.new("size_t[1]"), ffi.new("size_t[1]")
  return function(n)
    for _ = 1, n do
      local rc = C.kv_cursor_open(curp, txn, keys, KEY_LEN)
      if rc ~= 0 then fail("kv_cursor_open", rc) end
      local cur, got = curp[0], 0
      while got < RECORDS do
        rc = C.kv_cursor_next(cur, kp, klp, vp, vlp)
        if rc ~= 0 then break end
        if klp[0] == KEY_LEN and vlp[0] == VAL_LEN then got = got + 1 end
      end
      local crc = C.kv_cursor_close(cur)
      if rc ~= 0 or crc ~= 0 then fail("kv_cursor_next", rc ~= 0 and rc or crc) end
      if got ~= RECORDS then wrong("scan downcall: %d records", got) end
    end
  end
end

function loops.ffi_batch(b, size)
  local C, txn, t = b.C, b.txn, tables()
  local keys, order = t.keys, t.order
  local kbuf = ffi.new("uint8_t[?]", size * KEY_LEN)
  local buf = ffi.new("uint8_t[?]", size * VAL_LEN)
  local u32 = ffi.cast("const uint32_t *", buf)
  local key_lens, val_lens, foundp = ffi.new("size_t[?]", size), ffi.new("size_t[?]", size), ffi.new("size_t[1]")
  for i = 0, size - 1 do key_lens[i] = KEY_LEN end
  return function(n)
    local c = b.chain
    for _ = 1, n do
      for i = 0, size - 1 do -- the C suite's memcpy of each key into the packed array
        ffi.copy(kbuf + i * KEY_LEN, keys + order[(c + i) % KEYS] * KEY_LEN, KEY_LEN)
      end
      local first = order[c % KEYS]
      c = c + size
      local rc = C.kv_get_batch(txn, size, kbuf, key_lens, buf, size * VAL_LEN, val_lens, foundp)
      if rc ~= 0 then fail("kv_get_batch", rc) end
      if foundp[0] ~= size or u32[1] ~= first then wrong("batch/n:%d: found %d", size, tonumber(foundp[0])) end
    end
    b.chain = c
  end
end

-- ---- the handle ABI -----------------------------------------------------------------------------
function loops.hnd_noop(b)
  local C, env = b.C, b.env
  return function(n)
    for _ = 1, n do
      if C.kvh_noop(env) ~= 0 then fail("kvh_noop", C.kvh_noop(env)) end
    end
  end
end

function loops.hnd_add(b)
  local C, env = b.C, b.env
  local sump = ffi.new("int[1]")
  return function(n)
    local x = b.chain
    for _ = 1, n do
      local rc = C.kvh_add(env, x, 1, sump)
      if rc ~= 0 then fail("kvh_add", rc) end
      x = sump[0]
    end
    local want = D.wrap32(b.chain + n)
    if x ~= want then wrong("add: %d ~= %d", x, want) end
    b.chain = want
  end
end

function loops.hnd_get(b)
  local C, txn, keys = b.C, b.txn, tables().keys
  local buf, u32, lenp = get_state(b, VAL_LEN)
  return function(n)
    local i = b.chain
    for _ = 1, n do
      local rc = C.kvh_get(txn, keys + i * KEY_LEN, KEY_LEN, buf, VAL_LEN, lenp)
      if rc ~= 0 then fail("kvh_get", rc) end
      if lenp[0] ~= VAL_LEN or u32[1] ~= i then wrong("get: key %d answered record %d", i, u32[1]) end
      i = u32[0]
    end
    b.chain = i
  end
end

-- ---- the marshal ABI ----------------------------------------------------------------------------
local V = ABI.KVM_VERSION

function loops.msh_noop(b)
  local C = b.C
  local req, resp, lenp = ffi.new("uint8_t[2]", V, ABI.KVM_OP_NOOP), ffi.new("uint8_t[4]"), ffi.new("size_t[1]")
  return function(n)
    for _ = 1, n do
      local rc = C.kvm_call(req, 2, resp, 4, lenp)
      if rc ~= 0 then fail("kvm_call NOOP", rc) end
    end
  end
end

function loops.msh_add(b)
  local C = b.C
  local req = ffi.new("uint8_t[10]", V, ABI.KVM_OP_ADD)
  local args = ffi.cast("int32_t *", req + 2) -- a, b (unaligned: x86-64 and arm64 allow it)
  local resp, lenp = ffi.new("int32_t[2]"), ffi.new("size_t[1]")
  args[1] = 1
  return function(n)
    local x = b.chain
    for _ = 1, n do
      args[0] = x
      local rc = C.kvm_call(req, 10, resp, 8, lenp)
      if rc ~= 0 then fail("kvm_call ADD", rc) end
      x = resp[1]
    end
    local want = D.wrap32(b.chain + n)
    if x ~= want then wrong("add: %d ~= %d", x, want) end
    b.chain = want
  end
end

function loops.msh_get(b)
  local C, keys = b.C, tables().keys
  local req = ffi.new("uint8_t[?]", 14 + KEY_LEN)
  req[0], req[1] = V, ABI.KVM_OP_GET
  ffi.cast("uint64_t *", req + 2)[0] = b.txn
  ffi.cast("uint32_t *", req + 10)[0] = KEY_LEN
  local cap = 8 + VAL_LEN
  local resp, lenp = ffi.new("uint8_t[?]", cap), ffi.new("size_t[1]")
  local u32 = ffi.cast("const uint32_t *", resp) -- status, value length, next, own
  return function(n)
    local i = b.chain
    for _ = 1, n do
      ffi.copy(req + 14, keys + i * KEY_LEN, KEY_LEN)
      local rc = C.kvm_call(req, 14 + KEY_LEN, resp, cap, lenp)
      if rc ~= 0 then fail("kvm_call GET", rc) end
      if u32[1] ~= VAL_LEN or u32[3] ~= i then wrong("get: key %d answered record %d", i, u32[3]) end
      i = u32[2]
    end
    b.chain = i
  end
end

-- =================================================================================================
-- The mechanisms, and the loops each has: method -> loop constructor.
M.MECHANISMS = {
  ffi = { kind = Ptr, loops = {
    noop = loops.ffi_noop, add = loops.ffi_add, add_local = loops.ffi_add_local,
    add_throughput = loops.ffi_add_throughput,
    get = loops.ffi_get, get_throughput = loops.ffi_get_throughput, get_miss = loops.ffi_get_miss,
    put = loops.ffi_put, get_bytes = loops.ffi_get_bytes, scan = loops.ffi_scan,
    scan_downcall = loops.ffi_scan_downcall, batch = loops.ffi_batch } },
  ["ffi-handle"] = { kind = Hnd, loops = { noop = loops.hnd_noop, add = loops.hnd_add, get = loops.hnd_get } },
  ["ffi-marshal"] = { kind = Msh, loops = { noop = loops.msh_noop, add = loops.msh_add, get = loops.msh_get } },
}

-- Every libkv function a loop calls, resolved when a binding opens (the first lookup of a symbol in
-- a clib namespace is a dlsym; met first while a trace is recorded, it aborts that recording).
local SYMBOLS = { "kv_noop", "kv_add", "kv_get", "kv_put", "kv_scan", "kv_get_batch", "kv_cursor_open",
                  "kv_cursor_next", "kv_cursor_close", "kv_txn_begin", "kv_txn_commit", "kv_txn_abort",
                  "kv_txn_free", "kvh_noop", "kvh_add", "kvh_get", "kvm_call" }

-- A binding of mechanism mech, open on its own copy of the data set.
function M.open(mech, path)
  local b = M.MECHANISMS[mech].kind.open(path)
  for _, name in ipairs(SYMBOLS) do local _ = b.C[name] end
  b.mech = mech
  return b
end

-- The timed loop of method on b, after its setup (a transaction where it needs one).
function M.setup(b, method, param)
  b.chain, b.done = 0, 0
  if not method:match("^noop") and not method:match("^add") then
    b.txn = b:begin(method == "put" and TXN_WRITE or TXN_READ)
  end
  return M.MECHANISMS[b.mech].loops[method](b, param) -- the loop, and true if it is interpreted on purpose
end

function M.teardown(b)
  if b.txn ~= nil then
    local txn = b.txn
    b.txn = nil
    b:finish(txn, true) -- commit: put's last writes; a read just ends
  end
  if b.keep then
    b.keep:free()
    b.keep = nil
  end
end

return M
