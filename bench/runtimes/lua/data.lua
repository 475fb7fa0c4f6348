-- data.lua — the data folder ($FFIBENCH_DATA, bench/dataset.h) as the Lua workers use it, in code
-- that runs unchanged on LuaJIT (Lua 5.1) and Lua 5.4 (no bit operators, no string.unpack).
--
-- Nothing here derives the data: the tables are read from the folder's files, the workload
-- vocabulary (sizes, records per scan, the commit interval) from its manifest.txt. Indices are
-- 0-based, as in the C suite: key i is keys[i + 1] (a 16-byte Lua string) and blob's bytes
-- i*16 .. i*16+15.
local M = {}

local dir = os.getenv("FFIBENCH_DATA") or error("FFIBENCH_DATA is not set")
M.dir = dir

local function read(name)
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local facts, workloads = {}, {}
for line in io.lines(dir .. "/manifest.txt") do
  if line ~= "" and line:sub(1, 1) ~= "#" then
    local fields = {}
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
    if fields[1] == "workload" then
      workloads[fields[2]] = { param = fields[3], values = fields[4], ops = fields[5] }
    else
      facts[fields[1]] = { fields[2], fields[3], fields[4] }
    end
  end
end

local function values(workload)
  local out = {}
  for v in workloads[workload].values:gmatch("%d+") do out[#out + 1] = tonumber(v) end
  return out
end

M.KEYS, M.KEY_LEN = tonumber(facts.keys[2]), tonumber(facts.keys[3])
M.MISS_KEYS, M.PUT_KEYS = tonumber(facts.miss[2]), tonumber(facts.put_keys[2])
M.VAL_LEN = tonumber(facts.value_length[1])
M.SCAN_RECORDS = tonumber(workloads["scan/dir:upcall"].ops)
M.PUT_EVERY = values("put")[1]
M.BYTES_SIZES = values("get")
M.BATCH_NS = values("batch")
M.CHECKSUM = facts.checksum[1]

-- A table file: its bytes (checked against the manifest's rows x width) and its rows as strings.
local function table_file(name)
  local file, rows, width = facts[name][1], tonumber(facts[name][2]), tonumber(facts[name][3])
  local blob = read(file)
  if #blob ~= rows * width then
    error(("%s: %d bytes, the manifest says %d x %d"):format(file, #blob, rows, width))
  end
  local list = {}
  for i = 0, rows - 1 do list[i + 1] = blob:sub(i * width + 1, (i + 1) * width) end
  return blob, list
end

local loaded
-- The tables, loaded once: keys, miss, put_keys (blob and list each), order (0-based indices in a
-- 1-based list: order[k + 1] is the k-th index of the throughput order).
function M.tables()
  if loaded then return loaded end
  local t = {}
  t.keys_blob, t.keys = table_file("keys")
  t.miss_blob, t.miss = table_file("miss")
  t.put_blob, t.put_keys = table_file("put_keys")
  local raw = read(facts.order[1])
  if #raw ~= 4 * M.KEYS then error("order.u32 does not hold one u32 per key") end
  local order, byte = {}, string.byte
  for k = 0, M.KEYS - 1 do
    local b0, b1, b2, b3 = byte(raw, 4 * k + 1, 4 * k + 4)
    order[k + 1] = b0 + b1 * 256 + b2 * 65536 + b3 * 16777216
  end
  t.order = order
  -- order re-encoded as u32 little-endian from what was parsed (what the checksum covers).
  local parts, char, floor = {}, string.char, math.floor
  for k = 1, M.KEYS do
    local v = order[k]
    parts[k] = char(v % 256, floor(v / 256) % 256, floor(v / 65536) % 256, floor(v / 16777216) % 256)
  end
  t.order_blob = table.concat(parts)
  loaded = t
  return t
end

-- FNV-1a 64 over keys, order, miss and put keys, as loaded (kvutil.fnv1a64 does the arithmetic).
function M.checksum(kvutil)
  local t = M.tables()
  local h = "cbf29ce484222325"
  for _, blob in ipairs({ t.keys_blob, t.order_blob, t.miss_blob, t.put_blob }) do
    h = kvutil.fnv1a64(h, blob)
  end
  return "fnv1a64:" .. h
end

-- The key of the record get/bytes:N reads.
function M.bytes_key(n) return "bytes:" .. n end

-- int32 wrap of an exact sum (kv_add's answer after a chain of n increments).
function M.wrap32(x)
  x = x % 4294967296
  if x >= 2147483648 then x = x - 4294967296 end
  return x
end

-- Copies base.kv to $FFIBENCH_SCRATCH/<mech>.kv: each mechanism opens its own copy.
function M.copy_base(mech)
  local scratch = os.getenv("FFIBENCH_SCRATCH") or error("FFIBENCH_SCRATCH is not set")
  local path = scratch .. "/" .. mech .. ".kv"
  local out = assert(io.open(path, "wb"))
  assert(out:write(read("base.kv")))
  out:close()
  return path
end

return M
