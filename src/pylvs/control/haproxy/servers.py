"""Server commands of the stats socket, with HAProxy 2.6's checks and messages (src/server.c,
src/stream.c, src/stick_table.c).

`disable|enable server`, `set server B/S weight|state|health|agent`, `set weight`, `get
weight`, `set maxconn server`, `disable|enable health|agent`, `add|del server`, `shutdown
sessions server` and `show|clear|set table`.  Each handler checks the level (admin for every
change; `get weight` needs none), finds the server as cli_find_server does (`backend/server`,
either part may be `#id`; a disabled proxy refuses) and calls the runtime's `ProxyAdmin`.
"""

from __future__ import annotations

import ipaddress

from pylvs.control.haproxy.context import LOG_NOTICE, LOG_WARNING, Context, Reply, err, msg
from pylvs.control.haproxy.lookup import backend_server, find_backend, find_server
from pylvs.model.proxies import ProxyView, ServerView
from pylvs.proto.stick import Level, table_command
from pylvs.sched.haproxy.cnum import strtol

_SET_SERVER_USAGE = (
    "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | "
    "check-addr | check-port | fqdn | health | ssl | state | weight\n"
)
# `set server` options HAProxy has and pylvs does not change at run time (yet).
_UNSUPPORTED_OPTIONS = frozenset(
    {"agent-addr", "agent-port", "agent-send", "check-addr", "check-port"}
)
_BY = " by 'stats socket command'\n"


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _server(ctx: Context, arg: str) -> tuple[ProxyView, ServerView] | Reply:
    found = backend_server(ctx.runtime.snapshot(), arg)
    return err(found) if isinstance(found, str) else found


def _admin_server(ctx: Context, arg: str) -> tuple[ProxyView, ServerView] | Reply:
    denied = ctx.denied(Level.ADMIN)
    return denied if denied is not None else _server(ctx, arg)


def set_admin_state(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`disable server B/S` (maintenance) / `enable server B/S` (ready)."""
    found = _admin_server(ctx, _word(words, 2))
    if isinstance(found, Reply):
        return found
    state = "maint" if words[0] == "disable" else "ready"
    ctx.runtime.set_server_state(found[0].name, found[1].name, state)
    return Reply("")


def set_server(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_set_server."""
    found = _admin_server(ctx, _word(words, 2))
    if isinstance(found, Reply):
        return found
    px, sv = found
    what, value = _word(words, 3), _word(words, 4)
    rt = ctx.runtime
    if what == "weight":
        warning = rt.set_server_weight(px.name, sv.name, value)
        return err(warning) if warning else Reply("")
    if what == "state":
        if value not in ("ready", "drain", "maint"):
            return err("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n")
        rt.set_server_state(px.name, sv.name, value)
        return Reply("")
    if what == "health":
        if sv.tracked is not None:
            return err("cannot change health on a tracking server.\n")
        if value not in ("up", "stopping", "down"):
            return err("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n")
        rt.set_server_health(px.name, sv.name, value)
        return Reply("")
    if what == "agent":
        if not sv.agent.enabled:
            return err("agent checks are not enabled on this server.\n")
        if value not in ("up", "down"):
            return err("'set server <srv> agent' expects 'up' or 'down'.\n")
        rt.set_server_agent(px.name, sv.name, value)
        return Reply("")
    if what == "addr":
        return set_addr(ctx, px, sv, words)
    if what == "ssl":
        return _set_ssl(ctx, px, sv, value)
    if what == "fqdn":
        if not value:
            return err("set server <b>/<s> fqdn requires a FQDN.\n")
        refused, text = ctx.runtime.set_server_fqdn(px.name, sv.name, value)
        return err(text) if refused else msg(text, LOG_WARNING)
    return _set_other(what, value)


def _set_ssl(ctx: Context, px: ProxyView, sv: ServerView, value: str) -> Reply:
    """`set server B/S ssl on|off` (srv_set_ssl): only a server whose TLS settings were
    prepared (`ssl`, or a `default-server ssl` before it); not a dynamic one."""
    if value not in ("on", "off"):
        refused = ctx.runtime.set_server_ssl(px.name, sv.name, None)
        return err(refused or "'set server <srv> ssl' expects 'on' or 'off'.\n")
    refused = ctx.runtime.set_server_ssl(px.name, sv.name, value == "on")
    if refused is not None:
        return err(refused)
    return msg("server ssl setting updated.\n", LOG_NOTICE)


def _set_other(what: str, value: str) -> Reply:
    """`set server B/S ...`: what pylvs cannot change, answered as HAProxy does."""
    if what in _UNSUPPORTED_OPTIONS:
        return err(f"'set server <srv> {what}' is not supported by pylvs.\n")
    return err(_SET_SERVER_USAGE)


def set_addr(ctx: Context, px: ProxyView, sv: ServerView, words: list[str]) -> Reply:
    """`set server B/S addr ADDR [port PORT]`: srv_update_addr_port and its messages (a port
    map, +N/-N, is refused unless the server's checks have their own port).  Whatever it
    says, the server then leaves maintenance "resolution" (cli_parse_set_server clears
    SRV_ADMF_RMAINT after it: `init-addr none` servers come out so)."""
    text = _word(words, 4)
    if not text:
        return err("set server <b>/<s> addr requires an address and optionally a port.\n")
    said, addr, port = _addr_port(sv, text, words)
    ctx.runtime.set_server_addr(px.name, sv.name, addr, port)
    return msg(said + _BY, LOG_WARNING)


def _addr_port(sv: ServerView, text: str, words: list[str]) -> tuple[str, str | None, int | None]:
    """srv_update_addr_port's report, and the address and port to change (None: kept)."""
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return f"Invalid addr '{text}'", None, None
    if sv.family not in ("ipv4", "ipv6"):  # no address yet (a name `init-addr none` kept)
        return (
            "Update for the current server address family is only supported through"
            " configuration file",
            None,
            None,
        )
    said = []
    addr = None
    if str(ip) == sv.addr:
        said.append("no need to change the addr")
    else:
        said.append(f"IP changed from '{sv.addr}' to '{ip}'")
        addr = str(ip)
    port = None
    port_text = _word(words, 6) if _word(words, 5) == "port" else ""
    if port_text:
        value, used = strtol(port_text)
        old = str(sv.port) if sv.port else "+0"
        if port_text[0] in "+-":
            said.append(
                "can't change <port> to port map because it is incompatible with current "
                "health check port configuration (use 'port' statement from the 'server' "
                "directive."
            )
        elif not used or used != len(port_text) or not 0 < value < 65536:
            said.append(f"problem converting port '{port_text}' to an int")
        elif str(value) == old:
            said.append("no need to change the port")
        else:
            said.append(f"port changed from '{old}' to '{value}'")
            port = value
    return ", ".join(said), addr, port


def get_weight(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_get_weight: no level needed, no disabled-proxy check."""
    backend, _, server = _word(words, 2).partition("/")
    if not server:
        return err("Require 'backend/server'.\n")
    snapshot = ctx.runtime.snapshot()
    px = find_backend(snapshot, backend)
    sv = find_server(px, server) if px is not None else None
    if px is None or sv is None:
        return err("No such server.\n" if px is not None else "No such backend.\n")
    return Reply(f"{sv.uweight} (initial {sv.iweight})\n")


def set_weight(ctx: Context, words: list[str], payload: str | None) -> Reply:
    found = _admin_server(ctx, _word(words, 2))
    if isinstance(found, Reply):
        return found
    warning = ctx.runtime.set_server_weight(found[0].name, found[1].name, _word(words, 3))
    return err(warning) if warning else Reply("")


def set_maxconn_server(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """server_parse_maxconn_change_request."""
    found = _admin_server(ctx, _word(words, 3))
    if isinstance(found, Reply):
        return found
    text = _word(words, 4)
    if not text:
        return err("Require <maxconn>.\n")
    value, used = strtol(text)
    if not used:
        return err("maxconn string empty or preceded by garbage")
    if used != len(text):
        return err("Trailing garbage in maxconn string")
    ctx.runtime.set_server_maxconn(found[0].name, found[1].name, value)
    return Reply("")


def check_toggle(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`enable|disable health|agent B/S`."""
    found = _admin_server(ctx, _word(words, 2))
    if isinstance(found, Reply):
        return found
    px, sv = found
    on, agent = words[0] == "enable", words[1] == "agent"
    chk = sv.agent if agent else sv.check
    if on and not chk.configured:
        what = "Agent" if agent else "Health check"
        return err(f"{what} was not configured on this server, cannot enable.\n")
    ctx.runtime.set_check_enabled(px.name, sv.name, agent, on)
    return Reply("")


def _split_dynamic(arg: str) -> tuple[str, str]:
    """add/del server's own split: the server part starts after the first '/' past the
    backend name's first character."""
    if len(arg) > 1 and "/" in arg[1:]:
        cut = arg.index("/", 1)
        return arg[:cut], arg[cut + 1 :]
    return arg, ""


def add_server(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_add_server: the checks before the server line; the runtime reads the rest."""
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    backend, server = _split_dynamic(_word(words, 2))
    if not server:
        return err("Require 'backend/server'.")
    px = find_backend(ctx.runtime.snapshot(), backend)
    if px is None or px.backend is None:
        return err("No such backend.")
    if not px.backend.dynamic:
        return err("Backend must use a dynamic load balancing to support dynamic servers.")
    return msg(ctx.runtime.add_server(px.name, server, words[3:]))


def del_server(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    backend, server = _split_dynamic(_word(words, 2))
    if not server:
        return err("Require 'backend/server'.")
    snapshot = ctx.runtime.snapshot()
    px = find_backend(snapshot, backend)
    if px is None:
        return err("No such backend.")
    sv = find_server(px, server)
    if sv is None:
        return err("No such server.")
    return msg(ctx.runtime.del_server(px.name, sv.name))


def shutdown_sessions_server(ctx: Context, words: list[str], payload: str | None) -> Reply:
    found = _admin_server(ctx, _word(words, 3))
    if isinstance(found, Reply):
        return found
    ctx.runtime.shutdown_server_sessions(found[0].name, found[1].name)
    return Reply("")


def table(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`show|clear|set table ...` through proto/stick (its own level rules and messages)."""
    now = ctx.runtime.table_now()
    return Reply(table_command(ctx.runtime.tables(), words, ctx.state.level, now))
