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

-- luaL_argerror as HAProxy's C functions raise it: named as the caller called the function
-- ('?' through pcall or a tail call), one less for a method call, at the caller's line.
-- `depth`: 1 when the API function itself calls this, 2 from a helper it calls, ...
local function argerror(depth, arg, msg)
  local ar = debug.getinfo(depth + 1, "n")
  local name = ar and ar.name
  if ar and ar.namewhat == "method" then
    arg = arg - 1
    if arg == 0 then
      error("calling '" .. tostring(name) .. "' on bad self (" .. msg .. ")", depth + 2)
    end
  end
  error("bad argument #" .. arg .. " to '" .. (name or "?") .. "' (" .. msg .. ")", depth + 2)
end
-- luaL_checklstring / luaL_checkinteger / luaL_checktype: `n` is how many arguments came
local function got(arg, n, v) return arg > n and "no value" or type(v) end
local function checkstring(depth, arg, n, v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(v) end
  argerror(depth + 1, arg, "string expected, got " .. got(arg, n, v))
end
local function checkinteger(depth, arg, n, v)
  local num = (type(v) == "number" or type(v) == "string") and tonumber(v) or nil
  if num == nil then argerror(depth + 1, arg, "number expected, got " .. got(arg, n, v)) end
  local i = math.tointeger(num)
  if i == nil then argerror(depth + 1, arg, "number has no integer representation") end
  return i
end
local function checktype(depth, arg, n, v, want)
  if type(v) ~= want then argerror(depth + 1, arg, want .. " expected, got " .. got(arg, n, v)) end
  return v
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
  local n = select("#", ...)
  check_args(n, 2, "log")
  local level, msg = ...
  level = checkinteger(1, 1, n, level)
  msg = checkstring(1, 2, n, msg)
  if level < 0 or level > 7 then argerror(1, 1, "Invalid loglevel.") end
  py.log(level, msg)
end
local function logfn(level, name)
  return function(...)
    local n = select("#", ...)
    check_args(n, 1, name)
    py.log(level, checkstring(1, 1, n, (...)))
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
    return py.date(kind, checkstring(1, 1, select("#", ...), (...)))
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

-- the registration functions check their arguments as hlua.c's (luaL_checkstring,
-- luaL_checktype(L, N, LUA_TFUNCTION)): the API function is the helper's caller
local function checkfn(f, pos) checktype(2, pos, pos, f, "function") end
local function checkstr(s, pos) return checkstring(2, pos, pos, s) end

function core.register_fetches(...)
  check_args(select("#", ...), 2, "register_fetches")
  local name, fn = ...
  name = checkstr(name, 1); checkfn(fn, 2)
  py.register("fetch", name, fn, nil, 0)
end
function core.register_converters(...)
  check_args(select("#", ...), 2, "register_converters")
  local name, fn = ...
  name = checkstr(name, 1); checkfn(fn, 2)
  py.register("converter", name, fn, nil, 0)
end
function core.register_action(...)
  local n = select("#", ...)
  if n < 3 or n > 4 then error("'register_action' needs between 3 and 4 arguments", 2) end
  local name, kinds, fn, nargs = ...
  name = checkstr(name, 1)
  if type(kinds) ~= "table" then
    error("register_action: second argument must be a table of strings", 2)
  end
  checkfn(fn, 3)
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
  name = checkstr(name, 1); checkfn(fn, 3)
  if mode ~= "tcp" and mode ~= "http" then
    error("Lua service environment '" .. tostring(mode) .. "' is unknown. 'tcp' or 'http' are expected.", 2)
  end
  py.register("service", name, fn, mode, 0)
end
function core.register_init(...)
  check_args(select("#", ...), 1, "register_init")
  local fn = ...
  checkfn(fn, 1)
  py.register("init", "", fn, nil, 0)
end
function core.register_task(...)
  local fn = checktype(1, 1, select("#", ...), (...), "function")
  local args = table.pack(select(2, ...))
  py.register("task", "", function() return fn(table.unpack(args, 1, args.n)) end, nil, 0)
end
function core.register_cli(...)
  local n = select("#", ...)
  check_args(n, 3, "register_cli")
  local path, usage, fn = ...
  checktype(1, 1, n, path, "table")
  usage = checkstring(1, 2, n, usage)
  checkfn(fn, 3)
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
-- one thread: there is no run queue to reorder, but the argument is checked as hlua.c's
function core.set_nice(...) checkinteger(1, 1, select("#", ...), (...)) end

function core.concat()
  local parts = {}
  local c = {}
  function c.add(...)
    local n = select("#", ...)
    local _, s = ...
    parts[#parts + 1] = checkstring(1, 2, n, s)
  end
  function c:dump() return table.concat(parts) end
  return c
end

function core.tokenize(...)
  local n = select("#", ...)
  local str, sep, noblank = ...
  str, sep = checkstring(1, 1, n, str), checkstring(1, 2, n, sep)
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

-- Map (hlua.c class Map; the file is loaded and looked up by Python: maps.py).  The class
-- holds pattern.c's method numbers under both names (Map.str and Map._str).
Map = {}
local MapObj = {}
MapObj.__index = MapObj
for i, name in ipairs({"found", "bool", "int", "ip", "bin", "len", "str", "beg", "sub", "dir",
                       "dom", "end", "reg", "regm"}) do
  Map[name], Map["_" .. name] = i - 1, i - 1
end
function Map.new(...)
  local n = select("#", ...)
  if n < 1 or n > 2 then error("'new' needs at least 1 argument.", 2) end
  local file, method = ...
  file = checkstring(1, 1, n, file)
  local match = Map._str
  if n >= 2 then
    match = checkinteger(1, 2, n, method)
    if match < 0 or match > Map._regm then error("'new' needs a valid match method.", 2) end
  end
  local id, err = py.map_new(file, match)
  if not id then error(err, 2) end
  return setmetatable({[0] = id, [1] = match}, MapObj)
end
local function map_lookup(strings)
  return function(...)
    local n = select("#", ...)
    check_args(n, 2, "lookup")
    local self, key = ...
    if type(self) ~= "table" or getmetatable(self) ~= MapObj then argerror(1, 1, "(null)") end
    if self[1] == Map._int then key = checkinteger(1, 2, n, key)
    else key = checkstring(1, 2, n, key) end
    local v = py.map_lookup(self[0], key)
    if v == nil and strings then return "" end
    return v
  end
end
MapObj.lookup, MapObj.slookup = map_lookup(false), map_lookup(true)
setmetatable(Map, {__index = MapObj})

-- core.parse_addr / core.match_addr (hlua_fcn.c): the network is Python's (maps.py)
function core.parse_addr(...)
  return py.parse_addr(checkstring(1, 1, select("#", ...), (...)))
end
function core.match_addr(a, b) return py.match_addr(a, b) end

-- Socket (core.tcp(), hlua.c hlua_socket_*): each operation runs on Python's loop
-- (cosocket.py) while the coroutine waits for it ("sock")
local Socket = {}
Socket.__index = Socket
Socket.__gc = function(self) py.sock(self[0], "close") end
function core.tcp() return setmetatable({[0] = py.sock(0, "new")}, Socket) end
local function sock_run(self, op, ...)
  if py.sock(self[0], op, ...) then
    while not py.sock(self[0], "ready") do
      if not coroutine.isyieldable() then break end
      coroutine.yield(MARK, "sock", self[0])
    end
  end
  return py.sock(self[0], "result")
end
function Socket.connect(...)
  local n = select("#", ...)
  if n < 2 then error("connect: need at least 2 arguments", 2) end
  local self, host, port = ...
  host = checkstring(1, 2, n, host)
  if n >= 3 and port ~= nil then port = checkinteger(1, 3, n, port) end
  return sock_run(self, "connect", host, port)
end
function Socket.send(...)
  local n = select("#", ...)
  if n < 2 or n > 4 then error("'send' needs between 2 and 4 arguments", 2) end
  local self, buf, i, j = ...
  buf = checkstring(1, 2, n, buf)
  j = n >= 4 and checkinteger(1, 4, n, j) or #buf
  if j < 0 then j = #buf + j + 1 end
  if j > #buf then j = #buf + 1 end
  i = n >= 3 and checkinteger(1, 3, n, i) or 1
  if i < 0 then i = #buf + i + 1 end
  if i > #buf then i = #buf + 1 end
  if i > j or (i == 0 and j == 0) then return 0 end
  if i == 0 then i = 1 end
  if j == 0 then j = 1 end
  return sock_run(self, "send", buf:sub(i, j))
end
function Socket.receive(...)
  local n = select("#", ...)
  if n < 1 or n > 3 then
    error("The 'receive' function requires between 1 and 3 arguments.", 2)
  end
  local self, pattern, prefix = ...
  local wanted = -1
  if n >= 2 then
    if type(pattern) == "string" and pattern:sub(1, 2) == "*a" then wanted = -2
    elseif type(pattern) == "string" and pattern:sub(1, 2) == "*l" then wanted = -1
    elseif type(pattern) == "number" or math.tointeger(tonumber(pattern)) then
      wanted = checkinteger(1, 2, n, pattern)
      if wanted < 0 then error("Unsupported size.", 2) end
    else error("Unsupported pattern.", 2) end
  end
  if n >= 3 and prefix ~= nil then
    if type(prefix) ~= "string" then error("Expect a 'string' for the prefix", 2) end
  end
  return sock_run(self, "receive", wanted, prefix)
end
function Socket.settimeout(...)
  local n = select("#", ...)
  check_args(n, 2, "settimeout")
  local self, t = ...
  t = tonumber(t)
  if t == nil then argerror(1, 2, "number expected, got " .. type((select(2, ...)))) end
  if t < 0 then error("settimeout: cannot set negatives values", 2) end
  py.sock(self[0], "settimeout", t)
end
function Socket.close(...)
  check_args(select("#", ...), 1, "close")
  return py.sock((...)[0], "close")
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

-- Channels (txn.req, txn.res; hlua.c hlua_channel_*): Python holds the bytes (channel.py)
local Channel = {}
Channel.__index = Channel
local function chn_self(self)
  if type(self) ~= "table" or getmetatable(self) ~= Channel then argerror(2, 1, "(null)") end
end
local function chn_do(self, op, ...)
  local v, err = py.chn(self[0], self[1], op, ...)
  if err then error(err, 0) end
  return v
end
-- methods of the channel alone: exactly one argument
for _, op in ipairs({"dup", "get", "getline", "input", "output", "is_full", "may_recv",
                     "is_resp"}) do
  Channel[op] = function(...)
    check_args(select("#", ...), 1, op)
    local self = ...
    chn_self(self)
    return chn_do(self, op)
  end
end
-- data/line/remove: an offset and a length; set/insert: a string first
local function ranged(op, min, max, msg, str)
  return function(...)
    local n = select("#", ...)
    if n < min or n > max then error(msg, 2) end
    local self, a, b, c = ...
    chn_self(self)
    if str then
      a = checkstring(1, 2, n, a)
      if n > 2 then b = checkinteger(1, 3, n, b) end
      if n > 3 then c = checkinteger(1, 4, n, c) end
      return chn_do(self, op, a, b, c)
    end
    if n > 1 then a = checkinteger(1, 2, n, a) end
    if n > 2 then b = checkinteger(1, 3, n, b) end
    return chn_do(self, op, a, b)
  end
end
Channel.data = ranged("data", 1, 3, "'data' expects at most 2 arguments")
Channel.line = ranged("line", 1, 3, "'line' expects at most 2 arguments")
Channel.remove = ranged("remove", 1, 3, "'remove' expects at most 2 arguments")
Channel.set = ranged("set", 2, 4, "'set' expects at least 1 argument and at most 3 arguments", true)
Channel.insert = ranged("insert", 2, 3,
  "'insert' expects at least 1 argument and at most 2 arguments", true)
for _, op in ipairs({"append", "prepend", "send"}) do
  Channel[op] = function(...)
    local n = select("#", ...)
    check_args(n, 2, op)
    local self, s = ...
    chn_self(self)
    return chn_do(self, op, checkstring(1, 2, n, s))
  end
end
function Channel.forward(...)
  local n = select("#", ...)
  check_args(n, 2, "forward")
  local self, len = ...
  chn_self(self)
  return chn_do(self, "forward", checkinteger(1, 2, n, len))
end

local TXN = {}
TXN.__index = TXN
function TXN:set_var(name, value, ifexist) return py.txn(self[0], "set_var", tostring(name), value, ifexist) end
function TXN:unset_var(name) return py.txn(self[0], "unset_var", tostring(name)) end
function TXN.get_var(...)
  local n = select("#", ...)
  check_args(n, 2, "get_var")
  local self, name = ...
  return py.txn(self[0], "get_var", checkstring(1, 2, n, name))
end
function TXN:get_priv() return py.priv(self[0]) end
function TXN:set_priv(v) py.priv(self[0], true, v) end
-- txn:done([reply]): the stream ends, with no answer or (HTTP) the reply
-- (hlua_txn_done, hlua_txn_forward_reply)
local DONE_REPLY = setmetatable({}, {__mode = "k"})
function TXN:done(reply)
  if self[-1] and type(reply) == "table" then DONE_REPLY[coroutine.running()] = reply end
  error(TXN_DONE, 0)
end

-- The Reply class (hlua_txn_reply_new and its methods): a table of status, reason, body and
-- headers (name -> list of values).  The constructor takes the status and body of its
-- argument but always the status's own reason, as 2.6 does.
local Reply = {}
Reply.__index = Reply
function TXN:reply(arg)
  if not self[-1] then error("txn object is not an HTTP transaction.", 2) end
  local status, body = 200, nil
  if type(arg) == "table" then
    local s = arg.status
    if type(s) == "number" then status = math.tointeger(s) or 0 end
    if type(arg.body) == "string" then body = arg.body end
  end
  local r = setmetatable({status = status, reason = py.reason(status), body = body,
                          headers = {}}, Reply)
  if type(arg) == "table" and type(arg.headers) == "table" then
    for k, v in pairs(arg.headers) do
      if type(v) == "string" or type(v) == "number" then
        r.headers[k] = {v}
      elseif type(v) == "table" then
        local list = {}
        for _, x in pairs(v) do
          if type(x) == "string" or type(x) == "number" then list[#list + 1] = x end
        end
        r.headers[k] = list
      end
    end
  end
  return r
end
function Reply.set_status(...)
  local n = select("#", ...)
  local self, status, reason = ...
  status = checkinteger(1, 2, n, status)
  if reason ~= nil then reason = checkstring(1, 3, n, reason) end
  checktype(1, 1, n, self, "table")
  if status < 100 or status > 599 then return false end
  self.status, self.reason = status, reason or py.reason(status)
  return true
end
local function headers_of(self, what)
  local h = rawget(self, "headers")
  if type(h) ~= "table" then
    error("Reply['headers'] is expected to " .. what .. " an array. " .. type(h) .. " found", 3)
  end
  return h
end
function Reply.add_header(...)
  local n = select("#", ...)
  local self, name, value = ...
  name, value = checkstring(1, 2, n, name), checkstring(1, 3, n, value)
  checktype(1, 1, n, self, "table")
  local h = headers_of(self, "a")
  local list = h[name]
  if list == nil then list = {}; h[name] = list
  elseif type(list) ~= "table" then
    error("Reply['headers']['" .. name .. "'] is expected to be an array. " .. type(list) .. " found", 2)
  end
  list[#list + 1] = value
  return true
end
function Reply.del_header(...)
  local n = select("#", ...)
  local self, name = ...
  name = checkstring(1, 2, n, name)
  checktype(1, 1, n, self, "table")
  headers_of(self, "be")[name] = nil
  return true
end
function Reply.set_body(...)
  local n = select("#", ...)
  local self, body = ...
  body = checkstring(1, 2, n, body)
  checktype(1, 1, n, self, "table")
  self.body = body
  return true
end
-- What hlua_txn_forward_reply reads of a reply: status (a number, else 200), reason (a
-- string, else the status's), body (a string), headers (string names, tables of string
-- values; content-length left out: the reply's length is written)
local function reply_fields(r)
  local status = type(r.status) == "number" and r.status or nil
  local reason = type(r.reason) == "string" and r.reason or nil
  local body = type(r.body) == "string" and r.body or nil
  local flat = {}
  if type(r.headers) == "table" then
    for k, v in pairs(r.headers) do
      local ks = type(k) == "number" and tostring(k) or k
      if type(ks) == "string" and type(v) == "table" and ks:lower() ~= "content-length" then
        for _, x in pairs(v) do
          if type(x) == "string" or type(x) == "number" then
            flat[#flat + 1] = ks; flat[#flat + 1] = tostring(x)
          end
        end
      end
    end
  end
  return status, reason, body, flat
end
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
AppletHTTP.get_var = TXN.get_var
function AppletHTTP:set_var(name, value, ifexist) return py.txn(self[0], "set_var", tostring(name), value, ifexist) end
function AppletHTTP:unset_var(name) return py.txn(self[0], "unset_var", tostring(name)) end
function AppletHTTP:get_priv() return py.priv(self[0]) end
function AppletHTTP:set_priv(v) py.priv(self[0], true, v) end

-- A tcp applet (a `tcp` service, hlua.c hlua_applet_tcp_*): Python holds the client's
-- bytes (tcp_service.py); a read that needs more, or a send the socket cannot take yet,
-- waits on the loop ("io") and tries again.
local AppletTCP = {}
AppletTCP.__index = AppletTCP
local function io_wait(what)
  if not coroutine.isyieldable() then return false end
  coroutine.yield(MARK, "io", what)
  return true
end
function AppletTCP.receive(...)
  local n = select("#", ...)
  if n > 2 then error("The 'recv' function requires between 1 and 2 arguments.", 2) end
  local self, len = ...
  len = n >= 2 and checkinteger(1, 2, n, len) or -1
  local parts = {}
  while true do
    -- up to `len` bytes (all there is for -1): "ok" when that is all, "eof" once the client
    -- closed and nothing is left, else "wait" for more
    local data, state = py.atcp(self[0], "recv", len)
    parts[#parts + 1] = data
    if len ~= -1 then len = len - #data end
    if state ~= "wait" or not io_wait("in") then break end
  end
  return table.concat(parts)
end
function AppletTCP.getline(...)
  local self = ...
  while true do
    local line, eof = py.atcp(self[0], "getline")
    if line then return line end
    if eof or not io_wait("in") then return "" end
  end
end
function AppletTCP.send(...)
  local n = select("#", ...)
  check_args(n, 2, "send")
  local self, data = ...
  data = checkstring(1, 2, n, data)
  -- the bytes are the stream's at once; a full output waits until the client reads
  while py.atcp(self[0], "send", data) do
    data = ""
    if not io_wait("out") then break end
  end
end
AppletTCP.get_var, AppletTCP.set_var = TXN.get_var, AppletHTTP.set_var
AppletTCP.unset_var, AppletTCP.get_priv = AppletHTTP.unset_var, AppletHTTP.get_priv
AppletTCP.set_priv = AppletHTTP.set_priv

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
    if e == TXN_DONE then
      local r = DONE_REPLY[co]
      DONE_REPLY[co] = nil
      if r then return "txndone", true, reply_fields(r) end
      return "txndone"
    end
    local msg = type(e) == "string" and e or (type(e) == "number" and tostring(e)) or nil
    local trace = tb(co, ", ")
    if msg then
      return "error", "[state-id " .. state_id .. "] runtime error: " .. msg .. " from " .. trace, msg, trace
    end
    return "error", "[state-id " .. state_id .. "] unknown runtime error from " .. trace, "", trace
  end
  if coroutine.status(co) == "dead" then return "done", ... end
  local m, kind, arg = ...
  if m == MARK then return "wait", arg, kind end
  -- a forced yield (or a bare coroutine.yield()): run again once the loop served the
  -- others, unless the budget is spent (hlua_hook's "execution timeout")
  if b and b.left and b.left <= 0 then
    local trace = tb(co, ", ")
    return "error", "[state-id " .. state_id .. "] runtime error: execution timeout from " .. trace,
      "execution timeout", trace
  end
  return "wait", 0
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

-- A call that may yield (a task, a service, an HTTP action): it yields every forced_yield
-- instructions (preempt.py's C hook), its budget checked then (step); without the C hook,
-- the budget hook alone
local function spawn(fn, budget_ms, ...)
  local co = coroutine.create(fn)
  budgets[co] = {left = budget_ms > 0 and budget_ms / 1000 or nil, started = 0}
  if not py.preempt(string.format("%p", co), forced_yield) then
    debug.sethook(co, hook, "", forced_yield)
  end
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
  t[-1] = http  -- an HTTP transaction: txn:reply, txn:done(reply)
  t.req = setmetatable({[0] = ref, [1] = "req"}, Channel)
  t.res = setmetatable({[0] = ref, [1] = "res"}, Channel)
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

local function applet_tcp_new(ref)
  local a = setmetatable({[0] = ref}, AppletTCP)
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
  start = start, spawn = spawn, resume = resume, txn = txn_new, applet = applet_new, proxy = proxy_new,
  applet_tcp = applet_tcp_new,
  new = new, cli_applet = cli_applet,
  wake = function(co) local w = WAKE[co]; WAKE[co] = nil; return w end,
}
