-- bind_capi.lua — libkv through kvlua (kvlua.c), a C module on the Lua C API: mechanism `capi`,
-- the same source under LuaJIT and Lua 5.4, each loading the kvlua.so built against its own
-- headers. Keys and values are Lua strings (kvlua.get returns the value as a new Lua string, as a
-- hand-written Lua module does); the record's identity is read from the string with string.byte.
-- Runs unchanged on Lua 5.1 (LuaJIT) and 5.4: no bit operators, no string.unpack.
--
-- Every loop calls the module's function from a local (`add(x, 1)`: one lua_CFunction call) and
-- checks its answers as bench/workloads.c does.
local D = require("data")
local ABI = require("kv_abi")

local M = {}

local KEY_LEN, VAL_LEN, KEYS = D.KEY_LEN, D.VAL_LEN, D.KEYS
local TXN_READ, TXN_WRITE = ABI.KV_TXN_READ, ABI.KV_TXN_WRITE
local NOT_FOUND = ABI.KV_E_NOT_FOUND
local byte = string.byte

local function fail(what, rc) error(("%s: engine returned %s"):format(what, tostring(rc)), 0) end
local function wrong(fmt, ...) error("wrong answer: " .. fmt:format(...), 0) end

-- bytes off+1 .. off+4 of s as a little-endian u32
local function u32(s, off)
  local b0, b1, b2, b3 = byte(s, off + 1, off + 4)
  return b0 + b1 * 256 + b2 * 65536 + b3 * 16777216
end

local loops = {}

function loops.noop(b)
  local noop = b.m.noop
  return function(n)
    for _ = 1, n do noop() end
  end
end

function loops.add(b)
  local add = b.m.add
  return function(n)
    local x = b.chain
    for _ = 1, n do x = add(x, 1) end -- each call takes the previous result (mode:latency)
    local want = D.wrap32(b.chain + n)
    if x ~= want then wrong("add: %d ~= %d", x, want) end
    b.chain = want
  end
end

function loops.add_throughput(b)
  local add = b.m.add
  return function(n)
    local acc = 0 -- independent calls; the results are only summed
    for i = 0, n - 1 do acc = acc + add(i, 1) end
    if acc ~= n * (n + 1) / 2 then wrong("add throughput: sum %d", acc) end
  end
end

function loops.get(b)
  local get, txn, keys = b.m.get, b.txn, D.tables().keys
  return function(n)
    local i = b.chain -- the next key comes out of the value just read (mode:latency)
    for _ = 1, n do
      local v, rc = get(txn, keys[i + 1])
      if not v then fail("get", rc) end
      if #v ~= VAL_LEN or u32(v, 4) ~= i then wrong("get: key %d answered record %d", i, u32(v, 4)) end
      i = u32(v, 0)
    end
    b.chain = i
  end
end

function loops.get_throughput(b)
  local get, txn, t = b.m.get, b.txn, D.tables()
  local keys, order = t.keys, t.order
  return function(n)
    local at = b.chain
    for _ = 1, n do
      local i = order[at % KEYS + 1]
      at = at + 1
      local v, rc = get(txn, keys[i + 1])
      if not v then fail("get", rc) end
      if #v ~= VAL_LEN or u32(v, 4) ~= i then wrong("get: key %d answered record %d", i, u32(v, 4)) end
    end
    b.chain = at
  end
end

function loops.get_miss(b)
  local get, txn, miss, MISS = b.m.get, b.txn, D.tables().miss, D.MISS_KEYS
  return function(n)
    local at = b.chain
    for _ = 1, n do
      local v, rc = get(txn, miss[at % MISS + 1])
      at = at + 1
      if v then wrong("get_miss: a miss key was found") end
      if rc ~= NOT_FOUND then fail("get", rc) end
    end
    b.chain = at
  end
end

function loops.put(b)
  local put, put_keys, PUT, EVERY = b.m.put, D.tables().put_keys, D.PUT_KEYS, D.PUT_EVERY
  local v = string.rep("\90", VAL_LEN) -- 0x5a
  return function(n)
    local done, txn = b.done, b.txn
    for _ = 1, n do
      local rc = put(txn, put_keys[done % PUT + 1], v)
      if rc ~= 0 then fail("put", rc) end
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

function loops.get_bytes(b, size)
  local get, txn, key = b.m.get, b.txn, D.bytes_key(size)
  return function(n)
    for _ = 1, n do
      local v, rc = get(txn, key)
      if not v then fail("get bytes", rc) end
      if #v ~= size then wrong("get bytes:%d: length %d", size, #v) end
    end
  end
end

-- scan/dir:upcall: kvlua.scan calls the Lua function once per record through lua_pcall.
function loops.scan(b)
  local scan, txn, keys, RECORDS = b.m.scan, b.txn, D.tables().keys, D.SCAN_RECORDS
  local lo, hi = keys[1], keys[RECORDS + 1]
  local count, bad = 0, 0
  local function on_record(kl, vl)
    count = count + 1
    if kl ~= KEY_LEN or vl ~= VAL_LEN then bad = bad + 1 end
  end
  return function(n)
    for _ = 1, n do
      count, bad = 0, 0
      local got, rc = scan(txn, lo, hi, on_record)
      if not got then fail("scan", rc) end
      if count ~= RECORDS or got ~= RECORDS or bad ~= 0 then
        wrong("scan: %d upcalls, %d counted, %d bad", count, got, bad)
      end
    end
  end
end

function loops.batch(b, size)
  local get_batch, txn, t = b.m.get_batch, b.txn, D.tables()
  local keys, order = t.keys, t.order
  local parts, concat = {}, table.concat
  return function(n)
    local c = b.chain
    for _ = 1, n do
      for i = 1, size do parts[i] = keys[order[(c + i - 1) % KEYS + 1] + 1] end
      local packed = concat(parts, "", 1, size) -- the C suite's memcpy into one packed array
      local first = order[c % KEYS + 1]
      c = c + size
      local found, vals = get_batch(txn, packed, size, KEY_LEN)
      if not found then fail("get_batch", vals) end
      if found ~= size or u32(vals, 4) ~= first then wrong("batch/n:%d: found %d", size, found) end
    end
    b.chain = c
  end
end

local Capi = {}
Capi.__index = Capi

function Capi:begin(flags)
  local txn, rc = self.m.txn_begin(self.env, flags)
  if not txn then fail("txn_begin", rc) end
  return txn
end

function Capi:finish(txn, commit)
  local rc = self.m.txn_end(txn, commit)
  if rc ~= 0 then fail("txn_end", rc) end
end

function Capi:close() self.m.env_close(self.env) end

M.MECHANISMS = { capi = { loops = loops } }

function M.open(_mech, path)
  local m = require("kvlua")
  local env, rc = m.env_open(path, 2 ^ 30, ABI.KV_DURABLE_NOSYNC)
  if not env then fail("env_open", rc) end
  return setmetatable({ m = m, env = env, mech = "capi" }, Capi)
end

function M.setup(b, method, param)
  b.chain, b.done = 0, 0
  if method ~= "noop" and method ~= "add" and method ~= "add_throughput" then
    b.txn = b:begin(method == "put" and TXN_WRITE or TXN_READ)
  end
  return loops[method](b, param)
end

function M.teardown(b)
  if b.txn ~= nil then
    local txn = b.txn
    b.txn = nil
    b:finish(txn, true)
  end
end

return M
