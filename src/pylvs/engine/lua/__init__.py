"""HAProxy's Lua in pylvs (HAProxy 2.6 src/hlua.c, src/hlua_fcn.c): one or two Lua 5.4
states (lupa) with the `core` API, the scripts `lua-load` names, and their fetches,
converters, actions, services, CLI commands and tasks wired into the HAProxy-mode runtime.

state.py: a Lua state with the prelude (prelude.lua: `core` and the classes).  loader.py: the
reader's side (what the scripts register, for `haproxy -c`).  engine.py: the runtime's side,
built from base.py (shared state, logging) and its parts objects.py (Proxy, Server), txn.py
(TXN, HTTP, core's runtime calls) and services.py (HTTP applets, CLI commands; applet.py
frames an applet's answer).
"""
