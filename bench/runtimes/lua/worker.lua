-- worker.lua — the Lua runtimes' worker (bench/runtimes/README.md is the protocol), one source for
-- three runtimes (runtime.toml): luajit (JIT on), luajit-interp (luajit -joff) and lua5.4.
--
--   LUA worker.lua                     answers the driver's requests on stdin/stdout
--   LUA worker.lua first-call MECH     prints the first call's figures (first_call.lua) and exits
--
-- It holds no measurement method: the driver says how many iterations and repeats; this runs the
-- bindings' loops (bind_ffi.lua: LuaJIT's FFI; bind_capi.lua: the kvlua C module), reads the clocks
-- around them and reports. Under the JIT it also watches the trace compiler (jit.attach,
-- jit.util.funcbc): a timed loop that LuaJIT blacklisted or could not compile fails its run rather
-- than report a figure of interpreted or mixed code (Worker:run), and `jit COUNT` is the number of
-- traces compiled so far.
if arg[1] == "first-call" and arg[2] == "none" and not arg[3] then os.exit(0) end -- loads nothing
local RUNTIME = os.getenv("FFIBENCH_LUA_RUNTIME") or ""
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local out = (os.getenv("KV_BUILD_DIR") or error("KV_BUILD_DIR is not set")) .. "/runtimes/lua"
local flavor = jit and "luajit" or "lua5.4"
package.path = here .. "/?.lua;" .. out .. "/?.lua;" .. package.path
package.cpath = out .. "/" .. flavor .. "/?.so;" .. package.cpath

-- ---- clocks: CLOCK_MONOTONIC and CLOCK_THREAD_CPUTIME_ID, in ns --------------------------------
local wall, cpu
if jit then -- the FFI (compiled into the trace when the JIT is on)
  local ffi = require("ffi")
  ffi.cdef [[
    struct ffibench_timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clk_id, struct ffibench_timespec *tp);
  ]]
  local ts, C = ffi.new("struct ffibench_timespec"), ffi.C
  local MONOTONIC, THREAD_CPUTIME = 1, 3 -- <time.h> on Linux
  wall = function()
    C.clock_gettime(MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
  end
  cpu = function()
    C.clock_gettime(THREAD_CPUTIME, ts)
    return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
  end
else -- kvutil.c: clock_gettime through the C API
  local u = require("kvutil")
  wall, cpu = u.wall, u.cpu
end

local function int(x) return ("%d"):format(x) end

if arg[1] == "first-call" then
  if #arg ~= 2 then io.stderr:write("usage: worker.lua first-call MECHANISM\n") os.exit(2) end
  local ok, err = pcall(require("first_call").main, arg[2], wall)
  if not ok then io.stderr:write("first-call ", arg[2], ": ", tostring(err), "\n") os.exit(1) end
  os.exit(0)
end
if arg[1] then io.stderr:write("usage: worker.lua [first-call MECHANISM]\n") os.exit(2) end

local D -- data.lua, loaded by the first request (its errors are answers, like every other)

-- ---- the runtimes and what each measures ------------------------------------------------------
local jit_on = jit and jit.status() or false
local EXPECT = { luajit = { "luajit", true }, ["luajit-interp"] = { "luajit", false }, ["lua5.4"] = { "lua5.4", false } }

-- The workloads: { method, workload name, param, ops }, by the C suite's names (manifest.txt).
local function workloads()
  local w = {
    noop = { "noop", "noop", nil, 1 }, add = { "add", "add/mode:latency", nil, 1 },
    add_local = { "add_local", "add/mode:latency/site:local", nil, 1 },
    add_throughput = { "add_throughput", "add/mode:throughput", nil, 1 },
    get = { "get", "get/mode:latency", nil, 1 },
    get_throughput = { "get_throughput", "get/mode:throughput", nil, 1 },
    get_miss = { "get_miss", "get_miss", nil, 1 },
    put = { "put", "put/commit_every:" .. D.PUT_EVERY, nil, 1 },
    scan = { "scan", "scan/dir:upcall", nil, D.SCAN_RECORDS },
    scan_downcall = { "scan_downcall", "scan/dir:downcall", nil, D.SCAN_RECORDS },
  }
  for _, s in ipairs(D.BYTES_SIZES) do w["get_bytes:" .. s] = { "get_bytes", "get/bytes:" .. s, s, 1 } end
  for _, s in ipairs(D.BATCH_NS) do w["batch:" .. s] = { "batch", "batch/n:" .. s, s, s } end
  return w
end

-- runtime -> { {binding module, mechanism, workloads}, ... }. The full run's time share of the Lua
-- runtimes is 75 s (README.md, "Time"), so not every mechanism runs every workload: the LuaJIT FFI
-- (JIT on) runs one of each kind, with the smallest and largest get/bytes of the C suite's
-- and one batch size; the other ABI styles and runtimes the calls and one workload of each kind they
-- show something new in. The loops for the rest exist (bind_*.lua): FFIBENCH_LIST=all lists every
-- loop of every mechanism at every size (README.md: how to run them).
local PLAN = {
  luajit = {
    { "bind_ffi", "ffi", { "noop", "add", "add_local", "add_throughput", "get", "get_throughput", "get_miss", "put",
                           "get_bytes:64", "get_bytes:1048576", "scan", "scan_downcall", "batch:16" } },
    { "bind_ffi", "ffi-handle", { "noop", "add" } },
    { "bind_ffi", "ffi-marshal", { "noop", "add" } },
    { "bind_capi", "capi", { "noop", "add" } },
  },
  ["luajit-interp"] = {
    { "bind_ffi", "ffi", { "noop", "add", "add_local", "scan" } },
    { "bind_capi", "capi", { "noop", "add" } },
  },
  ["lua5.4"] = {
    { "bind_capi", "capi", { "noop", "add", "add_throughput", "get", "put", "get_bytes:64", "scan", "batch:16" } },
  },
}

local Worker = {}
Worker.__index = Worker

function Worker.new()
  D = require("data")
  local e = EXPECT[RUNTIME]
  if not e then error(("FFIBENCH_LUA_RUNTIME=%q: not one of luajit, luajit-interp, lua5.4"):format(RUNTIME)) end
  if e[1] ~= flavor or e[2] ~= jit_on then
    error(("runtime %s expects %s with the JIT %s, this is %s with the JIT %s"):format(
      RUNTIME, e[1], e[2] and "on" or "off", flavor, jit_on and "on" or "off"))
  end
  local w = setmetatable({ benches = {}, order = {}, mechs = {}, opened = {}, current = nil }, Worker)
  w:add(RUNTIME .. "/control/loop", { control = true, ops = 1 })
  for _, p in ipairs(PLAN[RUNTIME]) do
    local mod = require(p[1])
    w.mechs[#w.mechs + 1] = p[2]
    local all, has = workloads(), mod.MECHANISMS[p[2]].loops
    local keys = p[3]
    if os.getenv("FFIBENCH_LIST") == "all" then -- every loop the mechanism has, every size (a check)
      keys = {}
      for key, wl in pairs(all) do if has[wl[1]] then keys[#keys + 1] = key end end
      table.sort(keys)
    end
    for _, key in ipairs(keys) do
      local wl = all[key]
      if not wl or not has[wl[1]] then error(("%s/%s: no loop for %s"):format(RUNTIME, p[2], key)) end
      w:add(RUNTIME .. "/" .. p[2] .. "/" .. wl[2], { mod = mod, mech = p[2], method = wl[1], param = wl[3], ops = wl[4] })
    end
  end
  if jit_on then w:watch_jit() end
  return w
end

function Worker:add(name, b)
  self.benches[name] = b
  self.order[#self.order + 1] = name
end

-- The trace compiler's events: traces compiled (stop), and aborts of traces recorded in a binding's
-- own code (bind_*.lua: the timed loops and what they call). Aborts elsewhere (the protocol's code,
-- which is never timed) are logged to stderr and not counted. FFIBENCH_LUA_JITLOG=1 logs every event.
function Worker:watch_jit()
  local vmdef = require("jit.vmdef")
  local util = require("jit.util")
  local log = os.getenv("FFIBENCH_LUA_JITLOG") == "1"
  self.traces, self.aborts, self.first_abort = 0, 0, nil
  jit.attach(function(what, tr, func, pc, otr, oex)
    if what == "stop" then
      self.traces = self.traces + 1
    end
    if what ~= "abort" and not log then return end
    local fi = util.funcinfo(func, pc)
    local loc = fi.loc or "?"
    local msg = what
    if what == "abort" then
      msg = vmdef.traceerr[otr] or tostring(otr)
      if oex then
        if type(oex) == "number" and msg:find("%%s") and vmdef.ffnames then oex = vmdef.ffnames[oex] or oex end
        msg = msg:format(oex)
      end
    end
    local line = ("trace %d %s at %s: %s"):format(tr, what, loc, msg)
    if log then io.stderr:write("jit: ", line, "\n") end
    if what == "abort" then
      if (fi.source or ""):match("bind_[%w_]+%.lua$") then
        self.aborts = self.aborts + 1
        self.first_abort = self.first_abort or line
      elseif not log then
        io.stderr:write("jit: (not counted, outside the bindings) ", line, "\n")
      end
    end
  end, "trace")
end

function Worker:hello()
  local version = jit and jit.version or require("kvutil").release
  local flags, first = {}, 0 -- the interpreter and its options: arg's negative indices
  while arg[first - 1] ~= nil do first = first - 1 end
  for k = first, -1 do flags[#flags + 1] = arg[k] end
  local mode
  if jit then
    mode = "LuaJIT " .. (jit_on and "JIT on" or "JIT off (interpreter)") .. ": " ..
        table.concat({ select(2, jit.status()) }, " ")
  else
    mode = "PUC Lua interpreter"
  end
  local rows = {
    { "context", "runtime_name", (jit and "LuaJIT" or "Lua") .. " (" .. (flags[1] or "?") .. ")" },
    { "context", "runtime_version", version },
    { "context", "runtime_flags", table.concat(flags, " ") .. "; a full garbage collection after each benchmark's setup (untimed), the collector as usual after it" },
    { "context", "runtime_mode", mode },
    { "context", "lua_api", _VERSION },
  }
  if jit then rows[#rows + 1] = { "context", "luajit_arch", jit.arch } end
  rows[#rows + 1] = { "protocol", "1" }
  return rows
end

function Worker:list()
  local rows = {}
  for _, name in ipairs(self.order) do rows[#rows + 1] = { "bench", name, self.benches[name].ops, 1 } end
  for _, m in ipairs(self.mechs) do rows[#rows + 1] = { "first-call", m } end
  return rows
end

function Worker:data()
  return { { "checksum", D.checksum(require("kvutil")) } }
end

local function control_loop(n)
  for _ = 1, n do end
end

function Worker:select(name)
  if self.current and self.current.name == name then return self.current.loop end
  local b = self.benches[name]
  if not b then error("no benchmark " .. name, 0) end
  self:finish()
  if b.control then
    self.current = { name = name, loop = control_loop }
    return control_loop
  end
  local key = b.mech
  local binding = self.opened[key]
  if not binding then -- its own copy of the data set (LMDB: one open per file per process)
    binding = b.mod.open(b.mech, D.copy_base(b.mech))
    self.opened[key] = binding
  end
  local loop, interpreted = b.mod.setup(binding, b.method, b.param)
  collectgarbage("collect") -- once per benchmark, untimed: the data set's loading and the setup's garbage
  self.current = { name = name, loop = loop, binding = binding, mod = b.mod, interpreted = interpreted }
  return loop
end

function Worker:finish()
  local c = self.current
  self.current = nil
  if c and c.binding then c.mod.teardown(c.binding) end
end

-- The loop instructions of function f, by name (FORL, JFORL, IFORL, LOOP, ...): the J- form has a
-- compiled trace, the I- form is blacklisted (it will always be interpreted), the plain form is not
-- hot yet.
local LOOP_OPS = { FORL = "", JFORL = "J", IFORL = "I", ITERL = "", JITERL = "J", IITERL = "I",
                   LOOP = "", JLOOP = "J", ILOOP = "I" }
local function loop_states(f)
  local util, names = require("jit.util"), require("jit.vmdef").bcnames
  local out, pc = {}, 1
  while true do
    local ins = util.funcbc(f, pc)
    if not ins then break end
    local op = ins % 256
    local name = names:sub(op * 6 + 1, op * 6 + 6):gsub(" +$", "")
    if LOOP_OPS[name] then out[#out + 1] = { pc = pc, state = LOOP_OPS[name], name = name } end
    pc = pc + 1
  end
  return out
end

-- Under the JIT, a run fails (error) rather than report a figure that mixes compiled and
-- interpreted code, or is interpreted while the runtime says JIT:
--   * a loop of the timed function is blacklisted (its traces aborted until LuaJIT gave up on it:
--     it now always runs in the interpreter);
--   * a trace recorded in a binding's code (bind_*.lua) aborted during a run that began with every
--     loop of the timed function compiled (a side trace could not be compiled: its exits run in
--     the interpreter);
--   * a trace in a binding's code aborted during a run and, at its end, the timed function's loops
--     are still not all compiled, after JIT_PATIENCE iterations of this benchmark before the run
--     (LuaJIT keeps retrying with a growing back-off before it blacklists: those retries are runs
--     in the interpreter).
-- An abort that LuaJIT recovers from (e.g. "leaving loop in root trace" while recording a nested
-- loop, after which the outer loop is compiled) is not an error: the driver's warm-up waits for
-- `jit COUNT` (traces compiled so far) to stand still. A loop kept in the interpreter on purpose
-- (scan/dir:upcall's under the FFI, jit.off) is exempt.
local JIT_PATIENCE = 500

local function all_compiled(states)
  if #states == 0 then return false end
  for _, st in ipairs(states) do if st.state ~= "J" then return false end end
  return true
end

function Worker:run(name, iterations, repeats)
  local n, reps = tonumber(iterations), tonumber(repeats)
  if not n or not reps or n < 1 or reps < 1 or n % 1 ~= 0 or reps % 1 ~= 0 then
    error(("bad iterations or repeats: %s %s"):format(iterations, repeats), 0)
  end
  local loop = self:select(name)
  local cur = self.current
  local check = jit_on and not cur.interpreted
  local aborts, compiled = self.aborts, check and all_compiled(loop_states(loop))
  local before = cur.iterations or 0
  self.first_abort = nil
  local rows = {}
  for r = 1, reps do
    local c0, t0 = cpu(), wall()
    loop(n)
    local t1, c1 = wall(), cpu()
    rows[r] = { "sample", int(t1 - t0), int(c1 - c0) }
  end
  cur.iterations = before + n * reps
  if check then
    local states = loop_states(loop)
    for _, st in ipairs(states) do
      if st.state == "I" then
        error(("the timed loop's %s (bytecode %d) is blacklisted: LuaJIT aborted its traces and runs it in the interpreter (%s)"):format(
          st.name, st.pc, self.first_abort or "the aborts came before this run"), 0)
      end
    end
    local new = self.aborts - aborts
    if new > 0 and compiled then
      error(("%d trace abort(s) in the bindings' code after the timed loop was compiled: its exits would run interpreted: %s"):format(
        new, self.first_abort or "?"), 0)
    end
    if new > 0 and before >= JIT_PATIENCE and not all_compiled(states) then
      error(("%d trace abort(s) in the bindings' code and the timed loop still not compiled after %d iterations: it runs interpreted: %s"):format(
        new, before + n * reps, self.first_abort or "?"), 0)
    end
  end
  if jit_on then rows[#rows + 1] = { "jit", self.traces } end
  return rows
end

function Worker:close()
  self:finish()
  for _, b in pairs(self.opened) do b:close() end
end

local function serve()
  local w, wout = nil, io.stdout
  for line in io.stdin:lines() do
    if line == "quit" then break end
    local fields = {}
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
    local ok, rows = pcall(function()
      if not w then w = Worker.new() end
      local op, nargs = fields[1], #fields - 1
      if op == "hello" and nargs == 0 then return w:hello()
      elseif op == "list" and nargs == 0 then return w:list()
      elseif op == "data" and nargs == 0 then return w:data()
      elseif op == "run" and nargs == 3 then return w:run(fields[2], fields[3], fields[4])
      end
      error(("bad request %q"):format(line), 0)
    end)
    if ok then
      for _, r in ipairs(rows) do
        for i = 1, #r do r[i] = tostring(r[i]) end
        wout:write(table.concat(r, "\t"), "\n")
      end
      wout:write("ok\n")
    else -- every failure is an answer: a wrong answer, an engine error, a bad request
      wout:write("error\t", (tostring(rows):gsub("[\t\r\n]", " ")), "\n")
    end
    wout:flush()
  end
  if w then w:close() end
end

serve()
