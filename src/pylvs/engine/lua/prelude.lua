-- pylvs's HAProxy Lua API (HAProxy 2.6 src/hlua.c, src/hlua_fcn.c, doc/lua-api/index.rst).
-- Run once per Lua state with the bridge table `py` (Python functions): it builds the
-- global `core` and the classes; Python drives every call through `_pylvs.start` /
-- `_pylvs.resume` (coroutines, so core.sleep and core.yield can wait without blocking).
local py, state_id, forced_yield = ...

local MARK = {}      -- what our own yields carry first
local EXIT = {}      -- raised by core.done()
local TXN_DONE = {}  -- raised by txn:done()
local budgets = setmetatable({}, {__mode = "k"})  -- coroutine -> {left = s, started = s}

local function typename(v) return type(v) end

local function check_args(n, want, name)
  if n ~= want then error("'" .. name .. "' needs " .. want .. " arguments", 3) end
end

local function hook()
  local co = coroutine.running()
  local b = budgets[co]
  if b and b.left and py.clock() - b.started > b.left then
    b.left = nil
    error("execution timeout", 0)  -- hlua_hook: a plain runtime error, with no position
  end
end

core = {}
core.emerg, core.alert, core.crit, core.err = 0, 1, 2, 3
core.warning, core.notice, core.info, core.debug = 4, 5, 6, 7
core.thread = state_id == 0 and 0 or 1  -- the shared state: 0; a thread's own: its number

function core.log(...)
  if select("#", ...) ~= 2 then error("'log' needs 2 arguments", 2) end
  local level, msg = ...
  if math.type(level) ~= "integer" then
    error("bad argument #1 to 'log' (number has no integer representation)", 2)
  end
  if level < 0 or level > 7 then error("Invalid loglevel.", 2) end
  py.log(level, tostring(msg))
end
local function logfn(level, name)
  return function(...)
    if select("#", ...) ~= 1 then error("'" .. name .. "' needs 1 arguments", 2) end
    local msg = ...
    if type(msg) ~= "string" and type(msg) ~= "number" then
      error("bad argument #1 to '?' (string expected, got " .. type(msg) .. ")", 2)
    end
    py.log(level, tostring(msg))
  end
end
core.Debug, core.Info = logfn(7, "debug"), logfn(6, "info")
core.Warning, core.Alert = logfn(4, "warning"), logfn(1, "alert")

function core.now()
  local sec, usec = py.now()
  return {sec = sec, usec = usec}
end
local function date(kind)
  return function(...)
    local t = ...
    if type(t) ~= "string" and type(t) ~= "number" then
      local got = select("#", ...) == 0 and "no value" or type(t)
      error("bad argument #1 to '?' (string expected, got " .. got .. ")", 2)
    end
    return py.date(kind, t)
  end
end
core.http_date, core.imf_date = date("http"), date("imf")
core.rfc850_date, core.asctime_date = date("rfc850"), date("asctime")

local function wait(kind, arg)
  -- outside a call the engine drives (a file's load) there is nothing to wait for: HAProxy
  -- returns at once there too
  if not coroutine.isyieldable() then return end
  return coroutine.yield(MARK, kind, arg)
end
function core.sleep(n) return wait("sleep", math.floor((tonumber(n) or 0) * 1000)) end
function core.msleep(n) return wait("sleep", math.floor(tonumber(n) or 0)) end
function core.yield() return wait("sleep", 0) end
function core.done(...) error(EXIT, 0) end  -- ends the function only

-- Actions' return values (hlua.c: the global `act`, ACT_RET_*).
act = {CONTINUE = 0, STOP = 1, YIELD = 2, ERROR = 3, DONE = 4, DENY = 5, ABORT = 6,
       INVALID = 7}
local WAKE = {}
function act:wake_time(ms) WAKE[coroutine.running()] = math.tointeger(ms) or 0 end

local function checkfn(f, pos, name)
  if type(f) ~= "function" then
    error("bad argument #" .. pos .. " to '" .. name .. "' (function expected, got " .. type(f) .. ")", 3)
  end
end
local function checkstr(s, pos, name)
  if type(s) ~= "string" and type(s) ~= "number" then
    error("bad argument #" .. pos .. " to '" .. name .. "' (string expected, got " .. type(s) .. ")", 3)
  end
  return tostring(s)
end

function core.register_fetches(...)
  check_args(select("#", ...), 2, "register_fetches")
  local name, fn = ...
  name = checkstr(name, 1, "register_fetches"); checkfn(fn, 2, "register_fetches")
  py.register("fetch", name, fn, nil, 0)
end
function core.register_converters(...)
  check_args(select("#", ...), 2, "register_converters")
  local name, fn = ...
  name = checkstr(name, 1, "register_converters"); checkfn(fn, 2, "register_converters")
  py.register("converter", name, fn, nil, 0)
end
function core.register_action(...)
  local n = select("#", ...)
  if n < 3 or n > 4 then error("'register_action' needs between 3 and 4 arguments", 2) end
  local name, kinds, fn, nargs = ...
  name = checkstr(name, 1, "register_action")
  if type(kinds) ~= "table" then
    error("register_action: second argument must be a table of strings", 2)
  end
  checkfn(fn, 3, "register_action")
  local list = {}
  for _, k in pairs(kinds) do
    if type(k) ~= "string" then
      error("register_action: second argument must be a table of strings", 2)
    end
    if k ~= "tcp-req" and k ~= "tcp-res" and k ~= "http-req" and k ~= "http-res" then
      error("Lua action environment '" .. k .. "' is unknown. 'tcp-req', 'tcp-res', 'http-req' or 'http-res' are expected.", 2)
    end
    list[#list + 1] = k
  end
  py.register("action", name, fn, table.concat(list, " "), math.tointeger(nargs) or 0)
end
function core.register_service(...)
  local n = select("#", ...)
  if n ~= 3 then error("'register_service' needs 3 arguments", 2) end
  local name, mode, fn = ...
  name = checkstr(name, 1, "register_service"); checkfn(fn, 3, "register_service")
  if mode ~= "tcp" and mode ~= "http" then
    error("Lua service environment '" .. tostring(mode) .. "' is unknown. 'tcp' or 'http' are expected.", 2)
  end
  py.register("service", name, fn, mode, 0)
end
function core.register_init(fn)
  checkfn(fn, 1, "register_init")
  py.register("init", "", fn, nil, 0)
end
function core.register_task(fn, ...)
  checkfn(fn, 1, "register_task")
  local args = table.pack(...)
  py.register("task", "", function() return fn(table.unpack(args, 1, args.n)) end, nil, 0)
end
function core.register_cli(path, usage, fn)
  if type(path) ~= "table" then error("bad argument #1 to 'register_cli' (table expected)", 2) end
  checkfn(fn, 3, "register_cli")
  local words = {}
  for i, w in ipairs(path) do words[i] = tostring(w) end
  py.register("cli", table.concat(words, " "), fn, tostring(usage), 0)
end

function core.get_info() return py.call("get_info") end
local function pattern(verb, n, ...)
  if select("#", ...) ~= n then error("'" .. verb .. "' needs " .. n .. " arguments", 3) end
  local ok, err = py.call("pattern", verb, ...)
  if err then error(err, 3) end
end
function core.set_map(...) pattern("set_map", 3, ...) end
function core.del_map(...) pattern("del_map", 2, ...) end
function core.add_acl(...) pattern("add_acl", 2, ...) end
function core.del_acl(...) pattern("del_acl", 2, ...) end
function core.set_nice(n) end  -- one thread: there is no run queue to reorder

function core.concat()
  local parts = {}
  local c = {}
  function c:add(s) parts[#parts + 1] = tostring(s) end
  function c:dump() return table.concat(parts) end
  return c
end

function core.tokenize(str, sep, noblank)
  local out = {}
  local cur = {}
  for i = 1, #str do
    local ch = str:sub(i, i)
    if sep:find(ch, 1, true) then
      if not noblank or #cur > 0 then out[#out + 1] = table.concat(cur) end
      cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  if not noblank or #cur > 0 then out[#out + 1] = table.concat(cur) end
  return out
end

-- Proxies, servers and listeners (hlua_fcn.c): tables holding their names, whose methods
-- ask Python, which reads and acts on the running proxies.
local Server, Proxy, Listener = {}, {}, {}
Server.__index, Proxy.__index, Listener.__index = Server, Proxy, Listener
local function scall(self, what, ...)  -- marks the server non-purgeable, then asks
  py.server(self[0], self.name)
  return py.server_call(self[0], self.name, what, ...)
end
function Server:get_stats() return scall(self, "stats") end
function Server:get_addr() return scall(self, "addr") end
function Server:get_weight() return scall(self, "get_weight") end
function Server:set_weight(w) return scall(self, "set_weight", tostring(w)) end
function Server:get_maxconn() return scall(self, "get_maxconn") end
function Server:set_maxconn(m) return scall(self, "set_maxconn", tostring(m)) end
function Server:is_draining() return scall(self, "is_draining") end
function Server:set_drain() scall(self, "state", "drain") end
function Server:set_maint() scall(self, "state", "maint") end
function Server:set_ready() scall(self, "state", "ready") end
function Server:shut_sess() scall(self, "shut_sess") end
function Server:set_addr(a, p) return scall(self, "set_addr", tostring(a), p and tostring(p)) end
function Server:check_enable() return scall(self, "cli", "enable health") end
function Server:check_disable() return scall(self, "cli", "disable health") end
function Server:check_force_up() return scall(self, "health", "up") end
function Server:check_force_nolb() return scall(self, "health", "stopping") end
function Server:check_force_down() return scall(self, "health", "down") end
function Server:agent_enable() return scall(self, "cli", "enable agent") end
function Server:agent_disable() return scall(self, "cli", "disable agent") end
function Server:agent_force_up() return scall(self, "agent", "up") end
function Server:agent_force_down() return scall(self, "agent", "down") end
function Proxy:get_stats() return py.proxy_call(self.name, "stats") end
function Proxy:get_cap() return py.proxy_call(self.name, "cap") end
function Proxy:get_mode() return py.proxy_call(self.name, "mode") end
function Proxy:pause() return py.proxy_call(self.name, "pause") end
function Proxy:resume() return py.proxy_call(self.name, "resume") end
function Proxy:stop() return py.proxy_call(self.name, "stop") end
function Proxy:shut_bcksess() return py.proxy_call(self.name, "shut_bcksess") end
function Listener:get_stats() return py.listener_stats(self[0], self[1]) end

-- Fetches, converters and the HTTP side of a transaction (hlua.c): `txn.sf:path()` runs
-- the `path` fetch with string results, `txn.f` with native ones, `txn.c` converters.
local function callable_class(kind, strings)
  local mt = {}
  mt.__index = function(_, name)
    return function(self, ...)
      local v, err = py.sample(self[0], kind, name, strings, ...)
      if err then error(err, 2) end
      return v
    end
  end
  return mt
end
local Fetches, SFetches = callable_class("fetch", false), callable_class("fetch", true)
local Converters, SConverters = callable_class("conv", false), callable_class("conv", true)

local HTTP = {}
HTTP.__index = HTTP
for _, side in ipairs({"req", "res"}) do
  HTTP[side .. "_get_headers"] = function(self) return py.http(self[0], side, "get_headers") end
  HTTP[side .. "_add_header"] = function(self, ...)
    if select("#", ...) ~= 2 then error("'" .. side .. "_add_hdr' needs 3 arguments", 2) end
    local n, v = ...
    return py.http(self[0], side, "add_header", tostring(n), tostring(v))
  end
  HTTP[side .. "_set_header"] = function(self, ...)
    if select("#", ...) ~= 2 then error("'" .. side .. "_set_hdr' needs 3 arguments", 2) end
    local n, v = ...
    return py.http(self[0], side, "set_header", tostring(n), tostring(v))
  end
  HTTP[side .. "_del_header"] = function(self, n) return py.http(self[0], side, "del_header", tostring(n)) end
  HTTP[side .. "_rep_header"] = function(self, n, r, w) return py.http(self[0], side, "rep_header", tostring(n), tostring(r), tostring(w)) end
  HTTP[side .. "_rep_value"] = function(self, n, r, w) return py.http(self[0], side, "rep_value", tostring(n), tostring(r), tostring(w)) end
end
function HTTP:req_set_method(m) return py.http(self[0], "req", "set_method", tostring(m)) end
function HTTP:req_set_path(p) return py.http(self[0], "req", "set_path", tostring(p)) end
function HTTP:req_set_query(q) return py.http(self[0], "req", "set_query", tostring(q)) end
function HTTP:req_set_uri(u) return py.http(self[0], "req", "set_uri", tostring(u)) end
function HTTP:res_set_status(s, r) return py.http(self[0], "res", "set_status", tostring(s), r and tostring(r)) end

local TXN = {}
TXN.__index = TXN
function TXN:set_var(name, value, ifexist) return py.txn(self[0], "set_var", tostring(name), value, ifexist) end
function TXN:unset_var(name) return py.txn(self[0], "unset_var", tostring(name)) end
function TXN:get_var(name) return py.txn(self[0], "get_var", tostring(name)) end
function TXN:get_priv() return py.priv(self[0]) end
function TXN:set_priv(v) py.priv(self[0], true, v) end
function TXN:done() error(TXN_DONE, 0) end  -- the stream ends: no answer
function TXN:set_loglevel(l)
  if type(l) ~= "number" then
    error("bad argument #1 to 'set_loglevel' (number expected, got " .. type(l) .. ")", 2)
  end
  if math.type(l) ~= "integer" or l < 0 or l > 7 then
    error("bad argument #1 to 'set_loglevel' (Bad log level. It must be between 0 and 7)", 2)
  end
  return py.txn(self[0], "set_loglevel", l)
end
function TXN:set_tos(t) py.txn(self[0], "set_tos", math.tointeger(t) or 0) end
function TXN:set_mark(m) py.txn(self[0], "set_mark", math.tointeger(m) or 0) end
function TXN:set_priority_class(c) return py.txn(self[0], "set_priority_class", c) end
function TXN:set_priority_offset(o) return py.txn(self[0], "set_priority_offset", o) end
local function txnmsg(msg, name)
  if type(msg) ~= "string" and type(msg) ~= "number" then
    error("bad argument #1 to '" .. name .. "' (string expected, got " .. type(msg) .. ")", 3)
  end
  return tostring(msg)
end
function TXN:log(level, msg)
  if math.type(level) ~= "integer" or level < 0 or level > 7 then
    error("calling 'log' on bad self (Invalid loglevel.)", 2)
  end
  return py.txn(self[0], "log", level, txnmsg(msg, "log"))
end
function TXN:Debug(msg) py.txn(self[0], "log", 7, txnmsg(msg, "Debug")) end
function TXN:Info(msg) py.txn(self[0], "log", 6, txnmsg(msg, "Info")) end
function TXN:Warning(msg) py.txn(self[0], "log", 4, txnmsg(msg, "Warning")) end
function TXN:Alert(msg) py.txn(self[0], "log", 1, txnmsg(msg, "Alert")) end
function TXN:deflog(msg) return py.txn(self[0], "deflog", tostring(msg)) end

-- An HTTP applet (a service): the request as read, the response as the script builds it.
local AppletHTTP = {}
AppletHTTP.__index = AppletHTTP
function AppletHTTP:set_status(s, r) self._status = math.tointeger(s); self._reason = r end
function AppletHTTP:add_header(n, v)
  local list = self._headers[n:lower()]
  if not list then list = {}; self._headers[n:lower()] = list; self._order[#self._order + 1] = n end
  list[#list + 1] = tostring(v)
end
function AppletHTTP:start_response() return py.applet(self[0], "start", self._status, self._reason, self._order, self._headers) end
function AppletHTTP:send(data) return py.applet(self[0], "send", tostring(data)) end
function AppletHTTP:getline() return py.applet(self[0], "getline") end
function AppletHTTP:receive(n) return py.applet(self[0], "receive", n) end
function AppletHTTP:get_var(name) return py.txn(self[0], "get_var", tostring(name)) end
function AppletHTTP:set_var(name, value, ifexist) return py.txn(self[0], "set_var", tostring(name), value, ifexist) end
function AppletHTTP:unset_var(name) return py.txn(self[0], "unset_var", tostring(name)) end
function AppletHTTP:get_priv() return py.priv(self[0]) end
function AppletHTTP:set_priv(v) py.priv(self[0], true, v) end

local function tb(co, sep)
  local parts, level = {}, 0
  while true do
    local ar = debug.getinfo(co, level, "Slnt")
    if not ar then break end
    -- the prelude's own frames (the budget hook and the error it raised, a wrapper of a
    -- core function) are HAProxy's C code: not shown
    local next_ar = debug.getinfo(co, level + 1, "S")
    while ar and (ar.short_src == "pylvs-lua" or (ar.what == "C" and next_ar and next_ar.short_src == "pylvs-lua" and ar.name == "error")) do
      level = level + 1
      ar = debug.getinfo(co, level, "Slnt")
      next_ar = debug.getinfo(co, level + 1, "S")
    end
    if not ar then break end
    level = level + 1
    local s
    if ar.currentline > 0 then s = ar.short_src .. ":" .. ar.currentline .. ": "
    else s = ar.short_src .. ": " end
    if ar.namewhat ~= "" and ar.name then s = s .. "in " .. ar.namewhat .. " '" .. ar.name .. "'"
    elseif ar.what == "main" then s = s .. "in main chunk"
    elseif ar.what ~= "C" then s = s .. "in function line " .. ar.linedefined
    else s = s .. "?" end
    if ar.istailcall then s = s .. " ..." end
    parts[#parts + 1] = s
  end
  return table.concat(parts, sep)
end

-- One step of a call: ("done", values...), ("wait", ms), ("error", message),
-- ("timeout"), ("exit").
local function step(co, ok, ...)
  local b = budgets[co]
  if b and b.left then b.left = b.left - (py.clock() - b.started) end
  if not ok then
    local e = ...
    if e == EXIT then return "exit" end
    if e == TXN_DONE then return "txndone" end
    local msg = type(e) == "string" and e or (type(e) == "number" and tostring(e)) or nil
    local trace = tb(co, ", ")
    if msg then
      return "error", "[state-id " .. state_id .. "] runtime error: " .. msg .. " from " .. trace, msg, trace
    end
    return "error", "[state-id " .. state_id .. "] unknown runtime error from " .. trace, "", trace
  end
  if coroutine.status(co) == "dead" then return "done", ... end
  local m, kind, arg = ...
  if m == MARK then return "wait", arg end
  return "wait", 0  -- a bare coroutine.yield(): run again at once
end

local function resume(co, ...)
  local b = budgets[co]
  if b then b.started = py.clock() end
  return step(co, coroutine.resume(co, ...))
end

local function start(fn, budget_ms, ...)
  local co = coroutine.create(fn)
  budgets[co] = {left = budget_ms > 0 and budget_ms / 1000 or nil, started = 0}
  debug.sethook(co, hook, "", forced_yield)
  return co, resume(co, ...)
end

local function new(class, fields)
  return setmetatable(fields, class)
end

local function txn_new(ref, http, sample_strings)
  local t = setmetatable({[0] = ref}, TXN)
  t.f = setmetatable({[0] = ref}, Fetches)
  t.sf = setmetatable({[0] = ref}, SFetches)
  t.c = setmetatable({[0] = ref}, Converters)
  t.sc = setmetatable({[0] = ref}, SConverters)
  if http then t.http = setmetatable({[0] = ref}, HTTP) end
  return t
end

local function applet_new(ref, fields)
  local a = setmetatable(fields, AppletHTTP)
  a[0] = ref
  a._status, a._headers, a._order = 200, {}, {}
  a.response = a._headers
  a.f = setmetatable({[0] = ref}, Fetches)
  a.sf = setmetatable({[0] = ref}, SFetches)
  a.c = setmetatable({[0] = ref}, Converters)
  a.sc = setmetatable({[0] = ref}, SConverters)
  return a
end

local function proxy_new(fields, servers, listeners)
  local p = setmetatable(fields, Proxy)
  p.servers, p.listeners = {}, {}
  for i = 1, #servers do
    local s = servers[i]
    p.servers[s.name] = setmetatable({[0] = fields.name, name = s.name, puid = s.puid}, Server)
  end
  for i = 1, #listeners do
    local l = listeners[i]
    p.listeners[l] = setmetatable({[0] = fields.name, [1] = l}, Listener)
  end
  return p
end

-- The applet a register_cli function writes its answer with (AppletTCP's send).
local CliApplet = {}
CliApplet.__index = CliApplet
function CliApplet:send(data) self._out(tostring(data)) end
function CliApplet:getline() return "" end
function CliApplet:receive() return "" end
local function cli_applet(out) return setmetatable({_out = out}, CliApplet) end

_pylvs = {
  start = start, resume = resume, txn = txn_new, applet = applet_new, proxy = proxy_new,
  new = new, cli_applet = cli_applet,
  wake = function(co) local w = WAKE[co]; WAKE[co] = nil; return w end,
}
