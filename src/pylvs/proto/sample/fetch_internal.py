"""Constant and internal fetches: `str int bool bin ipv4 ipv6 meth`, `env`, `date`, `rand`,
`uuid`, `hostname`, `var`, proxy and server names and ids, timeouts, live counters
(src/sample.c, src/vars.c, src/backend.c, src/frontend.c, src/listener.c, src/stream.c).
"""

from __future__ import annotations

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, CompileContext, CompileError, FetchFn, compile_var, fetch
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import VarName

# -- constants -------------------------------------------------------------------------------


@fetch("always_true")
def _true(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 1)


@fetch("always_false")
def _false(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 0)


@fetch("str")
def _str(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.STR, a[0])


@fetch("int")
def _int(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, a[0])


def _check_bool(a: Args, ctx: CompileContext) -> Args:
    text = a[0].lower()
    if text in (b"true", b"1"):
        return (1,)
    if text in (b"false", b"0"):
        return (0,)
    raise CompileError("Expects 'true', 'false', '0' or '1'")


@fetch("bool", check=_check_bool)
def _bool(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, a[0])


def _check_bin(a: Args, ctx: CompileContext) -> Args:
    try:
        return (bytes.fromhex(a[0].decode("latin-1")),)
    except ValueError:
        raise CompileError(f"'{a[0].decode('latin-1')}' is not a valid binary string") from None


@fetch("bin", check=_check_bin)
def _bin(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BIN, a[0])


@fetch("ipv4")
def _ipv4(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.IPV4, a[0])


@fetch("ipv6")
def _ipv6(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.IPV6, a[0])


@fetch("meth")
def _meth(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.METH, a[0])


@fetch("env")
def _env(s: Stream, a: Args) -> Smp | None:
    value = s.process.env.get(a[0].decode("latin-1"))
    return None if value is None else Smp(ty.STR, value.encode("latin-1", "replace"))


# -- time and randomness ---------------------------------------------------------------------

_UNITS = {b"s": 0, b"ms": 1, b"us": 2}


def _check_date(a: Args, ctx: CompileContext) -> Args:
    offset, unit = a
    if unit is None or unit == b"":
        return (offset, 0)
    if unit not in _UNITS:
        raise CompileError(
            f"Invalid unit {unit.decode('latin-1')} for date. Expects 's', 'ms' or 'us'"
        )
    return (offset, _UNITS[unit])


@fetch("date", check=_check_date)
def _date(s: Stream, a: Args) -> Smp | None:
    offset, unit = a
    value = int(s.now) if unit == 0 else int(s.now * 1000) if unit == 1 else int(s.now * 1e6)
    return Smp(ty.SINT, value + (offset or 0))


@fetch("date_us")
def _date_us(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, round(s.now * 1e6) % 1_000_000)


@fetch("rand")
def _rand(s: Stream, a: Args) -> Smp | None:
    value = s.process.rand.getrandbits(32)
    if a[0] is not None:
        value = (value * a[0]) >> 32
    return Smp(ty.SINT, value)


def uuid4(s: Stream) -> bytes:
    """tools.c ha_generate_uuid: a random (version 4) UUID in lower-case hex."""
    r = s.process.rand.getrandbits(128).to_bytes(16, "big")
    r = r[:6] + bytes([(r[6] & 0x0F) | 0x40]) + r[7:8] + bytes([(r[8] & 0x3F) | 0x80]) + r[9:]
    h = r.hex().encode()
    return b"-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


def _check_uuid(a: Args, ctx: CompileContext) -> Args:
    if a[0] is not None and a[0] != 4:
        raise CompileError("Unsupported UUID version")
    return a


@fetch("uuid", check=_check_uuid)
def _uuid(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.STR, uuid4(s))


# -- the process -----------------------------------------------------------------------------


@fetch("hostname")
def _hostname(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.STR, s.process.hostname.encode("latin-1", "replace"))


@fetch("nbproc", "proc")
def _one(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, 1)


@fetch("thread")
def _thread(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, 0)


@fetch("stopping")
def _stopping(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 0)


@fetch("internal.strm.is_htx")
def _is_htx(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 1 if s.request is not None else 0)


# -- variables -------------------------------------------------------------------------------


def _check_var(a: Args, ctx: CompileContext) -> Args:
    name = a[0].decode("latin-1") if isinstance(a[0], bytes) else a[0]
    return (compile_var(name, ctx) if isinstance(name, str) else name, a[1])


@fetch("var", check=_check_var)
def _var(s: Stream, a: Args) -> Smp | None:
    return get_var(s, a[0], a[1])


def get_var(s: Stream, name: VarName, default: bytes | None = None) -> Smp | None:
    """vars.c var_to_smp: the value, else the default as a string, else nothing."""
    scope = s.scope(name.scope)
    value = scope.get(name.name) if scope is not None else None
    if value is None:
        return None if default is None else Smp(ty.STR, default)
    return value


# -- proxies, servers, listeners -------------------------------------------------------------


@fetch("fe_name")
def _fe_name(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.STR, s.frontend.name.encode())


@fetch("fe_id")
def _fe_id(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.SINT, s.frontend.id)


@fetch("fe_defbe")
def _fe_defbe(s: Stream, a: Args) -> Smp | None:
    return None if s.frontend.defbe is None else Smp(ty.STR, s.frontend.defbe.encode())


@fetch("be_name")
def _be_name(s: Stream, a: Args) -> Smp | None:
    return None if s.backend is None else Smp(ty.STR, s.backend.name.encode())


@fetch("be_id")
def _be_id(s: Stream, a: Args) -> Smp | None:
    return None if s.backend is None else Smp(ty.SINT, s.backend.id)


@fetch("srv_name")
def _srv_name(s: Stream, a: Args) -> Smp | None:
    return None if s.server is None else Smp(ty.STR, s.server.name.encode())


@fetch("srv_id")
def _srv_id(s: Stream, a: Args) -> Smp | None:
    return None if s.server is None else Smp(ty.SINT, s.server.id)


@fetch("so_name")
def _so_name(s: Stream, a: Args) -> Smp | None:
    name = s.sess.listener
    return None if name is None else Smp(ty.STR, name.encode())


def _timeout(value: int | None) -> Smp | None:
    return None if value is None else Smp(ty.SINT, value)


@fetch("fe_client_timeout")
def _fe_client_timeout(s: Stream, a: Args) -> Smp | None:
    return _timeout(s.frontend.client_timeout_ms)


@fetch("be_server_timeout")
def _be_server_timeout(s: Stream, a: Args) -> Smp | None:
    return None if s.backend is None else _timeout(s.backend.server_timeout_ms)


@fetch("be_tunnel_timeout")
def _be_tunnel_timeout(s: Stream, a: Args) -> Smp | None:
    return None if s.backend is None else _timeout(s.backend.tunnel_timeout_ms)


@fetch("cur_server_timeout")
def _cur_server_timeout(s: Stream, a: Args) -> Smp | None:
    if "server" in s.timeouts:
        return Smp(ty.SINT, s.timeouts["server"])
    return None if s.backend is None else _timeout(s.backend.server_timeout_ms)


@fetch("cur_tunnel_timeout")
def _cur_tunnel_timeout(s: Stream, a: Args) -> Smp | None:
    if "tunnel" in s.timeouts:
        return Smp(ty.SINT, s.timeouts["tunnel"])
    return None if s.backend is None else _timeout(s.backend.tunnel_timeout_ms)


@fetch("last_rule_file")
def _last_rule_file(s: Stream, a: Args) -> Smp | None:
    return None if s.last_rule is None else Smp(ty.STR, s.last_rule[0].encode())


@fetch("last_rule_line")
def _last_rule_line(s: Stream, a: Args) -> Smp | None:
    return None if s.last_rule is None else Smp(ty.SINT, s.last_rule[1])


# -- live counters (asked of the running proxy) ----------------------------------------------


def _count(value: int | bool | None) -> Smp | None:
    return None if value is None else Smp(ty.SINT, int(value))


def _be(s: Stream, a: Args) -> str | None:
    if a and a[0] is not None:
        return str(a[0])
    return None if s.backend is None else s.backend.name


def _live_backend(method: str) -> FetchFn:
    def fn(s: Stream, a: Args) -> Smp | None:
        live, name = s.process.live, _be(s, a)
        if live is None or name is None:
            return None
        return _count(getattr(live, method)(name))

    return fn


for _names, _method in (
    (("be_conn",), "backend_conn"),
    (("queue",), "backend_queue"),
    (("nbsrv",), "backend_servers_up"),
    (("connslots", "be_conn_free"), "backend_free_slots"),
    (("be_sess_rate",), "backend_sess_rate"),
):
    fetch(*_names)(_live_backend(_method))


@fetch("avg_queue")
def _avg_queue(s: Stream, a: Args) -> Smp | None:
    live, name = s.process.live, _be(s, a)
    if live is None or name is None:
        return None
    queue, up = live.backend_queue(name), live.backend_servers_up(name)
    if queue is None or up is None:
        return None
    return Smp(ty.SINT, (queue + up - 1) // up if up else queue)


def _fe(s: Stream, a: Args) -> str:
    return str(a[0]) if a and a[0] is not None else s.frontend.name


@fetch("fe_conn")
def _fe_conn(s: Stream, a: Args) -> Smp | None:
    live = s.process.live
    return None if live is None else _count(live.frontend_conn(_fe(s, a)))


@fetch("fe_sess_rate")
def _fe_sess_rate(s: Stream, a: Args) -> Smp | None:
    live = s.process.live
    return None if live is None else _count(live.frontend_sess_rate(_fe(s, a)))


@fetch("fe_req_rate")
def _fe_req_rate(s: Stream, a: Args) -> Smp | None:
    live = s.process.live
    return None if live is None else _count(live.frontend_req_rate(_fe(s, a)))


@fetch("dst_conn")
def _dst_conn(s: Stream, a: Args) -> Smp | None:
    live = s.process.live
    return None if live is None else _count(live.listener_conn(s.frontend.name))


def _srv(s: Stream, a: Args) -> tuple[str, str] | None:
    if a and a[0] is not None:
        backend, server = a[0]
        return str(backend), str(server)
    if s.backend is None or s.server is None:
        return None
    return s.backend.name, s.server.name


def _live_server(method: str, out: int = ty.SINT) -> FetchFn:
    def fn(s: Stream, a: Args) -> Smp | None:
        live, target = s.process.live, _srv(s, a)
        if live is None or target is None:
            return None
        value = getattr(live, method)(*target)
        return None if value is None else Smp(out, int(value))

    return fn


for _names, _method, _out in (
    (("srv_conn",), "server_conn", ty.SINT),
    (("srv_queue",), "server_queue", ty.SINT),
    (("srv_sess_rate",), "server_sess_rate", ty.SINT),
    (("srv_is_up",), "server_up", ty.BOOL),
    (("srv_uweight", "srv_weight"), "server_weight", ty.SINT),
):
    fetch(*_names)(_live_server(_method, _out))


@fetch("srv_iweight")
def _srv_iweight(s: Stream, a: Args) -> Smp | None:
    if a and a[0] is not None:
        live = s.process.live
        if live is None:
            return None
        return _count(live.server_weight(*a[0]))
    return None if s.server is None else Smp(ty.SINT, s.server.weight)
